// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/base/kstr.c: JSON string decoding (json-c's rules for surrogates), and that every
 * comparison sees the decoded value, so an escaped spelling matches exactly what it decodes to.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/kstr.h"

static struct kstr esc(const char *raw)
{
	struct kstr s = {raw, (uint32_t)strlen(raw), KSTR_ESCAPED};
	return s;
}

static struct kstr raw(const char *r)
{
	return kstr_lit(r, strlen(r));
}

/* decode @in and compare to @len bytes of @want */
static void expect_decode(const char *in, const char *want, size_t len)
{
	char buf[64];
	long n = kstr__decode(esc(in), buf, sizeof(buf));

	cr_assert_eq(n, (long)len, "decode(%s) length %ld, want %zu", in, n, len);
	cr_assert(!memcmp(buf, want, len), "decode(%s) bytes differ", in);
}

Test(kstr, decode_simple_escapes)
{
	expect_decode("a\\\"b", "a\"b", 3);
	expect_decode("\\\\", "\\", 1);
	expect_decode("\\/api\\/v1", "/api/v1", 7);
	expect_decode("\\b\\f\\n\\r\\t", "\b\f\n\r\t", 5);
	expect_decode("plain", "plain", 5);
	expect_decode("", "", 0);
}

Test(kstr, decode_unicode_to_utf8)
{
	expect_decode("\\u0041", "A", 1);
	expect_decode("\\u00e9", "\xc3\xa9", 2);
	expect_decode("\\u00E9", "\xc3\xa9", 2);
	expect_decode("\\u20ac", "\xe2\x82\xac", 3);
	expect_decode("x\\u0000y", "x\0y", 3);
	/* U+1F600 as a surrogate pair */
	expect_decode("\\ud83d\\ude00", "\xf0\x9f\x98\x80", 4);
	expect_decode("\\uD83D\\uDE00!", "\xf0\x9f\x98\x80!", 5);
}

Test(kstr, decode_lone_surrogates_become_replacement)
{
	/* as json-c 0.16 decodes them (checked against it in the differential test) */
	expect_decode("\\ud83d", "\xef\xbf\xbd", 3);
	expect_decode("\\ude00", "\xef\xbf\xbd", 3);
	expect_decode("\\ud83dx", "\xef\xbf\xbdx", 4);
	expect_decode("\\ud83d\\u0041",
		      "\xef\xbf\xbd"
		      "A",
		      4);
	expect_decode("\\ud83d\\ud83d\\ude00", "\xef\xbf\xbd\xf0\x9f\x98\x80", 7);
	expect_decode("\\ud83d\\n", "\xef\xbf\xbd\n", 4);
}

