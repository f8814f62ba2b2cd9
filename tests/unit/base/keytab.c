// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/base/keytab.c and siphash.c: the bounded LRU map under every window and history.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "keyhole/keytab.h"

Test(siphash, paper_test_vectors)
{
	uint8_t k[16], m[15];

	for (int i = 0; i < 16; i++)
		k[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		m[i] = (uint8_t)i;
	/* SipHash-2-4 paper, appendix A: 15-byte message 00..0e under key 00..0f */
	cr_expect_eq(siphash__24(k, m, 15), 0xa129ca6149be45e5ull);
	/* the reference implementation's vector for the empty message */
	cr_expect_eq(siphash__24(k, m, 0), 0x726fdb47dd0e0e31ull);
}

struct val {
	int v;
	int *dropped;
};

static void drop(void *value, void *arg)
{
	struct val *v = value;

	(void)arg;
	if (v->dropped)
		(*v->dropped)++;
}

static struct val *put(struct keytab *t, const char *key, int v, bool *created)
{
	struct val *x = keytab__upsert(t, key, strlen(key), created);

	cr_assert_not_null(x);
	if (*created)
		x->v = v;
	return x;
}

Test(keytab, insert_find_and_evict_oldest_at_the_bound)
{
	struct keytab *t = keytab__new(sizeof(struct val), 3, drop, NULL);
	int dropped = 0;
	bool created;
	struct val *a;

	cr_assert_not_null(t);
	a = put(t, "a", 1, &created);
	cr_expect(created);
	a->dropped = &dropped;
	put(t, "b", 2, &created);
	put(t, "c", 3, &created);
	cr_expect_eq(put(t, "a", 9, &created)->v, 1); /* found, and now the most recent */
	cr_expect(!created);
	put(t, "d", 4, &created); /* full: evicts b, the least recently touched */
	cr_expect_eq(keytab__count(t), 3);
	cr_expect_eq(keytab__evictions(t), 1);
	cr_expect_null(keytab__find(t, "b", 1));
	cr_expect_not_null(keytab__find(t, "a", 1));
	cr_expect_eq(dropped, 0);
	keytab__remove(t, keytab__find(t, "a", 1));
	cr_expect_eq(dropped, 1); /* drop runs for removals */
	cr_expect_eq(keytab__count(t), 2);
	keytab__free(t);
}

Test(keytab, iteration_is_oldest_first_and_keys_come_back)
{
	struct keytab *t = keytab__new(sizeof(int), 10, NULL, NULL);
	const char *order[] = {"one", "two", "three"};
	bool created;
	size_t i = 0, len;

	for (size_t k = 0; k < 3; k++)
		keytab__upsert(t, order[k], strlen(order[k]), &created);
	keytab__touch(t, keytab__find(t, "one", 3));
	order[0] = "two", order[1] = "three", order[2] = "one";
	for (void *v = keytab__oldest(t); v; v = keytab__newer(t, v), i++) {
		const char *key = keytab__key(t, v, &len);

		cr_assert_lt(i, 3);
		cr_expect_eq(len, strlen(order[i]));
		cr_expect(!memcmp(key, order[i], len));
	}
	cr_expect_eq(i, 3);
	keytab__free(t);
}

Test(keytab, grows_and_keeps_every_key_findable)
{
	struct keytab *t = keytab__new(sizeof(int), 100000, NULL, NULL);
	char key[32];
	bool created;

	for (int i = 0; i < 50000; i++) {
		int n = snprintf(key, sizeof(key), "user-%d", i);
		int *v = keytab__upsert(t, key, (size_t)n, &created);

		cr_assert(created);
		*v = i;
	}
	for (int i = 0; i < 50000; i += 7) {
		int n = snprintf(key, sizeof(key), "user-%d", i);
		int *v = keytab__find(t, key, (size_t)n);

		cr_assert_not_null(v, "%s lost", key);
		cr_assert_eq(*v, i);
	}
	cr_expect_eq(keytab__evictions(t), 0);
	/* keys that differ only in length or a NUL byte are different keys */
	cr_expect_null(keytab__find(t, "user-1\0", 7));
	cr_expect_null(keytab__find(t, "user-", 5));
	keytab__free(t);
}

Test(keytab, refuses_oversized_keys)
{
	static char big[KEYTAB_MAX_KEY + 1];
	struct keytab *t = keytab__new(sizeof(int), 4, NULL, NULL);
	bool created;

	errno = 0;
	cr_expect_null(keytab__upsert(t, big, sizeof(big), &created));
	cr_expect_eq(errno, E2BIG);
	cr_expect_not_null(keytab__upsert(t, big, KEYTAB_MAX_KEY, &created));
	cr_expect_null(keytab__new(sizeof(int), 0, NULL, NULL));
	keytab__free(t);
}
