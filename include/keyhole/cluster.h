/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cluster: cluster mode over Redis Streams (keyhole run --cluster URL).
 *
 * Every instance publishes facts (compact, versioned, secret-free records of the audit events
 * the cluster-scope detections need) to partitioned streams; the control-plane instances also
 * run the correlator, which owns partitions through Redis leases and feeds their facts, ordered
 * by event time within a bounded lag, to a pipeline that holds only the cluster-scope rules and
 * the escalate-then-loot correlator. A partition's new owner rebuilds its state by reading the
 * partition's stream from its start; every alert line passes a Redis SET NX fence first, so a
 * line is written once for the cluster however many owners computed it.
 *
 * Without --cluster none of this exists and the pipeline runs every rule in-process.
 */
#ifndef KEYHOLE_CLUSTER_H
#define KEYHOLE_CLUSTER_H

#include <stdint.h>
#include <stdio.h>

#include "keyhole/audit_event.h"

struct kh_config;
struct kh_cluster;

enum kh_cluster_role {
	KH_ROLE_AUTO = 0,      /* control-plane when an apiserver is found, else node */
	KH_ROLE_CONTROL_PLANE, /* publish facts and correlate */
	KH_ROLE_NODE,	       /* publish facts only */
};

struct kh_cluster_opts {
	const char *url;	   /* redis://[user[:password]@]host[:port][/db] or rediss:// */
	const char *user;	   /* ACL user (overrides the URL's) */
	const char *password_file; /* first line is the password (a mounted Secret) */
	const char *name;	   /* prefix of every key: "<name>:" */
	const char *node_name;	   /* this instance; NULL: the host name */
	enum kh_cluster_role role;
	uint32_t partitions;	     /* fact streams; ownership moves per partition */
	int64_t lease_ns;	     /* a dead owner's partitions move after at most this */
	int64_t lag_ns;		     /* facts are held this long to be put in event-time order */
	uint32_t queue_max;	     /* facts kept in memory while Redis is away (then dropped) */
	uint32_t stream_maxlen;	     /* facts kept per partition stream (XADD MAXLEN ~) */
	int64_t dedup_ttl_ns;	     /* how long an alert line's fence key lives */
	const char *queue_dir;	     /* the on-disk fact queue (NULL: memory only) */
	uint64_t queue_max_bytes;    /* its bound */
	FILE *out;		     /* where the correlator writes alert lines */
	const struct kh_config *cfg; /* the rules' settings for the correlator's pipelines */
	/* rediss:// only: the CA file (NULL: the system store), a client certificate and its key
	 * (both or neither), the name the certificate must hold (NULL: the URL's host) */
	const char *tls_ca_file, *tls_cert_file, *tls_key_file, *tls_server_name;
};

/* Counters, all monotonic except the gauges marked so. */
struct kh_cluster_stats {
	uint64_t facts_published;  /* XADDs Redis acknowledged */
	uint64_t facts_queued;	   /* gauge: facts waiting for Redis */
	uint64_t facts_dropped;	   /* facts lost: queue full (counted, never silent) */
	uint64_t facts_too_big;	   /* facts over the size bound, not published */
	uint64_t facts_consumed;   /* facts the correlator fed to its pipelines */
	uint64_t facts_bad;	   /* stream entries that were not facts of a known version */
	uint64_t facts_duplicate;  /* copies of facts already taken, dropped (at-least-once bus) */
	uint64_t fact_ids_evicted; /* identities the duplicate filter forgot before its horizon */
	uint64_t alerts_written;   /* alert lines this instance won the fence for */
	uint64_t alerts_fenced;	   /* alert lines another owner (or an earlier life) wrote */
	uint64_t reconnects;	   /* connections re-established */
	uint64_t partitions_owned; /* gauge */
	uint64_t takeovers;	   /* partitions acquired (each rebuilt from its stream) */
	int64_t bus_lag_ns;	   /* gauge: arrival - event time of the last fact consumed */
	int connected;		   /* gauge: the publisher's connection is up */
	/* the disk queue (cluster.queue_dir); all 0 without one */
	uint64_t disk_bytes;	    /* gauge: bytes of facts on disk not acknowledged */
	uint64_t disk_recovered;    /* facts an earlier run left on disk, found at start */
	uint64_t disk_corrupt;	    /* damaged records (or cursor) found and cut away */
	uint64_t disk_write_errors; /* appends the disk refused (the fact counted dropped) */
	uint64_t terms_loaded;	    /* new terms read back from Redis at takeovers */
	uint64_t terms_lost;	    /* new terms not stored: Redis away too long, or refused */
	/* the node feed (this node's exec join; zero without one) */
	uint64_t exec_requests_received; /* other instances' requests read from the exec stream */
	uint64_t exec_requests_fed;	 /* of them, given to the exec join */
	uint64_t exec_requests_dropped;	 /* of them, lost (queue full, or not a request) */
};

