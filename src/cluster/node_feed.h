/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node_feed: the pods/exec requests of the whole cluster, for this node's exec join.
 *
 * Every instance publishes the facts of the requests an exec session can stem from (pods/exec,
 * pods/attach, ephemeral containers, nodes/proxy running a command: rules__is_exec_request) to
 * one more stream, "<name>:exec", besides their partition. The audit event does not say which
 * node runs the pod, so every node reads that stream whole; it carries only those requests,
 * rare next to the rest (a person's kubectl exec; the kubelet's exec probes make no request).
 *
 * A thread with its own Redis connection reads it (XREAD BLOCK) from KH_NODE_FEED_BACKLOG_MS
 * before its start, so a restarted node still pairs the sessions that follow requests made
 * while it was down, skips the facts this instance published itself (its own pipeline saw those
 * events), and queues the rest (bounded in count and bytes; overflow is dropped and counted).
 * The capturing thread drains the queue into its pipeline's exec join
 * (pipeline__feed_remote_request), since the pipeline is single-threaded.
 */
#ifndef KEYHOLE_CLUSTER_NODE_FEED_H
#define KEYHOLE_CLUSTER_NODE_FEED_H

#include <stddef.h>
#include <stdint.h>

/* how far back a starting node feed reads the exec stream: the exec join's window and more */
#define KH_NODE_FEED_BACKLOG_MS (60 * 1000)
/* requests kept between two drains at most, and their bytes */
#define KH_NODE_FEED_QUEUE_MAX 4096
#define KH_NODE_FEED_QUEUE_BYTES (16u << 20)
/* entries the exec stream keeps (XADD MAXLEN ~) */
#define KH_EXEC_STREAM_MAXLEN 100000

struct kh_cluster;
struct node_feed;

int node_feed__start(struct kh_cluster *c, struct node_feed **out);
/* stop reading (the thread ends); the counters stay readable until node_feed__free */
void node_feed__stop(struct node_feed *f);
void node_feed__free(struct node_feed *f);

/* hand every queued request to @fn (the capturing thread); returns how many */
size_t node_feed__drain(struct node_feed *f, int (*fn)(void *ctx, const char *line, size_t len),
			void *ctx);

struct node_feed_stats {
	uint64_t received; /* requests of other instances taken from the stream */
	uint64_t fed;	   /* of them, given to the exec join */
	uint64_t dropped;  /* of them, lost: the queue was full, or they did not parse */
	uint64_t own;	   /* this instance's own requests, skipped */
	int connected;	   /* the feed's connection is up */
};
void node_feed__stats(const struct node_feed *f, struct node_feed_stats *s);

#endif /* KEYHOLE_CLUSTER_NODE_FEED_H */
