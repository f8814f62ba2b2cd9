// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/base/json_in.c, the one JSON reader: strings as slices (escapes flagged, decoded
 * on request, in place too), values of any depth stepped over without recursion, integers,
 * member lookup by decoded key, and every read kept inside the span whatever it holds.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/json_in.h"

static struct json_in at(const char *s)
{
	return json_in__span(s, strlen(s));
}

Test(json_in, whitespace_peek_eat)
{
	struct json_in r = at(" \t\r\n [1]");

	cr_expect_not(json_in__peek(&r, '{'));
	cr_expect(json_in__peek(&r, '['));
	cr_expect_eq(*r.p, '[');
	cr_expect(json_in__eat(&r, '['));
	cr_expect_eq(*r.p, '1');
}

Test(json_in, string_slices_and_escape_flag)
{
	struct json_in r = at("  \"plain\" \"a\\\"b\\\\\" x");
	struct kstr k;

	cr_assert(json_in__str(&r, &k));
	cr_expect_eq(k.len, 5);
	cr_expect(!memcmp(k.p, "plain", 5));
	cr_expect_eq(k.flags, 0);
	cr_assert(json_in__str(&r, &k));
	cr_expect_eq(k.len, 6); /* raw: a\"b\\ */
	cr_expect_eq(k.flags, KSTR_ESCAPED);
	cr_expect(kstr__eq(k, "a\"b\\"));
	cr_expect_not(json_in__str(&r, &k), "no string at x");
	cr_expect_eq(*r.p, 'x', "the cursor stays where no string is");
}

Test(json_in, unterminated_string_stops_at_the_end)
{
	const char *cases[] = {"\"abc", "\"ab\\", "\"ab\\\"", "\"0123456789abcdefghij"};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_in r = at(cases[i]);
		struct kstr k;

		cr_expect_not(json_in__str(&r, &k), "%s", cases[i]);
		cr_expect_eq(r.p, r.end, "%s", cases[i]);
		cr_expect_eq(k.p + k.len, r.end, "%s: the slice never passes the span", cases[i]);
	}
}

Test(json_in, strict_refuses_control_bytes)
{
	struct json_in lax = at("\"a\tb\""), strict = at("\"a\tb\"");
	struct kstr k;

	cr_expect(json_in__str(&lax, &k));
	cr_expect_eq(k.len, 3);
	strict.strict = true;
	cr_expect_not(json_in__str(&strict, &k));
}

Test(json_in, long_strings_cross_the_vector_loop)
{
	char buf[200];
	struct json_in r;
	struct kstr k;

	memset(buf, 'x', sizeof(buf));
	buf[0] = '"';
	buf[70] = '\\';
	buf[71] = '"';
	buf[150] = '"';
	r = json_in__span(buf, sizeof(buf));
	cr_assert(json_in__str(&r, &k));
	cr_expect_eq(k.len, 149);
	cr_expect_eq(k.flags, KSTR_ESCAPED);
	cr_expect_eq(r.p, buf + 151);
}

Test(json_in, skip_every_kind_of_value)
{
	struct json_in r = at("{\"a\":[1,2.5e3,true,null,{\"b\":\"]}\"}],\"c\":{}} , -12 false "
			      "\"s\" [] x");

	cr_assert(json_in__skip(&r));
	cr_expect(json_in__eat(&r, ','));
	cr_assert(json_in__skip(&r));
	cr_expect_eq(*r.p, ' ');
	cr_assert(json_in__skip(&r));
	cr_assert(json_in__skip(&r));
	cr_assert(json_in__skip(&r));
	json_in__ws(&r);
	cr_expect_eq(*r.p, 'x');
}

Test(json_in, skip_refuses_what_is_not_a_value)
{
	const char *stray[] = {"]", "}", ",", ":"};

	for (size_t i = 0; i < 4; i++) {
		struct json_in r = at(stray[i]);

		cr_expect_not(json_in__skip(&r), "%s", stray[i]);
		cr_expect_eq(r.p, r.end - 1, "%s: unmoved", stray[i]);
	}
	struct json_in r = at("[1, {\"a\": ");

	cr_expect_not(json_in__skip(&r), "cut inside the value");
	cr_expect_eq(r.p, r.end);
	r = at("   ");
	cr_expect_not(json_in__skip(&r));
}

Test(json_in, skip_any_depth_without_recursion)
{
	size_t depth = 1000000, n = 2 * depth + 3;
	char *s = malloc(n);
	struct json_in r;

	cr_assert_not_null(s);
	memset(s, '[', depth);
	memset(s + depth, ']', depth);
	memcpy(s + 2 * depth, ",7", 3);
	r = json_in__span(s, n - 1);
	cr_assert(json_in__skip(&r), "a million levels, on a thread's default stack");
	cr_expect_eq(r.p, s + 2 * depth);
	free(s);
}

