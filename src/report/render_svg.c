// SPDX-License-Identifier: Apache-2.0
/*
 * render_svg: coordinates are computed here, in C, so the pictures need no script and render
 * the same in any browser, in a mail client's preview, or printed.
 */
#include <stdlib.h>
#include <string.h>

#include "keyhole/audit_parse.h"
#include "report/alert_view.h"
#include "report/escape.h"
#include "report/render_svg.h"

#define TL_W 960
#define TL_LEFT 150
#define TL_RIGHT 30
#define TL_LANE 36

static const struct lane {
	const char *step, *label, *colour;
} lanes[] = {
    {" rbac-binding role-escalate-bind impersonation serviceaccount-token ", "grant", COL_GRANT},
    {" secret-read ", "secret reads", COL_SECRET},
    {" pod-exec ", "exec", COL_EXEC},
    {" node-secret-read-in-exec ", "node activity", COL_NODE},
    {NULL, "other", COL_OTHER},
};
#define N_LANES (sizeof(lanes) / sizeof(lanes[0]))

static size_t lane_of(const char *step)
{
	char key[80];

	snprintf(key, sizeof(key), " %s ", step);
	for (size_t i = 0; i + 1 < N_LANES; i++)
		if (strstr(lanes[i].step, key))
			return i;
	return N_LANES - 1;
}

static long long ts(const struct jdoc *d, const struct jnode *n, const char *path)
{
	const char *s = jstr(d, n, path, "");

	return audit_parse__rfc3339_ns(s, strlen(s));
}

/* one marker with its tooltip: when, who, what */
static void step_marker(FILE *f, const struct jdoc *d, const struct jnode *s, double x, int y,
			const char *colour, int no)
{
	static const char *const keys[] = {"user", "process",  "verb", "resource", "namespace",
					   "name", "decision", "role", "code",	   "audit_id"};

	fprintf(f,
		"<g class=\"step\"><circle cx=\"%.1f\" cy=\"%d\" r=\"8\" fill=\"%s\"/>"
		"<text x=\"%.1f\" y=\"%d\" class=\"lbl\" text-anchor=\"middle\">%d</text><title>",
		x, y, colour, x, no % 2 ? y - 11 : y + 20, no);
	esc_html(f, jstr(d, s, "@timestamp", ""), 40);
	fputs(" ", f);
	esc_html(f, jstr(d, s, "step", ""), 40);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = jstr(d, s, keys[i], NULL);

		if (v) {
			fprintf(f, "\n%s: ", keys[i]);
			esc_html(f, v, 200);
		}
	}
	fputs("</title></g>\n", f);
}

void svg_timeline(FILE *f, const struct jdoc *d, const struct jnode *inc)
{
	const struct jnode *steps = jget(d, inc, "timeline"), *s;
	long long t0 = ts(d, inc, "first"), t1 = ts(d, inc, "last");
	int h = (int)N_LANES * TL_LANE + 40;
	double w = TL_W - TL_LEFT - TL_RIGHT;
	char b0[32], b1[32], b2[32];

	for (s = jfirst(d, steps); s; s = jnext(d, s)) {
		long long t = ts(d, s, "@timestamp");

		if (t && (!t0 || t < t0))
			t0 = t;
		if (t > t1)
			t1 = t;
	}
	fprintf(f,
		"<svg class=\"timeline\" role=\"img\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		"height=\"%d\">\n",
		TL_W, h, TL_W, h);
	for (size_t i = 0; i < N_LANES; i++) {
		int y = 22 + (int)i * TL_LANE;

		fprintf(f,
			"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"lane\"/>"
			"<text x=\"8\" y=\"%d\" class=\"lbl\">%s</text>\n",
			TL_LEFT, y, TL_W - TL_RIGHT, y, y + 4, lanes[i].label);
	}
	int no = 0;

	for (s = jfirst(d, steps); s; s = jnext(d, s)) {
		size_t l = lane_of(jstr(d, s, "step", ""));
		long long t = ts(d, s, "@timestamp");
		double x =
		    TL_LEFT + (t1 > t0 && t ? w * (double)(t - t0) / (double)(t1 - t0) : w / 2);

		step_marker(f, d, s, x, 22 + (int)l * TL_LANE, lanes[l].colour, ++no);
	}
	fprintf(
	    f,
	    "<text x=\"%d\" y=\"%d\" class=\"lbl\">%s</text>"
	    "<text x=\"%d\" y=\"%d\" class=\"lbl\" text-anchor=\"end\">%s (+%s)</text>\n</svg>\n",
	    TL_LEFT, h - 6, report__fmt_time(t0, b0, sizeof(b0)), TL_W - TL_RIGHT, h - 6,
	    report__fmt_time(t1, b1, sizeof(b1)), report__fmt_dur(t1 - t0, b2, sizeof(b2)));
}