/* defaults for every field but url, out and cfg */
void cluster_opts__defaults(struct kh_cluster_opts *o);
/* fill @o from the config's cluster.* keys (cfg NULL: defaults) */
void cluster_opts__from_config(struct kh_cluster_opts *o, const struct kh_config *cfg);

/*
 * Check the options and start the publisher (and, for the control-plane role, the correlator)
 * threads. A wrong URL or an unreadable password file fails here (-EINVAL, -errno), reported
 * once. Redis being down does not: facts queue and the threads reconnect with backoff, but a
 * refused login (WRONGPASS, NOPERM) or a TLS request this build cannot serve is reported as such.
 */
int cluster__start(const struct kh_cluster_opts *o, struct kh_cluster **out);

/* The pipeline's fact hook: queue @ev's fact (never blocks; a full queue drops and counts). */
void cluster__publish(void *cluster, const struct audit_event *ev);

/* The pipeline's node fact hook: queue a secret-material open's fact (for escalate-then-loot) */
struct kh_node_secret_read;
void cluster__publish_node_read(void *cluster, const struct kh_node_secret_read *r);

/*
 * This node's exec watch runs: read the pods/exec (attach, debug, nodes/proxy exec) requests
 * the other instances captured, for its exec join. 0 or a negative errno (reported).
 */
int cluster__start_node_feed(struct kh_cluster *c);
/*
 * From the capturing thread: hand the requests read since the last call to @fn (one fact line
 * each; pipeline__feed_remote_request). Returns how many; 0 without a node feed.
 */
size_t cluster__drain_exec_requests(struct kh_cluster *c,
				    int (*fn)(void *ctx, const char *line, size_t len), void *ctx);

/*
 * The checkpoint gate (with a state file): facts are numbered in the order they were queued.
 * cluster__fact_mark() is the number of the last one queued, cluster__fact_durable() the number
 * up to which every fact is safe: acknowledged by Redis, or synced to the disk queue. An audit
 * line's position may be saved once the mark taken after its fact is durable, so a crash never
 * leaves a line behind the checkpoint whose fact was only in memory. (A dropped fact is counted,
 * not waited for.) Both are 0 for a NULL @c.
 */
uint64_t cluster__fact_mark(struct kh_cluster *c);
uint64_t cluster__fact_durable(struct kh_cluster *c);

/*
 * Stop: publish what is queued (up to a short deadline, the rest counted as dropped), let the
 * correlator emit what its pipelines hold for the partitions it owns, release them.
 */
void cluster__stop(struct kh_cluster *c);
void cluster__free(struct kh_cluster *c);

void cluster__stats(struct kh_cluster *c, struct kh_cluster_stats *s);
/* register the keyhole_cluster_* series (read at scrape time) */
struct kh_metrics;
int cluster__add_metrics(struct kh_cluster *c, struct kh_metrics *m);
void cluster__print_stats(struct kh_cluster *c, FILE *f);

const char *cluster_role__name(enum kh_cluster_role r);

#endif /* KEYHOLE_CLUSTER_H */
