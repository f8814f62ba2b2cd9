// SPDX-License-Identifier: Apache-2.0
/*
 * correlator: the cluster-scope detections over the partitioned fact streams.
 *
 * Ownership: a partition belongs to whoever holds its lease (SET NX PX, renewed every third of
 * the lease). Live correlators announce themselves in a sorted set; each takes at most its fair
 * share of partitions and gives back what it holds over that share, so load spreads as members
 * come and go, and a dead member's partitions are free once its leases run out.
 *
 * State: a new owner starts an empty pipeline and reads the partition's stream from its first
 * entry, so the windows, the new-terms history and the open incidents are rebuilt from the facts
 * themselves (within the stream's retention). It recomputes alerts the previous owner already
 * wrote; every alert line must first win SET NX on a key named by its digest, so each line is
 * written once for the cluster. Lines are byte-identical for identical input (alerts carry event
 * times only), which is what makes the digest a sound fence.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster_impl.h"
#include "cluster/fact.h"
#include "cluster/fact_dedup.h"
#include "cluster/node_fact.h"
#include "keyhole/clock.h"
#include "keyhole/caps.h"
#include "keyhole/audit_parse.h"
#include "cluster/reorder.h"
#include "keyhole/config.h"
#include "keyhole/log.h"
#include "keyhole/pipeline.h"
#include "cluster/hash.h"
#include "cluster/terms_store.h"

#define READ_COUNT 1000
#define REORDER_MAX 200000 /* facts held per partition at most (then released early) */

struct part {
	uint32_t id;
	bool owned;
	char last_id[64];
	struct kh_pipeline *p;
	FILE *out; /* the pipeline's output: a cookie that appends to buf */
	char *buf;
	size_t len, cap;
	struct reorder ro;
	uint64_t line_no;
	struct terms *terms; /* its new-terms history in Redis */
	uint64_t terms_lost;
	struct fact_dedup *dedup; /* facts taken, so a copy is not counted twice */
	uint64_t dedup_evicted;
};

struct cor {
	struct kh_cluster *c;
	struct bus bus;
	struct part *parts;
	uint32_t n_owned;
	int64_t next_lease_ns;
	struct kh_config cfg; /* the run's, without a state file (pipelines share no file) */
};

static ssize_t cookie_write(void *cookie, const char *data, size_t n)
{
	struct part *pt = cookie;

	if (pt->len + n > pt->cap) {
		size_t nc = pt->cap ? pt->cap : 4096;
		char *nb;

		while (nc < pt->len + n)
			nc *= 2;
		nb = realloc(pt->buf, nc);
		if (!nb)
			return -1;
		pt->buf = nb;
		pt->cap = nc;
	}
	memcpy(pt->buf + pt->len, data, n);
	pt->len += n;
	return (ssize_t)n;
}

static void part_drop(struct part *pt)
{
	terms__free(pt->terms); /* first: it unhooks itself from the pipeline's histories */
	pt->terms = NULL;
	pipeline__free(pt->p);
	if (pt->out)
		fclose(pt->out);
	reorder__fini(&pt->ro);
	fact_dedup__free(pt->dedup);
	pt->dedup = NULL;
	free(pt->buf);
	pt->p = NULL;
	pt->out = NULL;
	pt->buf = NULL;
	pt->len = pt->cap = 0;
	pt->owned = false;
}

/* the partition's new terms from Redis into its new pipeline, before its stream */
static int part_terms(struct cor *k, struct part *pt)
{
	char key[300];
	long n;

	cluster_key(k->c, key, sizeof(key), "terms", pt->id);
	pt->terms = terms__new(key, pt->p);
	if (!pt->terms)
		return -ENOMEM;
	pt->terms_lost = 0;
	n = terms__load(pt->terms, &k->bus);
	if (n < 0) {
		terms__free(pt->terms);
		pt->terms = NULL;
		return -EIO;
	}
	atomic_fetch_add(&k->c->terms_loaded, (uint64_t)n);
	return 0;
}

/* after the partition's alert lines: what its rules learned, to Redis */
static void part_terms_flush(struct cor *k, struct part *pt)
{
	uint64_t lost;

	terms__flush(pt->terms, &k->bus);
	lost = terms__lost(pt->terms);
	if (lost != pt->terms_lost) {
		atomic_fetch_add(&k->c->terms_lost, lost - pt->terms_lost);
		pt->terms_lost = lost;
	}
}

