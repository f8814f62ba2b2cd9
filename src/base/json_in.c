// SPDX-License-Identifier: Apache-2.0
/*
 * json_in: the cursor every JSON reader in the tree is built on (see keyhole/json_in.h), and the
 * one JSON string decoder (kstr__decode is it, for slices).
 *
 * Decoding follows json-c: \uXXXX becomes UTF-8, a surrogate pair one 4-byte sequence, a lone
 * surrogate U+FFFD, so a value compares equal however it was escaped ("secr\u0065ts").
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "keyhole/json_in.h"

/* member keys json_in__member compares decoded, on the stack */
#define JSON_IN_KEY_MAX 256

void json_in__ws(struct json_in *r)
{
	r->p = json_in__ws_at(r->p, r->end);
}

bool json_in__peek(struct json_in *r, char c)
{
	json_in__ws(r);
	return r->p < r->end && *r->p == c;
}

bool json_in__eat(struct json_in *r, char c)
{
	if (!json_in__peek(r, c))
		return false;
	r->p++;
	return true;
}

bool json_in__str(struct json_in *r, struct kstr *out)
{
	const char *s, *p;
	uint32_t flags = 0;

	if (!json_in__peek(r, '"'))
		return false;
	s = p = r->p + 1;
	for (;;) {
		p = json_in__str_stop(p, r->end);
		if (p >= r->end)
			break;
		if (*p == '"') {
			*out = (struct kstr){s, (uint32_t)(p - s), flags};
			r->p = p + 1;
			return true;
		}
		if (*p == '\\') {
			flags = KSTR_ESCAPED;
			if (r->end - p < 2)
				break; /* a backslash ends the span: never past it */
			p += 2;
			continue;
		}
		if (r->strict)
			break; /* a control byte */
		p++;
	}
	*out = (struct kstr){s, (uint32_t)(r->end - s), flags};
	r->p = r->end;
	return false;
}

/* where a number or literal ends; a NUL is no part of one either */
static bool is_delim(char c)
{
	switch (c) {
	case ',':
	case ':':
	case '{':
	case '}':
	case '[':
	case ']':
	case '"':
	case ' ':
	case '\t':
	case '\r':
	case '\n':
	case '\0':
		return true;
	default:
		return false;
	}
}

bool json_in__skip(struct json_in *r)
{
	size_t open = 0;
	struct kstr s;

	do {
		json_in__ws(r);
		if (r->p >= r->end)
			return false;
		switch (*r->p) {
		case '"':
			if (!json_in__str(r, &s))
				return false;
			break;
		case '{':
		case '[':
			open++;
			r->p++;
			break;
		case '}':
		case ']':
			if (!open)
				return false;
			open--;
			r->p++;
			break;
		case ',':
		case ':':
			if (!open)
				return false;
			r->p++;
			break;
		default:
			/* number, true, false, null: its first byte, then a run up to a delimiter
			 */
			r->p++;
			while (r->p < r->end && !is_delim(*r->p))
				r->p++;
			break;
		}
	} while (open);
	return true;
}

bool json_in__int(struct json_in *r, long long *v)
{
	const char *p;
	bool neg;
	unsigned long long u = 0, lim;

	json_in__ws(r);
	p = r->p;
	neg = p < r->end && *p == '-';
	p += neg;
	if (p >= r->end || *p < '0' || *p > '9')
		return false;
	lim = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
	for (; p < r->end && *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (u > (lim - d) / 10)
			return false;
		u = u * 10 + d;
	}
	if (p < r->end && (*p == '.' || *p == 'e' || *p == 'E'))
		return false;
	*v = neg ? (long long)(0 - u) : (long long)u;
	r->p = p;
	return true;
}

/* does the key slice @k decode to @key? */
static bool key_is(struct kstr k, const char *key, size_t klen)
{
	char buf[JSON_IN_KEY_MAX];
	long n;

	if (!(k.flags & KSTR_ESCAPED))
		return k.len == klen && !memcmp(k.p, key, klen);
	if (k.len < klen) /* decoding only shrinks */
		return false;
	n = json_in__decode(k.p, k.len, buf, sizeof(buf), 0);
	return n >= 0 && (size_t)n == klen && klen <= sizeof(buf) && !memcmp(buf, key, klen);
}

/* the last member named @key, or the first when @first (then the scan stops there) */
static bool member(const struct json_in *obj, const char *key, struct json_in *val, bool first)
{
	struct json_in r = *obj;
	size_t klen = strlen(key);
	bool found = false;
	struct kstr k;

	if (!json_in__eat(&r, '{') || json_in__eat(&r, '}'))
		return false;
	for (;;) {
		if (!json_in__str(&r, &k) || !json_in__eat(&r, ':'))
			return found;
		json_in__ws(&r);
		if (key_is(k, key, klen)) {
			*val = r;
			found = true;
			if (first)
				return true;
		}
		if (!json_in__skip(&r) || !json_in__eat(&r, ','))
			return found;
	}
}

bool json_in__member(const struct json_in *obj, const char *key, struct json_in *val)
{
	return member(obj, key, val, false);
}

bool json_in__member_first(const struct json_in *obj, const char *key, struct json_in *val)
{
	return member(obj, key, val, true);
}

/* ---- the string decoder -----------------------------------------------------------------------
 */

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

long json_in__decode(const char *raw, size_t len, char *buf, size_t cap, unsigned flags)
{
	const char *p = raw, *end = raw + len;
	size_t n = 0;

	while (p < end) {
		const char *bs = memchr(p, '\\', (size_t)(end - p));
		size_t run = (size_t)((bs ? bs : end) - p);
		uint32_t cp;
		long used;

		if (n < cap) /* memmove: @buf may be @raw (in place, never ahead of the reading) */
			memmove(buf + n, p, run < cap - n ? run : cap - n);
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
			put(buf, cap, &n, (unsigned char)p[1]);
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
			if (cp == 0 && (flags & JSON_IN_NUL_FFFD))
				cp = 0xfffd;
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
