// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/state/: the bounded history and the state file that keeps it across restarts
 * (round trip, atomic replace, and corrupt, foreign, truncated or future files set aside with a
 * warning, never trusted and never fatal).
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyhole/history.h"
#include "keyhole/state_file.h"
#include "state/state_codec.h"

#define SEC 1000000000ll
#define DAY (86400 * SEC)

static char dir[64];
static char path[128];

static void setup(void)
{
	strcpy(dir, "/tmp/kh-state-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/history.khs", dir);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

static void see_n(struct kh_history *h, const char *key, size_t len, int64_t t)
{
	cr_assert_eq(history__see(h, key, len, t, NULL), 0);
}

/* keys are string literals, NUL-joined fields included */
#define see(h, lit, t) see_n((h), (lit), sizeof(lit) - 1, (t))

static int64_t last_of(struct kh_history *h, const char *key)
{
	int64_t last = -1;

	history__lookup(h, key, strlen(key), NULL, &last);
	return last;
}

/* names in @dir starting with @prefix */
static int count_files(const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		n += !strncmp(e->d_name, prefix, strlen(prefix));
	closedir(d);
	return n;
}

static size_t file_size(void)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0);
	return (size_t)st.st_size;
}

static void write_file(const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static void *read_file(size_t *n)
{
	int fd = open(path, O_RDONLY);
	void *p;

	cr_assert_geq(fd, 0);
	*n = file_size();
	p = malloc(*n);
	cr_assert_eq(read(fd, p, *n), (ssize_t)*n);
	close(fd);
	return p;
}

/* ---- history ---- */

Test(history, records_first_and_last_seen_and_the_previous_sighting)
{
	struct kh_history *h = history__new(10);
	int64_t prev, first, last;

	cr_assert_eq(history__see(h, "k", 1, 100 * SEC, &prev), 0);
	cr_expect_eq(prev, 0);
	cr_assert_eq(history__see(h, "k", 1, 200 * SEC, &prev), 0);
	cr_expect_eq(prev, 100 * SEC);
	/* a line out of order never moves the history backwards */
	cr_assert_eq(history__see(h, "k", 1, 50 * SEC, &prev), 0);
	cr_expect_eq(prev, 200 * SEC);
	cr_assert_eq(history__lookup(h, "k", 1, &first, &last), 0);
	cr_expect_eq(first, 50 * SEC);
	cr_expect_eq(last, 200 * SEC);
	cr_expect_eq(history__lookup(h, "x", 1, &first, &last), -ENOENT);
	history__free(h);
}

Test(history, prune_forgets_what_left_the_window_and_bound_evicts_least_recent)
{
	struct kh_history *h = history__new(3);

	see(h, "a", 1 * DAY);
	see(h, "b", 2 * DAY);
	see(h, "c", 3 * DAY);
	see(h, "a", 4 * DAY); /* a is now the most recent */
	see(h, "d", 5 * DAY); /* full: b goes */
	cr_expect_eq(history__count(h), 3);
	cr_expect_eq(history__evictions(h), 1);
	cr_expect_eq(last_of(h, "b"), -1);
	history__prune(h, 4 * DAY); /* c (3 days) is older than the cutoff */
	cr_expect_eq(last_of(h, "c"), -1);
	cr_expect_eq(last_of(h, "a"), 4 * DAY);
	cr_expect_eq(history__count(h), 2);
	history__free(h);
}

/* ---- the state file ---- */

static struct kh_state *open_state(struct kh_history *a, struct kh_history *b)
{
	struct kh_state *s = state__new(path);

	cr_assert_not_null(s);
	if (a)
		cr_assert_eq(state__attach(s, "k8s-unusual-decision-ua", a), 0);
	if (b)
		cr_assert_eq(state__attach(s, "k8s-secret-configmap-arc-proxy", b), 0);
	return s;
}

Test(state_file, round_trip_keeps_every_entry_and_its_order, .init = setup, .fini = teardown)
{
	struct kh_history *a = history__new(100), *b = history__new(100);
	struct kh_history *a2 = history__new(2), *b2 = history__new(100);
	struct kh_state *s = open_state(a, b);
	struct stat st;

	see(a, "allow\0alice\0kubectl", 1 * DAY);
	see(a, "forbid\0mallory\0curl/8", 2 * DAY);
	see(a, "allow\0bob\0helm", 3 * DAY);
	history__restore(b, "oid-1", 5, 1 * DAY, 4 * DAY);
	cr_assert_eq(state__save(s), 0);
	cr_expect_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600, "history names users: not world-readable");
	cr_expect_eq(count_files("history.khs.tmp"), 0);
	state__free(s);

	/* a restart: new histories, the smaller one keeps the most recent entries */
	s = open_state(a2, b2);
	cr_assert_eq(state__load(s), 0);
	cr_expect_eq(state__stats(s)->loaded_sections, 2);
	cr_expect_eq(history__count(a2), 2);
	cr_expect_eq(history__evictions(a2), 1);
	cr_expect_eq(history__lookup(a2, "allow\0bob\0helm", 14, NULL, NULL), 0);
	cr_expect_eq(history__lookup(a2, "forbid\0mallory\0curl/8", 21, NULL, NULL), 0);
	cr_expect_eq(history__lookup(a2, "allow\0alice\0kubectl", 19, NULL, NULL), -ENOENT);
	int64_t first, last;
	cr_assert_eq(history__lookup(b2, "oid-1", 5, &first, &last), 0);
	cr_expect_eq(first, 1 * DAY);
	cr_expect_eq(last, 4 * DAY);
	state__free(s);
	history__free(a);
	history__free(b);
	history__free(a2);
	history__free(b2);
}

