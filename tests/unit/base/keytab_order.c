// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/base/keytab.c as every user drives it: the bound, the order entries leave in
 * (first in, first out for callers that find before they upsert, least recently used for those
 * that upsert), the eviction count and what the drop sees. A random run is checked against a
 * plain ordered list, step by step.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/keytab.h"

/* the model: live keys, oldest first */
struct model {
	uint64_t k[64];
	size_t n;
};

static long model_find(const struct model *md, uint64_t key)
{
	for (size_t i = 0; i < md->n; i++)
		if (md->k[i] == key)
			return (long)i;
	return -1;
}

static void model_remove_at(struct model *md, size_t i)
{
	memmove(&md->k[i], &md->k[i + 1], (md->n - i - 1) * sizeof(md->k[0]));
	md->n--;
}

struct val {
	uint64_t key; /* a copy, to check each value stays with its key */
};

static int drops;

static void count_drop(void *value, void *arg)
{
	(void)value;
	(void)arg;
	drops++;
}

static struct val *find(struct keytab *t, uint64_t key)
{
	return keytab__find(t, &key, sizeof(key));
}

Test(keytab_order, random_operations_match_an_ordered_list)
{
	enum { CAP = 48, KEYS = 150, OPS = 200000 };
	struct keytab *t = keytab__new(sizeof(struct val), CAP, count_drop, NULL);
	struct model md = {.n = 0};
	uint64_t evictions = 0;
	unsigned seed = 12345;

	cr_assert_not_null(t);
	drops = 0;
	for (int op = 0; op < OPS; op++) {
		uint64_t key = (uint64_t)(rand_r(&seed) % KEYS);
		long at = model_find(&md, key);
		struct val *v = find(t, key);
		bool created;

		cr_assert_eq(v != NULL, at >= 0, "op %d: find", op);
		switch (rand_r(&seed) % 4) {
		case 0: /* first in, first out: insert only when absent, evicting by hand */
			if (v)
				break;
			if (keytab__full(t)) {
				struct val *old = keytab__oldest(t);

				cr_assert_eq(old->key, md.k[0], "op %d: oldest differs", op);
				keytab__remove(t, old);
				model_remove_at(&md, 0);
			}
			v = keytab__upsert(t, &key, sizeof(key), &created);
			cr_assert(created);
			v->key = key;
			md.k[md.n++] = key;
			break;
		case 1: /* least recently used: upsert touches, and evicts by itself */
			if (at < 0 && md.n == CAP) {
				model_remove_at(&md, 0);
				evictions++;
			} else if (at >= 0) {
				model_remove_at(&md, (size_t)at);
			}
			v = keytab__upsert(t, &key, sizeof(key), &created);
			cr_assert_eq(created, at < 0, "op %d: upsert", op);
			if (created)
				v->key = key;
			md.k[md.n++] = key;
			break;
		case 2:
			if (v) {
				keytab__remove(t, v);
				model_remove_at(&md, (size_t)at);
			}
			break;
		default:
			break; /* the find above, which must not reorder */
		}
		cr_assert_eq(keytab__count(t), md.n, "op %d: count", op);
		cr_assert_eq(keytab__evictions(t), evictions, "op %d: evictions", op);
	}
	/* the values stayed with their keys, and the walk is oldest first */
	size_t i = 0;

	for (struct val *v = keytab__oldest(t); v; v = keytab__newer(t, v), i++) {
		size_t len;
		const void *k = keytab__key(t, v, &len);

		cr_assert_lt(i, md.n);
		cr_assert_eq(len, sizeof(uint64_t));
		cr_assert(!memcmp(k, &md.k[i], len));
		cr_assert_eq(v->key, md.k[i]);
	}
	cr_expect_eq(i, md.n);
	int before = drops;

	keytab__free(t);
	cr_expect_eq(drops - before, (int)md.n, "free drops every entry left");
}

Test(keytab_order, eviction_takes_the_oldest_and_drops_it)
{
	struct keytab *t = keytab__new(sizeof(struct val), 3, count_drop, NULL);
	bool created;

	drops = 0;
	for (uint64_t k = 1; k <= 5; k++)
		keytab__upsert(t, &k, sizeof(k), &created);
	/* 1 and 2 left, in that order, each dropped once */
	cr_expect_eq(keytab__count(t), 3);
	cr_expect_eq(keytab__evictions(t), 2);
	cr_expect_eq(drops, 2);
	cr_expect_null(find(t, 1));
	cr_expect_null(find(t, 2));
	for (uint64_t k = 3; k <= 5; k++)
		cr_expect_not_null(find(t, k));
	/* a find does not save 3 from being next; an upsert of it does */
	find(t, 3);
	uint64_t k = 6;

	keytab__upsert(t, &k, sizeof(k), &created);
	cr_expect_null(find(t, 3));
	k = 4;
	keytab__upsert(t, &k, sizeof(k), &created);
	cr_expect(!created);
	k = 7;
	keytab__upsert(t, &k, sizeof(k), &created);
	cr_expect_null(find(t, 5), "5 was the least recently used");
	cr_expect_not_null(find(t, 4));
	cr_expect_eq(keytab__evictions(t), 4);
	/* removing by hand is not an eviction */
	keytab__remove(t, keytab__oldest(t));
	cr_expect_eq(keytab__evictions(t), 4);
	cr_expect_eq(drops, 5);
	cr_expect(!keytab__full(t));
	keytab__free(t);
	cr_expect_eq(drops, 7);
}

Test(keytab_order, zero_sized_values_make_a_set)
{
	struct keytab *t = keytab__new(0, 2, NULL, NULL);
	uint64_t a = 1, b = 2, c = 3;
	bool created;

	cr_assert_not_null(keytab__upsert(t, &a, sizeof(a), &created));
	cr_assert_not_null(keytab__upsert(t, &b, sizeof(b), &created));
	cr_expect(keytab__full(t));
	cr_assert_not_null(keytab__upsert(t, &c, sizeof(c), &created));
	cr_expect_null(find(t, a));
	cr_expect_not_null(find(t, b));
	cr_expect_not_null(find(t, c));
	keytab__free(t);
}
