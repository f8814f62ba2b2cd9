// SPDX-License-Identifier: Apache-2.0
/*
 * reorder: a binary min-heap on (event time, arrival order).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/reorder.h"

void reorder__init(struct reorder *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max ? max : 1;
}

void reorder__fini(struct reorder *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->h[i].line);
	free(r->h);
	memset(r, 0, sizeof(*r));
}

static int before(const struct held_fact *a, const struct held_fact *b)
{
	size_t n = a->tie_len < b->tie_len ? a->tie_len : b->tie_len;
	int c;

	if (a->t_ns != b->t_ns)
		return a->t_ns < b->t_ns;
	c = memcmp(a->tie, b->tie, n);
	if (c || a->tie_len != b->tie_len)
		return c ? c < 0 : a->tie_len < b->tie_len;
	if (a->stage_rank != b->stage_rank)
		return a->stage_rank < b->stage_rank;
	return a->seq < b->seq;
}

/* the value of the first "<key>":"..." in a fact (ours: no escapes in the key's position) */
static const char *str_after(const char *line, size_t len, const char *key, size_t *n)
{
	const char *p = memmem(line, len, key, strlen(key)), *e;

	if (!p)
		return *n = 0, "";
	p += strlen(key);
	e = memchr(p, '"', len - (size_t)(p - line));
	if (!e)
		return *n = 0, "";
	*n = (size_t)(e - p);
	return p;
}

void reorder__tie_key(const char *line, size_t len, const char **id, size_t *id_len, int *rank)
{
	static const char *const stages[] = {"RequestReceived", "ResponseStarted",
					     "ResponseComplete", "Panic"};
	size_t n;
	const char *s = str_after(line, len, "\"stage\":\"", &n);

	*rank = 4;
	for (int i = 0; i < 4; i++)
		if (n == strlen(stages[i]) && !memcmp(s, stages[i], n))
			*rank = i;
	*id = str_after(line, len, "\"auditID\":\"", id_len);
}

static void swap(struct held_fact *a, struct held_fact *b)
{
	struct held_fact t = *a;

	*a = *b;
	*b = t;
}

int reorder__push(struct reorder *r, int64_t t_ns, int64_t arrive_ns, char *line, size_t len)
{
	size_t i;

	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 256;
		struct held_fact *nh = realloc(r->h, nc * sizeof(*nh));

		if (!nh) {
			free(line);
			return -ENOMEM;
		}
		r->h = nh;
		r->cap = nc;
	}
	i = r->n++;
	r->h[i] = (struct held_fact){
	    .t_ns = t_ns, .arrive_ns = arrive_ns, .seq = r->seq++, .line = line, .len = len};
	reorder__tie_key(line, len, &r->h[i].tie, &r->h[i].tie_len, &r->h[i].stage_rank);
	while (i && before(&r->h[i], &r->h[(i - 1) / 2])) {
		swap(&r->h[i], &r->h[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	if (t_ns > r->newest_ns)
		r->newest_ns = t_ns;
	return 0;
}

static void pop_top(struct reorder *r, struct held_fact *out)
{
	size_t i = 0;

	*out = r->h[0];
	r->h[0] = r->h[--r->n];
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < r->n && before(&r->h[l], &r->h[m]))
			m = l;
		if (l + 1 < r->n && before(&r->h[l + 1], &r->h[m]))
			m = l + 1;
		if (m == i)
			break;
		swap(&r->h[i], &r->h[m]);
		i = m;
	}
}

int reorder__pop_due(struct reorder *r, int64_t now, int64_t lag_ns, int all, struct held_fact *out)
{
	const struct held_fact *top;

	if (!r->n)
		return 0;
	top = &r->h[0];
	if (!all && r->n <= r->max && top->arrive_ns + lag_ns > now)
		return 0;
	pop_top(r, out);
	return 1;
}
