// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/base/fifo_map.c: the bounded map every rule's state is kept in. A random
 * sequence of operations is checked against a plain ordered list, so probing, backward-shift
 * deletion and ring compaction are all exercised against an obviously correct model.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/fifo_map.h"

Test(fifo_map, insert_find_remove)
{
	struct fifo_map m;
	uint32_t s1, s2, slot;
	uint64_t key;

	cr_assert_eq(fifo_map__init(&m, 2), 0);
	cr_expect_eq(fifo_map__find(&m, 7), -1);
	cr_expect_not(fifo_map__oldest(&m, &key, &slot));
	s1 = fifo_map__insert(&m, 7);
	s2 = fifo_map__insert(&m, 9);
	cr_expect_neq(s1, s2);
	cr_expect(s1 < 2 && s2 < 2);
	cr_expect(fifo_map__full(&m));
	cr_expect_eq(fifo_map__find(&m, 7), (long)s1);
	cr_expect_eq(fifo_map__find(&m, 9), (long)s2);
	cr_assert(fifo_map__oldest(&m, &key, &slot));
	cr_expect_eq(key, 7);
	cr_expect_eq(slot, s1);
	cr_expect_eq(fifo_map__remove(&m, 7), (long)s1);
	cr_expect_eq(fifo_map__remove(&m, 7), -1);
	cr_expect_not(fifo_map__full(&m));
	cr_assert(fifo_map__oldest(&m, &key, &slot));
	cr_expect_eq(key, 9);
	/* re-inserting makes a key the newest */
	fifo_map__insert(&m, 7);
	fifo_map__remove(&m, 9);
	fifo_map__insert(&m, 9);
	cr_assert(fifo_map__oldest(&m, &key, &slot));
	cr_expect_eq(key, 7);
	fifo_map__fini(&m);
}

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

Test(fifo_map, random_operations_match_an_ordered_list)
{
	enum { CAP = 48, KEYS = 150, OPS = 300000 };
	struct fifo_map m;
	struct model md = {.n = 0};
	uint32_t owner[CAP];
	unsigned seed = 12345;

	cr_assert_eq(fifo_map__init(&m, CAP), 0);
	for (int op = 0; op < OPS; op++) {
		/* keys whose low bits collide, so probe chains form and wrap around the table */
		uint64_t key = ((uint64_t)(rand_r(&seed) % KEYS) << 7) + 1;
		long at = model_find(&md, key);
		int what = rand_r(&seed) % 3;

		if (what == 0 && at < 0) {
			uint64_t old;
			uint32_t slot;

			if (fifo_map__full(&m)) {
				cr_assert(fifo_map__oldest(&m, &old, &slot));
				cr_assert_eq(old, md.k[0], "op %d: oldest differs", op);
				cr_assert_eq(fifo_map__remove(&m, old), (long)slot);
				model_remove_at(&md, 0);
			}
			slot = fifo_map__insert(&m, key);
			cr_assert(slot < CAP);
			owner[slot] = (uint32_t)op;
			md.k[md.n++] = key;
		} else if (what == 1) {
			cr_assert_eq(fifo_map__remove(&m, key) >= 0, at >= 0, "op %d: remove", op);
			if (at >= 0)
				model_remove_at(&md, (size_t)at);
		} else {
			cr_assert_eq(fifo_map__find(&m, key) >= 0, at >= 0, "op %d: find", op);
		}
		cr_assert_eq(m.count, md.n);
	}
	/* every live key has its own slot */
	memset(owner, 0xff, sizeof(owner));
	for (size_t i = 0; i < md.n; i++) {
		long slot = fifo_map__find(&m, md.k[i]);

		cr_assert(slot >= 0 && slot < CAP);
		cr_assert_eq(owner[slot], 0xffffffffu, "slot %ld given twice", slot);
		owner[slot] = 1;
	}
	/* and they leave oldest first */
	for (size_t i = 0; i < md.n; i++) {
		uint64_t key;
		uint32_t slot;

		cr_assert(fifo_map__oldest(&m, &key, &slot));
		cr_assert_eq(key, md.k[i]);
		fifo_map__remove(&m, key);
	}
	cr_expect_eq(m.count, 0);
	fifo_map__fini(&m);
}
