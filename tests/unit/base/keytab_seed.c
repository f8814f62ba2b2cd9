// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of keytab's per-table SipHash keys (src/base/keytab.c): a new table asks the kernel for
 * randomness once per process, not once per table. The correlator makes a small table for every
 * incident, and a getrandom(2) each was most of an incident's creation cost. getrandom is
 * interposed here (this executable's definition wins over libc's) to count the calls.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdbool.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "keyhole/keytab.h"

static int calls;

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	__atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
	return syscall(SYS_getrandom, buf, len, flags);
}

Test(keytab_seed, many_tables_ask_the_kernel_once)
{
	enum { N = 1000 };
	static struct keytab *t[N];
	int before;
	bool created;

	/* the first table of the process may take the root key */
	t[0] = keytab__new(8, 4, NULL, NULL);
	cr_assert_not_null(t[0]);
	before = __atomic_load_n(&calls, __ATOMIC_RELAXED);
	cr_assert_leq(before, 1);
	for (int i = 1; i < N; i++) {
		t[i] = keytab__new(8, 4, NULL, NULL);
		cr_assert_not_null(t[i]);
	}
	cr_expect_eq(__atomic_load_n(&calls, __ATOMIC_RELAXED), before,
		     "%d getrandom calls for %d more tables",
		     __atomic_load_n(&calls, __ATOMIC_RELAXED) - before, N - 1);
	/* and each table still works: a key put in one is found in it, and only there */
	for (int i = 0; i < N; i++) {
		uint64_t *v = keytab__upsert(t[i], &i, sizeof(i), &created);

		cr_assert(v && created);
		*v = (uint64_t)i;
	}
	for (int i = 0; i < N; i++) {
		uint64_t *v = keytab__find(t[i], &i, sizeof(i));
		int other = (i + 1) % N;

		cr_assert(v && *v == (uint64_t)i);
		cr_expect_null(keytab__find(t[i], &other, sizeof(other)));
		keytab__free(t[i]);
	}
}
