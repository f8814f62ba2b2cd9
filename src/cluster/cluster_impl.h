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
	uint64_t seq;	   /* the checkpoint gate's sequence (memory queue) */
};
#define QF_EXEC_STREAM (-2)

struct disk_queue;

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
	bool kick;	       /* a fact reached the disk queue */
	struct disk_queue *dq; /* cluster.queue_dir; NULL: the memory queue only */
	int64_t next_sync_ns;
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
	/* the checkpoint gate: facts queued so far, and how many of them (in order) are safe,
	 * acknowledged by Redis or synced to the disk queue */
	atomic_uint_fast64_t issued, durable;
	atomic_uint_fast64_t terms_loaded, terms_lost; /* the shared new-terms history */
	/* the correlator's duplicate filter (fact_dedup.h): copies dropped, identities forgotten
	 * early by its key bound */
	atomic_uint_fast64_t duplicates, dedup_evicted;
};

void *publisher__main(void *arg);

/* the disk queue's side of the publisher (cluster_disk.c) */
int cluster_disk__open(struct kh_cluster *c);
int cluster_disk__publish(struct kh_cluster *c, const char *line, uint32_t len, int32_t part);
size_t cluster_disk__peek(struct kh_cluster *c, struct queued_fact *batch, size_t max);
/* @sent of the @n peeked facts were acknowledged; frees the batch's lines */
void cluster_disk__done(struct kh_cluster *c, struct queued_fact *batch, size_t n, size_t sent);
/* fdatasync now and then (@force: now), moving the durable mark */
void cluster_disk__sync(struct kh_cluster *c, bool force);
void *correlator__main(void *arg);

/* "<name>:facts:<p>" and friends */
void cluster_key(const struct kh_cluster *c, char *buf, size_t cap, const char *what, long n);

#endif /* KEYHOLE_CLUSTER_IMPL_H */
