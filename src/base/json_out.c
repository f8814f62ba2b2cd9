// SPDX-License-Identifier: Apache-2.0
/*
 * json_out: the JSON writer alerts are built with.
 *
 * Output must stay valid JSON and valid UTF-8 whatever an attacker put in a user agent or an
 * object name, because a SIEM that fails to parse an alert drops exactly the alert that mattered.
 * So every string is validated as UTF-8 while it is escaped; bad sequences become U+FFFD.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyhole/json_out.h"

#define JSON_MAX_DEPTH (sizeof(((struct json_out *)0)->need_comma))

void json_out__init(struct json_out *j)
{
	memset(j, 0, sizeof(*j));
}

void json_out__reset(struct json_out *j)
{
	j->len = 0;
	j->depth = 0;
	j->oom = false;
	memset(j->need_comma, 0, sizeof(j->need_comma));
}

void json_out__free(struct json_out *j)
{
	free(j->buf);
	json_out__init(j);
}

/* make room for @more bytes and the NUL after them: the slow path of reserve() */
static bool grow(struct json_out *j, size_t more)
{
	size_t want, cap;
	char *nb;

	if (j->oom)
		return false;
	want = j->len + more + 1;
	if (want <= j->cap)
		return true;
	cap = j->cap ? j->cap : 1024;
	while (cap < want)
		cap *= 2;
	nb = realloc(j->buf, cap);
	if (!nb) {
		j->oom = true;
		return false;
	}
	j->buf = nb;
	j->cap = cap;
	return true;
}

/* inline, as every write asks and the answer is nearly always yes */
static inline bool reserve(struct json_out *j, size_t more)
{
	if (!j->oom && more < j->cap - j->len) /* len < cap always: the NUL is in the buffer */
		return true;
	return grow(j, more);
}

static inline void put(struct json_out *j, const char *s, size_t n)
{
	if (!reserve(j, n))
		return;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static inline void putc_(struct json_out *j, char c)
{
	if (!reserve(j, 1))
		return;
	j->buf[j->len++] = c;
	j->buf[j->len] = '\0';
}

/* a value or key starts: write the separator its level needs */
static void sep(struct json_out *j)
{
	if (j->depth >= JSON_MAX_DEPTH)
		return;
	if (j->need_comma[j->depth])
		putc_(j, ',');
	j->need_comma[j->depth] = true;
}

static void open_(struct json_out *j, char c)
{
	sep(j);
	putc_(j, c);
	if (j->depth + 1 < JSON_MAX_DEPTH) {
		j->depth++;
		j->need_comma[j->depth] = false;
	} else {
		j->oom = true; /* deeper than any alert we build: a bug, refuse the document */
	}
}

static void close_(struct json_out *j, char c)
{
	putc_(j, c);
	if (j->depth > 0)
		j->depth--;
}

void json_out__obj_begin(struct json_out *j)
{
	open_(j, '{');
}

void json_out__obj_end(struct json_out *j)
{
	close_(j, '}');
}

void json_out__arr_begin(struct json_out *j)
{
	open_(j, '[');
}

void json_out__arr_end(struct json_out *j)
{
	close_(j, ']');
}

/* length of a valid UTF-8 sequence at s (n bytes left), 0 if invalid */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0; /* overlong */
		if (c == 0xed && s[1] >= 0xa0)
			return 0; /* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0;
		if (c == 0xf4 && s[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

/*
 * Whether 8 bytes need no escaping: none below 0x20, none at or above 0x80, no '"' and no '\\'
 * (the classic has-zero-byte test, on the word and on it XOR the two special bytes).
 */
static inline bool plain8(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uint64_t x, q, b;

	memcpy(&x, p, 8);
	q = x ^ (ones * '"');
	b = x ^ (ones * '\\');
	/* a byte < 0x20, or zero after the XOR, sets its high bit here; so does a byte >= 0x80 */
	return !(((x - ones * 0x20) | (q - ones) | (b - ones) | x) & highs);
}

/*
 * The quoted, escaped form of @s. Room for the worst case (six bytes per input byte, "\u00XX")
 * is reserved once, and bytes are written straight into the buffer: a call per plain run cost
 * more than the escaping itself on alert-heavy logs.
 */
static void put_escaped(struct json_out *j, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	char *o;

	if (n > (SIZE_MAX - 3) / 6 || !reserve(j, 6 * n + 2)) {
		j->oom = true;
		return;
	}
	o = j->buf + j->len;
	*o++ = '"';
	while (i < n) {
		unsigned char c;
		size_t l;

		/* eight plain bytes at a time (no control, quote, backslash or non-ASCII byte) */
		for (; i + 8 <= n && plain8(p + i); i += 8, o += 8)
			memcpy(o, p + i, 8);
		if (i >= n)
			break;
		/*
		 * a plain tail of fewer than eight bytes: the last eight bytes of the input, plain,
		 * include the ones already written and written as they are, so write all eight over
		 */
		if (n - i < 8 && n >= 8 && plain8(p + n - 8)) {
			memcpy(o - (i - (n - 8)), p + n - 8, 8);
			o += n - i;
			break;
		}
		c = p[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			*o++ = (char)c;
			i++;
		} else if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
			i++;
		} else if (c < 0x20) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			o += 6;
			i++;
		} else if ((l = utf8_len(p + i, n - i)) != 0) {
			memcpy(o, s + i, l);
			o += l;
			i += l;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3); /* U+FFFD for a byte that is not UTF-8 */
			o += 3;
			i++;
		}
	}
	*o++ = '"';
	j->len = (size_t)(o - j->buf);
	j->buf[j->len] = '\0';
}

