/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tap_path: which of the audit tap's two capture paths follows an apiserver, and why.
 *
 * The uprobe path probes the Go write function inside the apiserver's own binary (gosym.h):
 * only that process pays. The tracepoint path hooks the write system calls of every process
 * and keeps the apiserver's in BPF: it works for any writer, at a price to all the others. With
 * --tap auto (the default) a process gets the uprobe path when its binary resolves and the
 * kernel takes uprobes, the tracepoint path otherwise; --tap uprobe|tracepoint forces one.
 */
#ifndef KEYHOLE_TAP_PATH_H
#define KEYHOLE_TAP_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "keyhole/gosym.h"

enum tap_mode { TAP_MODE_AUTO = 0, TAP_MODE_TRACEPOINT, TAP_MODE_UPROBE };

/* "auto", "tracepoint", "uprobe" -> *out; -EINVAL otherwise */
int tap_mode_parse(const char *s, enum tap_mode *out);
const char *tap_mode_name(enum tap_mode m);

/* whether the kernel can attach uprobes (the uprobe PMU, 4.17+); @why says what is missing */
bool tap_path_kernel_uprobes(char *why, size_t n);

/*
 * Whether perf_event_paranoid is 3 or more (@level gets it): Debian's and Ubuntu's kernels
 * (CONFIG_SECURITY_PERF_EVENTS_RESTRICT, Debian's default) then let no process without
 * CAP_SYS_ADMIN open a perf event, CAP_PERFMON or not, so `run` could not attach the write
 * tracepoints again once it gave its privileges up.
 */
bool tap_path_perf_restricted(int *level);

/*
 * Which capability a new uprobe wants on this kernel: KH_CAP_SYS_ADMIN (kernels before 5.8, and
 * those with upstream ba677dbe77af: 6.16 and the stable series that took it) or KH_CAP_PERFMON
 * (5.8 until that fix), found by asking the kernel: a uprobe on a scratch memfd no process maps
 * (nothing is patched) with CAP_SYS_ADMIN lowered for the call. A negative errno when it cannot
 * tell (this thread lacks CAP_PERFMON, perf_event_paranoid 3 refuses every perf event without
 * CAP_SYS_ADMIN, no uprobe PMU); @why says what it found either way. `keyhole probe` only.
 */
int tap_path_uprobe_cap(char *why, size_t n);

/*
 * Resolve the write function in process @pid's binary (through /proc/PID/exe, which reaches a
 * containerized apiserver's file whatever its mount namespace). Returns 0 with *f and @exe (the
 * path to attach to), or a negative errno with the reason in @why (gosym__resolve's codes, or
 * -ESRCH when the process is gone).
 */
int tap_path_resolve(pid_t pid, struct gosym_func *f, char *exe, size_t exe_len, char *why,
		     size_t why_len);

/*
 * Call @fn for every running process named @comm (the /proc scan `run` does); returns how many,
 * or a negative errno. For `keyhole probe`, which explains the choice per process.
 */
int tap_path_scan(const char *comm, void (*fn)(void *ctx, pid_t pid), void *ctx);

/* one line on the resolved function: "syscall.write at file offset 0x.. (go1.19.8, stripped)" */
void tap_path_describe(const struct gosym_func *f, char *out, size_t n);

#endif /* KEYHOLE_TAP_PATH_H */
