/* SPDX-License-Identifier: Apache-2.0 */
/*
 * terms_store: the new-terms history of a partition, kept in Redis, so a partition's next owner
 * knows the terms seen before the stream's retention (a trimmed stream no longer holds them).
 *
 * Key NAME:terms:<p>, a sorted set: member "<rule id>\x1f<history key>", score its last-seen
 * event time (ns). The owner writes a term when its rule first sees it and again when its
 * last-seen time enters a new hour (TERMS_GRAIN_NS), so Redis gets at most one write per term
 * and hour, and what a new owner reads back is the last-seen time to within that hour (the new
 * terms history reaches days). Writes go out after the partition's alert lines, so a term is
 * never stored before the alert it made. The set is bounded to the histories' own key bound,
 * oldest dropped (ZREMRANGEBYRANK). A new owner reads it (ZRANGEBYSCORE, oldest first, in pages)
 * into its empty pipeline's histories before it reads the stream.
 */
#ifndef KEYHOLE_CLUSTER_TERMS_STORE_H
#define KEYHOLE_CLUSTER_TERMS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/bus.h"

#define TERMS_GRAIN_NS (3600ll * 1000000000)
#define TERMS_PENDING_MAX 65536 /* terms waiting for Redis per partition (then counted lost) */
#define TERMS_HISTORIES 4

struct kh_pipeline;
struct kh_history;
struct terms;

/* the term store of partition key @key over @p's histories; NULL when out of memory */
struct terms *terms__new(const char *key, struct kh_pipeline *p);
void terms__free(struct terms *t);

/* read what Redis holds into the histories; returns the terms read, or -1 (Redis failed) */
long terms__load(struct terms *t, struct bus *b);

/* write the terms seen since the last flush; returns 0, or -1 (they stay for the next one) */
int terms__flush(struct terms *t, struct bus *b);

/* terms lost: the pending bound was reached while Redis was away */
uint64_t terms__lost(const struct terms *t);

#endif /* KEYHOLE_CLUSTER_TERMS_STORE_H */
