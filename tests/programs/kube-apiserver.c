// SPDX-License-Identifier: Apache-2.0
/*
 * kube-apiserver (stand-in): writes audit lines to --audit-log-path the way the real apiserver
 * does, for the audit tap's tests and bench. The binary is named kube-apiserver so its comm is
 * the tap's default target.
 *
 * As observed with strace on kube-apiserver v1.36: one write(2) per event line (line and
 * newline together) to an fd opened O_WRONLY|O_APPEND|O_CLOEXEC|O_CREAT, from several threads;
 * rotation (lumberjack) closes the file, renames it to audit-<timestamp>.log and opens a new
 * audit.log, all under the writer lock. --restart-after re-executes the binary mid-stream (same
 * pid), or with --restart-mode spawn starts a new process and waits for it (new pid). Threads
 * take lines in turn but, like the real server's goroutines, may reach the lock out of order;
 * --ordered makes them write in input order so the file equals the input. --split-bytes N writes
 * each line in write(2)s of at most N bytes (still under the lock): not what the apiserver does,
 * but what another writer may, so that reassembly sees lines spread over many writes.
 *
 * Lines come from --input (one per line) or are generated (--generate N --line-bytes B). A
 * line containing KH_SEND_NS_TOKEN has it replaced, at write time, by the CLOCK_MONOTONIC
 * nanoseconds (19 digits), so the bench can measure write-to-alert latency.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KH_SEND_NS_TOKEN "@@KH_SEND_NS_19DIG@"

enum sys_kind { SYS_WRITE, SYS_WRITEV, SYS_PWRITE };

struct opts {
	const char *path;
	const char *input;
	const char *other_file; /* also write every line here (a file that must not be captured) */
	long long generate;
	long long line_bytes;
	long long rotate_bytes;
	double rate;
	int threads;
	long long restart_after;
	long long start_delay_ms; /* before the first line (not after a restart): a real apiserver
				   * takes seconds to start, and the agent follows it meanwhile */
	int restart_spawn;
	int exit_when_done;
	int ordered;	       /* threads write in input order (a ticket per line) */
	long long split_bytes; /* write a line in pieces of at most this (0: one write) */
	long long alert_every; /* generated lines: every Nth is a secret read by curl (alerts) */
	long long repeat;
	long long skip;
	enum sys_kind sys;
	const char *written_log; /* append "<line number>\n" per line written (for tests) */
};

static struct opts o = {.threads = 1, .repeat = 1, .line_bytes = 1024, .alert_every = 1};
static char **lines;
static size_t *lens;
static long long nlines;
static long long total; /* lines to write in all: nlines * repeat */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cv = PTHREAD_COND_INITIALIZER;
static long long turn; /* --ordered: the next line index allowed to write */
static int fd = -1, other_fd = -1;
static long long cur_size;
static long long rotations;
static _Atomic long long next_idx;
static _Atomic long long written, bytes_written;
static _Atomic long long write_ns; /* time spent inside the write system calls */
static long long stop_at; /* exclusive line index where this image stops (restart or end) */
static struct timespec t0;

static void die(const char *what)
{
	fprintf(stderr, "kube-apiserver (stand-in): %s: %s\n", what, strerror(errno));
	exit(1);
}

static int64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void add_line(char *p, size_t n)
{
	static size_t cap;

	if ((size_t)nlines == cap) {
		cap = cap ? cap * 2 : 1024;
		lines = realloc(lines, cap * sizeof(*lines));
		lens = realloc(lens, cap * sizeof(*lens));
		if (!lines || !lens)
			die("out of memory");
	}
	/* room for the newline so each line is one write(2) */
	p = realloc(p, n + 1);
	if (!p)
		die("out of memory");
	p[n] = '\n';
	lines[nlines] = p;
	lens[nlines++] = n + 1;
}

static void load_input(void)
{
	FILE *f = strcmp(o.input, "-") ? fopen(o.input, "r") : stdin;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		die(o.input);
	while ((n = getline(&buf, &cap, f)) > 0) {
		if (buf[n - 1] == '\n')
			n--;
		add_line(buf, n);
		buf = NULL;
		cap = 0;
	}
	free(buf);
	if (f != stdin)
		fclose(f);
}

/*
 * Generated lines, padded to --line-bytes: every --alert-every'th is a secret read by curl (the
 * suspicious-UA rule alerts on each), the others a controller reading a configmap (silent).
 */
