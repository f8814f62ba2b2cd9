// SPDX-License-Identifier: Apache-2.0
/*
 * keytab: chained hash table plus an intrusive doubly-linked list in touch order.
 *
 * One allocation per entry (header, value, key bytes), 40 bytes of overhead, so 100,000 groups
 * cost a few MB beyond their own data. Buckets double while the table grows, up to the first
 * power of two at or above max_keys (load factor at most 1), and never shrink: a table that was
 * once full is likely to fill again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "keyhole/keytab.h"

struct kt_ent {
	struct kt_ent *hnext;	      /* bucket chain */
	struct kt_ent *older, *newer; /* touch order */
	uint64_t hash;
	uint32_t klen;
	uint32_t pad_;
	uint64_t value[]; /* value_size bytes (rounded up to 8), then the key */
};

struct keytab {
	struct kt_ent **buckets;
	size_t nbuckets; /* power of two */
	size_t max_buckets;
	size_t vsize; /* value size rounded up to 8 */
	uint64_t count, max, evictions;
	struct kt_ent *oldest, *newest;
	keytab_drop_fn drop;
	void *drop_arg;
	uint8_t seed[16];
};

#define KT_MIN_BUCKETS 16

static struct kt_ent *ent_of(const void *value)
{
	return (struct kt_ent *)((char *)value - offsetof(struct kt_ent, value));
}

static char *ent_key(const struct keytab *t, struct kt_ent *e)
{
	return (char *)e->value + t->vsize;
}

void keytab__random_key(uint8_t seed[16])
{
	struct timespec ts;
	uint64_t mix[2];

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	/* fuzz builds only: a fixed key, so a fuzzing seed replays the same run anywhere */
	memset(seed, 0x5a, 16);
	return;
#endif
	if (getrandom(seed, 16, GRND_NONBLOCK) == 16)
		return;
	/* no entropy yet (early boot): still unpredictable enough to spread honest keys */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	mix[0] = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32);
	mix[1] = (uint64_t)(uintptr_t)seed ^ (uint64_t)(uintptr_t)&ts;
	memcpy(seed, mix, 16);
}

struct keytab *keytab__new(size_t value_size, uint64_t max_keys, keytab_drop_fn drop, void *arg)
{
	struct keytab *t;

	if (max_keys == 0) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->vsize = (value_size + 7) & ~(size_t)7;
	t->max = max_keys;
	t->drop = drop;
	t->drop_arg = arg;
	t->max_buckets = KT_MIN_BUCKETS;
	while (t->max_buckets < max_keys && t->max_buckets < ((size_t)1 << 40))
		t->max_buckets <<= 1;
	t->nbuckets = KT_MIN_BUCKETS;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	keytab__random_key(t->seed);
	return t;
}

static void lru_unlink(struct keytab *t, struct kt_ent *e)
{
	if (e->older)
		e->older->newer = e->newer;
	else
		t->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		t->newest = e->older;
	e->older = e->newer = NULL;
}

static void lru_append(struct keytab *t, struct kt_ent *e)
{
	e->older = t->newest;
	e->newer = NULL;
	if (t->newest)
		t->newest->newer = e;
	else
		t->oldest = e;
	t->newest = e;
}

static void bucket_unlink(struct keytab *t, struct kt_ent *e)
{
	struct kt_ent **pp = &t->buckets[e->hash & (t->nbuckets - 1)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
}

static void ent_free(struct keytab *t, struct kt_ent *e)
{
	if (t->drop)
		t->drop(e->value, t->drop_arg);
	t->count--;
	free(e);
}

void keytab__free(struct keytab *t)
{
	struct kt_ent *e, *next;

	if (!t)
		return;
	for (e = t->oldest; e; e = next) {
		next = e->newer;
		ent_free(t, e);
	}
	free(t->buckets);
	free(t);
}

/* double the buckets when the load passes 1; a failed grow only costs speed */
static void maybe_grow(struct keytab *t)
{
	size_t nb = t->nbuckets * 2;
	struct kt_ent **b;

	if (t->count < t->nbuckets || t->nbuckets >= t->max_buckets)
		return;
	b = calloc(nb, sizeof(*b));
	if (!b)
		return;
	for (struct kt_ent *e = t->oldest; e; e = e->newer) {
		e->hnext = b[e->hash & (nb - 1)];
		b[e->hash & (nb - 1)] = e;
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

static struct kt_ent *lookup(const struct keytab *t, const void *key, size_t len, uint64_t h)
{
	for (struct kt_ent *e = t->buckets[h & (t->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && e->klen == len && !memcmp(ent_key(t, e), key, len))
			return e;
	return NULL;
}

void *keytab__find(const struct keytab *t, const void *key, size_t len)
{
	struct kt_ent *e;

	if (len > KEYTAB_MAX_KEY)
		return NULL;
	e = lookup(t, key, len, siphash__24(t->seed, key, len));
	return e ? e->value : NULL;
}

void *keytab__upsert(struct keytab *t, const void *key, size_t len, bool *created)
{
	uint64_t h;
	struct kt_ent *e;

	*created = false;
	if (len > KEYTAB_MAX_KEY) {
		errno = E2BIG;
		return NULL;
	}
	h = siphash__24(t->seed, key, len);
	e = lookup(t, key, len, h);
	if (e) {
		keytab__touch(t, e->value);
		return e->value;
	}
	if (t->count >= t->max) {
		keytab__remove(t, t->oldest->value);
		t->evictions++;
	}
	e = malloc(sizeof(*e) + t->vsize + len);
	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e) + t->vsize);
	e->hash = h;
	e->klen = (uint32_t)len;
	memcpy(ent_key(t, e), key, len);
	e->hnext = t->buckets[h & (t->nbuckets - 1)];
	t->buckets[h & (t->nbuckets - 1)] = e;
	lru_append(t, e);
	t->count++;
	maybe_grow(t);
	*created = true;
	return e->value;
}

void keytab__touch(struct keytab *t, void *value)
{
	struct kt_ent *e = ent_of(value);

	if (t->newest == e)
		return;
	lru_unlink(t, e);
	lru_append(t, e);
}

void keytab__remove(struct keytab *t, void *value)
{
	struct kt_ent *e = ent_of(value);

	bucket_unlink(t, e);
	lru_unlink(t, e);
	ent_free(t, e);
}

void *keytab__oldest(const struct keytab *t)
{
	return t->oldest ? t->oldest->value : NULL;
}

void *keytab__newer(const struct keytab *t, const void *value)
{
	struct kt_ent *e = ent_of(value)->newer;

	(void)t;
	return e ? e->value : NULL;
}

const void *keytab__key(const struct keytab *t, const void *value, size_t *len)
{
	struct kt_ent *e = ent_of(value);

	*len = e->klen;
	return ent_key(t, e);
}

uint64_t keytab__count(const struct keytab *t)
{
	return t->count;
}

uint64_t keytab__max(const struct keytab *t)
{
	return t->max;
}

bool keytab__full(const struct keytab *t)
{
	return t->count >= t->max;
}

uint64_t keytab__evictions(const struct keytab *t)
{
	return t->evictions;
}
