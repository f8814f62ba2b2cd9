// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/rules/emit_extra.c (issue 13): every user.extra key and value reaches the alert,
 * decoded and re-escaped; past each bound the rest is cut and counted, in the alert and in the
 * counter, never dropped silently. The output is read back with json-c.
 */
#include <json-c/json.h>

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/audit_parse.h"
#include "rules/emit_extra.h"

/* parse an event whose user.extra is @extra, emit it, read it back; *@cut gets the counter */
static json_object *roundtrip(const char *extra, uint64_t *cut)
{
	size_t n = strlen(extra) + 128;
	char *line = malloc(n);
	struct audit_event ev;
	struct json_out j;
	json_object *o;

	cr_assert_not_null(line);
	snprintf(line, n, "{\"auditID\":\"x\",\"user\":{\"username\":\"u\",\"extra\":%s}}", extra);
	cr_assert_eq(audit_parse__line(line, strlen(line), &ev, NULL), 0, "%s", line);
	json_out__init(&j);
	json_out__obj_begin(&j);
	*cut = 0;
	emit_extra__write(&j, ev.user.extra, cut);
	json_out__obj_end(&j);
	cr_assert(!j.oom);
	o = json_tokener_parse(j.buf);
	cr_assert_not_null(o, "invalid JSON: %.*s", (int)j.len, j.buf);
	json_out__free(&j);
	free(line);
	return o;
}

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, k, &v), "no key %s in %s", k,
		  json_object_to_json_string(o));
	return v;
}

static long long cut_in_alert(json_object *o)
{
	json_object *v = NULL;

	return json_object_object_get_ex(o, "extra_cut", &v) ? json_object_get_int64(v) : 0;
}

Test(emit_extra, every_key_and_value_is_carried)
{
	uint64_t cut;
	json_object *o = roundtrip(
	    "{\"authentication.kubernetes.io/credential-id\":[\"JTI=1\"],"
	    "\"authentication.kubernetes.io/node-name\":[\"worker-1\"],"
	    "\"authentication.kubernetes.io/node-uid\":[\"n-1\"],"
	    "\"authentication.kubernetes.io/pod-name\":[\"p\"],"
	    "\"authentication.kubernetes.io/pod-uid\":[\"p-1\"],\"scopes\":[\"a\",\"b\",\"c\"],"
	    "\"empty\":[]}",
	    &cut);
	json_object *x = get(o, "extra");

	cr_assert_eq(json_object_object_length(x), 7);
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(
			     get(x, "authentication.kubernetes.io/credential-id"), 0)),
			 "JTI=1");
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(get(x, "scopes"), 2)),
			 "c");
	cr_assert_eq(json_object_array_length(get(x, "empty")), 0);
	cr_assert_eq(cut, 0);
	cr_assert_eq(cut_in_alert(o), 0);
	json_object_put(o);
}

Test(emit_extra, escapes_are_decoded_then_escaped_once)
{
	uint64_t cut;
	json_object *o =
	    roundtrip("{\"k\\u0065y \\\"q\\\"\":[\"a\\tb\",\"\\u00e9\\n\",\"\\ud83d\\ude00\"],"
		      "\"bad\\udc00\":[\"\\u0001\"]}",
		      &cut);
	json_object *x = get(o, "extra"), *v = get(x, "key \"q\"");

	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(v, 0)), "a\tb");
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(v, 1)), "\xc3\xa9\n");
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(v, 2)),
			 "\xf0\x9f\x98\x80");
	cr_assert_str_eq(
	    json_object_get_string(json_object_array_get_idx(get(x, "bad\xef\xbf\xbd"), 0)),
	    "\x01");
	cr_assert_eq(cut, 0);
	json_object_put(o);
}

Test(emit_extra, bounds_cut_and_count)
{
	char *s = malloc(1 << 16);
	size_t n = 0;
	uint64_t cut;
	json_object *o, *x;

	n += (size_t)sprintf(s, "{");
	for (int i = 0; i < KH_EXTRA_MAX_KEYS + 5; i++) /* 5 keys too many */
		n += (size_t)sprintf(s + n, "\"k%02d\":[\"v\"],", i);
	n--; /* the last comma */
	n += (size_t)sprintf(s + n, "}");
	o = roundtrip(s, &cut);
	x = get(o, "extra");
	cr_assert_eq(json_object_object_length(x), KH_EXTRA_MAX_KEYS);
	cr_assert_eq(cut, 5);
	cr_assert_eq(cut_in_alert(o), 5);
	json_object_put(o);

	/* 20 values (4 too many), one value over the length bound, a value not a string, a key
	 * too long, a value not an array */
	n = (size_t)sprintf(s, "{\"many\":[");
	for (int i = 0; i < KH_EXTRA_MAX_VALUES + 4; i++)
		n += (size_t)sprintf(s + n, "\"%d\",", i);
	n--;
	n += (size_t)sprintf(s + n, "],\"long\":[\"");
	memset(s + n, 'L', KH_EXTRA_MAX_VALUE_LEN + 10);
	n += KH_EXTRA_MAX_VALUE_LEN + 10;
	n += (size_t)sprintf(s + n, "\",1,{\"a\":[[]]}],\"");
	memset(s + n, 'K', KH_EXTRA_MAX_KEY_LEN + 1);
	n += KH_EXTRA_MAX_KEY_LEN + 1;
	sprintf(s + n, "\":[\"x\"],\"scalar\":\"y\"}");
	o = roundtrip(s, &cut);
	x = get(o, "extra");
	cr_assert_eq(json_object_array_length(get(x, "many")), KH_EXTRA_MAX_VALUES);
	cr_assert_eq(json_object_array_length(get(x, "long")), 1);
	cr_assert_eq(strlen(json_object_get_string(json_object_array_get_idx(get(x, "long"), 0))),
		     KH_EXTRA_MAX_VALUE_LEN);
	cr_assert_eq(json_object_array_length(get(x, "scalar")), 0);
	cr_assert_eq(json_object_object_length(x), 3);
	/* 4 values, 1 long value, 2 non-strings, 1 long key, 1 scalar */
	cr_assert_eq(cut, 9);
	cr_assert_eq(cut_in_alert(o), 9);
	json_object_put(o);
	free(s);
}

Test(emit_extra, absent_or_not_an_object_writes_nothing)
{
	struct audit_event ev;
	struct json_out j;
	uint64_t cut = 0;
	const char *line = "{\"auditID\":\"x\",\"user\":{\"extra\":[1]}}";

	cr_assert_eq(audit_parse__line(line, strlen(line), &ev, NULL), 0);
	cr_assert(!kstr_present(ev.user.extra));
	json_out__init(&j);
	json_out__obj_begin(&j);
	emit_extra__write(&j, ev.user.extra, &cut);
	json_out__obj_end(&j);
	cr_assert_eq(j.len, 2, "%.*s", (int)j.len, j.buf);
	json_out__free(&j);
}
