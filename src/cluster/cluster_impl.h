/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cluster_impl: what the cluster stage's files share (the instance, its two threads).
 */
#ifndef KEYHOLE_CLUSTER_IMPL_H
#define KEYHOLE_CLUSTER_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "cluster/bus.h"
#include "keyhole/cluster.h"
#include "keyhole/json_out.h"

struct queued_fact {
	char *line;
	uint32_t len;
	int32_t partition; /* -1: every partition; QF_EXEC_STREAM: the exec stream (node_feed.h) */
};
#define QF_EXEC_STREAM (-2)

struct kh_cluster {
	struct kh_cluster_opts o;
	char node[256];
	char owner[320]; /* lease value: node, pid and a random tag (a restart is a new owner) */
	struct bus_url url;
	struct json_out j; /* the capturing thread's encoder */

	/* the publisher: a bounded FIFO the capturing thread fills */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct queued_fact *q;
	size_t q_head, q_len;
	bool stopping;
	struct bus pub_bus;
	pthread_t pub_thread;
	bool pub_started;

	/* the correlator (control-plane role) */
	pthread_t cor_thread;
	bool cor_started;
	atomic_bool cor_stop;

	struct node_feed *nf; /* the exec stream's reader, while this node's exec watch runs */

	/* counters (kh_cluster_stats), written by one thread each */
	atomic_uint_fast64_t published, dropped, too_big, consumed, bad, written, fenced,
	    reconnects, owned, takeovers, queued;
	atomic_int_fast64_t lag_ns;
	atomic_int connected;
};

void *publisher__main(void *arg);
void *correlator__main(void *arg);

/* "<name>:facts:<p>" and friends */
void cluster_key(const struct kh_cluster *c, char *buf, size_t cap, const char *what, long n);

#endif /* KEYHOLE_CLUSTER_IMPL_H */