static void generate(void)
{
	for (long long i = 0; i < o.generate; i++) {
		bool alert = o.alert_every > 0 && i % o.alert_every == 0;
		const char *res = alert ? "secrets" : "configmaps";
		const char *user = alert ? "bench-user" : "system:kube-controller-manager";
		const char *ua =
		    alert ? "curl/8.5.0"
			  : "kube-controller-manager/v1.36.2 (linux/amd64) kubernetes/abc";
		static const char sfx[] = "\",\"authorization.k8s.io/decision\":\"allow\","
					  "\"authorization.k8s.io/reason\":\"\"}}";
		char *p = malloc(o.line_bytes + 1024);
		int n;

		if (!p)
			die("out of memory");
		n = snprintf(p, o.line_bytes + 1024,
			     "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":"
			     "\"Metadata\",\"auditID\":\"gen-%012lld-" KH_SEND_NS_TOKEN "\","
			     "\"stage\":\"ResponseComplete\",\"requestURI\":\"/api/v1/namespaces/"
			     "default/%s/s%lld\",\"verb\":\"get\",\"user\":{\"username\":"
			     "\"%s\",\"groups\":[\"system:authenticated\"]},\"sourceIPs\":"
			     "[\"10.1.2.3\"],\"userAgent\":\"%s\",\"objectRef\":{\"resource\":"
			     "\"%s\",\"namespace\":\"default\",\"name\":\"s%lld\",\"apiVersion\":"
			     "\"v1\"},\"responseStatus\":{\"metadata\":{},\"code\":200},"
			     "\"requestReceivedTimestamp\":\"2026-01-02T03:04:05.000000Z\","
			     "\"stageTimestamp\":\"2026-01-02T03:04:05.001000Z\",\"annotations\":{"
			     "\"pad\":\"",
			     i, res, i, user, ua, res, i);
		/* the write (line and newline) is --line-bytes long when the fixed part fits */
		while (n < o.line_bytes - 1 - (long long)strlen(sfx))
			p[n++] = 'x';
		n += sprintf(p + n, "%s", sfx);
		add_line(p, n);
	}
}

static int open_log(void)
{
	int f = open(o.path, O_WRONLY | O_APPEND | O_CLOEXEC | O_CREAT, 0600);
	struct stat st;

	if (f < 0)
		die(o.path);
	cur_size = fstat(f, &st) == 0 ? st.st_size : 0;
	return f;
}

/*
 * lumberjack's rotation (openNew): close, and if the name stat()s (through a symlink: a dangling
 * one does not), rename it to audit-<time>.log beside it; then open the name, creating it. So a
 * log deleted or moved away by someone else is not renamed, a fresh audit.log is just created; a
 * symlink to an existing file is itself renamed and a regular audit.log created; a dangling
 * symlink is followed and its target created. lumberjack fails the one write whose rename finds
 * the name gone between its stat and its rename; the stand-in goes on, so tests stay exact.
 */
static void rotate(void)
{
	char dir[PATH_MAX], base[PATH_MAX], to[3 * PATH_MAX], stamp[64];
	struct timespec ts;
	struct stat st;
	struct tm tm;
	char *slash, *dot;

	snprintf(dir, sizeof(dir), "%s", o.path);
	slash = strrchr(dir, '/');
	snprintf(base, sizeof(base), "%s", slash ? slash + 1 : o.path);
	if (slash)
		slash[1] = 0;
	else
		dir[0] = 0;
	dot = strrchr(base, '.');
	if (dot)
		*dot = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H-%M-%S", &tm);
	close(fd);
	snprintf(to, sizeof(to), "%s%s-%s.%09ld-%lld.log", dir, base, stamp, ts.tv_nsec, rotations);
	if (stat(o.path, &st) == 0 && rename(o.path, to) && errno != ENOENT)
		die("rename");
	rotations++;
	fd = open_log();
}

static void stamp_send_time(char *p, size_t n)
{
	char *t = memmem(p, n, KH_SEND_NS_TOKEN, sizeof(KH_SEND_NS_TOKEN) - 1);
	char digits[32];

	if (!t)
		return;
	snprintf(digits, sizeof(digits), "%019lld", (long long)now_ns(CLOCK_MONOTONIC));
	memcpy(t, digits, 19);
}

