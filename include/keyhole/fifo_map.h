/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fifo_map: a bounded map from 64-bit keys to stable payload slots, oldest-first eviction.
 *
 * Rule state must never grow with its input (an attacker controls how many distinct auditIDs and
 * usernames reach us), so every set the rules keep is one of these: at most `cap` live keys, and
 * the caller evicts the oldest before inserting into a full map. Keys are already hashes (never
 * 0). A payload slot (0 .. cap-1) stays with its key until the key leaves, so callers keep their
 * payload in a plain array indexed by slot. Re-inserting a removed key makes it the newest, which
 * gives LRU order to callers that remove and re-insert on use.
 */
#ifndef KEYHOLE_RULES_FIFO_MAP_H
#define KEYHOLE_RULES_FIFO_MAP_H

#include <stdbool.h>
#include <stdint.h>

struct fifo_ent; /* one hash-table cell */

struct fifo_map {
	struct fifo_ent *tab; /* open addressing, linear probing, size mask + 1 */
	uint64_t mask;
	uint64_t *ring;	      /* keys in insertion order; an entry is stale once its key moved */
	uint64_t ring_cap;    /* 2 * cap: compaction then frees at least cap positions */
	uint64_t head, tail;  /* monotonic ring positions */
	uint32_t *free_slots; /* stack of unused payload slots */
	uint32_t n_free;
	uint32_t cap;
	uint32_t count;
};

/* cap >= 1. Returns 0 or -ENOMEM. */
int fifo_map__init(struct fifo_map *m, uint32_t cap);
void fifo_map__fini(struct fifo_map *m);

/* payload slot of @key, or -1 */
long fifo_map__find(const struct fifo_map *m, uint64_t key);

static inline bool fifo_map__full(const struct fifo_map *m)
{
	return m->count >= m->cap;
}

/* insert @key, which must be absent, into a map that is not full; returns its slot */
uint32_t fifo_map__insert(struct fifo_map *m, uint64_t key);

/* remove @key; returns the slot it had (now free) or -1 when absent */
long fifo_map__remove(struct fifo_map *m, uint64_t key);

/* the oldest live key and its slot, without removing it; false when empty */
bool fifo_map__oldest(struct fifo_map *m, uint64_t *key, uint32_t *slot);

#endif /* KEYHOLE_RULES_FIFO_MAP_H */
