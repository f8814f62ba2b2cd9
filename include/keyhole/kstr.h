/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kstr: a string slice into an audit line, never a copy.
 *
 * The parser hands out slices of the raw JSON bytes between the quotes. Most audit strings carry
 * no escapes, so comparisons run on the raw bytes; a slice whose raw form holds a backslash is
 * flagged KSTR_ESCAPED and every helper here compares its decoded value instead, so a rule can
 * never be dodged by writing "secr\u0065ts" for "secrets".
 */
#ifndef KEYHOLE_KSTR_H
#define KEYHOLE_KSTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define KSTR_ESCAPED 0x1u /* raw bytes hold JSON escapes: decode before comparing */

struct kstr {
	const char *p; /* NULL when the field is absent; non-NULL with len 0 for "" */
	uint32_t len;  /* raw length in bytes, quotes excluded */
	uint32_t flags;
};

static inline bool kstr_present(struct kstr s)
{
	return s.p != NULL;
}

/* true when present and not the empty string (as KQL's `field:*` requires) */
static inline bool kstr_nonempty(struct kstr s)
{
	return s.p != NULL && s.len > 0;
}

static inline struct kstr kstr_lit(const char *s, size_t len)
{
	struct kstr k = {s, (uint32_t)len, 0};
	return k;
}

/*
 * Decode the JSON string value of @s into @buf (at most @cap bytes, not NUL-terminated).
 * Returns the decoded length, which may exceed @cap (then only @cap bytes were written), or
 * -EINVAL on a malformed escape. Invalid or lone surrogates decode to U+FFFD.
 */
long kstr__decode(struct kstr s, char *buf, size_t cap);

/*
 * Comparisons on the decoded value; an absent slice matches nothing. Escaped values longer than
 * 1 KB are decoded on the heap; should that allocation fail the comparison reports no match.
 */
bool kstr__eq_decoded(struct kstr s, const char *lit); /* kstr__eq's path for escaped slices */
bool kstr__has_prefix(struct kstr s, const char *lit);
bool kstr__has_suffix(struct kstr s, const char *lit);
bool kstr__contains(struct kstr s, const char *lit);

/*
 * Case-sensitive wildcard match ('*' any run, '?' one byte), as KQL matches a keyword field.
 * A backslash in @pattern quotes the next byte ("\\*" matches a literal '*').
 */
bool kstr__glob(struct kstr s, const char *pattern);

/*
 * Equality with @lit. Inline because rules call it on every event with literals (the built-in
 * rules a dozen times an event), and here the literal's length is a constant and the compare of
 * a raw slice a few instructions; only a slice with escapes goes out of line to be decoded.
 */
static inline bool kstr__eq(struct kstr s, const char *lit)
{
	size_t m;

	if (!s.p || (s.flags & KSTR_ESCAPED))
		return kstr__eq_decoded(s, lit);
	m = strlen(lit);
	return s.len == m && memcmp(s.p, lit, m) == 0;
}

/* Equality of two slices by decoded value. */
bool kstr__eq_kstr(struct kstr a, struct kstr b);

#endif /* KEYHOLE_KSTR_H */