static void write_line(long long idx, char *scratch)
{
	size_t i = idx % nlines, n = lens[i];
	char *p = lines[i];
	int64_t t_in;
	ssize_t w;

	if (memmem(p, n, KH_SEND_NS_TOKEN, sizeof(KH_SEND_NS_TOKEN) - 1) && scratch) {
		memcpy(scratch, p, n);
		p = scratch;
	}
	pthread_mutex_lock(&lock);
	while (o.ordered && turn != idx)
		pthread_cond_wait(&turn_cv, &lock);
	if (o.rotate_bytes && cur_size > 0 && cur_size + (long long)n > o.rotate_bytes)
		rotate();
	stamp_send_time(p, n);
	t_in = now_ns(CLOCK_MONOTONIC);
	if (o.sys == SYS_WRITEV) {
		/* the line and its newline in separate buffers: the tap must join iovecs */
		struct iovec iov[2] = {{p, n - 1}, {p + n - 1, 1}};

		w = writev(fd, iov, 2);
	} else if (o.sys == SYS_PWRITE) {
		w = pwrite(fd, p, n, cur_size);
	} else if (o.split_bytes > 0) {
		size_t off = 0;

		for (w = 0; off < n && w >= 0; off += (size_t)w) {
			size_t k =
			    n - off < (size_t)o.split_bytes ? n - off : (size_t)o.split_bytes;

			w = write(fd, p + off, k);
		}
		w = w < 0 ? w : (ssize_t)off;
	} else {
		w = write(fd, p, n);
	}
	write_ns += now_ns(CLOCK_MONOTONIC) - t_in;
	if (w != (ssize_t)n)
		die("write");
	cur_size += n;
	if (other_fd >= 0 && write(other_fd, p, n) != (ssize_t)n)
		die("write to --other-file");
	turn++;
	if (o.ordered)
		pthread_cond_broadcast(&turn_cv);
	pthread_mutex_unlock(&lock);
	written++;
	bytes_written += n;
}

static void pace(long long idx)
{
	int64_t due;
	struct timespec ts;

	if (o.rate <= 0)
		return;
	due =
	    (int64_t)t0.tv_sec * 1000000000 + t0.tv_nsec + (int64_t)((idx - o.skip) * 1e9 / o.rate);
	ts.tv_sec = due / 1000000000;
	ts.tv_nsec = due % 1000000000;
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static void *writer(void *arg)
{
	size_t maxlen = 0;
	char *scratch;

	(void)arg;
	for (long long i = 0; i < nlines; i++)
		if (lens[i] > maxlen)
			maxlen = lens[i];
	scratch = malloc(maxlen);
	for (;;) {
		long long idx = next_idx++;

		if (idx >= stop_at)
			break;
		pace(idx);
		write_line(idx, scratch);
	}
	free(scratch);
	return NULL;
}

/* exec ourselves again with --skip set to where this image stopped */
static void restart(int argc, char **argv)
{
	char **nargv = calloc(argc + 3, sizeof(*nargv));
	char skip[32];
	int j = 0;

	snprintf(skip, sizeof(skip), "%lld", stop_at);
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--skip")) {
			i++;
			continue;
		}
		nargv[j++] = argv[i];
	}
	nargv[j++] = "--skip";
	nargv[j++] = skip;
	fprintf(stderr, "kube-apiserver (stand-in): pid %d restarting after line %lld (%s)\n",
		getpid(), stop_at, o.restart_spawn ? "new process" : "exec");
	if (o.restart_spawn) {
		pid_t child = fork();
		int st;

		if (child == 0) {
			execv(argv[0], nargv);
			die("execv");
		}
		if (child < 0)
			die("fork");
		/* the old server is gone for the tap's purposes: it writes nothing more */
		close(fd);
		while (waitpid(child, &st, 0) < 0 && errno == EINTR)
			;
		exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
	}
	/* by the name we were started with, as a supervisor would: comm comes from it */
	execv(argv[0], nargv);
	die("execv");
}

static void usage(void)
{
	fprintf(stderr,
		"usage: kube-apiserver --audit-log-path PATH (--input FILE | --generate N "
		"[--line-bytes B] [--alert-every K])\n"
		"  [--rotate-bytes N] [--rate LINES_PER_S] [--threads N] [--restart-after N "
		"[--restart-mode exec|spawn]]\n"
		"  [--repeat N] [--syscall write|writev|pwrite] [--other-file PATH] [--ordered]\n"
		"  [--split-bytes N] [--start-delay-ms MS]\n"
		"  [--exit-when-done]\n");
	exit(2);
}

