/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tap_harness: what the audit tap's BPF tests share. Each test loads the real tap (the embedded
 * skeleton) through capture__new(), runs the stand-in apiserver (build/tests/kube-apiserver) as
 * a child, polls the rings until the child is done, stops (detach + drain), and compares the
 * captured lines with the bytes the stand-in really wrote (the files on disk, rotated ones
 * oldest first).
 *
 * Without root or BPF the tests skip loudly; with KEYHOLE_REQUIRE_BPF=1 a skip is a failure.
 * Each test aims the tap at its own file (--audit-log override) or its own process name, so
 * tests and other stand-ins running at the same time cannot feed each other's captures.
 */
#ifndef KEYHOLE_TESTS_TAP_HARNESS_H
#define KEYHOLE_TESTS_TAP_HARNESS_H

#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpf_need.h"
#include "keyhole/capture.h"
#include "keyhole/features.h"
#include "keyhole/audit_event.h"
#include "keyhole/log.h"
#include "keyhole/pipeline.h"

extern char **environ;

#define STANDIN KH_BUILD_DIR "/tests/kube-apiserver"

/* skip (loudly) or fail when BPF cannot run here */
static inline void tap_require_bpf(void)
{
	bpf_need("audit tap", bpf_need__why_not());
}

/* ---- captured lines ---- */

struct tline {
	char *data;
	size_t len;
	uint32_t flags;
	uint32_t cut;
};

struct tlines {
	struct tline *v;
	size_t n, cap;
	struct kh_pipeline *pipe; /* when set, every captured line is fed to it too */
};

static inline void tlines_push(struct tlines *t, const char *p, size_t n, uint32_t flags)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->v = realloc(t->v, t->cap * sizeof(*t->v));
		cr_assert_not_null(t->v);
	}
	t->v[t->n].data = malloc(n + 1);
	cr_assert_not_null(t->v[t->n].data);
	memcpy(t->v[t->n].data, p, n);
	t->v[t->n].data[n] = 0;
	t->v[t->n].len = n;
	t->v[t->n].flags = flags;
	t->n++;
}

static inline void tlines_free(struct tlines *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].data);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static inline int tap_collect(void *ctx, const struct capture_line *l)
{
	struct tlines *t = ctx;
	struct kh_origin o = {.source = l->origin, .line_no = l->line_no, .flags = l->flags};

	tlines_push(t, l->data, l->len, l->flags);
	t->v[t->n - 1].cut = l->cut;
	if (t->pipe)
		return pipeline__feed_line(t->pipe, l->data, l->len, &o);
	return 0;
}

/* every line of file @path appended to @t */
static inline void tlines_read_file(struct tlines *t, const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
	while ((n = getline(&buf, &cap, f)) > 0) {
		if (buf[n - 1] == '\n')
			n--;
		tlines_push(t, buf, n, 0);
	}
	free(buf);
	fclose(f);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The lines the stand-in wrote to @dir: rotated files (audit-<time>.log sort by time), then the
 * live audit.log. Files whose name does not start with "audit" are ignored.
 */
static inline void tlines_read_written(struct tlines *t, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *names[4096];
	size_t n = 0;
	char path[4096];

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "audit-", 6)) {
			cr_assert(n < 4096);
			names[n++] = strdup(e->d_name);
		}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		tlines_read_file(t, path);
		free(names[i]);
	}
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	if (access(path, F_OK) == 0)
		tlines_read_file(t, path);
}

/* exact, ordered equality of captured and written lines, with a useful message */
static inline void tlines_assert_equal(const struct tlines *got, const struct tlines *want)
{
	for (size_t i = 0; i < got->n && i < want->n; i++) {
		cr_assert_eq(got->v[i].len, want->v[i].len,
			     "line %zu: captured %zu bytes, written %zu bytes", i + 1,
			     got->v[i].len, want->v[i].len);
		cr_assert(memcmp(got->v[i].data, want->v[i].data, got->v[i].len) == 0,
			  "line %zu: captured bytes differ from written bytes", i + 1);
	}
	cr_assert_eq(got->n, want->n, "captured %zu lines, the stand-in wrote %zu", got->n,
		     want->n);
}

/* ---- processes ---- */

static inline pid_t spawn_argv(char *const argv[])
{
	pid_t pid;
	int err = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);

	cr_assert_eq(err, 0, "spawn %s: %s", argv[0], strerror(err));
	return pid;
}

/*
 * Poll the capture until @pid exits (at most @timeout_s), then stop it (detach, drain, flush).
 * Returns the child's exit status.
 */
static inline int run_until_exit(struct capture *c, pid_t pid, int timeout_s)
{
	time_t end = time(NULL) + timeout_s;
	int st = 0;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			break;
		cr_assert(time(NULL) < end, "stand-in did not finish in %d s", timeout_s);
		cr_assert(capture__poll(c, 20) >= 0);
	}
	capture__stop(c);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* a fresh directory under /tmp for one test */
static inline char *tap_tmpdir(const char *tag)
{
	static char dir[256];

	snprintf(dir, sizeof(dir), "/tmp/kh-tap-%s-XXXXXX", tag);
	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

static inline void rm_rf(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/* the bundled sample logs (tests/data) */
static inline void sample_input(const char *out_path)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "cat '%s/attack.log' '%s/benign-controlplane.log' > '%s'",
		 KH_TEST_DATA_DIR, KH_TEST_DATA_DIR, out_path);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static inline uint64_t tap_counter(struct capture *c, int idx)
{
	struct capture_stats s;

	capture__stats(c, &s);
	return s.tap[idx];
}

#endif /* KEYHOLE_TESTS_TAP_HARNESS_H */
