// SPDX-License-Identifier: Apache-2.0
/*
 * fifo_map: bounded key -> slot map with insertion order (see fifo_map.h).
 *
 * The hash table is kept at most half full so linear probing stays short, and deletion shifts
 * entries back instead of leaving tombstones, so lookups never slow down with churn. Insertion
 * order lives in a ring twice the capacity: removing a key leaves its ring entry stale (the
 * table remembers the ring position of the key's current entry), and when the ring fills up it
 * is compacted, which costs O(ring) but frees at least `cap` positions, so O(1) amortised.
 */
#include <errno.h>
#include <stdlib.h>

#include "keyhole/fifo_map.h"

struct fifo_ent {
	uint64_t key; /* 0: empty cell */
	uint64_t pos; /* ring position of the key's live ring entry */
	uint32_t slot;
};

int fifo_map__init(struct fifo_map *m, uint32_t cap)
{
	uint64_t size = 2;

	*m = (struct fifo_map){0};
	if (cap == 0)
		cap = 1;
	while (size < 2ull * cap)
		size <<= 1;
	m->tab = calloc(size, sizeof(*m->tab));
	m->ring_cap = 2ull * cap;
	m->ring = calloc(m->ring_cap, sizeof(*m->ring));
	m->free_slots = calloc(cap, sizeof(*m->free_slots));
	if (!m->tab || !m->ring || !m->free_slots) {
		fifo_map__fini(m);
		return -ENOMEM;
	}
	m->mask = size - 1;
	m->cap = cap;
	/* hand out low slots first: the stack pops from the end */
	for (uint32_t i = 0; i < cap; i++)
		m->free_slots[i] = cap - 1 - i;
	m->n_free = cap;
	return 0;
}

void fifo_map__fini(struct fifo_map *m)
{
	free(m->tab);
	free(m->ring);
	free(m->free_slots);
	*m = (struct fifo_map){0};
}

static struct fifo_ent *lookup(const struct fifo_map *m, uint64_t key)
{
	for (uint64_t i = key & m->mask;; i = (i + 1) & m->mask) {
		if (m->tab[i].key == key)
			return &m->tab[i];
		if (m->tab[i].key == 0)
			return NULL;
	}
}

long fifo_map__find(const struct fifo_map *m, uint64_t key)
{
	const struct fifo_ent *e = key ? lookup(m, key) : NULL;

	return e ? (long)e->slot : -1;
}

/* drop stale ring entries, keeping live ones in order */
static void compact(struct fifo_map *m)
{
	uint64_t w = m->head;

	for (uint64_t r = m->head; r < m->tail; r++) {
		uint64_t key = m->ring[r % m->ring_cap];
		struct fifo_ent *e = lookup(m, key);

		if (!e || e->pos != r)
			continue;
		m->ring[w % m->ring_cap] = key;
		e->pos = w++;
	}
	m->tail = w;
}

uint32_t fifo_map__insert(struct fifo_map *m, uint64_t key)
{
	uint64_t i = key & m->mask;
	uint32_t slot;

	if (m->tail - m->head == m->ring_cap)
		compact(m);
	while (m->tab[i].key != 0)
		i = (i + 1) & m->mask;
	slot = m->free_slots[--m->n_free];
	m->tab[i] = (struct fifo_ent){.key = key, .pos = m->tail, .slot = slot};
	m->ring[m->tail % m->ring_cap] = key;
	m->tail++;
	m->count++;
	return slot;
}

/* is home cell h cyclically outside (i, j]? then the entry at j may move back to i */
static int may_move(uint64_t h, uint64_t i, uint64_t j)
{
	if (i <= j)
		return h <= i || h > j;
	return h <= i && h > j;
}

long fifo_map__remove(struct fifo_map *m, uint64_t key)
{
	struct fifo_ent *e = key ? lookup(m, key) : NULL;
	uint64_t i, j;
	uint32_t slot;

	if (!e)
		return -1;
	slot = e->slot;
	i = (uint64_t)(e - m->tab);
	/* backward-shift deletion: no tombstones, so probe chains stay as short as the load */
	for (j = (i + 1) & m->mask; m->tab[j].key != 0; j = (j + 1) & m->mask) {
		if (may_move(m->tab[j].key & m->mask, i, j)) {
			m->tab[i] = m->tab[j];
			i = j;
		}
	}
	m->tab[i].key = 0;
	m->free_slots[m->n_free++] = slot;
	m->count--;
	return slot;
}

bool fifo_map__oldest(struct fifo_map *m, uint64_t *key, uint32_t *slot)
{
	while (m->head < m->tail) {
		uint64_t k = m->ring[m->head % m->ring_cap];
		struct fifo_ent *e = lookup(m, k);

		if (e && e->pos == m->head) {
			*key = k;
			*slot = e->slot;
			return true;
		}
		m->head++;
	}
	return false;
}
