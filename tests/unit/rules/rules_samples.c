// SPDX-License-Identifier: Apache-2.0
/*
 * The rules on whole logs, through the real pipeline (line -> parse -> rules -> alerts):
 *  - every file of tests/data/audit-samples/ (real apiserver output: sorted keys, v1beta1
 *    events, missing fields): every line parses, nothing crashes, and the alerts are exactly
 *    those tests/data/audit-samples.expected.jsonl names;
 *  - tests/data/benign-controlplane.log and attack.log against their expected files.
 * Expected files are labelled by hand from the seeds; a missing or an extra alert fails, with
 * the label's reason.
 */
#define _GNU_SOURCE /* nftw */
#include <json-c/json.h>

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/pipeline.h"

struct alert_id {
	char key[256]; /* "rule auditID" */
	char why[512];
};

struct run {
	char *buf;
	size_t len;
	FILE *out;
	struct kh_pipeline *p;
	uint64_t lines;
};

static void run_start(struct run *r)
{
	struct kh_pipeline_opts o = {0};

	memset(r, 0, sizeof(*r));
	r->out = open_memstream(&r->buf, &r->len);
	o.out = r->out;
	r->p = pipeline__new(&o);
	cr_assert_not_null(r->p);
}

static void run_file(struct run *r, const char *path)
{
	FILE *f = fopen(path, "r");
	struct kh_origin o = {.source = path};
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	cr_assert_not_null(f, "cannot open %s", path);
	while ((n = getline(&line, &cap, f)) > 0) {
		o.line_no++;
		if (line[n - 1] == '\n')
			n--;
		cr_assert_eq(pipeline__feed_line(r->p, line, (size_t)n, &o), 0);
		r->lines++;
	}
	free(line);
	fclose(f);
}

/* end the run: flush, check every line parsed, return the alerts as "rule auditID" keys */
static size_t run_end(struct run *r, const char *const *covers, struct alert_id **out)
{
	const struct kh_counters *c;
	struct alert_id *ids = NULL;
	size_t n = 0;

	pipeline__flush(r->p);
	c = pipeline__counters(r->p);
	cr_expect_eq(c->malformed, 0, "malformed lines");
	cr_expect_eq(c->parsed, r->lines, "parsed %llu of %llu lines",
		     (unsigned long long)c->parsed, (unsigned long long)r->lines);
	fclose(r->out);
	for (char *p = r->buf, *nl; p && *p; p = nl + 1) {
		struct json_object *a, *rule, *aid;

		nl = strchr(p, '\n');
		cr_assert_not_null(nl);
		*nl = '\0';
		a = json_tokener_parse(p);
		cr_assert_not_null(a, "alert is not JSON: %s", p);
		cr_assert(json_object_object_get_ex(a, "rule", &rule) &&
			  json_object_object_get_ex(rule, "id", &rule));
		for (size_t i = 0; covers[i]; i++) {
			if (strcmp(covers[i], json_object_get_string(rule)))
				continue;
			/* a per-request alert names its request (incidents list theirs in evidence)
			 */
			cr_assert(json_object_object_get_ex(a, "kubernetes", &aid) &&
				  json_object_object_get_ex(aid, "audit", &aid) &&
				  json_object_object_get_ex(aid, "auditID", &aid));
			ids = realloc(ids, (n + 1) * sizeof(*ids));
			snprintf(ids[n].key, sizeof(ids[n].key), "%s %s",
				 json_object_get_string(rule), json_object_get_string(aid));
			ids[n++].why[0] = '\0';
		}
		json_object_put(a);
	}
	pipeline__free(r->p);
	free(r->buf);
	*out = ids;
	return n;
}

/* the expected file: the rules it covers (NULL-terminated, static) and its alerts */
static const char *covers_buf[16];
static char covers_names[16][64];

