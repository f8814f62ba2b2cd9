// SPDX-License-Identifier: Apache-2.0
/*
 * history: a keytab whose value is the first and last time a key was seen. Lookups touch the
 * entry, so eviction at the bound drops the key seen least recently: the one whose memory
 * matters least to a "not seen in N days" test.
 */
#include <errno.h>
#include <stdlib.h>

#include "keyhole/history.h"
#include "keyhole/keytab.h"

struct seen {
	int64_t first_ns;
	int64_t last_ns;
};

struct kh_history {
	struct keytab *t;
	uint64_t generation;
	history_observe_fn observe;
	void *observe_arg;
};

struct kh_history *history__new(uint64_t max_keys)
{
	struct kh_history *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->t = keytab__new(sizeof(struct seen), max_keys, NULL, NULL);
	if (!h->t) {
		free(h);
		return NULL;
	}
	return h;
}

void history__free(struct kh_history *h)
{
	if (!h)
		return;
	keytab__free(h->t);
	free(h);
}

static int record(struct kh_history *h, const void *key, size_t len, int64_t first_ns,
		  int64_t last_ns, int64_t *prev_last_ns)
{
	bool created;
	struct seen *s = keytab__upsert(h->t, key, len, &created);

	if (!s)
		return -errno;
	if (prev_last_ns)
		*prev_last_ns = created ? 0 : s->last_ns;
	if (created || first_ns < s->first_ns)
		s->first_ns = first_ns;
	if (created || last_ns > s->last_ns)
		s->last_ns = last_ns;
	h->generation++;
	return 0;
}

int history__see(struct kh_history *h, const void *key, size_t len, int64_t t_ns,
		 int64_t *prev_last_ns)
{
	int64_t prev = 0;
	int err = record(h, key, len, t_ns, t_ns, &prev);

	if (prev_last_ns)
		*prev_last_ns = prev;
	if (!err && h->observe)
		h->observe(key, len, t_ns, prev, h->observe_arg);
	return err;
}

void history__observe(struct kh_history *h, history_observe_fn fn, void *arg)
{
	h->observe = fn;
	h->observe_arg = arg;
}

int history__restore(struct kh_history *h, const void *key, size_t len, int64_t first_ns,
		     int64_t last_ns)
{
	if (first_ns > last_ns)
		return -EINVAL;
	return record(h, key, len, first_ns, last_ns, NULL);
}

int history__lookup(const struct kh_history *h, const void *key, size_t len, int64_t *first_ns,
		    int64_t *last_ns)
{
	const struct seen *s = keytab__find(h->t, key, len);

	if (!s)
		return -ENOENT;
	if (first_ns)
		*first_ns = s->first_ns;
	if (last_ns)
		*last_ns = s->last_ns;
	return 0;
}

void history__prune(struct kh_history *h, int64_t cutoff_ns)
{
	struct seen *s;

	while ((s = keytab__oldest(h->t)) && s->last_ns < cutoff_ns) {
		keytab__remove(h->t, s);
		h->generation++;
	}
}

int history__for_each(const struct kh_history *h, history_visit_fn fn, void *arg)
{
	for (const struct seen *s = keytab__oldest(h->t); s; s = keytab__newer(h->t, s)) {
		size_t len;
		const void *key = keytab__key(h->t, s, &len);
		int r = fn(key, len, s->first_ns, s->last_ns, arg);

		if (r)
			return r;
	}
	return 0;
}

uint64_t history__count(const struct kh_history *h)
{
	return keytab__count(h->t);
}

uint64_t history__max(const struct kh_history *h)
{
	return keytab__max(h->t);
}

uint64_t history__evictions(const struct kh_history *h)
{
	return keytab__evictions(h->t);
}

uint64_t history__generation(const struct kh_history *h)
{
	return h->generation;
}
