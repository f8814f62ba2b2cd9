// SPDX-License-Identifier: Apache-2.0
/*
 * publisher: the thread that moves queued facts to their partition streams (XADD).
 *
 * The capturing thread never waits on Redis: it queues (bounded; a full queue drops the new fact
 * and counts it). This thread pipelines up to a batch of XADDs per round trip; a fact leaves the
 * queue only once Redis acknowledged it, so an outage loses nothing that fits the queue, and the
 * queue drains when Redis returns. A fact whose XADD was sent just as the link broke may be sent
 * twice (at least once); the correlator's alert fence keeps that from doubling an alert line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_impl.h"
#include "cluster/node_feed.h"
#include "keyhole/clock.h"
#include "keyhole/caps.h"
#include "keyhole/log.h"

#define BATCH 256

void cluster_key(const struct kh_cluster *c, char *buf, size_t cap, const char *what, long n)
{
	if (n >= 0)
		snprintf(buf, cap, "%s:%s:%ld", c->o.name, what, n);
	else
		snprintf(buf, cap, "%s:%s", c->o.name, what);
}

static size_t q_cap(const struct kh_cluster *c)
{
	return c->o.queue_max;
}

static struct queued_fact *q_at(struct kh_cluster *c, size_t i)
{
	return &c->q[(c->q_head + i) % q_cap(c)];
}

/* XADD <name>:facts:<p> (or <name>:exec, node_feed.h) MAXLEN ~ <n> * f <fact> */
static void append_xadd(struct kh_cluster *c, const struct queued_fact *f, uint32_t p)
{
	char key[300], maxlen[24];
	const char *argv[7] = {"XADD", key, "MAXLEN", "~", maxlen, "*", "f"};
	const char *args[8];
	size_t lens[8];
	bool exec = f->partition == QF_EXEC_STREAM;

	cluster_key(c, key, sizeof(key), exec ? "exec" : "facts", exec ? -1 : (long)p);
	snprintf(maxlen, sizeof(maxlen), "%u", exec ? KH_EXEC_STREAM_MAXLEN : c->o.stream_maxlen);
	for (int i = 0; i < 7; i++) {
		args[i] = argv[i];
		lens[i] = strlen(argv[i]);
	}
	args[7] = f->line;
	lens[7] = f->len;
	redisAppendCommandArgv(c->pub_bus.ctx, 8, args, lens);
}

/* send the first @n queued facts; returns how many Redis took (in order) */
static size_t send_batch(struct kh_cluster *c, struct queued_fact *batch, size_t n)
{
	struct bus *b = &c->pub_bus;
	size_t done = 0;

	for (size_t i = 0; i < n; i++) {
		if (batch[i].partition != -1)
			append_xadd(c, &batch[i], (uint32_t)batch[i].partition);
		else
			for (uint32_t p = 0; p < c->o.partitions; p++)
				append_xadd(c, &batch[i], p);
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t k = batch[i].partition != -1 ? 1 : c->o.partitions;
		bool ok = true;

		for (uint32_t r = 0; r < k; r++) {
			redisReply *rep = NULL;

			if (!b->ctx || redisGetReply(b->ctx, (void **)&rep) != REDIS_OK) {
				bus__bad_reply(b, NULL);
				return done;
			}
			if (rep->type == REDIS_REPLY_ERROR) {
				kh_log(KH_LOG_ERROR,
				       "cluster publisher: redis refused XADD: %.200s", rep->str);
				ok = false;
			}
			freeReplyObject(rep);
		}
		if (!ok) { /* NOPERM and the like: a configuration fault, retried later */
			bus__drop(b);
			return done;
		}
		done++;
	}
	return done;
}

/* copy up to BATCH facts from the queue's head (they stay queued until acknowledged) */
static size_t peek(struct kh_cluster *c, struct queued_fact *batch)
{
	size_t n;

	pthread_mutex_lock(&c->mu);
	n = c->q_len < BATCH ? c->q_len : BATCH;
	for (size_t i = 0; i < n; i++)
		batch[i] = *q_at(c, i);
	pthread_mutex_unlock(&c->mu);
	if (c->dq)
		n = cluster_disk__peek(c, batch, BATCH);
	return n;
}

static void pop(struct kh_cluster *c, size_t n)
{
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < n; i++)
		free(q_at(c, i)->line);
	atomic_store(&c->durable, q_at(c, n - 1)->seq);
	c->q_head = (c->q_head + n) % q_cap(c);
	c->q_len -= n;
	atomic_store(&c->queued, c->q_len);
	pthread_mutex_unlock(&c->mu);
	atomic_fetch_add(&c->published, n);
}

/*
 * wait for facts or stop (@down: Redis is away, wait even with facts queued, so an outage does
 * not spin); returns false when stopping with nothing left to try
 */
static bool wait_work(struct kh_cluster *c, int64_t deadline, bool down)
{
	struct timespec ts;
	bool go;

	pthread_mutex_lock(&c->mu);
	if ((down || !atomic_load(&c->queued)) && !c->kick && !c->stopping) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&c->cv, &c->mu, &ts);
	}
	c->kick = false;
	go = !c->stopping || (atomic_load(&c->queued) && clock__ns(CLOCK_MONOTONIC) < deadline);
	pthread_mutex_unlock(&c->mu);
	return go;
}

void *publisher__main(void *arg)
{
	struct kh_cluster *c = arg;
	struct queued_fact batch[BATCH];
	int64_t deadline = INT64_MAX;
	char err[512];
	bool down = false;

	caps__drop_thread(); /* see caps.h */
	for (;;) {
		size_t n, sent;

		if (c->stopping && deadline == INT64_MAX)
			deadline = clock__ns(CLOCK_MONOTONIC) + 2000ll * 1000000; /* drain for two
										     seconds */
		if (!wait_work(c, deadline, down))
			break;
		if (c->dq)
			cluster_disk__sync(c, false);
		down = bus__ensure(&c->pub_bus, err, sizeof(err)) != BUS_OK;
		if (down) {
			atomic_store(&c->connected, 0);
			if (c->stopping)
				break; /* no Redis at stop: what is queued is counted lost below */
			continue;
		}
		atomic_store(&c->connected, 1);
		atomic_store(&c->reconnects, c->pub_bus.reconnects);
		n = peek(c, batch);
		if (!n)
			continue;
		sent = send_batch(c, batch, n);
		if (c->dq)
			cluster_disk__done(c, batch, n, sent);
		else if (sent)
			pop(c, sent);
	}
	if (c->dq) { /* what is left stays on disk for the next start */
		cluster_disk__sync(c, true);
		if (atomic_load(&c->queued))
			kh_log(KH_LOG_INFO,
			       "cluster publisher: %llu facts not published at stop stay in the "
			       "disk queue %s for the next start",
			       (unsigned long long)atomic_load(&c->queued), c->o.queue_dir);
		return NULL;
	}
	pthread_mutex_lock(&c->mu);
	if (c->q_len)
		kh_log(KH_LOG_WARN,
		       "cluster publisher: %zu facts not published at stop (counted "
		       "as dropped)",
		       c->q_len);
	atomic_fetch_add(&c->dropped, c->q_len);
	for (size_t i = 0; i < c->q_len; i++)
		free(q_at(c, i)->line);
	c->q_len = 0;
	atomic_store(&c->queued, 0);
	pthread_mutex_unlock(&c->mu);
	return NULL;
}
