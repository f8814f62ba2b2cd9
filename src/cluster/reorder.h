/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reorder: facts held to be released in event-time order.
 *
 * Apiservers write their own requests in their own order and reach the bus at their own pace;
 * the correlator holds every fact for the configured lag (wall clock, from its arrival) and
 * releases the held facts in event-time order, so facts that reach it up to a lag late still
 * take their place. (A watermark on event time would release too early when one apiserver
 * runs ahead of the others, e.g. a log replayed fast.) Events of
 * one instant are ordered by auditID, then stage, whatever node they came from, so the order
 * does not depend on which apiserver's facts arrived first. The heap is bounded: past its capacity
 * the oldest fact is released early.
 */
#ifndef KEYHOLE_CLUSTER_REORDER_H
#define KEYHOLE_CLUSTER_REORDER_H

#include <stddef.h>
#include <stdint.h>

struct held_fact {
	int64_t t_ns;	   /* event time */
	int64_t arrive_ns; /* monotonic arrival */
	uint64_t seq;	   /* arrival order, for ties of all the rest */
	const char *tie;   /* the request's auditID (in line), then its stage, break ties */
	size_t tie_len;
	int stage_rank;
	char *line; /* owned */
	size_t len;
};

struct reorder {
	struct held_fact *h;
	size_t n, cap, max;
	uint64_t seq;
	int64_t newest_ns; /* newest event time seen */
};

void reorder__init(struct reorder *r, size_t max);
void reorder__fini(struct reorder *r);
/* takes @line (malloc'd); -ENOMEM frees it */
int reorder__push(struct reorder *r, int64_t t_ns, int64_t arrive_ns, char *line, size_t len);
/* the rank of the stage named in @line (RequestReceived first, Panic last) and its auditID */
void reorder__tie_key(const char *line, size_t len, const char **id, size_t *id_len, int *rank);
/*
 * The next fact due at @now (monotonic) with lag @lag_ns (@all: every fact, in order), or 0.
 * The caller owns out->line.
 */
int reorder__pop_due(struct reorder *r, int64_t now, int64_t lag_ns, int all,
		     struct held_fact *out);

#endif /* KEYHOLE_CLUSTER_REORDER_H */