static size_t read_expected(const char *path, struct alert_id **out)
{
	FILE *f = fopen(path, "r");
	struct alert_id *ids = NULL;
	char *line = NULL;
	size_t cap = 0, n = 0;
	int header = 1;

	cr_assert_not_null(f, "cannot open %s", path);
	while (getline(&line, &cap, f) > 0) {
		struct json_object *o = json_tokener_parse(line), *v, *w;

		cr_assert_not_null(o, "%s: not JSON: %s", path, line);
		if (header) {
			size_t k;

			cr_assert(json_object_object_get_ex(o, "covers", &v));
			for (k = 0; k < json_object_array_length(v) && k < 15; k++) {
				snprintf(covers_names[k], 64, "%s",
					 json_object_get_string(json_object_array_get_idx(v, k)));
				covers_buf[k] = covers_names[k];
			}
			covers_buf[k] = NULL;
			header = 0;
		} else {
			cr_assert(json_object_object_get_ex(o, "rule", &v) &&
				  json_object_object_get_ex(o, "auditID", &w));
			ids = realloc(ids, (n + 1) * sizeof(*ids));
			snprintf(ids[n].key, sizeof(ids[n].key), "%s %s", json_object_get_string(v),
				 json_object_get_string(w));
			ids[n].why[0] = '\0';
			if (json_object_object_get_ex(o, "why", &v))
				snprintf(ids[n].why, sizeof(ids[n].why), "%s",
					 json_object_get_string(v));
			n++;
		}
		json_object_put(o);
	}
	free(line);
	fclose(f);
	*out = ids;
	return n;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct alert_id *)a)->key, ((const struct alert_id *)b)->key);
}

/* multiset comparison, reporting each difference with its reason */
static void compare(const char *what, struct alert_id *got, size_t ng, struct alert_id *want,
		    size_t nw)
{
	size_t i = 0, j = 0;
	int bad = 0;

	qsort(got, ng, sizeof(*got), by_key);
	qsort(want, nw, sizeof(*want), by_key);
	while (i < ng || j < nw) {
		int c = i == ng ? 1 : j == nw ? -1 : strcmp(got[i].key, want[j].key);

		if (c == 0) {
			i++, j++;
		} else if (c < 0) {
			cr_log_error("%s: unexpected alert %s", what, got[i++].key);
			bad = 1;
		} else {
			cr_log_error("%s: missing alert %s (%s)", what, want[j].key, want[j].why);
			j++;
			bad = 1;
		}
	}
	cr_expect_not(bad, "%s: alerts differ from the expected file (see above)", what);
	cr_expect_eq(ng, nw, "%s: %zu alerts, expected %zu", what, ng, nw);
}

static char **files;
static size_t n_files;

static int collect(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	size_t len = strlen(path);

	(void)st;
	(void)ftw;
	if (type == FTW_F && len > 6 && !strcmp(path + len - 6, ".jsonl")) {
		files = realloc(files, (n_files + 1) * sizeof(*files));
		files[n_files++] = strdup(path);
	}
	return 0;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(rules_samples, real_apiserver_samples_fire_as_the_seeds_say)
{
	struct alert_id *got, *want, *all = NULL;
	size_t nw, ng_all = 0;

	nw = read_expected(KH_TEST_DATA_DIR "/audit-samples.expected.jsonl", &want);
	cr_assert_eq(nftw(KH_SAMPLES_DIR, collect, 16, FTW_PHYS), 0, "cannot read %s",
		     KH_SAMPLES_DIR);
	cr_assert_gt(n_files, 50, "the shared samples are missing (%zu files)", n_files);
	qsort(files, n_files, sizeof(*files), by_str);
	/* one pipeline per file: the samples are unrelated captures */
	for (size_t i = 0; i < n_files; i++) {
		struct run r;
		size_t ng;

		run_start(&r);
		run_file(&r, files[i]);
		ng = run_end(&r, covers_buf, &got);
		all = realloc(all, (ng_all + ng + 1) * sizeof(*all));
		if (ng)
			memcpy(all + ng_all, got, ng * sizeof(*got));
		ng_all += ng;
		free(got);
		free(files[i]);
	}
	free(files);
	compare("audit-samples", all, ng_all, want, nw);
	free(all);
	free(want);
}

static void check_log(const char *name)
{
	char log[512], exp[512];
	struct alert_id *got, *want;
	struct run r;
	size_t ng, nw;

	snprintf(log, sizeof(log), "%s/%s.log", KH_TEST_DATA_DIR, name);
	snprintf(exp, sizeof(exp), "%s/%s.expected.jsonl", KH_TEST_DATA_DIR, name);
	nw = read_expected(exp, &want);
	cr_assert_gt(nw, 0);
	run_start(&r);
	run_file(&r, log);
	ng = run_end(&r, covers_buf, &got);
	compare(name, got, ng, want, nw);
	free(got);
	free(want);
}

Test(rules_samples, benign_control_plane)
{
	check_log("benign-controlplane");
}

Test(rules_samples, attack)
{
	check_log("attack");
}
