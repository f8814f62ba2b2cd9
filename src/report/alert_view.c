// SPDX-License-Identifier: Apache-2.0
/*
 * alert_view: where each scanned field lives in the three kinds of alert keyhole writes (an
 * audit rule's, a node rule's, the correlator's incident).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "report/alert_view.h"

static void object_of(const struct jdoc *d, struct alert_view *v)
{
	const struct jnode *ref = jget(d, NULL, "kubernetes.audit.objectRef");
	const char *subject = jstr(d, NULL, "keyhole.incident.subject.name", NULL);
	const char *path = jstr(d, NULL, "file.path", NULL);
	const char *proc = jstr(d, NULL, "process.name", NULL);

	if (ref) {
		const char *ns = jstr(d, ref, "namespace", NULL),
			   *name = jstr(d, ref, "name", NULL);

		snprintf(v->object_buf, sizeof(v->object_buf), "%s%s%s%s%s", ns ? ns : "",
			 ns ? "/" : "", jstr(d, ref, "resource", "?"), name ? "/" : "",
			 name ? name : "");
	} else if (subject) {
		snprintf(v->object_buf, sizeof(v->object_buf), "subject %s", subject);
	} else if (path) {
		snprintf(v->object_buf, sizeof(v->object_buf), "%s", path);
	} else if (proc) {
		snprintf(v->object_buf, sizeof(v->object_buf), "process %s", proc);
	} else {
		v->object_buf[0] = '\0';
	}
	v->object = v->object_buf;
}

int alert_view__read(const struct jdoc *d, struct alert_view *v)
{
	v->rule = jstr(d, NULL, "rule.id", NULL);
	if (!v->rule)
		return -EINVAL;
	v->time = jstr(d, NULL, "@timestamp", "");
	v->severity = jstr(d, NULL, "rule.severity", "");
	v->risk = jint(d, NULL, "rule.risk_score", 0);
	v->user = jstr(d, NULL, "user.name", "");
	v->ip = jstr(d, NULL, "source.ip", "");
	v->ua = jstr(d, NULL, "user_agent.original", "");
	v->verb = jstr(d, NULL, "kubernetes.audit.verb", NULL);
	if (!v->verb)
		v->verb = jstr(d, NULL, "event.action", "");
	v->incident = jstr(d, NULL, "keyhole.incident.id", "");
	v->revision = jint(d, NULL, "keyhole.incident.revision", 0);
	v->decision =
	    jstr(d, NULL, "kubernetes.audit.annotations.authorization_k8s_io/decision", "");
	v->audit_id = jstr(d, NULL, "kubernetes.audit.auditID", "");
	object_of(d, v);
	return 0;
}

int alert_view__sev_rank(const char *s)
{
	static const char *const names[] = {"low", "medium", "high", "critical"};

	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}
