// SPDX-License-Identifier: Apache-2.0
/*
 * exec_overhead: what the exec watch costs processes outside containers, the ones it must leave
 * alone. One run measures, with the BPF programs detached and attached in alternating rounds
 * (so drift in machine load hits both alike), the median time of:
 *
 *   fork+exec+open  fork, execve this binary as a child that opens and closes a file 8 times and
 *                   exits, waitpid: every hook of the exec watch fires (fork, exec, exit, open
 *                   enter and exit), each paying one hash lookup for an untagged process
 *   open            openat+close in a loop: the syscall tracepoints' cost per open
 *   open-write      the same, opening a scratch file O_WRONLY|O_APPEND (the audit guard
 *                   looks such a file up)
 *   getpid          a syscall the exec watch does not hook: the cost every syscall pays once
 *                   any syscall tracepoint is enabled (the kernel's tracepoint slow path)
 *   read            1-byte reads of /dev/zero on fd 3: the attach hooks' cost on any read (one
 *                   compare of the fd on enter, one load on exit)
 *   read-stdin      the same on fd 0, in the host's pid namespace: what a read of stdin by a
 *                   process outside any container pays (the pid namespace level is loaded)
 *   readv-stdin     the same through readv(2) (one 1-byte iovec): the attach hooks on readv
 *
 * Three conditions, rotated within each round:
 *   none        nothing attached
 *   syscall-tp  one no-op BPF program on syscalls/sys_enter_getppid, which nothing here calls:
 *               what any agent with a syscall tracepoint pays (the kernel then sends every
 *               syscall of every task through its tracepoint slow path). The audit tap on a
 *               control-plane node is such an agent, so this is the exec watch's baseline there.
 *   exec-watch  the exec watch's programs, as `keyhole run` attaches them
 *   sensor      everything `keyhole run` attaches: the exec watch, the audit tap (every write
 *               pays its targets lookup) and the audit guard (every successful open loads the
 *               new file's f_mode; path operations are not in these loops)
 *
 * Usage: exec_overhead [ROUNDS [FORKS [OPENS]]] (defaults 31 100 20000). Needs root.
 * Target (issue 9): fork+exec+open overhead <= 5 %.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <linux/perf_event.h>
#include <sys/ioctl.h>

#include <bpf/bpf.h>

#include "capture/guard.h"
#include "capture/tap.h"
#include "keyhole/exec_watch.h"
#include "noop_bpf.h"

#define FILE_OPENED "/etc/hostname"

/*
 * CPU time, not wall time: this process's, plus its reaped children's for the fork loop. The
 * machines this runs on are shared and loaded; CPU time counts the work done, not the waiting.
 */
static double cpu_s(void)
{
	struct rusage self, kids;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	return (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec +
			kids.ru_stime.tv_sec) +
	       (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec +
			kids.ru_stime.tv_usec) /
		   1e6;
}

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int child_main(void)
{
	for (int i = 0; i < 8; i++) {
		int fd = open(FILE_OPENED, O_RDONLY);

		if (fd >= 0)
			close(fd);
	}
	return 0;
}

/* ns per fork+exec+open iteration */
static double fork_exec_open(const char *self, long n)
{
	double t0 = cpu_s();

	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			execl(self, self, "--child", (char *)NULL);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "exec_overhead: child failed\n");
			exit(1);
		}
	}
	return (cpu_s() - t0) * 1e9 / (double)n;
}

static const char *open_path = FILE_OPENED;
static int open_flags = O_RDONLY;

static double open_loop(long n)
{
	double t0 = thread_cpu_s();

	for (long i = 0; i < n; i++) {
		int fd = open(open_path, open_flags, 0600);

		if (fd >= 0)
			close(fd);
	}
	return (thread_cpu_s() - t0) * 1e9 / (double)n;
}

static double read_loop(long n, int fd)
{
	double t0 = thread_cpu_s();
	char c;

	for (long i = 0; i < n; i++)
		if (read(fd, &c, 1) != 1)
			exit(1);
	return (thread_cpu_s() - t0) * 1e9 / (double)n;
}

static double readv_loop(long n, int fd)
{
	double t0 = thread_cpu_s();
	char c;
	struct iovec v = {&c, 1};

	for (long i = 0; i < n; i++)
		if (readv(fd, &v, 1) != 1)
			exit(1);
	return (thread_cpu_s() - t0) * 1e9 / (double)n;
}

static double getpid_loop(long n)
{
	double t0 = thread_cpu_s();

	for (long i = 0; i < n; i++)
		syscall(SYS_getpid);
	return (thread_cpu_s() - t0) * 1e9 / (double)n;
}

#define MAX_ROUNDS 256
#define NCOND 4
#define NLOOP 7

