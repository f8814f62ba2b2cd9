// SPDX-License-Identifier: Apache-2.0
/*
 * The escalate-then-loot incident in live capture: the stand-in apiserver writes the correlator's
 * seed-004 log (tests/data/correlate/seed004.log) from several threads, the real audit tap
 * captures it into a pipeline, and the incident lines must be one incident, every revision, the
 * same bytes a replay of the written lines gives. Needs root and BPF (skips loudly otherwise,
 * fails when KEYHOLE_REQUIRE_BPF=1).
 */
#include <json-c/json.h>

#include "tap_harness.h"

#define RULE "\"rule\":{\"id\":\"k8s-escalate-then-loot\""

/* the incident lines in @f, joined, and how many */
static char *incident_lines(FILE *f, size_t *n)
{
	char *line = NULL, *out = calloc(1, 1);
	size_t cap = 0, len = 0;
	ssize_t k;

	*n = 0;
	fflush(f);
	rewind(f);
	while ((k = getline(&line, &cap, f)) > 0) {
		if (!strstr(line, RULE))
			continue;
		out = realloc(out, len + (size_t)k + 1);
		memcpy(out + len, line, (size_t)k + 1);
		len += (size_t)k;
		(*n)++;
	}
	free(line);
	return out;
}

Test(correlate_live, seed004_incident_live_equals_replay)
{
	struct capture_opts co = {0};
	struct kh_pipeline_opts lo = {0}, ro = {0};
	struct kh_pipeline *live, *replay;
	struct tlines got = {0}, want = {0};
	struct capture *c;
	char logdir[300], path[320], *dir, *li, *ri;
	size_t ln, rn;
	json_object *first;

	tap_require_bpf();
	dir = tap_tmpdir("corr");
	snprintf(logdir, sizeof(logdir), "%s/log", dir);
	snprintf(path, sizeof(path), "%s/audit.log", logdir);
	cr_assert_eq(mkdir(logdir, 0700), 0);
	lo.out = tmpfile();
	ro.out = tmpfile();
	live = pipeline__new(&lo);
	replay = pipeline__new(&ro);
	cr_assert(live && replay);
	got.pipe = live;
	co.line_fn = tap_collect;
	co.line_ctx = &got;
	co.audit_log = path;
	cr_assert_eq(capture__new(&co, &c), 0, "loading the audit tap failed");
	{
		char *argv[] = {STANDIN, "--audit-log-path", path, "--input",
				KH_TEST_DATA_DIR "/correlate/seed004.log", "--threads", "4",
				/* in input order: four threads could put a read before its grant */
				"--ordered", "--exit-when-done", NULL};

		cr_assert_eq(run_until_exit(c, spawn_argv(argv), 60), 0);
	}
	pipeline__flush(live);
	tlines_read_written(&want, logdir);
	tlines_assert_equal(&got, &want);

	for (size_t i = 0; i < want.n; i++) {
		struct kh_origin o = {.source = "replay", .line_no = i + 1};

		pipeline__feed_line(replay, want.v[i].data, want.v[i].len, &o);
	}
	pipeline__flush(replay);
	li = incident_lines(lo.out, &ln);
	ri = incident_lines(ro.out, &rn);
	cr_assert_geq(ln, 4, "the incident and its revisions, live (got %zu)", ln);
	cr_assert_eq(ln, rn);
	cr_assert_str_eq(li, ri, "live incident lines differ from replay's");

	/* one incident: the first line's id is on every line */
	first = json_tokener_parse(li);
	cr_assert_not_null(first);
	{
		json_object *k, *inc, *id;
		const char *want_id;
		size_t with_id = 0;

		cr_assert(json_object_object_get_ex(first, "keyhole", &k) &&
			  json_object_object_get_ex(k, "incident", &inc) &&
			  json_object_object_get_ex(inc, "id", &id));
		want_id = json_object_get_string(id);
		for (const char *p = li; (p = strstr(p, want_id)); p++)
			with_id++;
		cr_assert_eq(with_id, ln, "every incident line carries the first line's id");
	}
	json_object_put(first);
	free(li);
	free(ri);
	tlines_free(&got);
	tlines_free(&want);
	capture__free(c);
	pipeline__free(live);
	pipeline__free(replay);
	fclose(lo.out);
	fclose(ro.out);
	rm_rf(dir);
}
