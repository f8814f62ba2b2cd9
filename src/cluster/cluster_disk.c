// SPDX-License-Identifier: Apache-2.0
/*
 * cluster_disk: the publisher over the on-disk fact queue (cluster.queue_dir, disk_queue.h).
 *
 * With a queue directory, the disk queue replaces the memory one: the capturing thread appends
 * each fact to it, the publisher reads the facts back from its cursor, sends them and moves the
 * cursor past what Redis acknowledged, so facts queued when keyhole stops or crashes are
 * published by the next start. The publisher syncs the queue every SYNC_NS (never the capturing
 * thread): what is synced is safe from a power loss too, and only that lets the audit-log
 * checkpoint pass the lines those facts came from (cluster__fact_durable).
 */
#include <errno.h>
#include <stdlib.h>

#include "cluster/cluster_impl.h"
#include "cluster/disk_queue.h"
#include "keyhole/clock.h"
#include "keyhole/log.h"

#define SYNC_NS (200ll * 1000000)

int cluster_disk__open(struct kh_cluster *c)
{
	if (!c->o.queue_dir)
		return 0;
	return dq__open(c->o.queue_dir, c->o.queue_max_bytes, &c->dq);
}

int cluster_disk__publish(struct kh_cluster *c, const char *line, uint32_t len, int32_t part)
{
	int err = dq__append(c->dq, line, len, part);

	if (err) {
		atomic_fetch_add(&c->dropped, 1);
		return err;
	}
	atomic_fetch_add(&c->issued, 1);
	atomic_fetch_add(&c->queued, 1);
	pthread_mutex_lock(&c->mu);
	c->kick = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

size_t cluster_disk__peek(struct kh_cluster *c, struct queued_fact *batch, size_t max)
{
	struct dq_rec r[256];
	size_t n;

	if (max > sizeof(r) / sizeof(r[0]))
		max = sizeof(r) / sizeof(r[0]);
	n = dq__peek(c->dq, r, max);
	for (size_t i = 0; i < n; i++)
		batch[i] = (struct queued_fact){r[i].line, r[i].len, r[i].partition, 0};
	return n;
}

void cluster_disk__done(struct kh_cluster *c, struct queued_fact *batch, size_t n, size_t sent)
{
	struct dq_stats s;

	if (sent)
		dq__ack(c->dq, sent);
	for (size_t i = 0; i < n; i++)
		free(batch[i].line);
	atomic_fetch_add(&c->published, sent);
	dq__stats(c->dq, &s);
	atomic_store(&c->queued, s.pending);
}

void cluster_disk__sync(struct kh_cluster *c, bool force)
{
	int64_t now = clock__ns(CLOCK_MONOTONIC);

	if (!force && now < c->next_sync_ns)
		return;
	c->next_sync_ns = now + SYNC_NS;
	atomic_store(&c->durable, dq__sync(c->dq));
}