static int part_start(struct cor *k, struct part *pt)
{
	cookie_io_functions_t io = {.write = cookie_write};
	struct kh_pipeline_opts po = {.cfg = &k->cfg, .scope = KH_SCOPE_CLUSTER};

	pt->out = fopencookie(pt, "w", io);
	if (!pt->out)
		return -ENOMEM;
	po.out = pt->out;
	pt->p = pipeline__new(&po);
	if (!pt->p) {
		fclose(pt->out);
		pt->out = NULL;
		return -ENOMEM;
	}
	/* identities for as long as a copy could meet its original in a window, as many as the
	 * stream keeps (fact_dedup.h) */
	pt->dedup = fact_dedup__new(k->c->o.stream_maxlen ? k->c->o.stream_maxlen : 1,
				    pipeline__warmup_span_ns(pt->p) + k->c->o.lag_ns);
	pt->dedup_evicted = 0;
	if (!pt->dedup || part_terms(k, pt)) {
		fact_dedup__free(pt->dedup);
		pt->dedup = NULL;
		pipeline__free(pt->p);
		pt->p = NULL;
		fclose(pt->out);
		pt->out = NULL;
		return -EIO;
	}
	reorder__init(&pt->ro, REORDER_MAX);
	snprintf(pt->last_id, sizeof(pt->last_id), "0-0"); /* rebuild from the first fact */
	pt->owned = true;
	pt->line_no = 0;
	return 0;
}

/* ---- the alert fence ------------------------------------------------------------------------ */

#define FENCE_BATCH 512

/* append SET <name>:alert:<digest> <owner> NX PX ttl for one line */
static void append_fence(struct cor *k, const char *line, size_t len)
{
	struct kh_cluster *c = k->c;
	char key[360], what[64], ttl[24];
	uint64_t h1 = cluster_hash(CLUSTER_HASH_INIT, line, len);
	uint64_t h2 = cluster_hash(0x84222325cbf29ce4ull, line, len);

	snprintf(what, sizeof(what), "alert:%016llx%016llx", (unsigned long long)h1,
		 (unsigned long long)h2);
	cluster_key(c, key, sizeof(key), what, -1);
	snprintf(ttl, sizeof(ttl), "%lld", (long long)(c->o.dedup_ttl_ns / 1000000));
	redisAppendCommand(k->bus.ctx, "SET %s %s NX PX %s", key, c->owner, ttl);
}

/*
 * Fence up to FENCE_BATCH complete lines from @off in one round trip and write the ones won.
 * Returns the bytes settled (written or fenced), 0 when Redis did not answer (the lines stay).
 */
static size_t fence_batch(struct cor *k, struct part *pt, size_t off)
{
	struct kh_cluster *c = k->c;
	size_t starts[FENCE_BATCH], lens[FENCE_BATCH], n = 0, pos = off, done = 0;

	while (n < FENCE_BATCH && pos < pt->len) {
		char *nl = memchr(pt->buf + pos, '\n', pt->len - pos);

		if (!nl)
			break;
		starts[n] = pos;
		lens[n] = (size_t)(nl - (pt->buf + pos));
		append_fence(k, pt->buf + pos, lens[n]);
		pos += lens[n++] + 1;
	}
	for (size_t i = 0; i < n; i++) {
		redisReply *r = NULL;
		int won;

		if (redisGetReply(k->bus.ctx, (void **)&r) != REDIS_OK || !r) {
			bus__bad_reply(&k->bus, NULL);
			return done; /* the rest is fenced again after the reconnect */
		}
		if (r->type == REDIS_REPLY_ERROR)
			kh_log(KH_LOG_ERROR, "cluster correlator: alert fence refused: %.200s",
			       r->str);
		won = r->type == REDIS_REPLY_STATUS;
		freeReplyObject(r);
		if (won) {
			flockfile(c->o.out);
			fwrite(pt->buf + starts[i], 1, lens[i] + 1, c->o.out);
			fflush(c->o.out);
			funlockfile(c->o.out);
			atomic_fetch_add(&c->written, 1);
		} else {
			atomic_fetch_add(&c->fenced, 1);
		}
		done += lens[i] + 1;
	}
	return done;
}

