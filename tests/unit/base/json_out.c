// SPDX-License-Identifier: Apache-2.0
/* Tests for src/base/json_out.c: output stays valid JSON and UTF-8 for any input bytes. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyhole/json_out.h"

static json_object *parse(struct json_out *j)
{
	json_object *o;

	cr_assert(!j->oom);
	o = json_tokener_parse(j->buf);
	cr_assert_not_null(o, "not valid JSON: %s", j->buf);
	return o;
}

Test(json_out, nested_objects_and_arrays)
{
	struct json_out j;
	json_object *o, *v;

	json_out__init(&j);
	json_out__obj_begin(&j);
	json_out__kv_str(&j, "a", "x");
	json_out__key(&j, "rule");
	json_out__obj_begin(&j);
	json_out__kv_int(&j, "risk_score", 73);
	json_out__obj_end(&j);
	json_out__key(&j, "ids");
	json_out__arr_begin(&j);
	json_out__str(&j, "1");
	json_out__str(&j, "2");
	json_out__arr_end(&j);
	json_out__key(&j, "empty");
	json_out__arr_begin(&j);
	json_out__arr_end(&j);
	json_out__kv_str(&j, "z", "last");
	json_out__obj_end(&j);
	cr_assert_str_eq(j.buf, "{\"a\":\"x\",\"rule\":{\"risk_score\":73},\"ids\":[\"1\",\"2\"],"
				"\"empty\":[],\"z\":\"last\"}");
	o = parse(&j);
	cr_assert(json_object_object_get_ex(o, "ids", &v));
	cr_assert_eq(json_object_array_length(v), 2);
	json_object_put(o);
	json_out__free(&j);
}

Test(json_out, hostile_bytes_stay_valid)
{
	struct json_out j;
	char all[256];
	json_object *o, *v;

	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	json_out__init(&j);
	json_out__obj_begin(&j);
	json_out__key(&j, "bytes");
	json_out__strn(&j, all, sizeof(all));
	json_out__kv_str(&j, "overlong", "\xc0\xaf\xe0\x80\xaf");
	json_out__kv_str(&j, "surrogate", "\xed\xa0\x80");
	json_out__kv_str(&j, "ok", "caf\xc3\xa9 \xf0\x9f\x94\x91");
	json_out__obj_end(&j);
	o = parse(&j);
	cr_assert(json_object_object_get_ex(o, "ok", &v));
	cr_assert_str_eq(json_object_get_string(v), "caf\xc3\xa9 \xf0\x9f\x94\x91");
	cr_assert(json_object_object_get_ex(o, "bytes", &v));
	/* 0x00-0x7f survive exactly; every byte >= 0x80 alone is one U+FFFD */
	cr_assert_eq(json_object_get_string_len(v), 128 + 128 * 3);
	cr_assert(memcmp(json_object_get_string(v), all, 128) == 0);
	json_object_put(o);
	json_out__free(&j);
}

Test(json_out, kstr_escaped_is_decoded_once)
{
	struct json_out j;
	struct kstr s = {"a\\\"b\\u00e9\\/", 12, KSTR_ESCAPED};
	json_object *o, *v;

	json_out__init(&j);
	json_out__obj_begin(&j);
	json_out__kv_kstr(&j, "v", s);
	json_out__kv_kstr(&j, "absent", (struct kstr){0});
	json_out__obj_end(&j);
	o = parse(&j);
	cr_assert(json_object_object_get_ex(o, "v", &v));
	cr_assert_str_eq(json_object_get_string(v), "a\"b\xc3\xa9/");
	cr_assert(!json_object_object_get_ex(o, "absent", &v));
	json_object_put(o);
	json_out__free(&j);
}

Test(json_out, time_is_rfc3339_utc)
{
	struct json_out j;

	json_out__init(&j);
	json_out__time_ns(&j, 1795460806123456789LL);
	cr_assert_str_eq(j.buf, "\"2026-11-23T19:06:46.123456Z\"");
	json_out__free(&j);
}

/* the date arithmetic agrees with gmtime_r and strftime, leap days and century years included */
Test(json_out, time_agrees_with_strftime)
{
	/* nanoseconds in an int64_t reach 1677-09-21 to 2262-04-11 */
	const int64_t fixed[] = {0,	     951782400, /* 2000-02-29 */
				 4107542399,		/* 2100-02-28T23:59:59 */
				 9223372035, -1,	-86400 * 366, -9223372035};
	struct json_out j;
	uint64_t seed = 7;

	json_out__init(&j);
	for (int i = 0; i < 200000; i++) {
		int64_t secs, ns;
		time_t t;
		struct tm tm;
		char want[96], date[64];

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		secs = i < (int)(sizeof(fixed) / sizeof(fixed[0]))
			   ? fixed[i]
			   : (int64_t)(seed >> 28) % 9223372036LL;
		ns = secs * 1000000000 + (int64_t)(seed % 1000000000);
		t = (time_t)secs;
		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(want, sizeof(want), "\"%s.%06ldZ\"", date,
			 (long)(seed % 1000000000 / 1000));
		json_out__reset(&j);
		json_out__time_ns(&j, ns);
		cr_assert_str_eq(j.buf, want, "at %lld s", (long long)secs);
	}
	json_out__free(&j);
}

