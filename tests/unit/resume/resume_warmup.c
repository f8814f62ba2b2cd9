// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of the pipeline's resume modes (issue 19): the warm-up (alerts derived, state kept,
 * nothing written) and the alert lines a previous run wrote (not written again). The input is
 * the bundled attack log, whose rapid-get burst (three reads) and escalate-then-loot incident
 * are what a restart must not split.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/pipeline.h"

#define ATTACK KH_TEST_DATA_DIR "/attack.log"

struct run {
	struct kh_pipeline *p;
	char *buf;
	size_t len;
	FILE *out;
};

static void run_open(struct run *r)
{
	struct kh_pipeline_opts o = {0};

	memset(r, 0, sizeof(*r));
	r->out = open_memstream(&r->buf, &r->len);
	cr_assert(r->out);
	o.out = r->out;
	r->p = pipeline__new(&o);
	cr_assert(r->p);
}

/* feed lines [from, to) of the attack log (0-based); warm: through the warm-up */
static void run_feed(struct run *r, size_t from, size_t to, bool warm)
{
	FILE *f = fopen(ATTACK, "r");
	char *line = NULL;
	size_t cap = 0, i = 0;
	ssize_t n;
	struct kh_origin o = {.source = "attack.log"};

	cr_assert(f);
	pipeline__set_warmup(r->p, warm);
	while ((n = getline(&line, &cap, f)) > 0 && i < to) {
		if (i++ >= from)
			pipeline__feed_line(r->p, line, (size_t)n - (line[n - 1] == '\n'), &o);
	}
	pipeline__set_warmup(r->p, 0);
	free(line);
	fclose(f);
}

static size_t run_close(struct run *r, const char *rule)
{
	size_t n = 0;
	const char *p;

	pipeline__flush(r->p);
	fflush(r->out);
	for (p = r->buf; *rule && p && (p = strstr(p, rule)); p++)
		n++;
	return n;
}

static void run_free(struct run *r)
{
	pipeline__free(r->p);
	fclose(r->out);
	free(r->buf);
}

/* the line of the attack log that holds @needle (0-based) */
static size_t line_of(const char *needle)
{
	FILE *f = fopen(ATTACK, "r");
	char *line = NULL;
	size_t cap = 0, i = 0;

	cr_assert(f);
	while (getline(&line, &cap, f) > 0 && !strstr(line, needle))
		i++;
	free(line);
	fclose(f);
	return i;
}

#define RAPID "\"id\":\"k8s-secret-rapid-get\""
#define LOOT "\"id\":\"k8s-escalate-then-loot\""

Test(resume_warmup, a_burst_across_the_restart_is_alerted_once_warmed)
{
	/* the burst's second read: its first is before the cut, its third after */
	size_t cut = line_of("e9342661-e054-4365-91d7-b422c2cbfae8"), all = 1u << 20;
	struct run whole, cold, warm;

	run_open(&whole);
	run_feed(&whole, 0, all, false);
	cr_assert_eq(run_close(&whole, RAPID), 1, "replay of the whole log alerts the burst");

	run_open(&cold); /* a restart without warm-up: the burst is judged in halves */
	run_feed(&cold, cut, all, false);
	cr_assert_eq(run_close(&cold, RAPID), 0);

	run_open(&warm);
	run_feed(&warm, 0, cut, true);
	cr_assert_eq(warm.len, 0, "the warm-up wrote: %.200s", warm.buf);
	cr_assert_gt(pipeline__counters(warm.p)->warmup_alerts, 0);
	run_feed(&warm, cut, all, false);
	cr_assert_eq(run_close(&warm, RAPID), 1);
	run_free(&whole);
	run_free(&cold);
	run_free(&warm);
}

Test(resume_warmup, an_incident_across_the_restart_keeps_its_id_and_steps)
{
	/* after the grant, before the loot */
	size_t cut = line_of("fa30383d-b5c9-43d8-90c6-c6706594ea79"), all = 1u << 20;
	struct run whole, warm;
	const char *a, *b;

	run_open(&whole);
	run_feed(&whole, 0, all, false);
	cr_assert_gt(run_close(&whole, LOOT), 0);
	run_open(&warm);
	run_feed(&warm, 0, cut, true);
	run_feed(&warm, cut, all, false);
	cr_assert_eq(run_close(&warm, LOOT), run_close(&whole, LOOT));
	/* every incident line is byte for byte one replay writes: same id, revision, steps */
	for (a = warm.buf; (a = strstr(a, LOOT)); a = b) {
		char *line;
		const char *start = a, *end;

		while (start > warm.buf && start[-1] != '\n')
			start--;
		end = strchr(a, '\n');
		line = strndup(start, (size_t)(end - start + 1));
		cr_assert(strstr(whole.buf, line), "an incident line replay does not write: %.300s",
			  line);
		free(line);
		b = end;
	}
	run_free(&whole);
	run_free(&warm);
}

Test(resume_warmup, alerts_a_previous_run_wrote_are_not_written_again)
{
	struct run first, again;
	char *p, *nl;
	size_t n = 0;

	run_open(&first);
	run_feed(&first, 0, 1u << 20, false);
	run_close(&first, "");
	run_open(&again);
	for (p = first.buf; (nl = strchr(p, '\n')); p = nl + 1, n++)
		cr_assert_eq(pipeline__note_written(again.p, p, (size_t)(nl - p)), 0);
	cr_assert_gt(n, 20);
	run_feed(&again, 0, 1u << 20, false);
	run_close(&again, "");
	cr_assert_eq(again.len, 0, "written again: %.300s", again.buf);
	cr_assert_eq(pipeline__counters(again.p)->already_written, n);
	/* forgotten: the same input alerts again */
	pipeline__forget_written(again.p);
	run_free(&again);
	run_free(&first);
}