/* write the complete lines the partition's pipeline produced, each past the fence */
static void drain_lines(struct cor *k, struct part *pt)
{
	size_t off = 0, n;

	fflush(pt->out);
	while (off < pt->len && k->bus.ctx && (n = fence_batch(k, pt, off)) > 0)
		off += n;
	if (!off)
		return;
	memmove(pt->buf, pt->buf + off, pt->len - off);
	pt->len -= off;
}

/* a node's secret-material open (node_fact.h): to escalate-then-loot */
static void feed_node_fact(struct cor *k, struct part *pt, const struct held_fact *f)
{
	struct kh_parse_error pe;
	struct kh_node_secret_read r;
	struct audit_event ev;

	if (audit_parse__line(f->line, f->len, &ev, &pe) || node_fact__read(&ev, f->t_ns, &r)) {
		atomic_fetch_add(&k->c->bad, 1);
		return;
	}
	pipeline__feed_node_secret_read(pt->p, &r);
}

/* feed what the reorder buffer releases (@all: everything, at stop) */
static void release(struct cor *k, struct part *pt, int all)
{
	struct kh_cluster *c = k->c;
	int64_t now = clock__ns(CLOCK_MONOTONIC);
	struct held_fact f;
	char src[32];

	snprintf(src, sizeof(src), "cluster:%u", pt->id);
	while (reorder__pop_due(&pt->ro, now, c->o.lag_ns, all, &f)) {
		struct fact_header h;
		struct kh_origin o = {.source = src, .line_no = ++pt->line_no};

		fact__header(f.line, f.len, &h); /* checked at arrival */
		if (node_fact__is(f.line, f.len))
			feed_node_fact(k, pt, &f);
		else
			pipeline__feed_fact(pt->p, f.line, f.len, &o,
					    !h.broadcast || h.partition == pt->id);
		atomic_fetch_add(&c->consumed, 1);
		atomic_store(&c->lag_ns, clock__ns(CLOCK_REALTIME) - f.t_ns);
		free(f.line);
	}
}

/* ---- leases --------------------------------------------------------------------------------- */

static redisReply *cmd(struct cor *k, const char *fmt, ...)
{
	va_list ap;
	redisReply *r;

	if (!k->bus.ctx)
		return NULL;
	va_start(ap, fmt);
	r = redisvCommand(k->bus.ctx, fmt, ap);
	va_end(ap);
	if (bus__bad_reply(&k->bus, r)) {
		if (r) {
			kh_log(KH_LOG_ERROR, "cluster correlator: redis refused a command: %.200s",
			       r->str);
			freeReplyObject(r);
		}
		return NULL;
	}
	return r;
}

static bool lease_is_mine(struct cor *k, const char *key)
{
	redisReply *r = cmd(k, "GET %s", key);
	bool mine = r && r->type == REDIS_REPLY_STRING && !strcmp(r->str, k->c->owner);

	if (r)
		freeReplyObject(r);
	return mine;
}

static void lose(struct cor *k, struct part *pt, const char *why)
{
	kh_log(KH_LOG_INFO, "cluster correlator: partition %u %s", pt->id, why);
	part_drop(pt);
	k->n_owned--;
}

static uint32_t members(struct cor *k)
{
	struct kh_cluster *c = k->c;
	long long now_ms = clock__ns(CLOCK_REALTIME) / 1000000, lease_ms = c->o.lease_ns / 1000000;
	char key[300];
	redisReply *r;
	uint32_t n = 1;

	cluster_key(c, key, sizeof(key), "members", -1);
	if ((r = cmd(k, "ZADD %s %lld %s", key, now_ms, c->owner)))
		freeReplyObject(r);
	if ((r = cmd(k, "ZREMRANGEBYSCORE %s -inf %lld", key, now_ms - lease_ms)))
		freeReplyObject(r);
	if ((r = cmd(k, "ZCARD %s", key))) {
		if (r->type == REDIS_REPLY_INTEGER && r->integer > 0)
			n = (uint32_t)r->integer;
		freeReplyObject(r);
	}
	return n;
}

