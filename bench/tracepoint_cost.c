// SPDX-License-Identifier: Apache-2.0
/*
 * tracepoint_cost: what the attach mechanism itself costs, before any of keyhole's logic. The
 * audit tap must see write(2) and its result; this measures, for a 1 KB write(2) to a file and
 * for getpid(2), the median CPU time per call over rounds that rotate three conditions:
 *
 *   none        nothing attached
 *   perf-tp     a no-op program on syscalls/sys_enter_write and sys_exit_write (what the tap
 *               uses: per-syscall tracepoints, reached through the perf-event path)
 *   raw-tp      a no-op raw tracepoint program on sys_enter and sys_exit (every system call of
 *               every process runs it, but without the perf-event path)
 *
 * So the tap's cost on a process that is not the apiserver is this "perf-tp" figure plus its
 * own lookups (bench/tap-bench (a)), and the README can say which share is which.
 *
 * Usage: tracepoint_cost [ROUNDS [CALLS]] (defaults 15 200000). Needs root; writes a scratch
 * file under /tmp.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/perf_event.h>

#include <bpf/bpf.h>

#include "noop_bpf.h"

#define NCOND 3
#define MAX_ROUNDS 101

static double thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double write_loop(int fd, long n)
{
	static char line[1024];
	double t0 = thread_cpu_ns();

	memset(line, 'x', sizeof(line));
	for (long i = 0; i < n; i++) {
		if (write(fd, line, sizeof(line)) != (ssize_t)sizeof(line))
			exit(1);
		if (i % 1000 == 999) /* keep the file small */
			lseek(fd, 0, SEEK_SET);
	}
	return (thread_cpu_ns() - t0) / (double)n;
}

static double getpid_loop(long n)
{
	double t0 = thread_cpu_ns();

	for (long i = 0; i < n; i++)
		syscall(SYS_getpid);
	return (thread_cpu_ns() - t0) / (double)n;
}

/* attach condition @c; fds of what was attached in @fds (-1 for none) */
static int attach(int c, int tp_prog, int raw_prog, int fds[2])
{
	fds[0] = fds[1] = -1;
	if (c == 1) {
		fds[0] = noop_attach_syscall_tp("sys_enter_write", tp_prog);
		fds[1] = noop_attach_syscall_tp("sys_exit_write", tp_prog);
	} else if (c == 2) {
		fds[0] = bpf_raw_tracepoint_open("sys_enter", raw_prog);
		fds[1] = bpf_raw_tracepoint_open("sys_exit", raw_prog);
	}
	return c && (fds[0] < 0 || fds[1] < 0) ? -1 : 0;
}

int main(int argc, char **argv)
{
	static double t[NCOND][2][MAX_ROUNDS];
	static const char *const conds[NCOND] = {"none", "perf-tp", "raw-tp"};
	int rounds = argc > 1 ? atoi(argv[1]) : 15;
	long calls = argc > 2 ? atol(argv[2]) : 200000;
	char scratch[] = "/tmp/kh-tracepoint-cost.XXXXXX";
	int fd, tp_prog, raw_prog;

	if (rounds < 1 || rounds > MAX_ROUNDS || calls < 1) {
		fprintf(stderr, "usage: tracepoint_cost [ROUNDS(1-101) [CALLS]]\n");
		return 2;
	}
	fd = mkstemp(scratch);
	tp_prog = noop_load(BPF_PROG_TYPE_TRACEPOINT);
	raw_prog = noop_load(BPF_PROG_TYPE_RAW_TRACEPOINT);
	if (fd < 0 || tp_prog < 0 || raw_prog < 0) {
		fprintf(stderr, "tracepoint_cost: needs root and BPF (%s)\n", strerror(errno));
		return 1;
	}
	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < NCOND; k++) {
			int c = (k + r) % NCOND, fds[2];

			if (attach(c, tp_prog, raw_prog, fds)) {
				fprintf(stderr, "tracepoint_cost: attaching %s failed\n", conds[c]);
				return 1;
			}
			t[c][0][r] = write_loop(fd, calls);
			t[c][1][r] = getpid_loop(calls);
			for (int i = 0; i < 2; i++)
				if (fds[i] >= 0)
					close(fds[i]);
		}
	}
	close(fd);
	unlink(scratch);
	printf("tracepoint_cost: %d rounds of %ld calls; median CPU ns per call\n", rounds, calls);
	printf("%-22s %10s %10s %10s %10s %10s\n", "call", conds[0], conds[1], conds[2],
	       "perf-tp +", "raw-tp +");
	for (int l = 0; l < 2; l++) {
		double m[NCOND];

		for (int c = 0; c < NCOND; c++)
			m[c] = bench_median(t[c][l], rounds);
		printf("%-22s %10.0f %10.0f %10.0f %10.0f %10.0f\n",
		       l ? "getpid" : "write 1 KB (tmpfs)", m[0], m[1], m[2], m[1] - m[0],
		       m[2] - m[0]);
	}
	return 0;
}