#define PL_W 960
#define PL_H 260
#define PL_LEFT 50
#define PL_BOTTOM 40
#define PL_BUCKETS 48

static const char *const sev_colour[4] = {COL_LOW, COL_MEDIUM, COL_HIGH, COL_CRITICAL};
static const char *const sev_name[4] = {"low", "medium", "high", "critical"};

static void plot_range(const struct kh_report *r, long long *t0, long long *t1)
{
	*t0 = *t1 = 0;
	for (size_t i = 0; i < r->n_alerts; i++) {
		long long t = r->alerts[i].t_ns;

		if (t && (!*t0 || t < *t0))
			*t0 = t;
		if (t > *t1)
			*t1 = t;
	}
}

void svg_alert_plot(FILE *f, const struct kh_report *r)
{
	unsigned cnt[PL_BUCKETS][4] = {{0}};
	unsigned max = 1;
	long long t0, t1;
	double bw = (double)(PL_W - PL_LEFT - 10) / PL_BUCKETS, ph = PL_H - PL_BOTTOM - 10;
	char b0[32], b1[32];

	plot_range(r, &t0, &t1);
	for (size_t i = 0; i < r->n_alerts; i++) {
		int sev = alert_view__sev_rank(r->alerts[i].severity);
		long long t = r->alerts[i].t_ns;
		int b = t1 > t0 ? (int)((double)(t - t0) / (double)(t1 - t0) * (PL_BUCKETS - 1))
				: PL_BUCKETS / 2;

		if (sev >= 0 && t && b >= 0 && b < PL_BUCKETS)
			cnt[b][sev]++;
	}
	for (int b = 0; b < PL_BUCKETS; b++) {
		unsigned s = cnt[b][0] + cnt[b][1] + cnt[b][2] + cnt[b][3];

		if (s > max)
			max = s;
	}
	fprintf(f,
		"<svg id=\"alert-plot\" role=\"img\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		"height=\"%d\">\n",
		PL_W, PL_H, PL_W, PL_H);
	for (int g = 0; g <= 4; g++) {
		double y = 10 + ph - ph * g / 4;

		fprintf(f,
			"<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>"
			"<text x=\"%d\" y=\"%.1f\" class=\"lbl\" text-anchor=\"end\">%.*f</text>\n",
			PL_LEFT, y, PL_W - 10, y, PL_LEFT - 6, y + 4, max % 4 ? 1 : 0,
			max * g / 4.0);
	}
	for (int b = 0; b < PL_BUCKETS; b++) {
		double y = 10 + ph;

		for (int sev = 3; sev >= 0; sev--) {
			double hh = ph * cnt[b][sev] / max;

			if (!cnt[b][sev])
				continue;
			y -= hh;
			fprintf(f,
				"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				"fill=\"%s\"><title>%u %s</title></rect>\n",
				PL_LEFT + b * bw + 1, y, bw - 2, hh, sev_colour[sev], cnt[b][sev],
				sev_name[sev]);
		}
	}
	fprintf(f,
		"<text x=\"%d\" y=\"%d\" class=\"lbl\">%s</text><text x=\"%d\" y=\"%d\" "
		"class=\"lbl\" text-anchor=\"end\">%s</text>\n",
		PL_LEFT, PL_H - 18, report__fmt_time(t0, b0, sizeof(b0)), PL_W - 10, PL_H - 18,
		report__fmt_time(t1, b1, sizeof(b1)));
	for (int sev = 3, x = PL_LEFT; sev >= 0; sev--, x += 110)
		fprintf(f,
			"<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
			"<text x=\"%d\" y=\"%d\" class=\"lbl\">%s</text>\n",
			x + 200, PL_H - 12, sev_colour[sev], x + 214, PL_H - 3, sev_name[sev]);
	fputs("</svg>\n", f);
}

