// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/source/baseline_disk.c: which files next to the live audit log are its rotated
 * siblings, in what order they are read (plain and gzip), and that learning from them mutes
 * alerts while the history learns, so the first live lines are judged against that history.
 */
#define _GNU_SOURCE /* asprintf */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "keyhole/baseline.h"
#include "keyhole/pipeline.h"

static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/kh-baseline-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

/* @name in the test directory holding @text (gzip when @gz), modified @age seconds ago */
static void put(const char *name, const char *text, int gz, long age)
{
	char path[256];
	struct timespec ts[2];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (gz) {
		gzFile f = gzopen(path, "wb");

		cr_assert_not_null(f);
		cr_assert_eq(gzwrite(f, text, (unsigned)strlen(text)), (int)strlen(text));
		gzclose(f);
	} else {
		FILE *f = fopen(path, "w");

		cr_assert_not_null(f);
		fputs(text, f);
		fclose(f);
	}
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= age;
	ts[1] = ts[0];
	cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static const char *base_of(const char *path)
{
	return strrchr(path, '/') + 1;
}

Test(baseline_disk, lists_rotated_siblings_oldest_first_then_the_live_log, .init = setup,
     .fini = teardown)
{
	char live[128], **files;
	const char *want[] = {"audit.log.2.gz", "audit-2026-11-01T08-00-00.000.log",
			      "audit-2026-11-01T20-00-00.000.log.gz", "audit.log.1", "audit.log"};
	size_t i;

	put("audit.log", "", 0, 0);
	put("audit.log.1", "", 0, 100);
	put("audit.log.2.gz", "", 1, 400);
	put("audit-2026-11-01T08-00-00.000.log", "", 0, 300);
	put("audit-2026-11-01T20-00-00.000.log.gz", "", 1, 200);
	/* not siblings: another log, a temporary file, another extension, no timestamp */
	put("apiserver.log", "", 0, 50);
	put("audit.log.tmp", "", 0, 50);
	put("audit-2026-11-01.txt", "", 0, 50);
	put("audit-.log", "", 0, 50);
	put("audit.logx", "", 0, 50);
	snprintf(live, sizeof(live), "%s/audit.log", dir);
	cr_assert_eq(baseline__list(live, &files), 0);
	for (i = 0; files[i]; i++) {
		cr_assert_lt(i, 5, "unexpected file %s", files[i]);
		cr_expect_str_eq(base_of(files[i]), want[i], "position %zu", i);
	}
	cr_expect_eq(i, 5);
	baseline__free_list(files);
}

Test(baseline_disk, a_missing_directory_is_an_error_not_a_crash)
{
	char **files;

	cr_expect_eq(baseline__list("/nonexistent/dir/audit.log", &files), -ENOENT);
	cr_expect_null(files);
}

/* a ResponseComplete get by @user with @ua at 2026-11-0@day */
static char *line(const char *user, const char *ua, int day, int n)
{
	char *l;

	cr_assert_geq(
	    asprintf(&l,
		     "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\","
		     "\"level\":\"Metadata\",\"auditID\":\"aaaaaaaa-0000-4000-8000-%012d\","
		     "\"stage\":\"ResponseComplete\",\"requestURI\":\"/api/v1/pods\","
		     "\"verb\":\"list\",\"user\":{\"username\":\"%s\"},"
		     "\"sourceIPs\":[\"10.0.0.5\"],\"userAgent\":\"%s\","
		     "\"objectRef\":{\"resource\":\"pods\",\"apiVersion\":\"v1\"},"
		     "\"responseStatus\":{\"code\":200},"
		     "\"requestReceivedTimestamp\":\"2026-11-0%dT10:00:00.000000Z\","
		     "\"stageTimestamp\":\"2026-11-0%dT10:00:00.001000Z\","
		     "\"annotations\":{\"authorization.k8s.io/decision\":\"allow\"}}\n",
		     day * 100 + n, user, ua, day, day),
	    0);
	return l;
}

Test(baseline_disk, learns_muted_then_judges_live_lines_against_it, .init = setup, .fini = teardown)
{
	char *a = line("system:node:n1", "kubelet/v1.36", 1, 1);
	char *b = line("system:kube-controller-manager", "kube-controller-manager/v1.36", 2, 2);
	char *c = line("alice", "kubectl/v1.30", 3, 3);
	char *joined, *out = NULL, live[128];
	size_t out_len = 0;
	FILE *f = open_memstream(&out, &out_len);
	struct kh_pipeline *p = pipeline__new(&(struct kh_pipeline_opts){.out = f});
	struct kh_baseline_stats st;
	struct kh_origin o = {.source = "live", .line_no = 1};

	cr_assert_not_null(p);
	cr_assert_geq(asprintf(&joined, "%s%s", b, c), 0);
	put("audit-2026-11-01T23-00-00.000.log.gz", a, 1, 3600);
	put("audit.log", joined, 0, 0);
	snprintf(live, sizeof(live), "%s/audit.log", dir);
	cr_redirect_stderr();
	cr_assert_eq(baseline__from_disk(p, live, &st), 0);
	cr_expect_eq(st.files, 2);
	cr_expect_eq(st.lines, 3);
	fflush(f);
	cr_expect_eq(out_len, 0, "the baseline alerted: %s", out);
	/* live again: what the baseline saw is history, a new combination alerts */
	a[strlen(a) - 1] = '\0';
	cr_assert_eq(pipeline__feed_line(p, a, strlen(a), &o), 0);
	fflush(f);
	cr_expect_eq(out_len, 0, "a learned combination alerted live: %s", out);
	free(c);
	c = line("mallory", "curl/8.5.0", 4, 4);
	c[strlen(c) - 1] = '\0';
	cr_assert_eq(pipeline__feed_line(p, c, strlen(c), &o), 0);
	fflush(f);
	cr_expect(strstr(out ? out : "", "\"k8s-unusual-decision-ua\"") != NULL,
		  "a new combination after the baseline did not alert");
	pipeline__free(p);
	fclose(f);
	free(out);
	free(a);
	free(b);
	free(c);
	free(joined);
}

Test(baseline_disk, rotated_logs_are_read_whole_when_the_live_log_is_missing, .init = setup,
     .fini = teardown)
{
	char *a = line("system:node:n1", "kubelet/v1.36", 1, 1);
	char *b = line("system:node:n2", "kubelet/v1.36", 1, 2);
	char *joined, live[128];
	FILE *f = fopen("/dev/null", "w");
	struct kh_pipeline *p = pipeline__new(&(struct kh_pipeline_opts){.out = f});
	struct kh_baseline_stats st;

	cr_assert_geq(asprintf(&joined, "%s%s", a, b), 0);
	put("audit.log.1", joined, 0, 60);
	snprintf(live, sizeof(live), "%s/audit.log", dir);
	cr_redirect_stderr();
	cr_assert_eq(baseline__from_disk(p, live, &st), 0);
	cr_expect_eq(st.files, 1);
	cr_expect_eq(st.lines, 2);
	pipeline__free(p);
	fclose(f);
	free(a);
	free(b);
	free(joined);
}
