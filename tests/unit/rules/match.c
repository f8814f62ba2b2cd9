// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/rules/match.c: the field tests rules are written in (address equality as an
 * Elasticsearch ip field sees it, Sigma's case-insensitive equality, list helpers) and the
 * hashing of decoded values the bounded sets key on.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "rules/match.h"

static struct kstr raw(const char *s)
{
	return kstr_lit(s, strlen(s));
}

static struct kstr esc(const char *s)
{
	struct kstr k = {s, (uint32_t)strlen(s), KSTR_ESCAPED};
	return k;
}

static const struct kstr absent = {NULL, 0, 0};

Test(match, ip_equality_is_by_address)
{
	cr_expect(match__ip_eq(raw("127.0.0.1"), "127.0.0.1"));
	cr_expect(match__ip_eq(raw("::ffff:127.0.0.1"), "127.0.0.1"));
	cr_expect(match__ip_eq(raw("::FFFF:7f00:1"), "127.0.0.1"));
	cr_expect(match__ip_eq(raw("2001:db8:0:0::1"), "2001:db8::1"));
	cr_expect(match__ip_eq(esc("127.0.0.\\u0031"), "127.0.0.1"));
	cr_expect_not(match__ip_eq(raw("127.0.0.2"), "127.0.0.1"));
	cr_expect_not(match__ip_eq(raw("::1"), "127.0.0.1"));
	cr_expect_not(match__ip_eq(raw("127.0.0.1 "), "127.0.0.1"), "not an address: text compare");
	cr_expect(match__ip_eq(raw("localhost"), "localhost"), "not addresses: text compare");
	cr_expect_not(match__ip_eq(raw(""), "127.0.0.1"));
	cr_expect_not(match__ip_eq(absent, "127.0.0.1"));
	cr_expect_not(match__ip_eq(esc("127.0.0.1\\u0000"), "127.0.0.1"), "embedded NUL");
}

Test(match, nocase_equality_is_whole_value)
{
	cr_expect(match__eq_nocase(raw("Secrets"), "secrets"));
	cr_expect(match__eq_nocase(esc("SECR\\u0045TS"), "secrets"));
	cr_expect_not(match__eq_nocase(raw("secret"), "secrets"));
	cr_expect_not(match__eq_nocase(raw("secretsx"), "secrets"));
	cr_expect_not(match__eq_nocase(absent, "secrets"));
	cr_expect(match__eq_nocase(raw(""), ""));
}

Test(match, lists)
{
	static const char *const verbs[] = {"get", "list", NULL};
	static const char *const globs[] = {"curl*", "*kali-amd64", NULL};
	static const char *const none[] = {NULL};
	struct kh_strlist g = {.n = 2};

	cr_expect(match__any_eq(raw("list"), verbs));
	cr_expect_not(match__any_eq(raw("watch"), verbs));
	cr_expect_not(match__any_eq(raw("get"), none));
	cr_expect(match__any_glob(raw("curl/8"), globs));
	cr_expect(match__any_glob(raw("x-kali-amd64"), globs));
	cr_expect_not(match__any_glob(raw("x-kali-amd64 "), globs));
	cr_expect(
	    match__any_prefix(raw("system:node:a"), (const char *const[]){"system:node:", NULL}));
	g.v[0] = raw("system:authenticated");
	g.v[1] = raw("system:serviceaccounts:cluster-fleet-local-local-abc");
	cr_expect(match__strlist_any_glob(
	    &g, (const char *const[]){"system:serviceaccounts:cluster-fleet-local-local-*", NULL}));
	g.n = 1;
	cr_expect_not(match__strlist_any_glob(
	    &g, (const char *const[]){"system:serviceaccounts:cluster-fleet-*", NULL}));
}

Test(match, source_ip_is_the_first)
{
	struct audit_event ev;

	memset(&ev, 0, sizeof(ev));
	cr_expect_not(kstr_present(match__source_ip(&ev)));
	ev.source_ips.n = 2;
	ev.source_ips.v[0] = raw("10.0.0.1");
	ev.source_ips.v[1] = raw("10.0.0.2");
	cr_expect(kstr__eq(match__source_ip(&ev), "10.0.0.1"));
}

static uint64_t h(struct kstr s)
{
	return match__hash_final(match__hash_kstr(KH_HASH_INIT, s));
}

Test(match, hashes_see_decoded_values_and_field_bounds)
{
	cr_expect_eq(h(raw("alice")), h(esc("\\u0061lice")));
	cr_expect_neq(h(raw("alice")), h(raw("alicf")));
	cr_expect_neq(h(raw("")), h(absent), "empty and absent are different keys");
	/* field boundaries count: ("ab","c") is not ("a","bc") */
	cr_expect_neq(match__hash_kstr(match__hash_kstr(KH_HASH_INIT, raw("ab")), raw("c")),
		      match__hash_kstr(match__hash_kstr(KH_HASH_INIT, raw("a")), raw("bc")));
	cr_expect_neq(match__hash_final(0), 0);
}
