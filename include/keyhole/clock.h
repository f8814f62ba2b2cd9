/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock: the one reading of the system clocks, in nanoseconds.
 *
 * Fuzz builds (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION) get a clock that ticks 10 ms a call
 * instead, so the paths that depend on time (rate limits, lag, save intervals) follow the inputs
 * and not the machine's speed, and a fuzzing seed replays the same run anywhere.
 */
#ifndef KEYHOLE_CLOCK_H
#define KEYHOLE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* @clk (CLOCK_MONOTONIC, CLOCK_REALTIME, ...) now, in ns */
int64_t clock__ns(clockid_t clk);

#endif /* KEYHOLE_CLOCK_H */
