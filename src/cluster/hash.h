/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hash: FNV-1a 64, the cluster stage's one hash: a principal's partition (the same on every
 * instance, so it is not keyed) and an alert line's fence digest (two seeds, 128 bits).
 */
#ifndef KEYHOLE_CLUSTER_HASH_H
#define KEYHOLE_CLUSTER_HASH_H

#include <stddef.h>
#include <stdint.h>

#define CLUSTER_HASH_INIT 0xcbf29ce484222325ull

static inline uint64_t cluster_hash(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	/* a final mix, so that the low bits (partition = h % n) depend on every byte */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

#endif /* KEYHOLE_CLUSTER_HASH_H */
