// SPDX-License-Identifier: Apache-2.0
/*
 * exec_watch_metrics: the exec watch's per-CPU BPF counters as Prometheus series, computed at
 * scrape time in the metrics server's thread like the capture's (capture_metrics.c): summing the
 * map is a system call, safe from any thread.
 */
#include <stddef.h>

#include "keyhole/exec_watch.h"
#include "keyhole/metrics.h"

static const struct {
	enum kh_exec_watch_counter idx;
	const char *name;
	const char *help;
} series[] = {
    {KH_EXEC_WATCH_LOST_EXEC, "keyhole_exec_watch_lost_exec_records_total",
     "exec records the exec watch's ring buffer had no room for"},
    {KH_EXEC_WATCH_LOST_OPEN, "keyhole_exec_watch_lost_open_records_total",
     "secret-open records the exec watch's ring buffer had no room for"},
    {KH_EXEC_WATCH_LOST_EXIT, "keyhole_exec_watch_lost_exit_records_total",
     "session-exit records the exec watch's ring buffer had no room for"},
    {KH_EXEC_WATCH_TAGS_FULL, "keyhole_exec_watch_untagged_processes_total",
     "processes left untagged: the tagged-process table was full"},
    {KH_EXEC_WATCH_PENDING_FULL, "keyhole_exec_watch_untracked_syscalls_total",
     "opens or setns calls not followed: the in-flight table was full"},
    {KH_EXEC_WATCH_SESSIONS, "keyhole_exec_watch_sessions_total", "exec sessions started"},
    {KH_EXEC_WATCH_TAGGED_FORKS, "keyhole_exec_watch_tagged_forks_total",
     "processes forked inside exec sessions"},
    {KH_EXEC_WATCH_ENV_CUT, "keyhole_exec_watch_env_scans_cut_total",
     "session starts whose environment scan stopped at its bound (KUBERNETES_EXEC_AUDIT_ID "
     "may lie past it)"},
    {KH_EXEC_WATCH_ATTACH_IDLE, "keyhole_exec_watch_attach_idle_reopens_total",
     "attach sessions opened on a process already in one, after an input gap (node.attach_idle)"},
};

#define NSERIES (sizeof(series) / sizeof(series[0]))

_Static_assert(NSERIES == KH_EXEC_WATCH__NR, "every exec watch counter has a series");

static struct ctx {
	const struct exec_watch *w;
	size_t i;
} ctxs[NSERIES];

static double value(void *arg)
{
	const struct ctx *x = arg;
	uint64_t c[KH_EXEC_WATCH__NR];

	exec_watch__counters(x->w, c);
	return (double)c[series[x->i].idx];
}

int exec_watch__add_metrics(const struct exec_watch *w, struct kh_metrics *m)
{
	for (size_t i = 0; i < NSERIES; i++) {
		int err;

		ctxs[i] = (struct ctx){w, i};
		err = metrics__add(m, &(struct kh_metric){.name = series[i].name,
							  .help = series[i].help,
							  .type = KH_METRIC_COUNTER,
							  .fn = value,
							  .ctx = &ctxs[i]});
		if (err)
			return err;
	}
	return 0;
}
