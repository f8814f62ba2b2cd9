// SPDX-License-Identifier: Apache-2.0
/*
 * node_fact: encode a node's secret-material open as a fact, and read it back (see node_fact.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "cluster/fact.h"
#include "cluster/node_fact.h"

#define KIND_KEY ",\"khKind\":\"node-secret-read\""
/* the header's four integers fit in this many bytes, so the kind follows within them */
#define HEADER_SPAN 128

int node_fact__encode(const struct kh_node_secret_read *r, const char *node, struct json_out *j)
{
	json_out__reset(j);
	json_out__obj_begin(j);
	json_out__kv_int(j, "khFact", KH_FACT_VERSION);
	json_out__kv_int(j, "khT", r->t_ns);
	json_out__kv_int(j, "khP", 0);
	json_out__kv_int(j, "khB", 1);
	json_out__kv_str(j, "khKind", "node-secret-read");
	json_out__kv_str(j, "khNode", node);
	json_out__kv_str(j, "kind", "Event");
	json_out__kv_str(j, "apiVersion", "audit.k8s.io/v1");
	json_out__kv_kstr(j, "auditID", r->node_id);
	json_out__kv_str(j, "stage", "NodeSecretRead");
	json_out__kv_str(j, "verb", "open");
	json_out__kv_kstr(j, "requestURI", r->path);
	json_out__kv_kstr(j, "userAgent", r->comm);
	json_out__key(j, "objectRef");
	json_out__obj_begin(j);
	json_out__kv_str(j, "resource", "pods");
	json_out__kv_kstr(j, "namespace", r->pod_namespace);
	json_out__kv_kstr(j, "name", r->pod_name);
	json_out__kv_kstr(j, "subresource", r->container);
	json_out__obj_end(j);
	json_out__obj_end(j);
	return j->oom ? -ENOMEM : 0;
}

bool node_fact__is(const char *line, size_t len)
{
	/* inside a JSON string a quote is escaped, so this key cannot hide in a node name */
	return memmem(line, len < HEADER_SPAN ? len : HEADER_SPAN, KIND_KEY,
		      sizeof(KIND_KEY) - 1) != NULL;
}

int node_fact__read(const struct audit_event *ev, int64_t t_ns, struct kh_node_secret_read *r)
{
	if (!kstr__eq(ev->stage, "NodeSecretRead") || !ev->object_ref_present ||
	    !kstr_nonempty(ev->object_ref.namespace_) || !kstr_nonempty(ev->object_ref.name))
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->pod_namespace = ev->object_ref.namespace_;
	r->pod_name = ev->object_ref.name;
	r->container = ev->object_ref.subresource;
	r->path = ev->request_uri;
	r->comm = ev->user_agent;
	r->node_id = ev->audit_id;
	r->t_ns = t_ns;
	return 0;
}