void json_out__key(struct json_out *j, const char *key)
{
	sep(j);
	put_escaped(j, key, strlen(key));
	putc_(j, ':');
	/* the value that follows must not write a separator */
	if (j->depth < JSON_MAX_DEPTH)
		j->need_comma[j->depth] = false;
}

/* after a key's value, the next key at this level needs a comma */
static void after_value(struct json_out *j)
{
	if (j->depth < JSON_MAX_DEPTH)
		j->need_comma[j->depth] = true;
}

void json_out__key_quoted(struct json_out *j, const char *quoted, size_t n)
{
	sep(j);
	put(j, quoted, n);
	if (j->depth < JSON_MAX_DEPTH)
		j->need_comma[j->depth] = false;
}

void json_out__strn(struct json_out *j, const char *s, size_t n)
{
	sep(j);
	put_escaped(j, s, n);
	after_value(j);
}

void json_out__str(struct json_out *j, const char *s)
{
	json_out__strn(j, s, strlen(s));
}

void json_out__kstr(struct json_out *j, struct kstr s)
{
	char stackbuf[512];
	char *buf = stackbuf;
	long n;

	if (!kstr_present(s)) {
		json_out__null(j);
		return;
	}
	if (!(s.flags & KSTR_ESCAPED)) {
		json_out__strn(j, s.p, s.len);
		return;
	}
	/* a decoded value is never longer than its escaped form */
	if (s.len > sizeof(stackbuf)) {
		buf = malloc(s.len);
		if (!buf) {
			j->oom = true;
			return;
		}
	}
	n = kstr__decode(s, buf, s.len);
	if (n < 0)
		json_out__strn(j, s.p, s.len); /* keep the raw text: still escaped safely */
	else
		json_out__strn(j, buf, (size_t)n);
	if (buf != stackbuf)
		free(buf);
}

void json_out__raw(struct json_out *j, const char *p, size_t n)
{
	sep(j);
	put(j, p, n);
	after_value(j);
}

int json_out__write_str(FILE *f, const char *s)
{
	struct json_out j;
	int r = 0;

	json_out__init(&j);
	put_escaped(&j, s, strlen(s));
	if (j.oom)
		r = -ENOMEM;
	else
		fwrite(j.buf, 1, j.len, f);
	json_out__free(&j);
	return r;
}