/* the one escaper: a string written alone to a FILE is the bytes json_out__str puts in a document
 */
Test(json_out, write_str_is_the_same_escaper)
{
	const char *cases[] = {"",
			       "plain",
			       "q\"b\\s/",
			       "\x01\x1f\x7f",
			       "caf\xc3\xa9 \xff\xfe",
			       "\xf0\x9f\x98\x80\xed\xa0\x80"};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_out j;
		char *mem = NULL;
		size_t n = 0;
		FILE *f = open_memstream(&mem, &n);

		cr_assert_not_null(f);
		cr_assert_eq(json_out__write_str(f, cases[i]), 0);
		fclose(f);
		json_out__init(&j);
		json_out__str(&j, cases[i]);
		cr_expect_eq(n, j.len, "case %zu", i);
		cr_expect(!memcmp(mem, j.buf, n), "case %zu: %s vs %s", i, mem, j.buf);
		json_out__free(&j);
		free(mem);
	}
}

Test(json_out, raw_value_after_a_key)
{
	struct json_out j;

	json_out__init(&j);
	json_out__obj_begin(&j);
	json_out__key(&j, "extra");
	json_out__raw(&j, "{\"a\":[\"b\"]}", 11);
	json_out__kv_int(&j, "n", 1);
	json_out__obj_end(&j);
	cr_expect_str_eq(j.buf, "{\"extra\":{\"a\":[\"b\"]},\"n\":1}");
	json_out__free(&j);
}

Test(json_out, literal_keys_write_what_runtime_keys_write)
{
	struct json_out a, b;

	json_out__init(&a);
	json_out__init(&b);
	json_out__obj_begin(&a);
	json_out__key(&a, "event");
	json_out__obj_begin(&a);
	json_out__kv_str(&a, "kind", "alert");
	json_out__kv_kstr(&a, "absent", (struct kstr){0});
	json_out__kv_kstr(&a, "action", kstr_lit("get", 3));
	json_out__kv_int(&a, "severity", 47);
	json_out__obj_end(&a);
	json_out__kv_str(&a, "authorization_k8s_io/decision", "allow");
	json_out__obj_end(&a);

	json_out__obj_begin(&b);
	json_out__key_lit(&b, "event");
	json_out__obj_begin(&b);
	json_out__kv_str_lit(&b, "kind", "alert");
	json_out__kv_kstr_lit(&b, "absent", (struct kstr){0});
	json_out__kv_kstr_lit(&b, "action", kstr_lit("get", 3));
	json_out__kv_int_lit(&b, "severity", 47);
	json_out__obj_end(&b);
	json_out__kv_str_lit(&b, "authorization_k8s_io/decision", "allow");
	json_out__obj_end(&b);

	cr_assert_str_eq(b.buf, a.buf);
	cr_assert_str_eq(a.buf,
			 "{\"event\":{\"kind\":\"alert\",\"action\":\"get\",\"severity\":47},"
			 "\"authorization_k8s_io/decision\":\"allow\"}");
	json_out__free(&a);
	json_out__free(&b);
}

Test(json_out, integers_are_printfs_decimal)
{
	const long long v[] = {
	    0,	 1,	    -1,		9,	   10,	      -10,	     99,
	    100, 123456789, -987654321, LLONG_MAX, LLONG_MIN, LLONG_MIN + 1, 1000000007};
	char want[32];
	struct json_out j;

	json_out__init(&j);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_out__reset(&j);
		json_out__int(&j, v[i]);
		snprintf(want, sizeof(want), "%lld", v[i]);
		cr_assert_str_eq(j.buf, want);
	}
	json_out__free(&j);
}

/*
 * The escaper takes eight plain bytes at a time and rewrites the last eight over a short tail:
 * strings of every length mixing plain bytes with quotes, backslashes, control bytes and valid
 * UTF-8 at every position must read back (json-c) as exactly the input.
 */
Test(json_out, random_strings_read_back_exactly)
{
	static const char *const parts[] = {
	    "a",  "Z",	  "/",	  " ",	      "\"",	      "\\",
	    "\n", "\x01", "\x1f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\x91"};
	struct json_out j;
	char in[128];
	unsigned seed = 12345;

	json_out__init(&j);
	for (int round = 0; round < 20000; round++) {
		size_t n = 0, want = (size_t)(round % 40);
		json_object *o;

		while (n < want) {
			const char *part;

			seed = seed * 1103515245u + 12345u;
			/* mostly plain, so the word-at-a-time paths run */
			part = parts[(seed >> 16) % 8 < 5 ? (seed >> 20) % 3 : (seed >> 20) % 12];
			memcpy(in + n, part, strlen(part));
			n += strlen(part);
		}
		json_out__reset(&j);
		json_out__strn(&j, in, n);
		o = json_tokener_parse(j.buf);
		cr_assert_not_null(o, "not valid JSON: %s", j.buf);
		cr_assert_eq((size_t)json_object_get_string_len(o), n, "%s", j.buf);
		cr_assert(memcmp(json_object_get_string(o), in, n) == 0, "%s", j.buf);
		json_object_put(o);
	}
	json_out__free(&j);
}
