/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node_decode: exec-watch ring records -> node events with pod identity.
 *
 * Keeps the exec sessions it has seen (bounded, oldest evicted and counted): a session's first
 * exec record names its cgroup, from which the container ID and pod UID come (cgroup_path.h),
 * then namespace, pod and container name from the kubelet's log directories (pods_dir.h). Later
 * records of the session (execs of descendants, opens, the leader's exit) carry that identity.
 * Kernel timestamps (CLOCK_MONOTONIC) become wall-clock time, as audit timestamps are.
 */
#ifndef KEYHOLE_NODE_DECODE_H
#define KEYHOLE_NODE_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "keyhole/node_event.h"

struct node_decode_opts {
	const char *pods_log_dir;	/* NULL: /var/log/pods */
	const char *containers_log_dir; /* NULL: "containers" beside pods_log_dir */
	const char *proc_dir;		/* NULL: /proc (cgroup of a session whose exec was lost) */
	uint32_t max_sessions;		/* 0: 1024 */
};

struct node_decode_stats {
	uint64_t records;	    /* records decoded into events */
	uint64_t malformed;	    /* records of a node type with a bad size */
	uint64_t sessions;	    /* sessions started */
	uint64_t session_evictions; /* sessions forgotten to make room (bounded table) */
	uint64_t no_pod;	    /* sessions whose cgroup names no pod */
	uint64_t late_sessions;	    /* sessions first seen after their first exec (record lost) */
	uint64_t audit_ids;	    /* sessions whose environment held KUBERNETES_EXEC_AUDIT_ID */
	uint64_t env_cut;	    /* sessions whose environment scan stopped at its bound */
	uint64_t attaches;	    /* of the sessions: opened by input on a container's stdin */
};

struct node_decoder;

/* NULL with errno set on failure */
struct node_decoder *node_decoder__new(const struct node_decode_opts *opts);
void node_decoder__free(struct node_decoder *d);

/*
 * Decode one ring record. Returns 1 with @ev filled (valid until the next call), 0 when the
 * record is not an exec-watch record (other ring users), -EINVAL when it is one but malformed.
 */
int node_decoder__decode(struct node_decoder *d, const void *data, size_t size,
			 struct node_event *ev);

const struct node_decode_stats *node_decoder__stats(const struct node_decoder *d);

/* the cgroup path "/a/b/c" of an exec record (names are leaf first in the record) */
void node_decode__cgroup_path(const struct kh_rec_node_exec *r, char *out, size_t size);

/*
 * kernel monotonic ns (bpf_ktime_get_ns) -> wall clock ns, with the offset as it is now; false
 * for a stamp from the future (a record is read after it was written), which only a corrupt
 * record has
 */
bool node_decode__wall_ns(uint64_t mono, int64_t *out);

#endif /* KEYHOLE_NODE_DECODE_H */