Test(json_in, integers)
{
	struct json_in r = at(" 42 -7 9223372036854775807 -9223372036854775808");
	long long v;

	cr_assert(json_in__int(&r, &v));
	cr_expect_eq(v, 42);
	cr_assert(json_in__int(&r, &v));
	cr_expect_eq(v, -7);
	cr_assert(json_in__int(&r, &v));
	cr_expect_eq(v, 9223372036854775807LL);
	cr_assert(json_in__int(&r, &v));
	cr_expect_eq(v, (-9223372036854775807LL - 1));

	const char *bad[] = {"9223372036854775808", "1.5", "2e3", "-", "x", "\"1\""};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = at(bad[i]);
		cr_expect_not(json_in__int(&r, &v), "%s", bad[i]);
		cr_expect_eq(r.p, bad[i], "%s: unmoved", bad[i]);
	}
}

Test(json_in, member_lookup_by_decoded_key)
{
	struct json_in o = at("{\"skip\":{\"verb\":\"no\"},\"v\\u0065rb\":\"get\",\"n\":3,"
			      "\"n\":[4]}"),
		       v;
	const char *start = o.p;
	struct kstr k;
	long long i;

	cr_assert(json_in__member(&o, "verb", &v), "an escaped key matches decoded");
	cr_assert(json_in__str(&v, &k));
	cr_expect(kstr__eq(k, "get"));
	cr_assert(json_in__member(&o, "n", &v));
	cr_expect(json_in__eat(&v, '['), "the last duplicate wins, as in json-c");
	cr_assert(json_in__int(&v, &i));
	cr_expect_eq(i, 4);
	cr_expect_not(json_in__member(&o, "absent", &v));
	cr_expect_not(json_in__member(&o, "ver", &v), "no prefix match");
	cr_expect_eq(o.p, start, "the object cursor does not move");
	o = at("[\"verb\"]");
	cr_expect_not(json_in__member(&o, "verb", &v), "not an object");
	o = at("{}");
	cr_expect_not(json_in__member(&o, "verb", &v));
}

Test(json_in, first_member_stops_at_the_first_and_reads_a_cut_object)
{
	struct json_in o = at("{\"skip\":{\"n\":0},\"s\":\"\\\"n\\\":9\",\"n\":3,\"n\":[4]}"), v;
	long long i;

	cr_assert(json_in__member_first(&o, "n", &v));
	cr_assert(json_in__int(&v, &i), "the first duplicate, not a nested key or a quoted one");
	cr_expect_eq(i, 3);
	/* a head whose tail is gone: the members before the cut are still read */
	o = at("{\"id\":\"a\",\"stage\":\"x\",\"requestObject\":{\"id\":\"b\",\"tr");
	cr_assert(json_in__member_first(&o, "stage", &v));
	cr_assert(json_in__member_first(&o, "id", &v));
	{
		struct kstr k;

		cr_assert(json_in__str(&v, &k));
		cr_expect(kstr__eq(k, "a"));
	}
	cr_expect_not(json_in__member_first(&o, "tr", &v));
	o = at("{}");
	cr_expect_not(json_in__member_first(&o, "n", &v));
}

Test(json_in, decode_bounded_and_in_place)
{
	char raw[] = "a\\u00e9\\ud83d\\ude00\\n\\u0000z";
	char buf[4];
	long n;

	n = json_in__decode(raw, strlen(raw), buf, sizeof(buf), 0);
	cr_expect_eq(n, 1 + 2 + 4 + 1 + 1 + 1, "the full length, past the cap");
	cr_expect(!memcmp(buf, "a\xc3\xa9\xf0", 4), "only cap bytes written");
	n = json_in__decode(raw, strlen(raw), raw, strlen(raw), JSON_IN_NUL_FFFD);
	cr_assert_eq(n, 1 + 2 + 4 + 1 + 3 + 1);
	cr_expect(!memcmp(raw, "a\xc3\xa9\xf0\x9f\x98\x80\n\xef\xbf\xbdz", (size_t)n),
		  "decoded in place; \\u0000 as U+FFFD on request");
	cr_expect_eq(json_in__decode("\\x", 2, buf, sizeof(buf), 0), -EINVAL);
	cr_expect_eq(json_in__decode("\\u12", 4, buf, sizeof(buf), 0), -EINVAL);
}
