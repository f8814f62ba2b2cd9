// SPDX-License-Identifier: Apache-2.0
/*
 * model: gathering a report. Audit lines are read for their metadata only (who, from where,
 * what, when) with the same parser the rules use; alert lines are read with jdom, and an
 * incident keeps only its latest revision.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyhole/audit_parse.h"
#include "keyhole/report.h"
#include "report/alert_view.h"
#include "report/jdom.h"
#include "report/model.h"

struct kh_report *report__new(void)
{
	return calloc(1, sizeof(struct kh_report));
}

static void free_alert(struct rep_alert *a)
{
	char **s[] = {&a->time, &a->severity, &a->rule,	  &a->user,	&a->ip,
		      &a->ua,	&a->verb,     &a->object, &a->incident, &a->decision};

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		free(*s[i]);
}

void report__free(struct kh_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_files; i++)
		free(r->files[i].name);
	free(r->files);
	for (size_t i = 0; i < r->n_alerts; i++)
		free_alert(&r->alerts[i]);
	free(r->alerts);
	for (size_t i = 0; i < r->n_inc; i++) {
		free(r->inc[i].id);
		free(r->inc[i].json);
	}
	free(r->inc);
	tally__free(&r->principals);
	tally__free(&r->sec_user);
	tally__free(&r->sec_ip);
	tally__free(&r->sec_ua);
	tally__free(&r->sec_ids);
	tally__free(&r->rule_sev);
	free(r);
}

int report__begin_file(struct kh_report *r, const char *name, int baseline)
{
	if (r->n_files == r->cap_files) {
		size_t cap = r->cap_files ? r->cap_files * 2 : 16;
		struct rep_file *nf = realloc(r->files, cap * sizeof(*nf));

		if (!nf || cap > REPORT_MAX_FILES)
			return -ENOMEM;
		r->files = nf;
		r->cap_files = cap;
	}
	r->files[r->n_files] = (struct rep_file){.name = strdup(name), .baseline = baseline};
	if (!r->files[r->n_files].name)
		return -ENOMEM;
	r->n_files++;
	return 0;
}

static void span(int64_t *first, int64_t *last, int64_t t)
{
	if (!t)
		return;
	if (!*first || t < *first)
		*first = t;
	if (t > *last)
		*last = t;
}

/* a decoded copy of a JSON slice, bounded */
static const char *dec(struct kstr s, char *buf, size_t sz)
{
	long n = kstr_present(s) ? kstr__decode(s, buf, sz) : -1;

	if (n < 0)
		return NULL;
	buf[(size_t)n < sz ? (size_t)n : sz - 1] = '\0';
	return buf;
}

