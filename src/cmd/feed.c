// SPDX-License-Identifier: Apache-2.0
/*
 * feed: the read loop `replay` had, shared with `report`. A rotated set goes through one
 * pipeline in the order given, so windows and dedupe span the rotation as they do live.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/feed.h"
#include "keyhole/correlate.h"
#include "keyhole/log.h"
#include "keyhole/pipeline.h"
#include "keyhole/report.h"
#include "keyhole/ring_abi.h"
#include "keyhole/rule.h"
#include "keyhole/rules_engine.h"
#include "keyhole/line_reader.h"

uint64_t feed__total_bytes(char *const *files, int n)
{
	uint64_t t = 0;
	struct stat st;

	for (int i = 0; i < n; i++)
		if (strcmp(files[i], "-") && !stat(files[i], &st) && S_ISREG(st.st_mode))
			t += (uint64_t)st.st_size;
	return t;
}

static void print_summary(const char *name, const struct kh_counters *now,
			  const struct kh_counters *before, const uint64_t *alerts_before,
			  const uint64_t *sigma_before)
{
	char rules[1024] = "", sigma[2048];
	size_t off = 0;

	for (size_t i = 0; i <= rules__count() && i < 64; i++) {
		/* the slot after the table counts the correlator's incident lines */
		const char *id =
		    kh_rule_table[i] ? kh_rule_table[i]->info->id : kh_rule_escalate_then_loot.id;
		uint64_t n = now->alerts_by_rule[i] - alerts_before[i];

		if (n && off < sizeof(rules))
			off += (size_t)snprintf(rules + off, sizeof(rules) - off, "%s%s %llu",
						off ? ", " : " (", id, (unsigned long long)n);
	}
	if (off && off < sizeof(rules) - 1)
		strcat(rules, ")");
	/* the Sigma rules by id, when the copy of their counters could be taken */
	sigma[0] = 0;
	if (sigma_before)
		pipeline__sigma_summary(now, sigma_before, sigma, sizeof(sigma));
	kh_log(KH_LOG_INFO, "replay %s: %llu events, %llu malformed, %llu alerts%s%s%s", name,
	       (unsigned long long)(now->lines - before->lines),
	       (unsigned long long)(now->malformed - before->malformed),
	       (unsigned long long)(now->alerts - before->alerts), rules, *sigma ? ", Sigma" : "",
	       sigma);
}

static void tick(struct feed *f, struct line_reader *r, const struct kh_counters *c)
{
	progress__update(f->prog, f->bytes_done + line_reader__file_offset(r), c->lines, c->alerts);
}

static int read_lines(struct feed *f, struct line_reader *r, const char *name)
{
	const struct kh_counters *c = pipeline__counters(f->p);
	struct kh_origin o = {.source = name};
	const char *line;
	size_t len;
	int st;

	line_reader__keep_head_tail(r, KH_AUDIT_TAIL_DEFAULT);
	while ((st = line_reader__next(r, &line, &len)) != LINE_EOF) {
		o.line_no = line_reader__line_no(r);
		o.cut = 0;
		o.flags = 0;
		o.full_len = o.byte_offset = 0;
		if ((o.line_no & 1023) == 0)
			tick(f, r, c);
		if (st == LINE_CUT) {
			/* longer than the maximum: head and tail, as the live tap keeps them */
			o.cut = (uint32_t)line_reader__cut(r);
			o.flags = KH_EV_TRUNCATED;
			o.full_len = line_reader__line_size(r);
			o.byte_offset = line_reader__line_offset(r);
			st = LINE_OK;
		}
		if (st == LINE_OK) {
			if (f->on_line)
				f->on_line(f->ctx, line, len, o.cut);
			if (pipeline__feed_line(f->p, line, len, &o) < 0) {
				kh_log(
				    KH_LOG_ERROR,
				    "writing alerts failed at %s:%llu: %s; stopping (alerts after "
				    "this point were not delivered)",
				    name, (unsigned long long)o.line_no, strerror(errno));
				return 1;
			}
		} else if (st == LINE_OVERSIZED) {
			pipeline__feed_oversized(f->p, &o);
		} else {
			kh_log(KH_LOG_ERROR, "%s: %s (after line %llu); the rest of it is skipped",
			       name, line_reader__error(r), (unsigned long long)o.line_no);
			return 2;
		}
	}
	return 0;
}

int feed__file(struct feed *f, const char *name, int last)
{
	const struct kh_counters *c = pipeline__counters(f->p);
	struct kh_counters before = *c;
	uint64_t alerts_before[64] = {0};
	struct line_reader *r;
	int ret;

	uint64_t *sigma_before = malloc(pipeline__alert_slots() * sizeof(*sigma_before));

	for (size_t i = 0; i <= rules__count() && i < 64; i++)
		alerts_before[i] = c->alerts_by_rule[i];
	if (sigma_before)
		memcpy(sigma_before, c->alerts_by_rule,
		       pipeline__alert_slots() * sizeof(*sigma_before));
	r = line_reader__open(name, 0);
	if (!r) {
		free(sigma_before);
		kh_log(KH_LOG_ERROR, "cannot read %s: %s", strcmp(name, "-") ? name : "stdin",
		       strerror(errno));
		return 2;
	}
	ret = read_lines(f, r, name);
	f->bytes_done += line_reader__file_offset(r);
	line_reader__free(r);
	/* what rules still hold (alerts waiting for a later stage, windows) belongs to the last
	 * input */
	if (last)
		pipeline__flush(f->p);
	progress__clear(f->prog);
	if (!f->quiet)
		print_summary(name, c, &before, alerts_before, sigma_before);
	free(sigma_before);
	return ret;
}

void feed__finish(struct feed *f)
{
	const struct kh_counters *c = pipeline__counters(f->p);

	progress__finish(f->prog, f->bytes_done, c->lines, c->alerts);
	f->prog = NULL;
}
