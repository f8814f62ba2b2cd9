// SPDX-License-Identifier: Apache-2.0
/*
 * cluster_metrics: cluster mode's series on /metrics (facts published, queued, dropped, bus lag,
 * partitions owned, alerts written and fenced), computed at scrape time from the counters.
 */
#include <stddef.h>

#include "cluster/cluster_impl.h"
#include "keyhole/metrics.h"

struct series {
	const char *name, *help;
	enum kh_metric_type type;
	double (*fn)(void *ctx);
};

#define U64(field)                                                                                 \
	static double m_##field(void *ctx)                                                         \
	{                                                                                          \
		return (double)atomic_load(&((struct kh_cluster *)ctx)->field);                    \
	}
U64(published)
U64(queued)
U64(dropped)
U64(too_big)
U64(consumed)
U64(bad)
U64(written)
U64(fenced)
U64(reconnects)
U64(owned)
U64(takeovers)
U64(terms_loaded)
U64(terms_lost)
U64(duplicates)
U64(dedup_evicted)

static double m_lag(void *ctx)
{
	return (double)atomic_load(&((struct kh_cluster *)ctx)->lag_ns) / 1e9;
}

/* the disk queue's (0 without cluster.queue_dir) */
#define DISK(field)                                                                                \
	static double m_##field(void *ctx)                                                         \
	{                                                                                          \
		struct kh_cluster_stats s;                                                         \
		cluster__stats(ctx, &s);                                                           \
		return (double)s.field;                                                            \
	}
DISK(disk_bytes)
DISK(disk_recovered)
DISK(disk_corrupt)
DISK(disk_write_errors)

static double m_connected(void *ctx)
{
	return (double)atomic_load(&((struct kh_cluster *)ctx)->connected);
}

/* the node feed's: read at scrape time, zero while there is none */
#define FEED(field)                                                                                \
	static double m_exec_##field(void *ctx)                                                    \
	{                                                                                          \
		struct kh_cluster_stats s;                                                         \
		cluster__stats(ctx, &s);                                                           \
		return (double)s.exec_requests_##field;                                            \
	}
FEED(received)
FEED(fed)
FEED(dropped)

static const struct series series[] = {
    {"keyhole_cluster_facts_published_total", "facts Redis acknowledged (XADD)", KH_METRIC_COUNTER,
     m_published},
    {"keyhole_cluster_facts_queued", "facts waiting for Redis", KH_METRIC_GAUGE, m_queued},
    {"keyhole_cluster_facts_dropped_total", "facts lost: the local queue was full",
     KH_METRIC_COUNTER, m_dropped},
    {"keyhole_cluster_facts_too_big_total", "facts over the size bound, not published",
     KH_METRIC_COUNTER, m_too_big},
    {"keyhole_cluster_facts_consumed_total", "facts the correlator fed to its detections",
     KH_METRIC_COUNTER, m_consumed},
    {"keyhole_cluster_facts_bad_total", "stream entries that were not facts of this version",
     KH_METRIC_COUNTER, m_bad},
    {"keyhole_cluster_facts_duplicate_total",
     "copies of facts the correlator had already taken, dropped", KH_METRIC_COUNTER, m_duplicates},
    {"keyhole_cluster_fact_ids_evicted_total",
     "fact identities the duplicate filter forgot early (its key bound)", KH_METRIC_COUNTER,
     m_dedup_evicted},
    {"keyhole_cluster_alerts_written_total", "cluster alert lines this instance wrote",
     KH_METRIC_COUNTER, m_written},
    {"keyhole_cluster_alerts_fenced_total", "cluster alert lines already written by an owner",
     KH_METRIC_COUNTER, m_fenced},
    {"keyhole_cluster_reconnects_total", "Redis connections re-established", KH_METRIC_COUNTER,
     m_reconnects},
    {"keyhole_cluster_partitions_owned", "fact partitions this correlator owns", KH_METRIC_GAUGE,
     m_owned},
    {"keyhole_cluster_takeovers_total", "partitions taken (each rebuilt from its stream)",
     KH_METRIC_COUNTER, m_takeovers},
    {"keyhole_cluster_bus_lag_seconds", "wall clock minus event time of the last fact consumed",
     KH_METRIC_GAUGE, m_lag},
    {"keyhole_cluster_connected", "1 while the publisher's Redis connection is up", KH_METRIC_GAUGE,
     m_connected},
    {"keyhole_cluster_terms_loaded_total",
     "new terms read back from Redis at takeovers (the shared history)", KH_METRIC_COUNTER,
     m_terms_loaded},
    {"keyhole_cluster_terms_lost_total",
     "new terms not stored in Redis (it was away too long, or refused)", KH_METRIC_COUNTER,
     m_terms_lost},
    {"keyhole_cluster_disk_queue_bytes", "bytes of facts in the disk queue not acknowledged",
     KH_METRIC_GAUGE, m_disk_bytes},
    {"keyhole_cluster_disk_queue_recovered_total",
     "facts an earlier run left in the disk queue, found at start", KH_METRIC_COUNTER,
     m_disk_recovered},
    {"keyhole_cluster_disk_queue_corrupt_total",
     "damaged disk queue records (or cursor) found and cut away", KH_METRIC_COUNTER,
     m_disk_corrupt},
    {"keyhole_cluster_disk_queue_write_errors_total",
     "facts the disk refused (counted as dropped too)", KH_METRIC_COUNTER, m_disk_write_errors},
    {"keyhole_cluster_exec_requests_received_total",
     "pods/exec requests of other instances read from the exec stream", KH_METRIC_COUNTER,
     m_exec_received},
    {"keyhole_cluster_exec_requests_fed_total", "of them, given to this node's exec join",
     KH_METRIC_COUNTER, m_exec_fed},
    {"keyhole_cluster_exec_requests_dropped_total",
     "of them, lost: the node feed's queue was full, or not a request", KH_METRIC_COUNTER,
     m_exec_dropped},
};

int cluster__add_metrics(struct kh_cluster *c, struct kh_metrics *m)
{
	for (size_t i = 0; i < sizeof(series) / sizeof(series[0]); i++) {
		int err = metrics__add(m, &(struct kh_metric){.name = series[i].name,
							      .help = series[i].help,
							      .type = series[i].type,
							      .fn = series[i].fn,
							      .ctx = c});
		if (err)
			return err;
	}
	return 0;
}
