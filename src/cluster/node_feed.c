// SPDX-License-Identifier: Apache-2.0
/*
 * node_feed: read the cluster's exec stream for this node's exec join (see node_feed.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster_impl.h"
#include "cluster/fact.h"
#include "cluster/node_feed.h"
#include "keyhole/clock.h"
#include "keyhole/caps.h"
#include "keyhole/log.h"

struct fed_line {
	char *line;
	size_t len;
};

struct node_feed {
	struct kh_cluster *c;
	struct bus bus;
	pthread_t th;
	bool started;
	atomic_bool stop;
	char key[300];
	char last_id[64];
	char own[600]; /* "khNode":"<this node, escaped>" */
	size_t own_len;

	pthread_mutex_t mu;
	struct fed_line q[KH_NODE_FEED_QUEUE_MAX];
	size_t head, len, bytes;

	atomic_uint_fast64_t received, fed, dropped, own_skipped;
	atomic_int connected;
};

/* a fact this instance published: its own pipeline saw the event already */
static bool is_own(const struct node_feed *f, const char *line, size_t len)
{
	size_t span = len < 256 + f->own_len ? len : 256 + f->own_len;

	return memmem(line, span, f->own, f->own_len) != NULL;
}

static void push(struct node_feed *f, const char *line, size_t len)
{
	char *copy;

	atomic_fetch_add(&f->received, 1);
	pthread_mutex_lock(&f->mu);
	if (f->len == KH_NODE_FEED_QUEUE_MAX || f->bytes + len > KH_NODE_FEED_QUEUE_BYTES ||
	    !(copy = malloc(len + 1))) {
		pthread_mutex_unlock(&f->mu);
		atomic_fetch_add(&f->dropped, 1);
		return;
	}
	memcpy(copy, line, len + 1);
	f->q[(f->head + f->len) % KH_NODE_FEED_QUEUE_MAX] = (struct fed_line){copy, len};
	f->len++;
	f->bytes += len;
	pthread_mutex_unlock(&f->mu);
}

static void take_entry(struct node_feed *f, const redisReply *e)
{
	const redisReply *fields, *v;
	struct fact_header h;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING)
		return;
	snprintf(f->last_id, sizeof(f->last_id), "%s", e->element[0]->str);
	fields = e->element[1];
	if (fields->type != REDIS_REPLY_ARRAY || fields->elements != 2 ||
	    (v = fields->element[1])->type != REDIS_REPLY_STRING ||
	    fact__header(v->str, v->len, &h)) {
		atomic_fetch_add(&f->c->bad, 1);
		return;
	}
	if (is_own(f, v->str, v->len)) {
		atomic_fetch_add(&f->own_skipped, 1);
		return;
	}
	push(f, v->str, v->len);
}

/* XREAD COUNT 256 BLOCK 100 STREAMS <name>:exec <last id> */
static void read_round(struct node_feed *f)
{
	const char *argv[] = {"XREAD", "COUNT",	  "256",  "BLOCK",
			      "100",   "STREAMS", f->key, f->last_id};
	redisReply *r = redisCommandArgv(f->bus.ctx, 8, argv, NULL);

	if (bus__bad_reply(&f->bus, r)) {
		if (r) {
			kh_log(KH_LOG_ERROR, "cluster node feed: redis refused XREAD: %.200s",
			       r->str);
			freeReplyObject(r);
			usleep(500000); /* NOPERM and the like: not worth a tight loop */
		}
		return;
	}
	for (size_t s = 0; r->type == REDIS_REPLY_ARRAY && s < r->elements; s++) {
		const redisReply *st = r->element[s];

		if (st->type != REDIS_REPLY_ARRAY || st->elements != 2 ||
		    st->element[1]->type != REDIS_REPLY_ARRAY)
			continue;
		for (size_t e = 0; e < st->element[1]->elements; e++)
			take_entry(f, st->element[1]->element[e]);
	}
	freeReplyObject(r);
}

