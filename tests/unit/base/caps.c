// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/base/caps.c: CAP_SYS_ADMIN held permitted but not effective (the state
 * `run --late-uprobes` leaves the main thread in) is raised and lowered around one call, a
 * raise where it is effective already or not permitted does nothing, and narrowing one thread
 * (the metrics server) leaves the other's permitted set alone. Criterion runs each test in its
 * own process, so the capability changes end with it. As root, as the BPF tests run; without
 * root only the not-permitted answers can be checked.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <unistd.h>

#include "keyhole/caps.h"

static bool admin_eff(void)
{
	return caps__has(caps__effective(), KH_CAP_SYS_ADMIN);
}

static bool admin_prm(void)
{
	return caps__has(caps__permitted(), KH_CAP_SYS_ADMIN);
}

Test(caps, raise_lower_round_trip)
{
	if (!admin_prm()) {
		cr_assert_not(caps__raise(KH_CAP_SYS_ADMIN), "raised what is not permitted");
		cr_assert_not(admin_eff());
		return;
	}
	cr_assert(admin_eff(), "root starts with CAP_SYS_ADMIN effective");
	cr_assert_not(caps__raise(KH_CAP_SYS_ADMIN), "effective already: nothing to lower after");
	caps__lower(KH_CAP_SYS_ADMIN);
	cr_assert_not(admin_eff());
	cr_assert(admin_prm(), "lowering keeps it permitted");
	cr_assert(caps__raise(KH_CAP_SYS_ADMIN));
	cr_assert(admin_eff());
	caps__lower(KH_CAP_SYS_ADMIN);
	cr_assert_not(admin_eff());
	/* the others are untouched */
	cr_assert(caps__has(caps__effective(), KH_CAP_SYS_PTRACE));
}

Test(caps, narrow_drops_permitted_only_caps)
{
	if (!admin_prm())
		return; /* nothing permitted-only to drop */
	caps__lower(KH_CAP_SYS_ADMIN);
	caps__narrow_thread();
	cr_assert_not(admin_prm(), "narrowing left CAP_SYS_ADMIN permitted");
	cr_assert(caps__has(caps__permitted(), KH_CAP_SYS_PTRACE),
		  "narrowing dropped an effective one");
	cr_assert_not(caps__raise(KH_CAP_SYS_ADMIN), "raised after narrowing");
}

static void *narrow_thread(void *arg)
{
	bool *after = arg;

	caps__narrow_thread();
	*after = admin_prm();
	return NULL;
}

Test(caps, narrowing_is_per_thread)
{
	pthread_t th;
	bool thread_after = true;

	if (!admin_prm())
		return;
	caps__lower(KH_CAP_SYS_ADMIN); /* the main thread after `run --late-uprobes` starts */
	cr_assert_eq(pthread_create(&th, NULL, narrow_thread, &thread_after), 0);
	pthread_join(th, NULL);
	cr_assert_not(thread_after, "the thread kept CAP_SYS_ADMIN permitted");
	cr_assert(admin_prm(), "the main thread lost what it keeps for its attaches");
	cr_assert(caps__raise(KH_CAP_SYS_ADMIN));
}
