// SPDX-License-Identifier: Apache-2.0
/*
 * progress: one line on a terminal, redrawn in place (\r, erase to end of line), at most four
 * times a second, so watching it costs nothing measurable. The caller decides whether stderr is
 * a terminal; when it is not, there is no progress object and nothing is written.
 */
#include <stdlib.h>
#include <time.h>

#include "keyhole/report.h"

struct kh_progress {
	FILE *tty;
	const char *what;
	uint64_t total;
	double start, last;
	int drawn;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *human(double v, char *buf, size_t sz, const char *unit)
{
	static const char *const pre[] = {"", "K", "M", "G", "T"};
	int i = 0;

	while (v >= 1000 && i < 4)
		v /= 1000, i++;
	/* "92.7 MB", "182.4k events/s" */
	if (unit[0] == ' ')
		snprintf(buf, sz, i ? "%.1f%s%s" : "%.0f%s%s", v, i ? (i == 1 ? "k" : pre[i]) : "",
			 unit);
	else
		snprintf(buf, sz, i ? "%.1f %s%s" : "%.0f %s%s", v, pre[i], unit);
	return buf;
}

struct kh_progress *progress__new(FILE *tty, const char *what, uint64_t total_bytes, int enabled)
{
	struct kh_progress *p;

	if (!enabled || !(p = calloc(1, sizeof(*p))))
		return NULL;
	p->tty = tty;
	p->what = what;
	p->total = total_bytes;
	p->start = p->last = now();
	return p;
}

static void draw(struct kh_progress *p, double t, uint64_t bytes, uint64_t events, uint64_t alerts,
		 int final)
{
	double el = t - p->start, rate = el > 0 ? (double)events / el : 0;
	double brate = el > 0 ? (double)bytes / el : 0;
	char b[32], tot[32], r[32];

	fprintf(p->tty, "\r\033[K%s: %s", p->what, human((double)bytes, b, sizeof(b), "B"));
	if (p->total && !final)
		fprintf(p->tty, " of %s (%.0f%%)", human((double)p->total, tot, sizeof(tot), "B"),
			100.0 * (double)bytes / (double)p->total);
	fprintf(p->tty, ", %llu events, %s, %llu alerts", (unsigned long long)events,
		human(rate, r, sizeof(r), " events/s"), (unsigned long long)alerts);
	if (final)
		fprintf(p->tty, ", done in %.1f s\n", el);
	else if (p->total && brate > 0 && bytes <= p->total)
		fprintf(p->tty, ", %.0f s left", (double)(p->total - bytes) / brate);
	fflush(p->tty);
}

void progress__update(struct kh_progress *p, uint64_t bytes, uint64_t events, uint64_t alerts)
{
	double t;

	if (!p)
		return;
	t = now();
	if (t - p->last < 0.25)
		return;
	p->last = t;
	p->drawn = 1;
	draw(p, t, bytes, events, alerts, 0);
}

void progress__finish(struct kh_progress *p, uint64_t bytes, uint64_t events, uint64_t alerts)
{
	if (!p)
		return;
	draw(p, now(), bytes, events, alerts, 1);
	free(p);
}

void progress__clear(struct kh_progress *p)
{
	if (p && p->drawn) {
		fputs("\r\033[K", p->tty);
		fflush(p->tty);
		p->drawn = 0;
	}
}
