// SPDX-License-Identifier: Apache-2.0
/*
 * tally: string -> count on a keytab, capped at TALLY_MAX keys so a log set with a million
 * distinct user agents costs bounded memory (the rest count as "other", nothing is evicted).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/keytab.h"
#include "report/model.h"

static void ent_drop(void *value, void *arg)
{
	(void)arg;
	free(((struct tally_ent *)value)->key);
}

int tally__add(struct tally *t, const char *key, size_t len, uint64_t n)
{
	struct tally_ent *e;
	bool created;

	if (!t->t && !(t->t = keytab__new(sizeof(struct tally_ent), TALLY_MAX, ent_drop, NULL)))
		return -ENOMEM;
	e = keytab__find(t->t, key, len);
	if (!e) {
		if (keytab__full(t->t) || len > KEYTAB_MAX_KEY) { /* never evicts: the rest is other
								   */
			t->other += n;
			return 0;
		}
		e = keytab__upsert(t->t, key, len, &created);
		if (!e)
			return -ENOMEM;
		e->key = strndup(key, len);
		if (!e->key) {
			keytab__remove(t->t, e);
			return -ENOMEM;
		}
		t->n++;
	}
	e->n += n;
	return 0;
}

int tally__seen(struct tally *t, const char *key)
{
	size_t len = strlen(key);

	if (t->t && keytab__find(t->t, key, len))
		return 1;
	tally__add(t, key, len, 1);
	return 0;
}

static int by_count(const void *a, const void *b)
{
	const struct tally_ent *x = *(const struct tally_ent *const *)a;
	const struct tally_ent *y = *(const struct tally_ent *const *)b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->key, y->key);
}

size_t tally__top(const struct tally *t, size_t k, const struct tally_ent ***out)
{
	const struct tally_ent **all = malloc((t->n + 1) * sizeof(*all));
	size_t n = 0;

	*out = all;
	if (!all)
		return 0;
	for (const struct tally_ent *e = t->t ? keytab__oldest(t->t) : NULL; e;
	     e = keytab__newer(t->t, e))
		all[n++] = e;
	qsort(all, n, sizeof(*all), by_count);
	return n < k ? n : k;
}

void tally__free(struct tally *t)
{
	keytab__free(t->t);
	memset(t, 0, sizeof(*t));
}