Test(kstr, decode_malformed_escapes)
{
	char buf[16];

	cr_assert_eq(kstr__decode(esc("a\\x"), buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(kstr__decode(esc("a\\"), buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(kstr__decode(esc("\\u12"), buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(kstr__decode(esc("\\u12g4"), buf, sizeof(buf)), -EINVAL);
}

Test(kstr, decode_reports_full_length_past_cap)
{
	char buf[4] = {0};

	cr_assert_eq(kstr__decode(esc("abc\\u00e9def"), buf, 4), 8);
	cr_assert(!memcmp(buf, "abc\xc3", 4));
	cr_assert_eq(kstr__decode(raw("abcdefgh"), buf, 2), 8);
	cr_assert(!memcmp(buf, "ab", 2));
	cr_assert_eq(kstr__decode(raw("abcdefgh"), NULL, 0), 8);
}

Test(kstr, absent_matches_nothing)
{
	struct kstr none = {0};

	cr_assert(!kstr_present(none));
	cr_assert(!kstr__eq(none, ""));
	cr_assert(!kstr__has_prefix(none, ""));
	cr_assert(!kstr__has_suffix(none, ""));
	cr_assert(!kstr__contains(none, ""));
	cr_assert(!kstr__glob(none, "*"));
	cr_assert(!kstr__eq_kstr(none, none));
	cr_assert(!kstr_nonempty(none));
}

Test(kstr, empty_string_is_present)
{
	struct kstr e = raw("");

	cr_assert(kstr_present(e));
	cr_assert(!kstr_nonempty(e));
	cr_assert(kstr__eq(e, ""));
	cr_assert(!kstr__eq(e, "a"));
	cr_assert(kstr__glob(e, "*"));
	cr_assert(!kstr__glob(e, "?"));
}

Test(kstr, comparisons_on_raw_bytes)
{
	struct kstr s = raw("system:serviceaccount:kube-system:default");

	cr_assert(kstr__eq(s, "system:serviceaccount:kube-system:default"));
	cr_assert(!kstr__eq(s, "system:serviceaccount:kube-system:defaul"));
	cr_assert(!kstr__eq(s, "system:serviceaccount:kube-system:defaultx"));
	cr_assert(kstr__has_prefix(s, "system:serviceaccount:"));
	cr_assert(!kstr__has_prefix(s, "system:node:"));
	cr_assert(kstr__has_suffix(s, ":default"));
	cr_assert(!kstr__has_suffix(s, ":kube-system"));
	cr_assert(kstr__contains(s, ":kube-system:"));
	cr_assert(!kstr__contains(s, "kube-public"));
	cr_assert(kstr__contains(s, ""));
}

Test(kstr, comparisons_on_decoded_value)
{
	/* "secrets" written with an escaped e, and a slash written as \/ */
	struct kstr s = esc("secr\\u0065ts");
	struct kstr uri = esc("\\/api\\/v1\\/secrets");

	cr_assert(kstr__eq(s, "secrets"));
	cr_assert(!kstr__eq(s, "secr\\u0065ts"));
	cr_assert(kstr__has_prefix(s, "secre"));
	cr_assert(kstr__has_suffix(s, "ets"));
	cr_assert(kstr__contains(s, "cre"));
	cr_assert(kstr__glob(s, "se*ts"));
	cr_assert(kstr__has_prefix(uri, "/api/v1/"));
	cr_assert(kstr__has_suffix(uri, "/secrets"));
	cr_assert(!kstr__has_suffix(uri, "\\/secrets"));
	/* a malformed escape matches nothing rather than its raw bytes */
	cr_assert(!kstr__eq(esc("a\\qb"), "a\\qb"));
}

Test(kstr, eq_kstr_across_spellings)
{
	cr_assert(kstr__eq_kstr(raw("curl/8.5.0"), esc("curl\\/8.5.0")));
	cr_assert(kstr__eq_kstr(esc("\\u0063url"), esc("c\\u0075rl")));
	cr_assert(kstr__eq_kstr(raw("abc"), raw("abc")));
	cr_assert(!kstr__eq_kstr(raw("abc"), raw("abd")));
	cr_assert(!kstr__eq_kstr(raw("abc"), esc("ab")));
	cr_assert(!kstr__eq_kstr(raw(""), raw("a")));
}

Test(kstr, glob_is_case_sensitive_kql_wildcard)
{
	cr_assert(kstr__glob(raw("curl/8.5.0"), "curl*"));
	cr_assert(!kstr__glob(raw("Curl/8.5.0"), "curl*"));
	cr_assert(kstr__glob(raw("Python-urllib/3.11"), "Python*"));
	cr_assert(!kstr__glob(raw("python-requests/2.31"), "Python*"));
	cr_assert(kstr__glob(raw("Mozilla/5.0 (X11; Linux x86_64) kali-amd64"), "*kali-amd64"));
	cr_assert(!kstr__glob(raw("kali-amd64 Mozilla"), "*kali-amd64"));
	cr_assert(kstr__glob(raw("x (distrib#kali 2024) y"), "*distrib#kali*"));
	cr_assert(kstr__glob(raw("kali-arm64"), "*kali-arm64*"));
	cr_assert(kstr__glob(raw("abc"), "a?c"));
	cr_assert(!kstr__glob(raw("ac"), "a?c"));
	cr_assert(kstr__glob(raw("abc"), "***"));
	cr_assert(kstr__glob(raw("abc"), "abc"));
	cr_assert(!kstr__glob(raw("abc"), "ab"));
	cr_assert(!kstr__glob(raw("abc"), ""));
	cr_assert(kstr__glob(raw("axbxc"), "a*b*c"));
	cr_assert(kstr__glob(raw("aXbYbZc"), "a*b*c"));
	cr_assert(!kstr__glob(raw("aXbYbZ"), "a*b*c"));
	cr_assert(kstr__glob(raw("mississippi"), "*sip*"));
	cr_assert(kstr__glob(raw("mississippi"), "m*iss*ppi"));
	/* a backslash quotes the next pattern byte */
	cr_assert(kstr__glob(raw("a*b"), "a\\*b"));
	cr_assert(!kstr__glob(raw("axb"), "a\\*b"));
	cr_assert(kstr__glob(raw("a?b"), "a\\?b"));
	cr_assert(!kstr__glob(raw("axb"), "a\\?b"));
}

Test(kstr, glob_hostile_input_terminates)
{
	size_t n = 20000;
	char *s = malloc(n + 1);

	cr_assert_not_null(s);
	memset(s, 'a', n);
	s[n] = '\0';
	/* worst case for a backtracking matcher: many stars, no match */
	cr_assert(!kstr__glob(kstr_lit(s, n), "*a*a*a*a*a*a*a*a*b"));
	cr_assert(kstr__glob(kstr_lit(s, n), "*a*a*a*a*a*a*a*a"));
	free(s);
}

Test(kstr, long_escaped_values_compare_exactly)
{
	/* longer than the stack buffer: decoded on the heap, still exact */
	size_t n = 5000;
	char *r = malloc(n + 16);

	cr_assert_not_null(r);
	memset(r, 'a', n);
	strcpy(r + n, "\\u0062\\/z");
	{
		struct kstr s = esc(r);
		char *want = malloc(n + 4);

		cr_assert_not_null(want);
		memset(want, 'a', n);
		strcpy(want + n, "b/z");
		cr_assert(kstr__eq(s, want));
		cr_assert(kstr__has_suffix(s, "ab/z"));
		cr_assert(kstr__contains(s, "aab/"));
		cr_assert(kstr__glob(s, "a*b/?"));
		cr_assert(kstr__eq_kstr(s, kstr_lit(want, strlen(want))));
		want[n] = 'c';
		cr_assert(!kstr__eq(s, want));
		free(want);
	}
	free(r);
}
