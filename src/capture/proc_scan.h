/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proc_scan: finding running apiservers and their audit log through /proc.
 *
 * The audit log path is the apiserver's own `--audit-log-path` (both `--audit-log-path=X` and
 * `--audit-log-path X`; Go's flag package also takes a single dash), relative paths resolved
 * against its working directory, and the result reached through /proc/PID/root so a
 * containerized apiserver's path names the file in its own mount namespace.
 */
#ifndef KEYHOLE_CAPTURE_PROC_SCAN_H
#define KEYHOLE_CAPTURE_PROC_SCAN_H

#include <stddef.h>
#include <sys/types.h>

/* call @fn for every process whose comm is @comm; returns how many, or a negative errno */
int proc_scan__comm(const char *comm, void (*fn)(void *ctx, pid_t pid), void *ctx);

/*
 * The audit log of process @pid. On success returns 0 with @path the path as the process names
 * it (absolute) and @host_path the same file through /proc/PID/root. Returns -ENOENT when the
 * process has no --audit-log-path (auditing off), -ENOTSUP when it is "-" (stdout: no file to
 * tap), -ESRCH when the process is gone, -ENAMETOOLONG.
 */
int proc_scan__audit_log_path(pid_t pid, char *path, size_t path_len, char *host_path,
			      size_t host_len);

/*
 * Where the symlink at @host (an audit log path as this agent reaches it) leads: its target,
 * and the target's target, to the end (at most 40 links, the kernel's limit). An absolute
 * target is taken inside the apiserver's root when @host is under /proc/PID/ (as the apiserver
 * resolves it), else inside ours. Only the last component is followed; the directories on the
 * way are left to stat(), as everywhere else. Returns 1 and the path in @out when @host is a
 * symlink (the end may not exist yet: a dangling link is where the next open creates the file),
 * 0 when @host is not a symlink or does not exist, -ELOOP or -ENAMETOOLONG.
 */
int proc_scan__follow_link(const char *host, char *out, size_t out_len);

/*
 * Find --audit-log-path in a NUL-separated argument block (as /proc/PID/cmdline holds it).
 * Returns a pointer into @args, or NULL. Exposed for the unit test.
 */
const char *proc_scan__find_audit_arg(const char *args, size_t len);

#endif /* KEYHOLE_CAPTURE_PROC_SCAN_H */
