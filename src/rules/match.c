// SPDX-License-Identifier: Apache-2.0
/*
 * match: field tests with the query languages' semantics (see match.h).
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "rules/match.h"

bool match__any_eq(struct kstr s, const char *const *list)
{
	for (; list && *list; list++)
		if (kstr__eq(s, *list))
			return true;
	return false;
}

bool match__any_prefix(struct kstr s, const char *const *list)
{
	for (; list && *list; list++)
		if (kstr__has_prefix(s, *list))
			return true;
	return false;
}

bool match__any_glob(struct kstr s, const char *const *patterns)
{
	for (; patterns && *patterns; patterns++)
		if (kstr__glob(s, *patterns))
			return true;
	return false;
}

bool match__strlist_any_glob(const struct kh_strlist *l, const char *const *patterns)
{
	for (uint32_t i = 0; i < l->n; i++)
		if (match__any_glob(l->v[i], patterns))
			return true;
	return false;
}

/* decode @s into @buf; false when absent, malformed or longer than @cap */
static bool decode_fit(struct kstr s, char *buf, size_t cap, size_t *len)
{
	long n;

	if (!kstr_present(s))
		return false;
	n = kstr__decode(s, buf, cap);
	if (n < 0 || (size_t)n > cap)
		return false;
	*len = (size_t)n;
	return true;
}

bool match__eq_nocase(struct kstr s, const char *lit)
{
	size_t want = strlen(lit), len;
	char buf[256];

	if (want > sizeof(buf))
		return kstr__eq(s, lit);
	/* most values carry no escapes: compare the raw bytes, no decoding */
	if (kstr_present(s) && !(s.flags & KSTR_ESCAPED))
		return s.len == want && strncasecmp(s.p, lit, want) == 0;
	if (!decode_fit(s, buf, sizeof(buf), &len) || len != want)
		return false;
	return strncasecmp(buf, lit, len) == 0;
}

bool match__any_eq_nocase(struct kstr s, const char *const *list)
{
	for (; list && *list; list++)
		if (match__eq_nocase(s, *list))
			return true;
	return false;
}

struct kstr match__source_ip(const struct audit_event *ev)
{
	struct kstr none = {NULL, 0, 0};

	return ev->source_ips.n ? ev->source_ips.v[0] : none;
}

/* parse an IPv4 or IPv6 text into 16 bytes, IPv4 as IPv4-mapped IPv6 (as Elasticsearch does) */
static bool ip_parse(const char *txt, unsigned char out[16])
{
	struct in_addr v4;

	if (inet_pton(AF_INET, txt, &v4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &v4, 4);
		return true;
	}
	return inet_pton(AF_INET6, txt, out) == 1;
}

bool match__ip_eq(struct kstr s, const char *ip)
{
	unsigned char a[16], b[16];
	char buf[INET6_ADDRSTRLEN + 1];
	size_t len;

	if (!kstr_present(s))
		return false;
	if (!decode_fit(s, buf, sizeof(buf) - 1, &len))
		return kstr__eq(s, ip);
	buf[len] = '\0';
	if (strlen(buf) != len || !ip_parse(buf, a) || !ip_parse(ip, b))
		return kstr__eq(s, ip);
	return memcmp(a, b, 16) == 0;
}

bool match__any_ip_eq(struct kstr s, const char *const *ips)
{
	for (; ips && *ips; ips++)
		if (match__ip_eq(s, *ips))
			return true;
	return false;
}

uint64_t match__hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull; /* FNV-1a; match__hash_final mixes the result */
	}
	return h;
}

uint64_t match__hash_kstr(uint64_t h, struct kstr s)
{
	unsigned char tag = kstr_present(s) ? 1 : 0;
	char buf[1024];
	uint32_t len32;
	size_t len;

	h = match__hash_bytes(h, &tag, 1);
	if (!tag)
		return h;
	/* hash the decoded value when it fits, so two spellings of one value agree */
	if ((s.flags & KSTR_ESCAPED) && decode_fit(s, buf, sizeof(buf), &len))
		h = match__hash_bytes(h, buf, len);
	else
		h = match__hash_bytes(h, s.p, len = s.len);
	len32 = (uint32_t)len;
	return match__hash_bytes(h, &len32, sizeof(len32)); /* length ends the field: no ambiguity
							     */
}

uint64_t match__hash_final(uint64_t h)
{
	/* splitmix64's finaliser: every input bit reaches every output bit */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h ? h : 1;
}
