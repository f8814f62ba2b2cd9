/* SPDX-License-Identifier: Apache-2.0 */
/*
 * noop_bpf: what the overhead benches attach to measure an attach point by itself (a program
 * that does nothing), and the median they report. Header-only: each bench program is its own
 * executable.
 */
#ifndef KEYHOLE_BENCH_NOOP_BPF_H
#define KEYHOLE_BENCH_NOOP_BPF_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/perf_event.h>

#include <bpf/bpf.h>

/* a program of @type that returns 0: its fd, or -errno */
static inline int noop_load(enum bpf_prog_type type)
{
	struct bpf_insn insns[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
	    {.code = BPF_JMP | BPF_EXIT},
	};

	return bpf_prog_load(type, "noop", "GPL", insns, 2, NULL);
}

/*
 * Tracepoint program @prog on syscalls/@name, through a perf event as libbpf attaches it: the
 * event's fd, or -errno. Closing the fd is what unregisters the tracepoint (disabling the event
 * would not).
 */
static inline int noop_attach_syscall_tp(const char *name, int prog)
{
	struct perf_event_attr attr = {.type = PERF_TYPE_TRACEPOINT,
				       .size = sizeof(attr),
				       .sample_period = 1,
				       .wakeup_events = 1};
	char path[128], buf[32] = "";
	int fd, pfd;

	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/syscalls/%s/id", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -ENOENT;
	if (read(fd, buf, sizeof(buf) - 1) <= 0) {
		close(fd);
		return -ENOENT;
	}
	close(fd);
	attr.config = strtoull(buf, NULL, 10);
	pfd = (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return -errno;
	if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog) || ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0)) {
		close(pfd);
		return -errno;
	}
	return pfd;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* median of @n values (sorts them) */
static inline double bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif /* KEYHOLE_BENCH_NOOP_BPF_H */
