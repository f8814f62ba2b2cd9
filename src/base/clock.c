// SPDX-License-Identifier: Apache-2.0
/*
 * clock: see clock.h.
 */
#include "keyhole/clock.h"

int64_t clock__ns(clockid_t clk)
{
	struct timespec ts;

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	static int64_t tick;

	(void)ts;
	tick += 10000000;
	return (clk == CLOCK_REALTIME ? 1700000000ll * 1000000000ll : 0) + tick;
#endif
	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
