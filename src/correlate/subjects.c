// SPDX-License-Identifier: Apache-2.0
/*
 * subjects: the principals' table on a keytab (see subjects.h).
 *
 * Keys (the principal kind, then the name) are compared in full, never by hash alone, so two
 * principals can never share state however their names were chosen.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/subjects.h"
#include "keyhole/keytab.h"

/* a table's key: the principal kind, then the name */
#define KEY_MAX KEYTAB_MAX_KEY

struct kh_subjects {
	struct keytab *t; /* (principal, name) -> struct kh_subject, least recently touched first */
};

static void entry_drop(void *value, void *arg)
{
	struct kh_subject *s = value;

	(void)arg;
	for (int i = 0; i < s->n_grants; i++)
		grant__put(s->grants[i].g);
	free(s->grants);
	free(s->reads);
}

struct kh_subjects *subjects__new(uint32_t max)
{
	struct kh_subjects *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->t = keytab__new(sizeof(struct kh_subject), max ? max : 1, entry_drop, NULL);
	if (!t->t) {
		free(t);
		return NULL;
	}
	return t;
}

void subjects__free(struct kh_subjects *t)
{
	if (!t)
		return;
	keytab__free(t->t);
	free(t);
}

/* the key of (@principal, @name[@len]) in @buf, its length; a name past the bound is cut */
static size_t make_key(char buf[KEY_MAX], uint8_t principal, const char *name, size_t len)
{
	if (len > KEY_MAX - 1)
		len = KEY_MAX - 1; /* no real principal name is this long; keep a prefix */
	buf[0] = (char)principal;
	memcpy(buf + 1, name, len);
	return len + 1;
}

struct kh_subject *subjects__find(struct kh_subjects *t, uint8_t principal, const char *name,
				  size_t len)
{
	char key[KEY_MAX];

	return keytab__find(t->t, key, make_key(key, principal, name, len));
}

struct kh_subject *subjects__get(struct kh_subjects *t, uint8_t principal, const char *name,
				 size_t len, int64_t now_ns)
{
	char key[KEY_MAX];
	struct kh_subject *s;
	bool created;

	/* found: touched; absent: created, evicting the least recently touched of a full table */
	s = keytab__upsert(t->t, key, make_key(key, principal, name, len), &created);
	if (!s)
		return NULL;
	if (created) {
		s->principal = principal;
		s->touched_ns = now_ns;
		s->expire_ns = now_ns;
	} else if (now_ns > s->touched_ns) {
		s->touched_ns = now_ns;
	}
	return s;
}

const char *subjects__name(const struct kh_subjects *t, const struct kh_subject *s, size_t *len)
{
	const char *key = keytab__key(t->t, s, len);

	--*len;
	return key + 1;
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
	struct kh_subject *s;

	/*
	 * Touch order is expiry order up to the window: an entry is only ever kept for a window
	 * past its last touch. Stop at the first entry still counting.
	 */
	while ((s = keytab__oldest(t->t)) && s->expire_ns < now_ns)
		keytab__remove(t->t, s);
}

uint32_t subjects__count(const struct kh_subjects *t)
{
	return (uint32_t)keytab__count(t->t);
}

uint64_t subjects__evictions(const struct kh_subjects *t)
{
	return keytab__evictions(t->t);
}
