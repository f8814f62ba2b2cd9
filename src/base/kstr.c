// SPDX-License-Identifier: Apache-2.0
/*
 * kstr: decoding and comparison of JSON string slices taken from an audit line.
 *
 * A slice without escapes is compared on its raw bytes, which is the common case and costs a
 * memcmp. A slice flagged KSTR_ESCAPED is decoded first (into a stack buffer, or a heap one for
 * long values), so every comparison is on the exact decoded value and an escaped spelling such
 * as "secr\u0065ts" can never dodge a rule. The decoding is json_in's (keyhole/json_in.h), the
 * one JSON string decoder.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/json_in.h"
#include "keyhole/kstr.h"

/* decoded values up to this size never touch the heap (audit strings are far shorter) */
#define KSTR_STACK_BUF 1024

long kstr__decode(struct kstr s, char *buf, size_t cap)
{
	if (!s.p)
		return 0;
	if (!(s.flags & KSTR_ESCAPED)) {
		if (cap)
			memcpy(buf, s.p, s.len < cap ? s.len : cap);
		return s.len;
	}
	return json_in__decode(s.p, s.len, buf, cap, 0);
}

/*
 * The decoded bytes of @s: the raw bytes when unescaped, else decoded into @stack or, when the
 * value is longer than the stack buffer, into *@heap (the caller frees it). A decoded value is
 * never longer than its raw form, so s.len bytes always suffice. Returns false when absent,
 * malformed or out of memory; a comparison then reports no match.
 */
static bool kstr_view(struct kstr s, char *stack, const char **out, size_t *outlen, char **heap)
{
	char *buf = stack;
	long n;

	*heap = NULL;
	if (!s.p)
		return false;
	if (!(s.flags & KSTR_ESCAPED)) {
		*out = s.p;
		*outlen = s.len;
		return true;
	}
	if (s.len > KSTR_STACK_BUF) {
		buf = malloc(s.len);
		if (!buf)
			return false;
		*heap = buf;
	}
	n = kstr__decode(s, buf, s.len);
	if (n < 0) {
		free(*heap);
		*heap = NULL;
		return false;
	}
	*out = buf;
	*outlen = (size_t)n;
	return true;
}

enum kstr_op { OP_EQ, OP_PREFIX, OP_SUFFIX, OP_CONTAINS, OP_GLOB };

static bool glob_bytes(const char *s, size_t n, const char *pat);

static bool match_bytes(enum kstr_op op, const char *v, size_t n, const char *lit)
{
	size_t m = strlen(lit);

	switch (op) {
	case OP_EQ:
		return n == m && !memcmp(v, lit, m);
	case OP_PREFIX:
		return n >= m && !memcmp(v, lit, m);
	case OP_SUFFIX:
		return n >= m && !memcmp(v + n - m, lit, m);
	case OP_CONTAINS:
		return m == 0 || (n >= m && memmem(v, n, lit, m) != NULL);
	case OP_GLOB:
		return glob_bytes(v, n, lit);
	}
	return false;
}

static bool kstr_match(struct kstr s, const char *lit, enum kstr_op op)
{
	char stack[KSTR_STACK_BUF];
	const char *v;
	size_t n;
	char *heap;
	bool r;

	if (!s.p)
		return false;
	if (!(s.flags & KSTR_ESCAPED))
		return match_bytes(op, s.p, s.len, lit);
	/* decoding only shrinks a value: a raw form shorter than the literal cannot equal it */
	if (op != OP_GLOB && s.len < strlen(lit))
		return false;
	if (!kstr_view(s, stack, &v, &n, &heap))
		return false;
	r = match_bytes(op, v, n, lit);
	free(heap);
	return r;
}

bool kstr__eq_decoded(struct kstr s, const char *lit)
{
	return kstr_match(s, lit, OP_EQ);
}

bool kstr__has_prefix(struct kstr s, const char *lit)
{
	return kstr_match(s, lit, OP_PREFIX);
}

bool kstr__has_suffix(struct kstr s, const char *lit)
{
	return kstr_match(s, lit, OP_SUFFIX);
}

bool kstr__contains(struct kstr s, const char *lit)
{
	return kstr_match(s, lit, OP_CONTAINS);
}

/*
 * One pattern element at @p: a literal byte (a backslash quotes the next byte, as KQL's
 * wildcard syntax allows "\*"), '?' (any one byte, returned as -1) or the end (-2).
 */
static int pat_elem(const char *p, size_t *adv)
{
	*adv = 1;
	if (*p == '\0')
		return -2;
	if (*p == '?')
		return -1;
	if (*p == '\\' && p[1] != '\0') {
		*adv = 2;
		return (unsigned char)p[1];
	}
	return (unsigned char)*p;
}

/*
 * Iterative wildcard match, no recursion: on a mismatch, retry from the last '*' with one more
 * byte swallowed by it. Worst case O(len(s) * len(pat)), no stack growth on hostile input.
 */
static bool glob_bytes(const char *s, size_t n, const char *pat)
{
	const char *p = pat, *star_p = NULL;
	size_t i = 0, star_i = 0, adv;

	while (i < n) {
		int e;

		if (*p == '*') {
			while (*p == '*')
				p++;
			if (*p == '\0')
				return true;
			star_p = p;
			star_i = i;
			continue;
		}
		e = pat_elem(p, &adv);
		if (e == -1 || (e >= 0 && (unsigned char)s[i] == e)) {
			i++;
			p += adv;
			continue;
		}
		if (!star_p)
			return false;
		p = star_p;
		i = ++star_i;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

bool kstr__glob(struct kstr s, const char *pattern)
{
	return kstr_match(s, pattern, OP_GLOB);
}

bool kstr__eq_kstr(struct kstr a, struct kstr b)
{
	char sa[KSTR_STACK_BUF], sb[KSTR_STACK_BUF];
	const char *va, *vb;
	size_t na, nb;
	char *ha, *hb;
	bool r;

	if (!a.p || !b.p)
		return false;
	if (!((a.flags | b.flags) & KSTR_ESCAPED))
		return a.len == b.len && !memcmp(a.p, b.p, a.len);
	if (!kstr_view(a, sa, &va, &na, &ha))
		return false;
	if (!kstr_view(b, sb, &vb, &nb, &hb)) {
		free(ha);
		return false;
	}
	r = na == nb && !memcmp(va, vb, na);
	free(ha);
	free(hb);
	return r;
}
