// SPDX-License-Identifier: Apache-2.0
/*
 * capture_metrics: the live capture's counters as Prometheus series. Each is computed at scrape
 * time from capture__stats() (the tap's and the audit guard's per-CPU BPF counters summed, zero
 * while the guard is not loaded; reassembly's counters), in
 * the metrics server's thread: the BPF map reads are system calls, safe from any thread, and the
 * reassembly counters are aligned 64-bit words only the capture thread writes.
 */
#include <stddef.h>

#include "keyhole/capture.h"
#include "keyhole/metrics.h"

enum src { TAP, GUARD, REASM, LAG, STAT };

static const struct {
	enum src src;
	size_t idx; /* enum kh_tap_counter or kh_guard_counter, or offset in struct reasm_stats or
		       (a uint64_t) in struct capture_stats */
	enum kh_metric_type type;
	const char *name;
	const char *help;
} series[] = {
    {TAP, KH_TAP_WRITES, KH_METRIC_COUNTER, "keyhole_capture_writes_total",
     "writes of the apiserver to its audit log seen by the tap"},
    {TAP, KH_TAP_BYTES, KH_METRIC_COUNTER, "keyhole_capture_bytes_total", "bytes of those writes"},
    {TAP, KH_TAP_LOST_WRITES, KH_METRIC_COUNTER, "keyhole_capture_lost_writes_total",
     "writes that did not reach the agent whole (ring full, untracked, unreadable, budget)"},
    {TAP, KH_TAP_LOST_CHUNKS, KH_METRIC_COUNTER, "keyhole_ringbuf_drops_total",
     "chunk records the BPF ring buffer had no room for"},
    {TAP, KH_TAP_LOST_PROC, KH_METRIC_COUNTER, "keyhole_capture_lost_proc_events_total",
     "apiserver exec/exit records the ring had no room for"},
    {TAP, KH_TAP_LOST_INFLIGHT, KH_METRIC_COUNTER, "keyhole_capture_untracked_writes_total",
     "writes not followed: the tap's in-flight table was full"},
    {TAP, KH_TAP_READ_FAULTS, KH_METRIC_COUNTER, "keyhole_capture_read_faults_total",
     "writes whose buffer the tap could not read"},
    {TAP, KH_TAP_BUDGET, KH_METRIC_COUNTER, "keyhole_capture_budget_writes_total",
     "writes cut short: the tap's per-write copy budget ran out"},
    {GUARD, KH_GUARD_LOST, KH_METRIC_COUNTER, "keyhole_guard_lost_records_total",
     "tamper records the audit guard's ring buffer had no room for"},
    {GUARD, KH_GUARD_PENDING_FULL, KH_METRIC_COUNTER, "keyhole_guard_untracked_ops_total",
     "path operations on a watched name not followed: the guard's table was full"},
    {GUARD, KH_GUARD_REPORTED, KH_METRIC_COUNTER, "keyhole_guard_reported_total",
     "tamper records the audit guard sent"},
    {TAP, KH_TAP_TRUNCATED, KH_METRIC_COUNTER, "keyhole_capture_truncated_writes_total",
     "writes over the capture cap (head and tail kept)"},
    {TAP, KH_TAP_NAME_MATCHES, KH_METRIC_COUNTER, "keyhole_capture_rotations_total",
     "new audit log files picked up by name (rotation, first start)"},
    {TAP, KH_TAP_TARGET_EXECS, KH_METRIC_COUNTER, "keyhole_capture_apiserver_execs_total",
     "apiserver (re)starts seen by exec"},
    {REASM, offsetof(struct reasm_stats, lines), KH_METRIC_COUNTER, "keyhole_capture_lines_total",
     "audit lines rebuilt from captured writes"},
    {REASM, offsetof(struct reasm_stats, gap_writes), KH_METRIC_COUNTER,
     "keyhole_capture_gap_writes_total", "partly received writes dropped by reassembly"},
    {REASM, offsetof(struct reasm_stats, oversized_lines), KH_METRIC_COUNTER,
     "keyhole_capture_oversized_lines_total",
     "captured lines dropped: out of memory, or partial in over 64 files"},
    {STAT, offsetof(struct capture_stats, uprobe_refused), KH_METRIC_COUNTER,
     "keyhole_capture_uprobe_refused_total",
     "apiserver processes put on the tracepoint path: the kernel refused their binary a uprobe "
     "(first seen after the privilege drop)"},
    {STAT, offsetof(struct capture_stats, unseen_bytes), KH_METRIC_COUNTER,
     "keyhole_capture_unseen_bytes_total",
     "bytes that reached a watched log while on the uprobe path and that no path captured"},
    {LAG, 0, KH_METRIC_GAUGE, "keyhole_capture_lag_seconds",
     "kernel capture to pipeline, for the last line delivered"},
};

#define NSERIES (sizeof(series) / sizeof(series[0]))

static struct ctx {
	struct capture *c;
	size_t i;
} ctxs[NSERIES];

static double value(void *arg)
{
	const struct ctx *x = arg;
	struct capture_stats s;

	capture__stats(x->c, &s);
	switch (series[x->i].src) {
	case TAP:
		return (double)s.tap[series[x->i].idx];
	case GUARD:
		return (double)s.guard_c[series[x->i].idx];
	case REASM:
		return (double)*(const uint64_t *)((const char *)&s.reasm + series[x->i].idx);
	case LAG:
		return s.lag_ns_last / 1e9;
	case STAT:
		return (double)*(const uint64_t *)((const char *)&s + series[x->i].idx);
	}
	return 0;
}

int capture__add_metrics(struct capture *c, struct kh_metrics *m)
{
	for (size_t i = 0; i < NSERIES; i++) {
		int err;

		ctxs[i] = (struct ctx){c, i};
		err = metrics__add(m, &(struct kh_metric){.name = series[i].name,
							  .help = series[i].help,
							  .type = series[i].type,
							  .fn = value,
							  .ctx = &ctxs[i]});
		if (err)
			return err;
	}
	return 0;
}
