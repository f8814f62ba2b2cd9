/* SPDX-License-Identifier: Apache-2.0 */
/*
 * privileges: what `keyhole run` keeps once its programs are loaded and attached.
 *
 * Loading and attaching need CAP_BPF, CAP_PERFMON (or CAP_SYS_ADMIN on old kernels) and, before
 * 5.11, CAP_SYS_RESOURCE for memlock. Once attached, the programs and maps are reached through
 * file descriptors the agent already holds, which need no capability. What is still needed is
 * following a restarted apiserver: reading its /proc/PID/cmdline and resolving its audit log
 * through /proc/PID/root, guarded by the ptrace access check, so CAP_SYS_PTRACE stays.
 */
#ifndef KEYHOLE_CAPTURE_PRIVILEGES_H
#define KEYHOLE_CAPTURE_PRIVILEGES_H

#include <stdbool.h>

/*
 * Drop every capability but CAP_SYS_PTRACE from the effective, permitted, inheritable, ambient
 * and bounding sets of the calling thread (and CAP_PERFMON too with @keep_perfmon: the tap's
 * uprobe path attaches a uprobe to every apiserver it follows, and attaches the write
 * tracepoints when a process needs them, which are perf events; kernels before 5.8 have no
 * CAP_PERFMON, and there those later attachments fail and say so) (the agent is single-threaded
 * when it calls this; the metrics thread, started earlier, keeps its own sets and needs none: it is
 * told by the caller to drop as well). Returns 0, or a negative errno naming the step that failed.
 */
int privileges__drop_to_run(bool keep_perfmon, bool keep_admin);

/*
 * @keep_admin (`run --late-uprobes`): CAP_SYS_ADMIN, where the process holds it, stays in the
 * PERMITTED set only, not effective (and leaves the bounding set like the others). A kernel with
 * upstream ba677dbe77af (6.16, and the stable series that took it) wants CAP_SYS_ADMIN for a new
 * uprobe, and Debian's perf_event_paranoid 3 wants it for any perf event: the tap raises it
 * around those attach calls alone (caps__raise in keyhole/caps.h), so the agent is not an
 * administrator between them.
 */

#endif /* KEYHOLE_CAPTURE_PRIVILEGES_H */
