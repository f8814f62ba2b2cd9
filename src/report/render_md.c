// SPDX-License-Identifier: Apache-2.0
/*
 * render_md: the same report as Markdown, for a ticket or a pull request: tables instead of
 * pictures (an incident's timeline is its steps in order, the plot a table of counts per time
 * bucket). Every string from the logs goes through esc_md().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/audit_parse.h"
#include "report/alert_view.h"
#include "report/escape.h"
#include "report/jdom.h"
#include "report/model.h"

static void cell(FILE *f, const char *s, size_t max)
{
	fputs(" ", f);
	esc_md(f, s, max);
	fputs(" |", f);
}

static void logset(FILE *f, const struct kh_report *r)
{
	char a[32], b[32], d[32];

	fputs("\n## Log set\n\n", f);
	if (!r->n_files) {
		fputs("Alerts only: no audit log was read.\n", f);
		return;
	}
	fputs("| file | role | events | malformed | first | last | before it |\n"
	      "|---|---|---|---|---|---|---|\n",
	      f);
	for (size_t i = 0; i < r->n_files; i++) {
		const struct rep_file *x = &r->files[i], *p = i ? &r->files[i - 1] : NULL;
		long long g = p && p->baseline == x->baseline && p->last_ns && x->first_ns
				  ? x->first_ns - p->last_ns
				  : 0;

		fputs("|", f);
		cell(f, x->name, 200);
		fprintf(f, " %s | %llu | %llu | %s | %s | %s%s |\n",
			x->baseline ? "baseline" : "input", (unsigned long long)x->events,
			(unsigned long long)x->malformed,
			report__fmt_time(x->first_ns, a, sizeof(a)),
			report__fmt_time(x->last_ns, b, sizeof(b)),
			g > 300LL * 1000000000LL ? "**gap** "
			: g < 0			 ? "**overlap** "
						 : "",
			g > 300LL * 1000000000LL || g < 0 ? report__fmt_dur(g, d, sizeof(d)) : "");
	}
}

static void incident(FILE *f, const struct rep_incident *in)
{
	static const char *const keys[] = {"user",	"process", "verb",     "resource",
					   "namespace", "name",	   "decision", "role"};
	struct jdoc d;
	const struct jnode *inc, *s;

	if (!in->json || jdoc_parse(&d, in->json, in->json_len))
		return;
	inc = jget(&d, NULL, "keyhole.incident");
	fputs("\n### ", f);
	esc_md(f, jstr(&d, NULL, "rule.name", "incident"), 120);
	fputs(": ", f);
	esc_md(f, jstr(&d, inc, "subject.name", "?"), 200);
	fputs("\n\nIncident `", f);
	esc_md(f, in->id, 80);
	fprintf(f, "`, revision %lld. Granted by ", in->revision);
	esc_md(f, jstr(&d, inc, "actor.name", "?"), 200);
	fputs("; from ", f);
	esc_md(f, jstr(&d, NULL, "source.ip", "-"), 60);
	fputs(" with ", f);
	esc_md(f, jstr(&d, NULL, "user_agent.original", "-"), 200);
	fprintf(f,
		". Loot: %lld allowed, %lld forbidden, %lld not found, %lld node secret reads."
		"\n\n| time | step |",
		jint(&d, inc, "loot.allowed", 0), jint(&d, inc, "loot.forbidden", 0),
		jint(&d, inc, "loot.not_found", 0), jint(&d, inc, "loot.node_secret_reads", 0));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		fprintf(f, " %s |", keys[i]);
	fputs("\n|---|---|---|---|---|---|---|---|---|---|\n", f);
	for (s = jfirst(&d, jget(&d, inc, "timeline")); s; s = jnext(&d, s)) {
		fputs("|", f);
		cell(f, jstr(&d, s, "@timestamp", ""), 40);
		cell(f, jstr(&d, s, "step", ""), 40);
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			cell(f, jstr(&d, s, keys[i], ""), 120);
		fputs("\n", f);
	}
	jdoc_free(&d);
}

static void over_time(FILE *f, const struct kh_report *r)
{
	enum { B = 12 };
	unsigned cnt[B][4] = {{0}};
	long long t0 = 0, t1 = 0;
	char a[32];

	for (size_t i = 0; i < r->n_alerts; i++) {
		long long t = r->alerts[i].t_ns;

		if (t && (!t0 || t < t0))
			t0 = t;
		if (t > t1)
			t1 = t;
	}
	for (size_t i = 0; i < r->n_alerts; i++) {
		int sev = alert_view__sev_rank(r->alerts[i].severity);
		long long t = r->alerts[i].t_ns;
		int b = t1 > t0 ? (int)((double)(t - t0) / (double)(t1 - t0) * (B - 1)) : 0;

		if (sev >= 0 && t && b >= 0 && b < B)
			cnt[b][sev]++;
	}
	fputs("\n## Alerts over time, by severity\n\n| from (UTC) | critical | high | medium | low "
	      "|\n"
	      "|---|---|---|---|---|\n",
	      f);
	for (int b = 0; b < B && t0; b++)
		fprintf(f, "| %s | %u | %u | %u | %u |\n",
			report__fmt_time(t0 + (t1 - t0) / (B - 1) * b, a, sizeof(a)), cnt[b][3],
			cnt[b][2], cnt[b][1], cnt[b][0]);
}

static void ranking(FILE *f, const char *title, const struct tally *t)
{
	const struct tally_ent **top;
	size_t n = tally__top(t, 20, &top);

	fprintf(f, "\n### %s\n\n| # | %s | requests |\n|---|---|---|\n", title, title);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "| %zu |", i + 1);
		cell(f, top[i]->key, 160);
		fprintf(f, " %llu |\n", (unsigned long long)top[i]->n);
	}
	free(top);
}

static void alerts(FILE *f, const struct kh_report *r)
{
	fprintf(f,
		"\n## Alerts (%zu)\n\n| time | severity | rule | user | source IP | user agent | "
		"verb | object | incident |\n|---|---|---|---|---|---|---|---|---|\n",
		r->n_alerts);
	for (size_t i = 0; i < r->n_alerts; i++) {
		const struct rep_alert *a = &r->alerts[i];
		char inc[128] = "";

		if (a->incident[0])
			snprintf(inc, sizeof(inc), "%s r%lld", a->incident, a->revision);
		fputs("|", f);
		cell(f, a->time, 40);
		cell(f, a->severity, 20);
		cell(f, a->rule, 80);
		cell(f, a->user, 200);
		cell(f, a->ip, 60);
		cell(f, a->ua, 200);
		cell(f, a->verb, 40);
		cell(f, a->object, 200);
		cell(f, inc, 100);
		fputs("\n", f);
	}
}

int report__write_markdown(const struct kh_report *r, FILE *f)
{
	char a[32], b[32];

	fprintf(f,
		"# keyhole incident report\n\n%s to %s UTC, %zu file(s), %llu events, %zu "
		"incident(s), %zu alert(s), %zu principals, %llu secret accesses. From audit "
		"metadata and alerts only: no request or response body was read.\n",
		report__fmt_time(r->first_ns, a, sizeof(a)),
		report__fmt_time(r->last_ns, b, sizeof(b)), r->n_files,
		(unsigned long long)r->events, r->n_inc, r->n_alerts, r->principals.n,
		(unsigned long long)r->secret_events);
	logset(f, r);
	fprintf(f, "\n## Incidents (%zu)\n", r->n_inc);
	for (size_t i = 0; i < r->n_inc; i++)
		incident(f, &r->inc[i]);
	over_time(f, r);
	fputs("\n## Behind the secret access\n", f);
	ranking(f, "principals", &r->sec_user);
	ranking(f, "source IPs", &r->sec_ip);
	ranking(f, "user agents", &r->sec_ua);
	alerts(f, r);
	return ferror(f) ? -EIO : 0;
}