/* @v in decimal, as printf's %lld writes it, without printf's cost (three per alert) */
void json_out__int(struct json_out *j, long long v)
{
	char b[24], *o = b + sizeof(b);
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

	do
		*--o = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--o = '-';
	sep(j);
	put(j, o, (size_t)(b + sizeof(b) - o));
	after_value(j);
}

void json_out__bool(struct json_out *j, bool v)
{
	sep(j);
	put(j, v ? "true" : "false", v ? 4 : 5);
	after_value(j);
}

void json_out__null(struct json_out *j)
{
	sep(j);
	put(j, "null", 4);
	after_value(j);
}

/* @v as @w digits, zero-padded, at @o */
static void digits(char *o, unsigned v, int w)
{
	while (w--) {
		o[w] = (char)('0' + v % 10);
		v /= 10;
	}
}

/*
 * "YYYY-MM-DDTHH:MM:SS" of @secs into @b, as strftime writes it, for 1970 to 9999 (false
 * outside). Every alert carries a time, and gmtime_r with strftime cost more than the rest of
 * its head; this is the civil-from-days conversion of Howard Hinnant's date algorithms.
 */
static bool civil_time(int64_t secs, char b[19])
{
	int64_t days = secs / 86400, sod = secs % 86400;
	unsigned doe, yoe, doy, mp, y, m, d;

	if (secs < 0 || secs > 253402300799LL) /* 9999-12-31T23:59:59 */
		return false;
	doe = (unsigned)((days + 719468) % 146097); /* day of a 400-year era starting in March */
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + (unsigned)((days + 719468) / 146097) * 400 + (m <= 2);
	digits(b, y, 4);
	b[4] = '-';
	digits(b + 5, m, 2);
	b[7] = '-';
	digits(b + 8, d, 2);
	b[10] = 'T';
	digits(b + 11, (unsigned)(sod / 3600), 2);
	b[13] = ':';
	digits(b + 14, (unsigned)(sod / 60 % 60), 2);
	b[16] = ':';
	digits(b + 17, (unsigned)(sod % 60), 2);
	return true;
}

void json_out__time_ns(struct json_out *j, int64_t ns)
{
	char b[64];
	struct tm tm;
	time_t secs = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);
	size_t n = 19;

	if (frac < 0) {
		frac += 1000000000;
		secs--;
	}
	if (!civil_time(secs, b)) {
		gmtime_r(&secs, &tm);
		n = strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
	}
	b[n] = '.';
	digits(b + n + 1, (unsigned)(frac / 1000), 6);
	b[n + 7] = 'Z';
	json_out__strn(j, b, n + 8);
}

void json_out__kv_str(struct json_out *j, const char *key, const char *s)
{
	json_out__key(j, key);
	json_out__str(j, s);
}

void json_out__kv_kstr(struct json_out *j, const char *key, struct kstr s)
{
	if (!kstr_present(s))
		return;
	json_out__key(j, key);
	json_out__kstr(j, s);
}

void json_out__kv_int(struct json_out *j, const char *key, long long v)
{
	json_out__key(j, key);
	json_out__int(j, v);
}

void json_out__kv_str_quoted(struct json_out *j, const char *quoted, size_t n, const char *s)
{
	json_out__key_quoted(j, quoted, n);
	json_out__str(j, s);
}

void json_out__kv_kstr_quoted(struct json_out *j, const char *quoted, size_t n, struct kstr s)
{
	if (!kstr_present(s))
		return;
	json_out__key_quoted(j, quoted, n);
	json_out__kstr(j, s);
}

void json_out__kv_int_quoted(struct json_out *j, const char *quoted, size_t n, long long v)
{
	json_out__key_quoted(j, quoted, n);
	json_out__int(j, v);
}