Test(state_file, sections_of_rules_not_running_are_written_back, .init = setup, .fini = teardown)
{
	struct kh_history *a = history__new(10), *b = history__new(10), *b2 = history__new(10);
	struct kh_state *s = open_state(a, b);

	see(b, "oid-7", 9 * DAY);
	cr_assert_eq(state__save(s), 0);
	state__free(s);
	/* the arc rule is disabled for a while: its history must survive the saves */
	s = open_state(a, NULL);
	cr_assert_eq(state__load(s), 0);
	cr_expect_eq(state__stats(s)->kept_sections, 1);
	see(a, "x", 10 * DAY);
	cr_assert_eq(state__save(s), 0);
	state__free(s);
	s = open_state(NULL, b2);
	cr_assert_eq(state__load(s), 0);
	cr_expect_eq(last_of(b2, "oid-7"), 9 * DAY);
	state__free(s);
	history__free(a);
	history__free(b);
	history__free(b2);
}

/* load a bad file: it must be set aside with a warning and nothing of it believed */
static void expect_set_aside(const char *why)
{
	struct kh_history *a = history__new(10);
	struct kh_state *s = open_state(a, NULL);
	char line[512];
	FILE *err;
	bool warned = false;

	cr_redirect_stderr();
	cr_assert_eq(state__load(s), 0, "a bad state file is never fatal");
	fflush(stderr);
	cr_expect_eq(history__count(a), 0, "nothing of a bad file is trusted");
	cr_expect_eq(state__stats(s)->set_aside, 1);
	cr_expect_eq(access(path, F_OK), -1, "the bad file is no longer at its path");
	cr_expect_eq(count_files("history.khs.corrupt-"), 1);
	err = cr_get_redirected_stderr();
	while (fgets(line, sizeof(line), err))
		warned |=
		    strstr(line, "warning") && strstr(line, why) && strstr(line, "moved aside");
	cr_expect(warned, "no warning naming '%s'", why);
	/* and the next save writes a good file in its place */
	see(a, "fresh", DAY);
	cr_expect_eq(state__save(s), 0);
	state__free(s);
	history__free(a);
}

static void good_file(void)
{
	struct kh_history *a = history__new(10);
	struct kh_state *s = open_state(a, NULL);

	see(a, "allow\0alice\0kubectl", DAY);
	see(a, "forbid\0eve\0curl", 2 * DAY);
	cr_assert_eq(state__save(s), 0);
	state__free(s);
	history__free(a);
}

Test(state_file, flipped_byte_fails_the_checksum, .init = setup, .fini = teardown)
{
	size_t n;
	uint8_t *p;

	good_file();
	p = read_file(&n);
	p[n / 2] ^= 0x40;
	write_file(p, n);
	free(p);
	expect_set_aside("checksum mismatch");
}