#define RS_ROW 30
#define RS_MAX_RULES 40

/* bucket of @t over [t0, t1], as the plot computes it */
static int bucket(long long t, long long t0, long long t1)
{
	return t1 > t0 ? (int)((double)(t - t0) / (double)(t1 - t0) * (PL_BUCKETS - 1))
		       : PL_BUCKETS / 2;
}

/* one strip per rule over the plot's buckets: darker where it fired more */
void svg_rule_strips(FILE *f, const struct kh_report *r)
{
	const struct tally_ent **top;
	size_t n = tally__top(&r->rule_sev, RS_MAX_RULES, &top);
	double bw = (double)(PL_W - PL_LEFT - 10) / PL_BUCKETS;
	long long t0, t1;

	plot_range(r, &t0, &t1);
	fprintf(f,
		"<svg id=\"rule-strips\" role=\"img\" viewBox=\"0 0 %d %zu\" width=\"%d\" "
		"height=\"%zu\">\n",
		PL_W, n * RS_ROW + 8, PL_W, n * RS_ROW + 8);
	for (size_t i = 0; i < n; i++) {
		unsigned cnt[PL_BUCKETS] = {0}, max = 1;
		size_t klen = strcspn(top[i]->key, "\t");
		const char *sev = top[i]->key[klen] ? top[i]->key + klen + 1 : "";
		int rank = alert_view__sev_rank(sev);
		int y = 4 + (int)i * RS_ROW;

		for (size_t a = 0; a < r->n_alerts; a++) {
			const struct rep_alert *x = &r->alerts[a];
			int b = bucket(x->t_ns, t0, t1);

			if (x->t_ns && b >= 0 && b < PL_BUCKETS && strlen(x->rule) == klen &&
			    !memcmp(x->rule, top[i]->key, klen) && !strcmp(x->severity, sev))
				cnt[b]++;
		}
		for (int b = 0; b < PL_BUCKETS; b++)
			max = cnt[b] > max ? cnt[b] : max;
		char rule[128];

		snprintf(rule, sizeof(rule), "%.*s", (int)klen, top[i]->key);
		/* the name above its strip, so the strips share the plot's x axis */
		fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"lbl\">", PL_LEFT, y + 10);
		esc_html(f, rule, 80);
		fputs(" (", f);
		esc_html(f, sev, 20);
		fprintf(f,
			")</text><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"grid\"/>\n",
			PL_LEFT, y + 27, PL_W - 10, y + 27);
		for (int b = 0; b < PL_BUCKETS; b++)
			if (cnt[b])
				fprintf(
				    f,
				    "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
				    "fill=\"%s\" fill-opacity=\"%.2f\"><title>%u</title></rect>\n",
				    PL_LEFT + b * bw + 1, y + 13, bw - 2, RS_ROW - 16,
				    rank >= 0 ? sev_colour[rank] : "#999",
				    0.25 + 0.75 * cnt[b] / max, cnt[b]);
	}
	fputs("</svg>\n", f);
	free(top);
}