void report__add_event(struct kh_report *r, const char *line, size_t len, size_t cut)
{
	struct rep_file *f = r->n_files ? &r->files[r->n_files - 1] : NULL;
	struct audit_event ev;
	char u[512], b[1024];
	const char *user;

	if (!f || !len)
		return;
	if (cut ? audit_parse__cut(line, len, cut, &ev, NULL)
		: audit_parse__line(line, len, &ev, NULL)) {
		f->malformed++;
		r->malformed++;
		return;
	}
	f->events++;
	r->events++;
	span(&f->first_ns, &f->last_ns, audit_event_time_ns(&ev));
	span(&r->first_ns, &r->last_ns, audit_event_time_ns(&ev));
	user = dec(ev.user.username, u, sizeof(u));
	if (user)
		tally__add(&r->principals, user, strlen(user), 1);
	if (f->baseline || !kstr__eq(ev.object_ref.resource, "secrets"))
		return;
	/* the request's record, once: RequestReceived and ResponseComplete are one access */
	if (kstr_present(ev.stage) && !kstr__eq(ev.stage, "ResponseComplete") &&
	    !kstr__eq(ev.stage, "Panic"))
		return;
	r->secret_events++;
	tally__add(&r->sec_user, user ? user : "(none)", strlen(user ? user : "(none)"), 1);
	if (ev.source_ips.n && dec(ev.source_ips.v[0], b, sizeof(b)))
		tally__add(&r->sec_ip, b, strlen(b), 1);
	if (dec(ev.user_agent, b, sizeof(b)))
		tally__add(&r->sec_ua, b, strlen(b), 1);
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

static void keep_incident(struct kh_report *r, const struct alert_view *v, const char *line,
			  size_t len)
{
	struct rep_incident *in = NULL;

	for (size_t i = 0; i < r->n_inc; i++)
		if (!strcmp(r->inc[i].id, v->incident))
			in = &r->inc[i];
	if (!in) {
		struct rep_incident *ni;

		if (r->n_inc >= REPORT_MAX_INCIDENTS) {
			r->inc_dropped++;
			return;
		}
		ni = realloc(r->inc, (r->n_inc + 1) * sizeof(*ni));
		if (!ni)
			return;
		r->inc = ni;
		in = &r->inc[r->n_inc];
		*in = (struct rep_incident){.id = strdup(v->incident)};
		if (!in->id)
			return;
		r->n_inc++;
	}
	in->revisions_seen++;
	if (in->json && v->revision < in->revision)
		return;
	free(in->json);
	/* a copy of all len bytes: strndup would stop at a NUL inside a string and leave
	 * json_len naming bytes that were never copied */
	in->json = malloc(len + 1);
	if (in->json) {
		memcpy(in->json, line, len);
		in->json[len] = '\0';
	}
	in->json_len = in->json ? len : 0;
	in->revision = v->revision;
}

/* an alert read from a file (no audit log beside it): its secret access feeds the rankings */
static void secret_from_alert(struct kh_report *r, const struct jdoc *d, const struct alert_view *v)
{
	if (r->events || !v->audit_id[0] ||
	    strcmp(jstr(d, NULL, "kubernetes.audit.objectRef.resource", ""), "secrets"))
		return;
	if (tally__seen(&r->sec_ids, v->audit_id))
		return;
	r->secret_events++;
	tally__add(&r->sec_user, v->user, strlen(v->user), 1);
	if (v->ip[0])
		tally__add(&r->sec_ip, v->ip, strlen(v->ip), 1);
	if (v->ua[0])
		tally__add(&r->sec_ua, v->ua, strlen(v->ua), 1);
}

int report__add_alert(struct kh_report *r, const char *line, size_t len)
{
	struct jdoc d;
	struct alert_view v;
	struct rep_alert *a;
	char key[256];

	if (jdoc_parse(&d, line, len))
		return r->not_alerts++, -EINVAL;
	if (alert_view__read(&d, &v)) {
		jdoc_free(&d);
		return r->not_alerts++, -EINVAL;
	}
	snprintf(key, sizeof(key), "%s\t%s", v.rule, v.severity);
	tally__add(&r->rule_sev, key, strlen(key), 1);
	secret_from_alert(r, &d, &v);
	if (!r->n_files && v.user[0]) /* alerts only: the principals are the alerts' users */
		tally__add(&r->principals, v.user, strlen(v.user), 1);
	if (v.incident[0])
		keep_incident(r, &v, line, len);
	if (r->n_alerts == r->cap_alerts) {
		size_t cap = r->cap_alerts ? r->cap_alerts * 2 : 256;
		struct rep_alert *na =
		    cap <= REPORT_MAX_ALERTS ? realloc(r->alerts, cap * sizeof(*na)) : NULL;

		if (!na) {
			r->alerts_dropped++;
			jdoc_free(&d);
			return 0;
		}
		r->alerts = na;
		r->cap_alerts = cap;
	}
	a = &r->alerts[r->n_alerts++];
	*a = (struct rep_alert){.t_ns = audit_parse__rfc3339_ns(v.time, strlen(v.time)),
				.time = dup_or_empty(v.time),
				.severity = dup_or_empty(v.severity),
				.rule = dup_or_empty(v.rule),
				.user = dup_or_empty(v.user),
				.ip = dup_or_empty(v.ip),
				.ua = dup_or_empty(v.ua),
				.verb = dup_or_empty(v.verb),
				.object = dup_or_empty(v.object),
				.incident = dup_or_empty(v.incident),
				.decision = dup_or_empty(v.decision),
				.revision = v.revision,
				.risk = v.risk};
	jdoc_free(&d);
	return 0;
}

const char *report__fmt_time(int64_t ns, char *buf, size_t sz)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	if (!ns || !gmtime_r(&t, &tm)) {
		snprintf(buf, sz, "-");
		return buf;
	}
	strftime(buf, sz, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

const char *report__fmt_dur(int64_t ns, char *buf, size_t sz)
{
	long long s = (long long)(ns / 1000000000);

	if (s < 0)
		s = -s;
	if (s >= 86400)
		snprintf(buf, sz, "%lldd %lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, sz, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, sz, "%lldm %llds", s / 60, s % 60);
	else
		snprintf(buf, sz, "%llds", s);
	return buf;
}

int report__write(const struct kh_report *r, enum kh_report_format fmt, FILE *out)
{
	int err =
	    fmt == KH_REPORT_MARKDOWN ? report__write_markdown(r, out) : report__write_html(r, out);

	if (!err && (fflush(out) || ferror(out)))
		err = -EIO;
	return err;
}