Test(state_file, truncated_file_is_set_aside, .init = setup, .fini = teardown)
{
	size_t n;
	uint8_t *p;

	good_file();
	p = read_file(&n);
	write_file(p, n - 7);
	free(p);
	expect_set_aside("checksum mismatch");
}

Test(state_file, foreign_file_is_set_aside, .init = setup, .fini = teardown)
{
	write_file("{\"not\": \"ours\"}\n", 16);
	expect_set_aside("not a keyhole state file");
}

Test(state_file, future_version_is_set_aside, .init = setup, .fini = teardown)
{
	size_t n;
	uint8_t *p;

	good_file();
	p = read_file(&n);
	p[8] = 2;
	write_file(p, n);
	free(p);
	expect_set_aside("format version 2");
}

Test(state_file, a_valid_checksum_over_bad_structure_is_still_refused)
{
	/* header, one section claiming 5 entries but holding none, then a correct crc */
	uint8_t buf[64] = STATE_MAGIC;
	size_t n = 24;
	const char *why = NULL;

	buf[8] = 1;  /* version */
	buf[12] = 1; /* one section */
	buf[n++] = 3;
	memcpy(buf + n, "abc", 3);
	n += 3;
	buf[n] = 5; /* n_entries, little-endian u64 */
	n += 8;
	{
		/* crc32 as zlib computes it, stored little-endian */
		extern unsigned long crc32(unsigned long, const unsigned char *, unsigned);
		unsigned long c = crc32(crc32(0, NULL, 0), buf, (unsigned)n);

		for (int i = 0; i < 4; i++)
			buf[n + (size_t)i] = (uint8_t)(c >> (8 * i));
	}
	cr_expect_eq(state_codec__check(buf, n + 4, &why), STATE_CORRUPT);
	cr_expect_str_eq(why, "entry count larger than the file");
}

Test(state_file, missing_file_is_a_fresh_start, .init = setup, .fini = teardown)
{
	struct kh_history *a = history__new(10);
	struct kh_state *s = open_state(a, NULL);

	cr_expect_eq(state__load(s), 0);
	cr_expect_eq(state__stats(s)->set_aside, 0);
	state__free(s);
	history__free(a);
}

Test(state_file, save_creates_its_own_directory, .init = setup, .fini = teardown)
{
	struct kh_history *a = history__new(10);
	struct kh_state *s;
	struct stat st;

	snprintf(path, sizeof(path), "%s/keyhole/history.khs", dir);
	s = open_state(a, NULL);
	see(a, "k", DAY);
	cr_expect_eq(state__save(s), 0);
	snprintf(path, sizeof(path), "%s/keyhole", dir);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0700);
	state__free(s);
	history__free(a);
}

Test(state_file, save_into_a_missing_directory_fails_cleanly, .init = setup, .fini = teardown)
{
	struct kh_history *a = history__new(10);
	struct kh_state *s;

	snprintf(path, sizeof(path), "%s/no/such/dir/history.khs", dir);
	s = open_state(a, NULL);
	see(a, "k", DAY);
	cr_redirect_stderr();
	cr_expect_eq(state__save(s), -ENOENT);
	cr_expect_eq(state__stats(s)->save_failures, 1);
	state__free(s);
	history__free(a);
}

Test(state_file, maybe_save_saves_only_changes_once_per_interval, .init = setup, .fini = teardown)
{
	struct kh_history *a = history__new(10);
	struct kh_state *s = open_state(a, NULL);

	cr_expect_eq(state__maybe_save(s, 0), 0); /* first call starts the clock */
	cr_expect_eq(state__stats(s)->saves, 0);
	cr_expect_eq(state__maybe_save(s, 0), 0); /* nothing changed */
	cr_expect_eq(state__stats(s)->saves, 0);
	see(a, "k", DAY);
	cr_expect_eq(state__maybe_save(s, 3600 * SEC), 0); /* changed, interval not over */
	cr_expect_eq(state__stats(s)->saves, 0);
	cr_expect_eq(state__maybe_save(s, 0), 0);
	cr_expect_eq(state__stats(s)->saves, 1);
	cr_expect_gt(file_size(), 24);
	state__free(s);
	history__free(a);
}

