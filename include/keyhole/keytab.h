/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keytab: a bounded map from byte-string keys to fixed-size values, in least-recently-used order.
 *
 * Every window, set, history and table of the agent is one of these (the rules' dedupe and held
 * alerts, the new-terms history, the exec join, the node decoder's sessions, the Sigma
 * correlation groups, the correlator's principals, incidents and roles, the report's tallies):
 * the bound (max_keys) is fixed at creation, and inserting past it evicts the least recently
 * touched entry (counted). The order is also how stale entries are found without a scan: the
 * oldest are at the front. Keys are hashed with SipHash-2-4 under a per-table random key, so
 * audit lines crafted to collide cannot turn lookups into list walks.
 *
 * Two orders from one list: keytab__upsert() touches what it finds (least recently used first),
 * while keytab__find() does not, so a caller that finds before it upserts keeps insertion order
 * (first in, first out). A caller that must act on what leaves (write a held alert, count it
 * under its own name) evicts by hand before a full table would: keytab__full(), then
 * keytab__oldest() and keytab__remove().
 *
 * Values are handed out as pointers into the entry; they stay valid until the entry is removed
 * or evicted. The table never looks inside a value: @drop (optional) releases what a value owns.
 */
#ifndef KEYHOLE_STATE_KEYTAB_H
#define KEYHOLE_STATE_KEYTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* longest key kept: keys are usernames, user agents and such, never near this */
#define KEYTAB_MAX_KEY 4096

struct keytab;

typedef void (*keytab_drop_fn)(void *value, void *arg);

/* Returns NULL with errno set. @max_keys >= 1. */
struct keytab *keytab__new(size_t value_size, uint64_t max_keys, keytab_drop_fn drop, void *arg);
void keytab__free(struct keytab *t);

/*
 * Find @key or insert it (zeroed value), and make it the most recent. *@created tells which.
 * Inserting into a full table evicts the oldest entry first. Returns NULL with errno set:
 * ENOMEM, or E2BIG when @len > KEYTAB_MAX_KEY.
 */
void *keytab__upsert(struct keytab *t, const void *key, size_t len, bool *created);

/* the value for @key, or NULL; does not change the order */
void *keytab__find(const struct keytab *t, const void *key, size_t len);

void keytab__touch(struct keytab *t, void *value);  /* make most recent */
void keytab__remove(struct keytab *t, void *value); /* drop, then free */

/* oldest first: keytab__oldest(t), then keytab__newer(t, v) until NULL */
void *keytab__oldest(const struct keytab *t);
void *keytab__newer(const struct keytab *t, const void *value);

const void *keytab__key(const struct keytab *t, const void *value, size_t *len);
uint64_t keytab__count(const struct keytab *t);
uint64_t keytab__max(const struct keytab *t);
/* true when the next new key evicts the oldest */
bool keytab__full(const struct keytab *t);
uint64_t keytab__evictions(const struct keytab *t);

/* 16 unpredictable bytes (getrandom; the clock when the pool is not ready yet) */
void keytab__random_key(uint8_t key[16]);

/* SipHash-2-4 of @len bytes at @p under the 128-bit key @k (exposed for its test vector) */
uint64_t siphash__24(const uint8_t k[16], const void *p, size_t len);

#endif /* KEYHOLE_STATE_KEYTAB_H */