int main(int argc, char **argv)
{
	static double t[NCOND][NLOOP][MAX_ROUNDS];
	static const char *const loops[NLOOP] = {
	    "fork+exec+open", "open", "open-write", "getpid", "read", "read-stdin", "readv-stdin"};
	int zfd;
	char scratch[] = "/tmp/kh-exec-overhead.XXXXXX";
	int sfd;
	static const char *const conds[NCOND] = {"none", "syscall-tp", "exec-watch", "sensor"};
	struct tap_opts to = {0};
	struct guard *g;
	struct tap *tap;
	int rounds = argc > 1 ? atoi(argv[1]) : 31;
	long forks = argc > 2 ? atol(argv[2]) : 100;
	long opens = argc > 3 ? atol(argv[3]) : 20000;
	struct exec_watch *w;
	char self[4096];
	ssize_t sl;
	int prog, err;

	if (argc > 1 && !strcmp(argv[1], "--child"))
		return child_main();
	sfd = mkstemp(scratch);
	if (sfd < 0)
		return 1;
	/* /dev/zero as fd 3 and as stdin (fork_exec_open's children do not read it) */
	zfd = open("/dev/zero", O_RDONLY);
	if (zfd < 0 || dup2(zfd, 0) < 0)
		return 1;
	if (rounds < 1 || rounds > MAX_ROUNDS || forks < 1 || opens < 1) {
		fprintf(stderr, "usage: exec_overhead [ROUNDS(1-256) [FORKS [OPENS]]]\n");
		return 2;
	}
	sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sl < 0)
		return 1;
	self[sl] = 0;
	err = exec_watch__new(NULL, &w);
	if (err) {
		fprintf(stderr, "exec_overhead: the exec watch did not load: %s\n", strerror(-err));
		return 1;
	}
	if (tap__new(&to, &tap) || guard__new(tap, 0, &g)) {
		fprintf(stderr, "exec_overhead: the audit tap or guard did not load\n");
		return 1;
	}
	prog = noop_load(BPF_PROG_TYPE_TRACEPOINT);
	if (prog < 0) {
		fprintf(stderr, "exec_overhead: no-op program: %s\n", strerror(-prog));
		return 1;
	}
	/* loaded once, toggled per round: the conditions differ only in what is attached */
	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < NCOND; k++) {
			/* rotate the order, so no condition always runs first or warm */
			int c = (k + r) % NCOND, pfd = -1;

			if (c == 1 &&
			    (pfd = noop_attach_syscall_tp("sys_enter_getppid", prog)) < 0) {
				fprintf(stderr, "exec_overhead: no-op tracepoint: %s\n",
					strerror(-pfd));
				return 1;
			}
			if (c >= 2 ? exec_watch__attach(w) : exec_watch__detach(w)) {
				fprintf(stderr, "exec_overhead: attaching the exec watch failed\n");
				return 1;
			}
			if (c == 3 && (tap__attach(tap) || guard__attach(g))) {
				fprintf(stderr,
					"exec_overhead: attaching the tap or guard failed\n");
				return 1;
			}
			t[c][0][r] = fork_exec_open(self, forks);
			open_path = FILE_OPENED;
			open_flags = O_RDONLY;
			t[c][1][r] = open_loop(opens);
			open_path = scratch;
			open_flags = O_WRONLY | O_APPEND;
			t[c][2][r] = open_loop(opens);
			t[c][3][r] = getpid_loop(opens);
			t[c][4][r] = read_loop(opens, zfd);
			t[c][5][r] = read_loop(opens, 0);
			t[c][6][r] = readv_loop(opens, 0);
			if (pfd >= 0)
				close(pfd);
			if (c == 3) {
				guard__detach(g);
				tap__detach(tap);
			}
		}
	}
	guard__free(g);
	tap__free(tap);
	exec_watch__detach(w);
	exec_watch__free(w);
	close(prog);
	close(sfd);
	unlink(scratch);
	printf(
	    "exec_overhead: %d rounds of %ld fork+exec+open, %ld open, %ld open-write, %ld getpid, "
	    "%ld read, %ld read-stdin, %ld readv-stdin; median CPU ns per iteration\n",
	    rounds, forks, opens, opens, opens, opens, opens, opens);
	printf("%-16s %12s %12s %12s %12s %10s %10s %10s\n", "loop", conds[0], conds[1], conds[2],
	       conds[3], "watch/none", "watch/tp", "sensor/none");
	for (int l = 0; l < NLOOP; l++) {
		double m[NCOND];

		for (int c = 0; c < NCOND; c++)
			m[c] = bench_median(t[c][l], rounds);
		printf("%-16s %12.0f %12.0f %12.0f %12.0f %9.1f%% %9.1f%% %9.1f%%\n", loops[l],
		       m[0], m[1], m[2], m[3], (m[2] - m[0]) / m[0] * 100,
		       (m[2] - m[1]) / m[1] * 100, (m[3] - m[0]) / m[0] * 100);
	}
	return 0;
}
