// SPDX-License-Identifier: Apache-2.0
/*
 * tally: string -> count, open addressing with FNV-1a, capped at TALLY_MAX keys so a log set
 * with a million distinct user agents costs bounded memory (the rest count as "other").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/model.h"

static uint64_t fnv(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return h;
}

static struct tally_ent *slot(struct tally *t, const char *key, size_t len)
{
	size_t i = (size_t)fnv(key, len) & (t->cap - 1);

	while (t->v[i].key && (strlen(t->v[i].key) != len || memcmp(t->v[i].key, key, len)))
		i = (i + 1) & (t->cap - 1);
	return &t->v[i];
}

static int grow(struct tally *t)
{
	struct tally old = *t;

	t->cap = old.cap ? old.cap * 2 : 64;
	t->v = calloc(t->cap, sizeof(*t->v));
	if (!t->v) {
		*t = old;
		return -ENOMEM;
	}
	for (size_t i = 0; i < old.cap; i++)
		if (old.v[i].key)
			*slot(t, old.v[i].key, strlen(old.v[i].key)) = old.v[i];
	free(old.v);
	return 0;
}

int tally__add(struct tally *t, const char *key, size_t len, uint64_t n)
{
	struct tally_ent *e;

	if ((t->n + 1) * 2 > t->cap && t->n < TALLY_MAX && grow(t))
		return -ENOMEM;
	e = slot(t, key, len);
	if (!e->key) {
		if (t->n >= TALLY_MAX) {
			t->other += n;
			return 0;
		}
		e->key = strndup(key, len);
		if (!e->key)
			return -ENOMEM;
		t->n++;
	}
	e->n += n;
	return 0;
}

int tally__seen(struct tally *t, const char *key)
{
	size_t len = strlen(key);

	if (t->cap && slot(t, key, len)->key)
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
	for (size_t i = 0; i < t->cap; i++)
		if (t->v[i].key)
			all[n++] = &t->v[i];
	qsort(all, n, sizeof(*all), by_count);
	return n < k ? n : k;
}

void tally__free(struct tally *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->v[i].key);
	free(t->v);
	memset(t, 0, sizeof(*t));
}
