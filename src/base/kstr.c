// SPDX-License-Identifier: Apache-2.0
/*
 * kstr: decoding and comparison of JSON string slices taken from an audit line.
 *
 * A slice without escapes is compared on its raw bytes, which is the common case and costs a
 * memcmp. A slice flagged KSTR_ESCAPED is decoded first (into a stack buffer, or a heap one for
 * long values), so every comparison is on the exact decoded value and an escaped spelling such
 * as "secr\u0065ts" can never dodge a rule. Decoding follows json-c: \uXXXX becomes UTF-8, a
 * surrogate pair one 4-byte sequence, a lone surrogate U+FFFD.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/kstr.h"

/* decoded values up to this size never touch the heap (audit strings are far shorter) */
#define KSTR_STACK_BUF 1024

static int hex4(const char *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned char c = (unsigned char)p[i];
		uint32_t d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* append one byte if it fits; the count always advances so the caller learns the full length */
static inline void put(char *buf, size_t cap, size_t *n, unsigned char c)
{
	if (*n < cap)
		buf[*n] = (char)c;
	(*n)++;
}

static void put_utf8(char *buf, size_t cap, size_t *n, uint32_t cp)
{
	if (cp < 0x80) {
		put(buf, cap, n, cp);
	} else if (cp < 0x800) {
		put(buf, cap, n, 0xc0 | cp >> 6);
		put(buf, cap, n, 0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		put(buf, cap, n, 0xe0 | cp >> 12);
		put(buf, cap, n, 0x80 | (cp >> 6 & 0x3f));
		put(buf, cap, n, 0x80 | (cp & 0x3f));
	} else {
		put(buf, cap, n, 0xf0 | cp >> 18);
		put(buf, cap, n, 0x80 | (cp >> 12 & 0x3f));
		put(buf, cap, n, 0x80 | (cp >> 6 & 0x3f));
		put(buf, cap, n, 0x80 | (cp & 0x3f));
	}
}

/*
 * Decode one \uXXXX escape at @p (pointing at the backslash), joining a following low surrogate.
 * Returns the bytes consumed or -EINVAL. As json-c does, a high surrogate not followed by a low
 * one becomes U+FFFD and whatever follows is decoded on its own.
 */
static long decode_u(const char *p, const char *end, uint32_t *cp)
{
	uint32_t hi, lo;

	if (end - p < 6 || hex4(p + 2, &hi))
		return -EINVAL;
	if (hi >= 0xdc00 && hi <= 0xdfff) {
		*cp = 0xfffd;
		return 6;
	}
	if (hi < 0xd800 || hi > 0xdbff) {
		*cp = hi;
		return 6;
	}
	if (end - p >= 12 && p[6] == '\\' && p[7] == 'u' && !hex4(p + 8, &lo) && lo >= 0xdc00 &&
	    lo <= 0xdfff) {
		*cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
		return 12;
	}
	*cp = 0xfffd;
	return 6;
}

long kstr__decode(struct kstr s, char *buf, size_t cap)
{
	const char *p = s.p, *end;
	size_t n = 0;

	if (!s.p)
		return 0;
	end = s.p + s.len; /* not before the check: NULL + 0 is undefined */
	if (!(s.flags & KSTR_ESCAPED)) {
		if (cap)
			memcpy(buf, s.p, s.len < cap ? s.len : cap);
		return s.len;
	}
	while (p < end) {
		const char *bs = memchr(p, '\\', end - p);
		size_t run = (size_t)((bs ? bs : end) - p);
		uint32_t cp;
		long used;

		if (n < cap)
			memcpy(buf + n, p, run < cap - n ? run : cap - n);
		n += run;
		p += run;
		if (!bs)
			break;
		if (end - p < 2)
			return -EINVAL;
		switch (p[1]) {
		case '"':
		case '\\':
		case '/':
			put(buf, cap, &n, p[1]);
			break;
		case 'b':
			put(buf, cap, &n, '\b');
			break;
		case 'f':
			put(buf, cap, &n, '\f');
			break;
		case 'n':
			put(buf, cap, &n, '\n');
			break;
		case 'r':
			put(buf, cap, &n, '\r');
			break;
		case 't':
			put(buf, cap, &n, '\t');
			break;
		case 'u':
			used = decode_u(p, end, &cp);
			if (used < 0)
				return used;
			put_utf8(buf, cap, &n, cp);
			p += used;
			continue;
		default:
			return -EINVAL;
		}
		p += 2;
	}
	return (long)n;
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

bool kstr__eq(struct kstr s, const char *lit)
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
