/* SPDX-License-Identifier: Apache-2.0 */
/*
 * history: when each key (a new-terms combination, an impersonated user) was first and last seen,
 * in event time, bounded, and saved across restarts in the state file.
 *
 * A rule owns its history (created in state_new with the configured bound) and exposes it through
 * struct kh_rule.history, so the state file can save and load it under the rule's id. Keys are
 * opaque bytes; a rule that keys on several fields joins them with a separator that cannot occur
 * in them (a NUL byte) so "a|b"+"c" and "a"+"b|c" stay apart.
 */
#ifndef KEYHOLE_HISTORY_H
#define KEYHOLE_HISTORY_H

#include <stddef.h>
#include <stdint.h>

struct kh_history;

/* Returns NULL with errno set. @max_keys bounds the keys kept (oldest evicted and counted). */
struct kh_history *history__new(uint64_t max_keys);
void history__free(struct kh_history *h);

/*
 * Record that @key was seen at @t_ns (event time). *@prev_last_ns (if non-NULL) gets when it
 * was last seen before this call, 0 when never (or since evicted). The entry keeps the earliest
 * first-seen and the latest last-seen, so events out of order never move history backwards.
 * Returns 0, or -ENOMEM / -E2BIG (key too long) with nothing recorded.
 */
int history__see(struct kh_history *h, const void *key, size_t len, int64_t t_ns,
		 int64_t *prev_last_ns);

/* first and last seen of @key without recording anything; -ENOENT when unknown */
int history__lookup(const struct kh_history *h, const void *key, size_t len, int64_t *first_ns,
		    int64_t *last_ns);

/*
 * Call @fn after every history__see() that recorded (not after a restore): the key, the event
 * time and when it was last seen before (0: new). Cluster mode's correlator keeps the history in
 * Redis this way. NULL @fn: no observer.
 */
typedef void (*history_observe_fn)(const void *key, size_t len, int64_t t_ns, int64_t prev_last_ns,
				   void *arg);
void history__observe(struct kh_history *h, history_observe_fn fn, void *arg);

/*
 * Forget keys last seen before @cutoff_ns, oldest first, stopping at the first key that is not
 * (the order is touch order, so with events in time order this is exact). Cheap enough to call
 * on every event.
 */
void history__prune(struct kh_history *h, int64_t cutoff_ns);

/* put back a saved entry (state file load); the newest entries should come last */
int history__restore(struct kh_history *h, const void *key, size_t len, int64_t first_ns,
		     int64_t last_ns);

/* visit every entry, least recently seen first; stop early when @fn returns nonzero */
typedef int (*history_visit_fn)(const void *key, size_t len, int64_t first_ns, int64_t last_ns,
				void *arg);
int history__for_each(const struct kh_history *h, history_visit_fn fn, void *arg);

uint64_t history__count(const struct kh_history *h);
uint64_t history__max(const struct kh_history *h);
uint64_t history__evictions(const struct kh_history *h);
/* bumps on every change: the state file saves only when this moved */
uint64_t history__generation(const struct kh_history *h);

#endif /* KEYHOLE_HISTORY_H */
