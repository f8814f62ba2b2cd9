// SPDX-License-Identifier: Apache-2.0
/*
 * checkpoint_gate: in cluster mode with a state file, the local half's checkpoint passes a line
 * only once the facts published up to it are durable (acknowledged by Redis or synced to the
 * disk queue). Fed with real audit lines; the durable mark is the test's to move.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyhole/config.h"
#include "keyhole/pipeline.h"

static uint64_t facts, durable;

static void on_fact(void *ctx, const struct audit_event *ev)
{
	(void)ctx;
	(void)ev;
	facts++;
}

static uint64_t mark(void *ctx)
{
	(void)ctx;
	return facts;
}

static uint64_t safe(void *ctx)
{
	(void)ctx;
	return durable;
}

/* the first @n lines of the attack log, each fed with its end offset as position */
static void feed_lines(struct kh_pipeline *p, FILE *in, int n, uint64_t *off, uint64_t *ends)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	for (int i = 0; i < n && (len = getline(&line, &cap, in)) > 0; i++) {
		struct kh_file_pos pos = {.log = "audit.log", .dev = 1, .ino = 2};
		struct kh_origin o = {.source = "attack.log", .line_no = (uint64_t)i + 1};

		*off += (uint64_t)len;
		pos.end = *off;
		pos.end_known = true;
		o.pos = &pos;
		ends[i] = *off;
		cr_assert_eq(pipeline__feed_line(p, line, (size_t)len - 1, &o), 0);
	}
	free(line);
}

static uint64_t position(struct kh_pipeline *p)
{
	const struct kh_ckpt_entry *e = checkpoint__find(pipeline__checkpoint(p), "audit.log");

	return e ? e->offset : 0;
}

Test(checkpoint_gate, a_line_passes_once_its_facts_are_durable)
{
	char state[] = "/tmp/kh-gate-state.XXXXXX";
	struct kh_config cfg = *config__defaults();
	struct kh_pipeline_opts po = {.cfg = &cfg,
				      .scope = KH_SCOPE_LOCAL,
				      .fact_fn = on_fact,
				      .fact_mark = mark,
				      .fact_durable = safe};
	FILE *in = fopen(KH_TEST_DATA_DIR "/attack.log", "r");
	uint64_t off = 0, ends[40];
	struct kh_pipeline *p;
	int fd = mkstemp(state);

	cr_assert(fd >= 0 && in);
	close(fd);
	unlink(state);
	cfg.state_file = state;
	po.out = fopen("/dev/null", "w");
	p = pipeline__new(&po);
	cr_assert_not_null(p);
	facts = durable = 0;
	feed_lines(p, in, 20, &off, ends);
	cr_assert_eq(facts, 20, "every line is a fact");
	cr_assert_eq(position(p), 0, "the checkpoint passed lines whose facts are only queued");
	durable = 7; /* Redis acknowledged the first seven facts */
	pipeline__save_state(p);
	cr_assert_eq(position(p), ends[6]);
	durable = 20;
	feed_lines(p, in, 5, &off, ends + 20);
	cr_assert_eq(position(p), ends[19], "lines 21..25 are not durable yet");
	durable = facts;
	pipeline__flush(p);
	cr_assert_eq(position(p), ends[24]);
	pipeline__free(p);
	fclose(po.out);
	fclose(in);
	unlink(state);
}

Test(checkpoint_gate, without_a_gate_a_line_passes_at_once)
{
	char state[] = "/tmp/kh-gate-state.XXXXXX";
	struct kh_config cfg = *config__defaults();
	struct kh_pipeline_opts po = {.cfg = &cfg, .scope = KH_SCOPE_LOCAL, .fact_fn = on_fact};
	FILE *in = fopen(KH_TEST_DATA_DIR "/attack.log", "r");
	uint64_t off = 0, ends[5];
	struct kh_pipeline *p;
	int fd = mkstemp(state);

	cr_assert(fd >= 0 && in);
	close(fd);
	unlink(state);
	cfg.state_file = state;
	po.out = fopen("/dev/null", "w");
	p = pipeline__new(&po);
	feed_lines(p, in, 5, &off, ends);
	cr_assert_eq(position(p), ends[4]);
	pipeline__free(p);
	fclose(po.out);
	fclose(in);
	unlink(state);
}