static void *feed_main(void *arg)
{
	struct node_feed *f = arg;
	char err[512];

	caps__drop_thread(); /* see caps.h */
	while (!atomic_load(&f->stop)) {
		if (bus__ensure(&f->bus, err, sizeof(err)) != BUS_OK) {
			atomic_store(&f->connected, 0);
			usleep(50000);
			continue;
		}
		atomic_store(&f->connected, 1);
		read_round(f);
	}
	atomic_store(&f->connected, 0);
	return NULL;
}

int node_feed__start(struct kh_cluster *c, struct node_feed **out)
{
	struct node_feed *f = calloc(1, sizeof(*f));
	struct json_out j;
	long long from_ms = clock__ns(CLOCK_REALTIME) / 1000000 - KH_NODE_FEED_BACKLOG_MS;
	int err;

	if (!f)
		return -ENOMEM;
	f->c = c;
	cluster_key(c, f->key, sizeof(f->key), "exec", -1);
	snprintf(f->last_id, sizeof(f->last_id), "%lld-0", from_ms > 0 ? from_ms : 0);
	json_out__init(&j);
	json_out__obj_begin(&j);
	json_out__kv_str(&j, "khNode", c->node);
	if (j.oom || j.len < 2 || j.len - 1 >= sizeof(f->own)) {
		json_out__free(&j);
		free(f);
		return -ENOMEM;
	}
	f->own_len = j.len - 1;
	memcpy(f->own, j.buf + 1, f->own_len);
	json_out__free(&j);
	pthread_mutex_init(&f->mu, NULL);
	bus__init(&f->bus, &c->url, "node feed");
	err = -pthread_create(&f->th, NULL, feed_main, f);
	if (err) {
		node_feed__free(f);
		return err;
	}
	f->started = true;
	kh_log(KH_LOG_INFO,
	       "cluster: this node's exec join reads the cluster's pods/exec requests from %s "
	       "(from %d s back)",
	       f->key, KH_NODE_FEED_BACKLOG_MS / 1000);
	*out = f;
	return 0;
}

void node_feed__stop(struct node_feed *f)
{
	if (!f)
		return;
	atomic_store(&f->stop, true);
	if (f->started)
		pthread_join(f->th, NULL);
	f->started = false;
}

void node_feed__free(struct node_feed *f)
{
	if (!f)
		return;
	node_feed__stop(f);
	for (size_t i = 0; i < f->len; i++)
		free(f->q[(f->head + i) % KH_NODE_FEED_QUEUE_MAX].line);
	bus__fini(&f->bus);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

size_t node_feed__drain(struct node_feed *f, int (*fn)(void *ctx, const char *line, size_t len),
			void *ctx)
{
	size_t total = 0;

	for (;;) {
		struct fed_line batch[64];
		size_t n = 0;

		pthread_mutex_lock(&f->mu);
		while (n < 64 && f->len) {
			batch[n++] = f->q[f->head];
			f->bytes -= f->q[f->head].len;
			f->head = (f->head + 1) % KH_NODE_FEED_QUEUE_MAX;
			f->len--;
		}
		pthread_mutex_unlock(&f->mu);
		if (!n)
			return total;
		for (size_t i = 0; i < n; i++) {
			if (fn(ctx, batch[i].line, batch[i].len) == -EINVAL)
				atomic_fetch_add(&f->dropped, 1);
			else
				atomic_fetch_add(&f->fed, 1);
			free(batch[i].line);
		}
		total += n;
	}
}

void node_feed__stats(const struct node_feed *f, struct node_feed_stats *s)
{
	struct node_feed *m = (struct node_feed *)f;

	memset(s, 0, sizeof(*s));
	if (!f)
		return;
	s->received = atomic_load(&m->received);
	s->fed = atomic_load(&m->fed);
	s->dropped = atomic_load(&m->dropped);
	s->own = atomic_load(&m->own_skipped);
	s->connected = atomic_load(&m->connected);
}
