/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json_in: the one JSON reader, a cursor over a span of JSON text that every reader in the tree
 * builds on (the RBAC walker, user.extra, Sigma's field paths, the report's DOM; the audit
 * parser shares its string-scan and escape primitives).
 *
 * Nothing is copied and nothing is allocated: a string is handed out as a kstr slice of the raw
 * bytes between its quotes (flagged KSTR_ESCAPED when it holds a backslash) and decoded only on
 * request, into a bounded buffer; a value of any depth is stepped over without recursion. Every
 * read is bounded by the span's end. The cursor trusts nothing but does not validate either:
 * its users read spans the audit parser already validated (or, for the DOM, check structure
 * themselves), so a malformed span only ends a read early or late, never outside the span.
 */
#ifndef KEYHOLE_JSON_IN_H
#define KEYHOLE_JSON_IN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "keyhole/kstr.h"

struct json_in {
	const char *p, *end;
	bool strict; /* a control byte inside a string fails the string (RFC 8259) */
};

static inline struct json_in json_in__span(const char *p, size_t len)
{
	struct json_in r = {p, p ? p + len : p, false};
	return r;
}

/* ---- primitives, inline: the audit parser's hot loop uses them too ----------------------------
 */

/* past JSON whitespace from @p */
static inline const char *json_in__ws_at(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

static inline bool json_in__is_hex(char ch)
{
	unsigned char c = (unsigned char)ch;

	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/*
 * The first byte at or after @p that ends a run of plain string bytes: a quote, a backslash or a
 * control byte (below 0x20); @end when none. 16 bytes at a time with SSE2, because strings are
 * nearly all of an audit line's bytes.
 */
static inline const char *json_in__str_stop(const char *p, const char *end)
{
#if defined(__SSE2__)
	const __m128i quote = _mm_set1_epi8('"');
	const __m128i bslash = _mm_set1_epi8('\\');
	const __m128i ctl = _mm_set1_epi8(0x1f);

	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash));
		int bits;

		/* unsigned v <= 0x1f exactly when min(v, 0x1f) == v */
		m = _mm_or_si128(m, _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v));
		bits = _mm_movemask_epi8(m);
		if (bits)
			return p + __builtin_ctz((unsigned)bits);
		p += 16;
	}
#endif
	while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
		p++;
	return p;
}

/* ---- the cursor -------------------------------------------------------------------------------
 */

/* skip whitespace */
void json_in__ws(struct json_in *r);
/* after whitespace, is the next byte @c? */
bool json_in__peek(struct json_in *r, char c);
/* after whitespace, consume @c if it is next */
bool json_in__eat(struct json_in *r, char c);

/*
 * The string at the cursor (after whitespace: its opening quote): @out gets the raw bytes
 * between the quotes, KSTR_ESCAPED when they hold a backslash, and the cursor moves past the
 * closing quote. False when there is no string here (cursor unmoved), or when it is unterminated
 * (or strict and holding a control byte): then @out spans what there was and the cursor is at
 * the span's end.
 */
bool json_in__str(struct json_in *r, struct kstr *out);

/*
 * Step over one value of any type and any depth, without recursion: brackets are counted, not
 * paired. False when the cursor is not at a value (a stray ',', ':', closing bracket: cursor
 * unmoved) or the span ends inside it (cursor at the end).
 */
bool json_in__skip(struct json_in *r);

/*
 * An integer at the cursor (an optional '-' and digits; a fraction or exponent is not an
 * integer): false, cursor unmoved, when it is not one or does not fit a long long.
 */
bool json_in__int(struct json_in *r, long long *v);

/*
 * In the object at the cursor, the value of the member whose decoded key is @key: true with
 * @val at that value (the last such member, as in json-c). The cursor @obj is not moved. Keys
 * longer than 256 bytes decoded are never matched.
 */
bool json_in__member(const struct json_in *obj, const char *key, struct json_in *val);

/*
 * The same, but the first such member, and the scan stops there: what a line's head holds is
 * read even when its tail is cut or damaged (the tap keeps head and tail of a long line; the
 * bytes after the cut are no longer aligned with the object's structure). Members of nested
 * objects and keys inside string values are never taken for the object's own.
 */
bool json_in__member_first(const struct json_in *obj, const char *key, struct json_in *val);

/*
 * Decode the JSON string body @raw (@len bytes, as json_in__str hands it out) into @buf (at most
 * @cap bytes, not NUL-terminated). Returns the decoded length, which may exceed @cap (then only
 * @cap bytes were written), or -EINVAL on a malformed escape. \uXXXX becomes UTF-8, a surrogate
 * pair one 4-byte sequence, a lone surrogate U+FFFD (as json-c does); with JSON_IN_NUL_FFFD a
 * \u0000 becomes U+FFFD too, for readers that hand out C strings. A decoded value is never
 * longer than its raw form, so @buf may be @raw itself (decoding in place).
 */
#define JSON_IN_NUL_FFFD 0x1u
long json_in__decode(const char *raw, size_t len, char *buf, size_t cap, unsigned flags);

#endif /* KEYHOLE_JSON_IN_H */
