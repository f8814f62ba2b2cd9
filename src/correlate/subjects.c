// SPDX-License-Identifier: Apache-2.0
/*
 * subjects: chained hash table plus a touch-ordered list (see subjects.h).
 *
 * Keys are compared in full, never by hash alone, so two principals can never share state
 * however their names were chosen. The bucket count is the next power of two above the maximum,
 * so chains stay short at any fill.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/subjects.h"

struct kh_subjects {
	struct kh_subject **buckets;
	uint64_t mask;
	struct kh_subject *oldest, *newest;
	uint32_t count, max;
	uint64_t evictions;
};

uint64_t subjects__hash(uint8_t principal, const char *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	h = (h ^ principal) * 0x100000001b3ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 0x100000001b3ull;
	return h;
}

struct kh_subjects *subjects__new(uint32_t max)
{
	struct kh_subjects *t = calloc(1, sizeof(*t));
	uint64_t n = 16;

	if (!t)
		return NULL;
	if (!max)
		max = 1;
	while (n < max)
		n <<= 1;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->mask = n - 1;
	t->max = max;
	return t;
}

static void entry_free(struct kh_subject *s)
{
	for (int i = 0; i < s->n_grants; i++)
		grant__put(s->grants[i].g);
	free(s->grants);
	free(s->reads);
	free(s);
}

static void list_unlink(struct kh_subjects *t, struct kh_subject *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		t->oldest = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		t->newest = s->prev;
	s->prev = s->next = NULL;
}

static void list_append(struct kh_subjects *t, struct kh_subject *s)
{
	s->prev = t->newest;
	s->next = NULL;
	if (t->newest)
		t->newest->next = s;
	else
		t->oldest = s;
	t->newest = s;
}

static void remove_entry(struct kh_subjects *t, struct kh_subject *s)
{
	struct kh_subject **pp = &t->buckets[s->hash & t->mask];

	while (*pp && *pp != s)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = s->hnext;
	list_unlink(t, s);
	t->count--;
	entry_free(s);
}

void subjects__free(struct kh_subjects *t)
{
	struct kh_subject *s, *next;

	if (!t)
		return;
	for (s = t->oldest; s; s = next) {
		next = s->next;
		entry_free(s);
	}
	free(t->buckets);
	free(t);
}

struct kh_subject *subjects__find(struct kh_subjects *t, uint8_t principal, const char *name,
				  size_t len)
{
	uint64_t h = subjects__hash(principal, name, len);
	struct kh_subject *s;

	for (s = t->buckets[h & t->mask]; s; s = s->hnext)
		if (s->hash == h && s->principal == principal && s->klen == len &&
		    !memcmp(s->key, name, len))
			return s;
	return NULL;
}

struct kh_subject *subjects__get(struct kh_subjects *t, uint8_t principal, const char *name,
				 size_t len, int64_t now_ns)
{
	struct kh_subject *s;
	uint64_t h;

	if (len > UINT16_MAX)
		len = UINT16_MAX; /* no real principal name is this long; keep a prefix */
	s = subjects__find(t, principal, name, len);
	if (s) {
		list_unlink(t, s);
		if (now_ns > s->touched_ns)
			s->touched_ns = now_ns;
		list_append(t, s);
		return s;
	}
	if (t->count >= t->max && t->oldest) {
		remove_entry(t, t->oldest);
		t->evictions++;
	}
	s = calloc(1, sizeof(*s) + len + 1);
	if (!s)
		return NULL;
	h = subjects__hash(principal, name, len);
	s->hash = h;
	s->principal = principal;
	s->klen = (uint16_t)len;
	memcpy(s->key, name, len);
	s->touched_ns = now_ns;
	s->expire_ns = now_ns;
	s->hnext = t->buckets[h & t->mask];
	t->buckets[h & t->mask] = s;
	list_append(t, s);
	t->count++;
	return s;
}

void subjects__keep_until(struct kh_subjects *t, struct kh_subject *s, int64_t until_ns)
{
	(void)t;
	if (until_ns > s->expire_ns)
		s->expire_ns = until_ns;
}

bool subject__add_grant(struct kh_subject *s, struct kh_grant *g, int64_t until_ns, uint8_t via)
{
	int slot = s->n_grants;

	for (int i = 0; i < s->n_grants; i++) {
		if (grant__same(s->grants[i].g, g)) { /* the same rights again: extend them */
			if (until_ns > s->grants[i].until_ns) {
				s->grants[i].until_ns = until_ns;
				s->grants[i].via = via;
			}
			return true;
		}
	}
	if (slot == KH_SUBJECT_GRANTS) {
		/* full: replace the grant that stops counting first */
		slot = 0;
		for (int i = 1; i < KH_SUBJECT_GRANTS; i++)
			if (s->grants[i].until_ns < s->grants[slot].until_ns)
				slot = i;
		grant__put(s->grants[slot].g);
	} else {
		struct kh_subject_grant *m = realloc(s->grants, (slot + 1) * sizeof(*m));

		if (!m)
			return false;
		s->grants = m;
		s->n_grants++;
	}
	s->grants[slot] = (struct kh_subject_grant){grant__get(g), until_ns, via};
	if (until_ns > s->expire_ns)
		s->expire_ns = until_ns;
	return true;
}

struct kh_subject_read *subject__read_slot(struct kh_subject *s, uint64_t ns_hash)
{
	int slot = 0;

	for (int i = 0; i < s->n_reads; i++)
		if (s->reads[i].ns_hash == ns_hash)
			return &s->reads[i];
	if (s->n_reads < KH_SUBJECT_READ_NS) {
		struct kh_subject_read *m = realloc(s->reads, (s->n_reads + 1) * sizeof(*m));

		if (!m)
			return NULL;
		s->reads = m;
		slot = s->n_reads++;
	} else { /* forget the namespace read longest ago */
		for (int i = 1; i < KH_SUBJECT_READ_NS; i++)
			if (s->reads[i].last_ns < s->reads[slot].last_ns)
				slot = i;
	}
	s->reads[slot] = (struct kh_subject_read){ns_hash, 0, 0};
	return &s->reads[slot];
}

void subjects__expire(struct kh_subjects *t, int64_t now_ns)
{
	/*
	 * Touch order is expiry order up to the window: an entry is only ever kept for a window
	 * past its last touch. Stop at the first entry still counting.
	 */
	while (t->oldest && t->oldest->expire_ns < now_ns)
		remove_entry(t, t->oldest);
}

uint32_t subjects__count(const struct kh_subjects *t)
{
	return t->count;
}

uint64_t subjects__evictions(const struct kh_subjects *t)
{
	return t->evictions;
}