static void renew(struct cor *k, struct part *pt, const char *key, long long lease_ms)
{
	redisReply *r;

	if (!lease_is_mine(k, key)) {
		if (k->bus.ctx)
			lose(k, pt, "was taken over (lease lost)");
		return;
	}
	if ((r = cmd(k, "PEXPIRE %s %lld", key, lease_ms)))
		freeReplyObject(r);
}

static void give_back(struct cor *k, struct part *pt, const char *key)
{
	redisReply *r;

	if (lease_is_mine(k, key) && (r = cmd(k, "DEL %s", key)))
		freeReplyObject(r);
	lose(k, pt, "given back (more than a fair share)");
}

static void try_take(struct cor *k, struct part *pt, const char *key, long long lease_ms)
{
	redisReply *r = cmd(k, "SET %s %s NX PX %lld", key, k->c->owner, lease_ms);
	bool won = r && r->type == REDIS_REPLY_STATUS;

	if (r)
		freeReplyObject(r);
	if (!won)
		return;
	if (part_start(k, pt)) {
		kh_log(KH_LOG_ERROR, "cluster correlator: cannot start partition %u (%s); retrying",
		       pt->id, k->bus.ctx ? "out of memory" : "redis went away");
		if ((r = cmd(k, "DEL %s", key)))
			freeReplyObject(r);
		return;
	}
	k->n_owned++;
	atomic_fetch_add(&k->c->takeovers, 1);
	kh_log(KH_LOG_INFO, "cluster correlator: took partition %u (rebuilding from its stream)",
	       pt->id);
}

static void lease_round(struct cor *k)
{
	struct kh_cluster *c = k->c;
	uint32_t n = c->o.partitions, m = members(k), fair = (n + m - 1) / m;
	long long lease_ms = c->o.lease_ns / 1000000;
	char key[300];

	for (uint32_t i = 0; i < n && k->bus.ctx; i++) {
		struct part *pt = &k->parts[i];

		cluster_key(c, key, sizeof(key), "lease", i);
		if (pt->owned && k->n_owned > fair)
			give_back(k, pt, key);
		else if (pt->owned)
			renew(k, pt, key, lease_ms);
		else if (k->n_owned < fair)
			try_take(k, pt, key, lease_ms);
	}
	atomic_store(&c->owned, k->n_owned);
}

/* ---- reading -------------------------------------------------------------------------------- */

static void take_entry(struct cor *k, struct part *pt, redisReply *e)
{
	struct kh_cluster *c = k->c;
	redisReply *fields;
	struct fact_header h;
	char *line;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING)
		return;
	snprintf(pt->last_id, sizeof(pt->last_id), "%s", e->element[0]->str);
	fields = e->element[1];
	if (fields->type != REDIS_REPLY_ARRAY || fields->elements != 2 ||
	    fields->element[1]->type != REDIS_REPLY_STRING ||
	    fact__header(fields->element[1]->str, fields->element[1]->len, &h)) {
		atomic_fetch_add(&c->bad, 1);
		return;
	}
	if (fact_dedup__seen(pt->dedup, fields->element[1]->str, fields->element[1]->len, h.t_ns)) {
		atomic_fetch_add(&c->duplicates, 1);
		return;
	}
	if (fact_dedup__evicted(pt->dedup) != pt->dedup_evicted) {
		atomic_fetch_add(&c->dedup_evicted,
				 fact_dedup__evicted(pt->dedup) - pt->dedup_evicted);
		pt->dedup_evicted = fact_dedup__evicted(pt->dedup);
	}
	line = malloc(fields->element[1]->len + 1);
	if (!line)
		return;
	memcpy(line, fields->element[1]->str, fields->element[1]->len + 1);
	reorder__push(&pt->ro, h.t_ns, clock__ns(CLOCK_MONOTONIC), line, fields->element[1]->len);
}

