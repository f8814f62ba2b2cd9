/* SPDX-License-Identifier: Apache-2.0 */
/*
 * subjects: the bounded table of principals the correlator tracks.
 *
 * One entry per principal (a username, or a group name), holding the grants it gained and still
 * counts (each with its own deadline in event time) and the namespaces where it already read
 * secrets successfully (so a read after a grant that it could already do before is not loot).
 * Entries are kept in least-recently-touched order; they expire once nothing in them counts any
 * more, and when the table is full the least recently touched entry is evicted and counted.
 * Touch times are the running maximum of event time, so that order is also expiry order.
 */
#ifndef KEYHOLE_CORRELATE_SUBJECTS_H
#define KEYHOLE_CORRELATE_SUBJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "correlate/grant.h"

/*
 * Grants kept per principal. A principal gaining more than four rights in one window is an
 * incident in itself; the oldest-ending grant makes room (the incident keeps its own reference).
 */
#define KH_SUBJECT_GRANTS 4
/* namespaces remembered per principal as read before; "" stands for a cluster-wide list */
#define KH_SUBJECT_READ_NS 4

struct kh_subject_grant {
	struct kh_grant *g;
	int64_t until_ns; /* the grant counts for this principal until then */
	uint8_t via;	  /* enum kh_via */
};

struct kh_subject_read {
	uint64_t ns_hash;
	int64_t first_ns; /* first successful read seen */
	int64_t last_ns;
};

/*
 * Most principals hold one grant or read one namespace, so both lists are allocated to size
 * (growing to their bound) rather than inline: at 100k principals that is the difference between
 * ~30 and ~80 MiB.
 */
struct kh_subject {
	int64_t touched_ns;
	int64_t expire_ns;		 /* nothing counts past this */
	struct kh_subject_grant *grants; /* n_grants of them */
	struct kh_subject_read *reads;	 /* n_reads of them */
	uint8_t n_grants, n_reads;
	uint8_t principal; /* enum kh_principal */
};

struct kh_subjects;

/* a table of at most @max entries (0 counts as 1); NULL with errno */
struct kh_subjects *subjects__new(uint32_t max);
void subjects__free(struct kh_subjects *t);

/* the entry of (@principal, @name[@len]) or NULL */
struct kh_subject *subjects__find(struct kh_subjects *t, uint8_t principal, const char *name,
				  size_t len);

/*
 * The entry of (@principal, @name), created when absent (evicting the least recently touched
 * entry of a full table), touched at @now_ns. NULL only when out of memory.
 */
struct kh_subject *subjects__get(struct kh_subjects *t, uint8_t principal, const char *name,
				 size_t len, int64_t now_ns);

/* record that @s counts until @until_ns (extends its expiry) */
void subjects__keep_until(struct kh_subjects *t, struct kh_subject *s, int64_t until_ns);

/* add @g (a new reference is taken) for @s until @until_ns via @via; false when out of memory */
bool subject__add_grant(struct kh_subject *s, struct kh_grant *g, int64_t until_ns, uint8_t via);

/*
 * The read slot of @s for namespace hash @ns_hash, created (or the one read longest ago
 * reused) when absent; NULL when out of memory.
 */
struct kh_subject_read *subject__read_slot(struct kh_subject *s, uint64_t ns_hash);

/* drop the entries whose every grant and read lies before @now_ns */
void subjects__expire(struct kh_subjects *t, int64_t now_ns);

uint32_t subjects__count(const struct kh_subjects *t);
uint64_t subjects__evictions(const struct kh_subjects *t);

/* the name of @s (@len bytes, not NUL-terminated) */
const char *subjects__name(const struct kh_subjects *t, const struct kh_subject *s, size_t *len);

#endif /* KEYHOLE_CORRELATE_SUBJECTS_H */
