// SPDX-License-Identifier: Apache-2.0
/*
 * terms_store: a partition's new-terms history in a Redis sorted set (terms_store.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/terms_store.h"
#include "keyhole/history.h"
#include "keyhole/log.h"
#include "keyhole/pipeline.h"

#define PAGE 1000
#define ZADD_PAIRS 256

struct term {
	int64_t t_ns;
	char *member; /* "<rule id>\x1f<key>", binary */
	size_t len;
};

struct watch {
	struct terms *t;
	const char *id;
};

struct terms {
	char key[320];
	struct kh_history *h[TERMS_HISTORIES];
	const char *id[TERMS_HISTORIES];
	struct watch w[TERMS_HISTORIES];
	size_t nh;
	uint64_t bound; /* members kept in Redis */
	struct term *pending;
	size_t n;
	uint64_t lost;
};

static void observe(const void *key, size_t len, int64_t t_ns, int64_t prev_ns, void *arg)
{
	struct watch *w = arg;
	struct terms *t = w->t;
	size_t idlen = strlen(w->id);
	struct term *e;

	if (prev_ns && (prev_ns > t_ns || prev_ns / TERMS_GRAIN_NS == t_ns / TERMS_GRAIN_NS))
		return; /* known, and Redis knows it to within the hour */
	if (t->n == TERMS_PENDING_MAX) {
		t->lost++;
		return;
	}
	e = &t->pending[t->n];
	e->member = malloc(idlen + 1 + len);
	if (!e->member) {
		t->lost++;
		return;
	}
	memcpy(e->member, w->id, idlen);
	e->member[idlen] = 0x1f;
	memcpy(e->member + idlen + 1, key, len);
	e->len = idlen + 1 + len;
	e->t_ns = t_ns;
	t->n++;
}

struct terms *terms__new(const char *key, struct kh_pipeline *p)
{
	struct terms *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->pending = calloc(TERMS_PENDING_MAX, sizeof(*t->pending));
	if (!t->pending) {
		free(t);
		return NULL;
	}
	snprintf(t->key, sizeof(t->key), "%s", key);
	t->nh = pipeline__histories(p, t->id, t->h, TERMS_HISTORIES);
	for (size_t i = 0; i < t->nh; i++) {
		t->w[i] = (struct watch){t, t->id[i]};
		t->bound += history__max(t->h[i]);
	}
	return t;
}

void terms__free(struct terms *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nh; i++)
		history__observe(t->h[i], NULL, NULL);
	for (size_t i = 0; i < t->n; i++)
		free(t->pending[i].member);
	free(t->pending);
	free(t);
}

/* one member read back: into the history of its rule (an unknown rule's is skipped) */
static void restore(struct terms *t, const char *m, size_t len, const char *score)
{
	const char *sep = memchr(m, 0x1f, len);
	int64_t ns = (int64_t)strtod(score, NULL);

	if (!sep || ns <= 0)
		return;
	for (size_t i = 0; i < t->nh; i++)
		if (strlen(t->id[i]) == (size_t)(sep - m) &&
		    !memcmp(t->id[i], m, (size_t)(sep - m)))
			history__restore(t->h[i], sep + 1, len - (size_t)(sep - m) - 1, ns, ns);
}

long terms__load(struct terms *t, struct bus *b)
{
	long total = 0;

	for (long off = 0;; off += PAGE) {
		redisReply *r;
		size_t n;

		if (!b->ctx)
			return -1;
		r = redisCommand(b->ctx, "ZRANGEBYSCORE %s -inf +inf WITHSCORES LIMIT %ld %d",
				 t->key, off, PAGE);
		if (bus__bad_reply(b, r) || r->type != REDIS_REPLY_ARRAY) {
			if (r) {
				kh_log(
				    KH_LOG_ERROR,
				    "cluster correlator: cannot read the new terms of %s: %.200s",
				    t->key, r->type == REDIS_REPLY_ERROR ? r->str : "not a list");
				freeReplyObject(r);
			}
			return -1;
		}
		n = r->elements / 2;
		for (size_t i = 0; i < n; i++)
			if (r->element[2 * i]->type == REDIS_REPLY_STRING &&
			    r->element[2 * i + 1]->type == REDIS_REPLY_STRING)
				restore(t, r->element[2 * i]->str, r->element[2 * i]->len,
					r->element[2 * i + 1]->str);
		freeReplyObject(r);
		total += (long)n;
		if (n < PAGE)
			break;
	}
	/* from here on, what the rules learn goes to Redis */
	for (size_t i = 0; i < t->nh; i++)
		history__observe(t->h[i], observe, &t->w[i]);
	return total;
}

/* ZADD key score member ... for pending[from, from + n) */
static void append_zadd(struct terms *t, struct bus *b, size_t from, size_t n)
{
	const char *argv[2 + 2 * ZADD_PAIRS];
	size_t lens[2 + 2 * ZADD_PAIRS];
	char scores[ZADD_PAIRS][24];

	argv[0] = "ZADD";
	lens[0] = 4;
	argv[1] = t->key;
	lens[1] = strlen(t->key);
	for (size_t i = 0; i < n; i++) {
		const struct term *e = &t->pending[from + i];

		snprintf(scores[i], sizeof(scores[i]), "%lld", (long long)e->t_ns);
		argv[2 + 2 * i] = scores[i];
		lens[2 + 2 * i] = strlen(scores[i]);
		argv[3 + 2 * i] = e->member;
		lens[3 + 2 * i] = e->len;
	}
	redisAppendCommandArgv(b->ctx, (int)(2 + 2 * n), argv, lens);
}

int terms__flush(struct terms *t, struct bus *b)
{
	size_t cmds = 0;
	int ok = 1;

	if (!t->n)
		return 0;
	if (!b->ctx)
		return -1;
	for (size_t from = 0; from < t->n; from += ZADD_PAIRS, cmds++)
		append_zadd(t, b, from, t->n - from < ZADD_PAIRS ? t->n - from : ZADD_PAIRS);
	redisAppendCommand(b->ctx, "ZREMRANGEBYRANK %s 0 %lld", t->key,
			   -(long long)(t->bound ? t->bound : 1) - 1);
	cmds++;
	for (size_t i = 0; i < cmds; i++) {
		redisReply *r = NULL;

		if (redisGetReply(b->ctx, (void **)&r) != REDIS_OK || !r) {
			bus__bad_reply(b, NULL);
			return -1; /* all stay pending: ZADD of the same again is harmless */
		}
		if (r->type == REDIS_REPLY_ERROR) {
			kh_log(KH_LOG_ERROR,
			       "cluster correlator: cannot store new terms in %s: %.200s", t->key,
			       r->str);
			ok = 0;
		}
		freeReplyObject(r);
	}
	for (size_t i = 0; i < t->n; i++)
		free(t->pending[i].member);
	if (!ok) /* refused (an ACL without ZADD): counted, not retried forever */
		t->lost += t->n;
	t->n = 0;
	return ok ? 0 : -1;
}

uint64_t terms__lost(const struct terms *t)
{
	return t ? t->lost : 0;
}
