/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exec_watch: loads and attaches bpf/exec_watch.bpf.c, the kernel half of the exec watch.
 *
 * The programs tag `runc exec`-style sessions and put kh_rec_node_* records (ring_abi.h) in one
 * ring buffer; whoever consumes rings (the capture loop, or a test) reads it through
 * exec_watch__ring_fd(). Everything is decided in the kernel; the agent only consumes.
 */
#ifndef KEYHOLE_EXEC_WATCH_H
#define KEYHOLE_EXEC_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "keyhole/ring_abi.h"

struct exec_watch_opts {
	uint32_t max_tags; /* tagged-process table size; 0: the object's default (16384) */
	int verbose;	   /* copy libbpf's messages to stderr */
	bool no_attach;	   /* leave out the read hooks (kubectl attach sessions) */
	/* input to an attach session after this gap opens a new one; 0: the default (5 min) */
	uint64_t attach_idle_ns;
};

struct exec_watch;

/*
 * Open, size, load and attach. Mounts tracefs when no tracing directory is mounted (the syscall
 * tracepoints need it). Returns 0 and *out, or a negative errno after reporting what failed and
 * what to do through kh_log.
 */
int exec_watch__new(const struct exec_watch_opts *opts, struct exec_watch **out);
void exec_watch__free(struct exec_watch *w);

/*
 * Detach the programs (keeping maps and ring) and attach them again: the overhead bench toggles
 * them to compare like with like. Returns 0 or -errno.
 */
int exec_watch__detach(struct exec_watch *w);
int exec_watch__attach(struct exec_watch *w);

/* the ring buffer map holding kh_rec_node_* records */
int exec_watch__ring_fd(const struct exec_watch *w);

/* sum of the per-CPU counters, indexed by enum kh_exec_watch_counter; -errno */
int exec_watch__counters(const struct exec_watch *w, uint64_t out[KH_EXEC_WATCH__NR]);

struct kh_metrics;

/*
 * Register every exec watch counter (loss, table-full, sessions) with @m, read at scrape time;
 * @w must outlive @m's server. 0 or a negative errno.
 */
int exec_watch__add_metrics(const struct exec_watch *w, struct kh_metrics *m);

#endif /* KEYHOLE_EXEC_WATCH_H */
