// SPDX-License-Identifier: Apache-2.0
/*
 * fact_dedup: a fact's identity digest in a bounded first-in-first-out table (fact_dedup.h).
 *
 * The identity's fields are read from the fact's bytes, as the reorder buffer reads its tie key:
 * the first "<key>":" of a fact is its top-level key, since the encoder writes the header's
 * integers first and escapes every quote inside a string value. Each field is hashed alone
 * (lengths cannot run into one another), then the list of field hashes is hashed twice.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/fact_dedup.h"
#include "cluster/node_fact.h"
#include "keyhole/keytab.h"

struct fact_dedup {
	struct keytab *t; /* digest -> the fact's event time, in arrival order */
	int64_t horizon_ns;
	int64_t newest_ns; /* the newest event time taken */
	bool any;
	uint64_t evicted;
	uint8_t k1[16], k2[16];
};

struct fact_dedup *fact_dedup__new(uint64_t max_keys, int64_t horizon_ns)
{
	struct fact_dedup *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->t = keytab__new(sizeof(int64_t), max_keys, NULL, NULL);
	if (!d->t) {
		free(d);
		return NULL;
	}
	d->horizon_ns = horizon_ns > 0 ? horizon_ns : 0;
	keytab__random_key(d->k1);
	keytab__random_key(d->k2);
	return d;
}

void fact_dedup__free(struct fact_dedup *d)
{
	if (!d)
		return;
	keytab__free(d->t);
	free(d);
}

/* the raw (still escaped) string value of the first "<key>":"...": 0, or -1 when absent */
static int str_field(const char *line, size_t len, const char *key, size_t *at, size_t *n)
{
	size_t k = strlen(key), i;
	const char *p = memmem(line, len, key, k);

	if (!p)
		return -1;
	*at = (size_t)(p - line) + k;
	for (i = *at; i < len && line[i] != '"'; i++)
		if (line[i] == '\\')
			i++; /* an escaped character, whatever it is */
	if (i >= len)
		return -1;
	*n = i - *at;
	return 0;
}

/* one field's hash; an absent field hashes apart from every present one */
static uint64_t field(const struct fact_dedup *d, const char *line, size_t len, const char *key)
{
	size_t at, n;

	if (str_field(line, len, key, &at, &n))
		return 0x5a5a5a5a5a5a5a5aull ^ siphash__24(d->k2, key, strlen(key));
	return siphash__24(d->k1, line + at, n);
}

/* the fact's identity digest; false when it has no auditID */
static bool identity(const struct fact_dedup *d, const char *line, size_t len, int64_t t_ns,
		     uint64_t key[2])
{
	uint64_t f[5];
	size_t at, n;

	if (str_field(line, len, "\"auditID\":\"", &at, &n) || !n)
		return false;
	f[0] = siphash__24(d->k1, line + at, n);
	f[1] = field(d, line, len, "\"stage\":\"");
	f[2] = (uint64_t)t_ns;
	f[3] = field(d, line, len, "\"requestURI\":\"");
	/* a node's exec-session ids are its own */
	f[4] = node_fact__is(line, len) ? field(d, line, len, "\"khNode\":\"") : 0;
	key[0] = siphash__24(d->k1, f, sizeof(f));
	key[1] = siphash__24(d->k2, f, sizeof(f));
	return true;
}

/* event times before this are past the horizon (saturating: khT is any int64) */
static int64_t floor_ns(const struct fact_dedup *d)
{
	return d->newest_ns < INT64_MIN + d->horizon_ns ? INT64_MIN : d->newest_ns - d->horizon_ns;
}

int fact_dedup__seen(struct fact_dedup *d, const char *line, size_t len, int64_t t_ns)
{
	uint64_t key[2];
	int64_t *v, floor;
	bool created;

	if (!identity(d, line, len, t_ns, key))
		return 0;
	if (keytab__find(d->t, key, sizeof(key)))
		return 1; /* not touched: the table stays in arrival order */
	if (!d->any || t_ns > d->newest_ns)
		d->newest_ns = t_ns, d->any = true;
	floor = floor_ns(d);
	/* arrival order is about event order: what is past the horizon sits at the front */
	while ((v = keytab__oldest(d->t)) && *v < floor)
		keytab__remove(d->t, v);
	if (keytab__full(d->t)) {
		v = keytab__oldest(d->t);
		if (*v >= floor)
			d->evicted++;
		keytab__remove(d->t, v);
	}
	v = keytab__upsert(d->t, key, sizeof(key), &created);
	if (v)
		*v = t_ns;
	return 0;
}

uint64_t fact_dedup__count(const struct fact_dedup *d)
{
	return keytab__count(d->t);
}

uint64_t fact_dedup__evicted(const struct fact_dedup *d)
{
	return d->evicted;
}