Test(state_file, save_changed_writes_only_what_changed_since_load_or_save, .init = setup,
     .fini = teardown)
{
	struct kh_history *a = history__new(10);
	struct kh_state *s = open_state(a, NULL);

	cr_expect_eq(state__save_changed(s), 0); /* nothing yet: no file */
	cr_expect_eq(state__stats(s)->saves, 0);
	cr_expect_eq(count_files("history.khs"), 0);
	see(a, "k", DAY);
	cr_expect_eq(state__save_changed(s), 0);
	cr_expect_eq(state__stats(s)->saves, 1);
	cr_expect_eq(state__save_changed(s), 0); /* the end of replay flushes twice */
	cr_expect_eq(state__stats(s)->saves, 1);
	state__free(s);
	history__free(a);
	/* loaded and unchanged: the file already holds it */
	a = history__new(10);
	s = open_state(a, NULL);
	cr_redirect_stderr();
	cr_assert_eq(state__load(s), 0);
	cr_expect_eq(state__save_changed(s), 0);
	cr_expect_eq(state__stats(s)->saves, 0);
	see(a, "k", 2 * DAY);
	cr_expect_eq(state__save_changed(s), 0);
	cr_expect_eq(state__stats(s)->saves, 1);
	state__free(s);
	history__free(a);
}

Test(state_file, a_temporary_file_left_by_a_killed_save_is_removed_at_load, .init = setup,
     .fini = teardown)
{
	struct kh_history *a = history__new(10);
	struct kh_state *s = open_state(a, NULL);
	char tmp[160];

	see(a, "k", DAY);
	cr_assert_eq(state__save(s), 0);
	state__free(s);
	/* what SIGKILL mid-save leaves: the whole old file, and a partial <path>.tmp beside it */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	close(open(tmp, O_WRONLY | O_CREAT, 0600));
	cr_assert_eq(count_files("history.khs.tmp"), 1);
	history__free(a);
	a = history__new(10);
	s = open_state(a, NULL);
	cr_redirect_stderr();
	cr_expect_eq(state__load(s), 0);
	cr_expect_eq(count_files("history.khs.tmp"), 0);
	cr_expect_eq(state__stats(s)->loaded_entries, 1);
	cr_expect_eq(state__stats(s)->set_aside, 0);
	state__free(s);
	history__free(a);
}

/* ---- a stop signal during a save ---- */

static char sig_tmp[160];
static volatile sig_atomic_t sig_calls, sig_during_save;
static volatile int hammer_stop;
static pthread_t main_thread;

/* the temporary file exists from the save's first write to its rename */
static void on_term(int sig)
{
	(void)sig;
	sig_calls++;
	if (access(sig_tmp, F_OK) == 0)
		sig_during_save++;
}

static void *hammer(void *arg)
{
	(void)arg;
	while (!hammer_stop) {
		pthread_kill(main_thread, SIGTERM);
		usleep(50);
	}
	return NULL;
}

Test(state_file, stop_signals_wait_for_the_save_to_finish, .init = setup, .fini = teardown)
{
	struct kh_history *a = history__new(200000);
	struct kh_state *s = open_state(a, NULL);
	struct sigaction sa, old;
	pthread_t th;
	char key[64];

	for (int i = 0; i < 100000; i++) {
		int n = snprintf(key, sizeof(key), "allow%cuser-%06d%cagent", 0, i, 0);

		see_n(a, key, (size_t)n, DAY + i);
	}
	snprintf(sig_tmp, sizeof(sig_tmp), "%s.tmp", path);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	cr_assert_eq(sigaction(SIGTERM, &sa, &old), 0);
	main_thread = pthread_self();
	cr_assert_eq(pthread_create(&th, NULL, hammer, NULL), 0);
	while (sig_calls == 0)
		usleep(100);
	/* a few saves under a storm of SIGTERM: none may reach the handler mid-save */
	for (int i = 0; i < 3; i++)
		cr_assert_eq(state__save(s), 0);
	hammer_stop = 1;
	pthread_join(th, NULL);
	sigaction(SIGTERM, &old, NULL);
	cr_expect_eq(sig_during_save, 0, "%d SIGTERMs ran their handler in the middle of a save",
		     (int)sig_during_save);
	cr_expect_gt(sig_calls, 1);
	cr_expect_eq(count_files("history.khs.tmp"), 0);
	state__free(s);
	history__free(a);
}