static void parse(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--exit-when-done")) {
			o.exit_when_done = 1;
			continue;
		}
		if (!strcmp(a, "--ordered")) {
			o.ordered = 1;
			continue;
		}
		if (!strncmp(a, "--audit-log-path=", 17)) {
			o.path = a + 17;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--audit-log-path"))
			o.path = v;
		else if (!strcmp(a, "--input"))
			o.input = v;
		else if (!strcmp(a, "--generate"))
			o.generate = atoll(v);
		else if (!strcmp(a, "--alert-every"))
			o.alert_every = atoll(v);
		else if (!strcmp(a, "--line-bytes"))
			o.line_bytes = atoll(v);
		else if (!strcmp(a, "--rotate-bytes"))
			o.rotate_bytes = atoll(v);
		else if (!strcmp(a, "--rate"))
			o.rate = atof(v);
		else if (!strcmp(a, "--threads"))
			o.threads = atoi(v);
		else if (!strcmp(a, "--restart-after"))
			o.restart_after = atoll(v);
		else if (!strcmp(a, "--start-delay-ms"))
			o.start_delay_ms = atoll(v);
		else if (!strcmp(a, "--restart-mode"))
			o.restart_spawn = !strcmp(v, "spawn");
		else if (!strcmp(a, "--repeat"))
			o.repeat = atoll(v);
		else if (!strcmp(a, "--skip"))
			o.skip = atoll(v);
		else if (!strcmp(a, "--split-bytes"))
			o.split_bytes = atoll(v);
		else if (!strcmp(a, "--other-file"))
			o.other_file = v;
		else if (!strcmp(a, "--syscall"))
			o.sys = !strcmp(v, "writev")   ? SYS_WRITEV
				: !strcmp(v, "pwrite") ? SYS_PWRITE
						       : SYS_WRITE;
		else
			usage();
	}
	if (!o.path || (!o.input && !o.generate) || o.threads < 1 || o.line_bytes < 600)
		usage();
}

int main(int argc, char **argv)
{
	pthread_t *th;

	parse(argc, argv);
	if (o.input)
		load_input();
	else
		generate();
	total = nlines * o.repeat;
	fd = open_log();
	if (o.other_file) {
		other_fd = open(o.other_file, O_WRONLY | O_APPEND | O_CLOEXEC | O_CREAT, 0600);
		if (other_fd < 0)
			die(o.other_file);
	}
	stop_at = total;
	if (o.restart_after > 0 && o.skip + o.restart_after < total)
		stop_at = o.skip + o.restart_after;
	next_idx = o.skip;
	turn = o.skip;
	if (o.start_delay_ms > 0 && o.skip == 0) {
		struct timespec d = {o.start_delay_ms / 1000, (o.start_delay_ms % 1000) * 1000000};

		nanosleep(&d, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	th = calloc(o.threads, sizeof(*th));
	for (int i = 0; i < o.threads; i++)
		if (pthread_create(&th[i], NULL, writer, NULL))
			die("pthread_create");
	for (int i = 0; i < o.threads; i++)
		pthread_join(th[i], NULL);
	free(th);
	if (stop_at < total)
		restart(argc, argv);
	{
		struct rusage ru;
		double cpu;
		double secs =
		    (now_ns(CLOCK_MONOTONIC) - ((int64_t)t0.tv_sec * 1000000000 + t0.tv_nsec)) /
		    1e9;

		/* CPU time (user + system, BPF programs included) is the cost to this process */
		getrusage(RUSAGE_SELF, &ru);
		cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
		      (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
		fprintf(stderr,
			"kube-apiserver (stand-in): pid %d wrote %lld lines (%lld bytes), "
			"%lld rotations, %.3f s, %.1f ns/line, %.1f ns/write(2), %.1f cpu "
			"ns/line\n",
			getpid(), (long long)written, (long long)bytes_written, rotations, secs,
			written ? secs * 1e9 / written : 0.0,
			written ? (double)write_ns / written : 0.0,
			written ? cpu * 1e9 / written : 0.0);
	}
	if (!o.exit_when_done)
		for (;;)
			pause(); /* a server keeps running until it is stopped */
	return 0;
}