/* XREAD COUNT n BLOCK ms STREAMS <owned keys> <their last ids> */
static void read_round(struct cor *k)
{
	struct kh_cluster *c = k->c;
	uint32_t n = c->o.partitions, m = 0;
	const char **argv = calloc(6 + 2 * (size_t)n, sizeof(*argv));
	char(*keys)[300] = calloc(n, sizeof(*keys));
	redisReply *r;

	if (!argv || !keys || !k->n_owned)
		goto out;
	argv[0] = "XREAD", argv[1] = "COUNT", argv[2] = "1000", argv[3] = "BLOCK";
	argv[4] = "50", argv[5] = "STREAMS";
	for (uint32_t i = 0; i < n; i++)
		if (k->parts[i].owned)
			cluster_key(c, keys[m], sizeof(keys[m]), "facts", i), argv[6 + m] = keys[m],
										       m++;
	for (uint32_t i = 0, j = 0; i < n; i++)
		if (k->parts[i].owned)
			argv[6 + m + j++] = k->parts[i].last_id;
	r = redisCommandArgv(k->bus.ctx, 6 + 2 * (int)m, argv, NULL);
	if (bus__bad_reply(&k->bus, r)) {
		if (r)
			freeReplyObject(r);
		goto out;
	}
	for (size_t s = 0; r->type == REDIS_REPLY_ARRAY && s < r->elements; s++) {
		redisReply *st = r->element[s];
		const char *colon;
		uint32_t p;

		if (st->type != REDIS_REPLY_ARRAY || st->elements != 2 ||
		    !(colon = strrchr(st->element[0]->str, ':')))
			continue;
		p = (uint32_t)strtoul(colon + 1, NULL, 10);
		if (p >= n || !k->parts[p].owned)
			continue;
		for (size_t e = 0; e < st->element[1]->elements; e++)
			take_entry(k, &k->parts[p], st->element[1]->element[e]);
	}
	freeReplyObject(r);
out:
	free(argv);
	free(keys);
}

static void step(struct cor *k)
{
	struct kh_cluster *c = k->c;
	char err[512];

	if (bus__ensure(&k->bus, err, sizeof(err)) != BUS_OK) {
		usleep(50000);
		return;
	}
	if (clock__ns(CLOCK_MONOTONIC) >= k->next_lease_ns) {
		lease_round(k);
		k->next_lease_ns = clock__ns(CLOCK_MONOTONIC) + c->o.lease_ns / 3;
	}
	if (!k->n_owned) {
		usleep(50000);
		return;
	}
	read_round(k);
	for (uint32_t i = 0; i < c->o.partitions; i++)
		if (k->parts[i].owned) {
			release(k, &k->parts[i], 0);
			drain_lines(k, &k->parts[i]);
			part_terms_flush(k, &k->parts[i]);
		}
}

/* at stop: emit what the owned partitions hold, give them back */
static void finish(struct cor *k)
{
	struct kh_cluster *c = k->c;
	char key[300];
	char err[512];

	bus__ensure(&k->bus, err, sizeof(err));
	for (uint32_t i = 0; i < c->o.partitions; i++) {
		struct part *pt = &k->parts[i];

		if (!pt->owned)
			continue;
		release(k, pt, 1);
		pipeline__flush(pt->p);
		drain_lines(k, pt);
		part_terms_flush(k, pt);
		cluster_key(c, key, sizeof(key), "lease", i);
		if (k->bus.ctx && lease_is_mine(k, key)) {
			redisReply *r = cmd(k, "DEL %s", key);

			if (r)
				freeReplyObject(r);
		}
		part_drop(pt);
	}
	k->n_owned = 0;
	atomic_store(&c->owned, 0);
}

void *correlator__main(void *arg)
{
	struct kh_cluster *c = arg;
	struct cor k = {.c = c};

	caps__drop_thread(); /* see caps.h */
	k.cfg = *(c->o.cfg ? c->o.cfg : config__defaults());
	k.cfg.state_file = NULL;
	bus__init(&k.bus, &c->url, "correlator");
	k.parts = calloc(c->o.partitions, sizeof(*k.parts));
	if (!k.parts) {
		kh_log(KH_LOG_ERROR, "cluster correlator: out of memory; not correlating");
		return NULL;
	}
	for (uint32_t i = 0; i < c->o.partitions; i++)
		k.parts[i].id = i;
	while (!atomic_load(&c->cor_stop))
		step(&k);
	finish(&k);
	free(k.parts);
	bus__fini(&k.bus);
	return NULL;
}
