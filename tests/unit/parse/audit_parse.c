// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/parse/audit_parse.c on hand-written lines: every field extracted, escapes in keys
 * and values, duplicate keys, bounds, RFC 3339 times, and the rejections (with offset and reason)
 * of everything that is not one complete audit Event object. The comparison against json-c on
 * real and generated lines is in audit_parse_diff.c.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyhole/audit_parse.h"

static const char full_line[] =
    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
    "\"auditID\":\"6c9b6f2e-1d1e-4c3b-9a57-0c1e6a2b9f10\",\"stage\":\"ResponseComplete\","
    "\"requestURI\":\"/api/v1/namespaces/prod/secrets/db\",\"verb\":\"get\","
    "\"user\":{\"username\":\"system:serviceaccount:prod:api\",\"uid\":\"u-1\","
    "\"groups\":[\"system:serviceaccounts\",\"system:authenticated\"],"
    "\"extra\":{\"authentication.kubernetes.io/credential-id\":[\"JTI=1\"],"
    "\"authentication.kubernetes.io/pod-name\":[\"api-7d9f\",\"ignored\"]}},"
    "\"impersonatedUser\":{\"username\":\"bob\",\"groups\":[\"dev\"]},"
    "\"sourceIPs\":[\"10.0.0.7\",\"192.168.1.1\"],\"userAgent\":\"curl/8.5.0\","
    "\"objectRef\":{\"resource\":\"secrets\",\"subresource\":\"status\",\"namespace\":\"prod\","
    "\"name\":\"db\",\"apiGroup\":\"\",\"apiVersion\":\"v1\"},"
    "\"responseStatus\":{\"metadata\":{},\"code\":200},"
    "\"requestObject\":{\"kind\":\"X\",\"a\":[1,2.5e3,true,false,null,{\"b\":\"}\"}]},"
    "\"requestReceivedTimestamp\":\"2026-11-23T19:06:46.123456Z\","
    "\"stageTimestamp\":\"2026-11-23T19:06:46.234567Z\","
    "\"annotations\":{\"authorization.k8s.io/decision\":\"allow\","
    "\"authorization.k8s.io/reason\":\"RBAC: allowed by \\\"x\\\"\"}}";

static void expect_str(struct kstr s, const char *want)
{
	char buf[256];
	long n;

	cr_assert(kstr_present(s), "want \"%s\", field absent", want);
	n = kstr__decode(s, buf, sizeof(buf));
	cr_assert(n >= 0 && (size_t)n == strlen(want) && !memcmp(buf, want, (size_t)n),
		  "want \"%s\", got \"%.*s\"", want, (int)(n > 0 ? n : 0), buf);
}

static int parse(const char *s, struct audit_event *ev, struct kh_parse_error *err)
{
	return audit_parse__line(s, strlen(s), ev, err);
}

/* expected ns from timegm, an independent oracle */
static long long utc_ns(int y, int mo, int d, int h, int mi, int s, long frac_ns)
{
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = h,
			.tm_min = mi,
			.tm_sec = s};

	return (long long)timegm(&tm) * 1000000000LL + frac_ns;
}

Test(audit_parse, extracts_every_field)
{
	struct audit_event ev;
	struct kh_parse_error err = {0};

	cr_assert_eq(parse(full_line, &ev, &err), 0, "rejected at %zu: %s", err.offset, err.reason);
	cr_assert_eq(ev.line, full_line);
	cr_assert_eq(ev.len, strlen(full_line));
	expect_str(ev.kind, "Event");
	expect_str(ev.api_version, "audit.k8s.io/v1");
	expect_str(ev.level, "Metadata");
	expect_str(ev.audit_id, "6c9b6f2e-1d1e-4c3b-9a57-0c1e6a2b9f10");
	expect_str(ev.stage, "ResponseComplete");
	expect_str(ev.request_uri, "/api/v1/namespaces/prod/secrets/db");
	expect_str(ev.verb, "get");
	cr_assert(ev.user.present);
	expect_str(ev.user.username, "system:serviceaccount:prod:api");
	expect_str(ev.user.uid, "u-1");
	cr_assert_eq(ev.user.groups.n, 2);
	cr_assert_eq(ev.user.groups.total, 2);
	expect_str(ev.user.groups.v[0], "system:serviceaccounts");
	expect_str(ev.user.groups.v[1], "system:authenticated");
	expect_str(ev.user.extra_pod_name, "api-7d9f");
	cr_assert(ev.impersonated_user.present);
	expect_str(ev.impersonated_user.username, "bob");
	cr_assert(!kstr_present(ev.impersonated_user.uid));
	cr_assert(!kstr_present(ev.impersonated_user.extra_pod_name));
	cr_assert_eq(ev.impersonated_user.groups.n, 1);
	expect_str(ev.impersonated_user.groups.v[0], "dev");
	cr_assert_eq(ev.source_ips.n, 2);
	expect_str(ev.source_ips.v[0], "10.0.0.7");
	expect_str(ev.source_ips.v[1], "192.168.1.1");
	expect_str(ev.user_agent, "curl/8.5.0");
	cr_assert(ev.object_ref_present);
	expect_str(ev.object_ref.resource, "secrets");
	expect_str(ev.object_ref.subresource, "status");
	expect_str(ev.object_ref.namespace_, "prod");
	expect_str(ev.object_ref.name, "db");
	expect_str(ev.object_ref.api_group, "");
	expect_str(ev.object_ref.api_version, "v1");
	cr_assert_eq(ev.response_code, 200);
	expect_str(ev.request_received_timestamp, "2026-11-23T19:06:46.123456Z");
	expect_str(ev.stage_timestamp, "2026-11-23T19:06:46.234567Z");
	cr_assert_eq(ev.request_received_ns, utc_ns(2026, 11, 23, 19, 6, 46, 123456000));
	cr_assert_eq(ev.stage_ns, utc_ns(2026, 11, 23, 19, 6, 46, 234567000));
	cr_assert_eq(audit_event_time_ns(&ev), ev.stage_ns);
	expect_str(ev.decision, "allow");
	expect_str(ev.reason, "RBAC: allowed by \"x\"");
	cr_assert_eq(ev.request_object.len,
		     strlen("{\"kind\":\"X\",\"a\":[1,2.5e3,true,false,null,{\"b\":\"}\"}]}"));
	cr_assert(!memcmp(ev.request_object.p, "{\"kind\":\"X\"", 11));
	cr_assert(!kstr_present(ev.response_object));
	cr_assert_eq(ev.flags, 0);
}

Test(audit_parse, strings_are_slices_of_the_line)
{
	struct audit_event ev;

	cr_assert_eq(parse(full_line, &ev, NULL), 0);
	cr_assert(ev.verb.p > full_line && ev.verb.p < full_line + sizeof(full_line));
	cr_assert_eq(ev.verb.flags, 0);
	cr_assert_eq(ev.reason.flags, KSTR_ESCAPED);
}

Test(audit_parse, minimal_event_leaves_the_rest_absent)
{
	struct audit_event ev;

	cr_assert_eq(parse("{\"auditID\":\"a\"}", &ev, NULL), 0);
	expect_str(ev.audit_id, "a");
	cr_assert(!kstr_present(ev.kind));
	cr_assert(!kstr_present(ev.verb));
	cr_assert(!ev.user.present);
	cr_assert(!ev.impersonated_user.present);
	cr_assert_eq(ev.user.groups.n, 0);
	cr_assert_eq(ev.source_ips.n, 0);
	cr_assert(!ev.object_ref_present);
	cr_assert_eq(ev.response_code, -1);
	cr_assert_eq(ev.stage_ns, 0);
	cr_assert(!kstr_present(ev.decision));
	cr_assert(!kstr_present(ev.request_object));
}

Test(audit_parse, escaped_keys_and_whitespace)
{
	struct audit_event ev;
	const char *s = " \t{ \"\\u0076erb\" : \"g\\u0065t\" ,\r\n\"audit\\u0049D\":\"x\" ,"
			"\"user\" : { \"user\\u006eame\" :\"a\\/b\" } ,"
			"\"annotations\":{\"authorization.k8s.io\\/decision\":\"forbid\"} }\r\n";

	cr_assert_eq(parse(s, &ev, NULL), 0);
	expect_str(ev.verb, "get");
	cr_assert(kstr__eq(ev.verb, "get"));
	expect_str(ev.audit_id, "x");
	expect_str(ev.user.username, "a/b");
	expect_str(ev.decision, "forbid");
}

Test(audit_parse, v1beta1_event_parses)
{
	struct audit_event ev;
	const char *s =
	    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1beta1\","
	    "\"metadata\":{\"creationTimestamp\":\"2018-10-26T13:38:34Z\"},"
	    "\"timestamp\":\"2018-10-26T13:38:34Z\",\"auditID\":\"x\",\"verb\":\"create\"}";

	cr_assert_eq(parse(s, &ev, NULL), 0);
	expect_str(ev.api_version, "audit.k8s.io/v1beta1");
}

Test(audit_parse, duplicate_keys_last_wins)
{
	struct audit_event ev;

	cr_assert_eq(
	    parse("{\"auditID\":\"1\",\"verb\":\"get\",\"verb\":\"list\",\"auditID\":\"2\"}", &ev,
		  NULL),
	    0);
	expect_str(ev.verb, "list");
	expect_str(ev.audit_id, "2");
	/* a later value of another type clears the field, as json-c's last value wins */
	cr_assert_eq(parse("{\"auditID\":\"1\",\"verb\":\"get\",\"verb\":null}", &ev, NULL), 0);
	cr_assert(!kstr_present(ev.verb));
	/* a later object replaces the whole earlier one */
	cr_assert_eq(parse("{\"auditID\":\"1\",\"user\":{\"username\":\"a\",\"groups\":[\"g\"]},"
			   "\"user\":{\"uid\":\"u\"}}",
			   &ev, NULL),
		     0);
	cr_assert(ev.user.present);
	cr_assert(!kstr_present(ev.user.username));
	cr_assert_eq(ev.user.groups.n, 0);
	expect_str(ev.user.uid, "u");
	cr_assert_eq(
	    parse("{\"auditID\":\"1\",\"user\":{\"username\":\"a\"},\"user\":7}", &ev, NULL), 0);
	cr_assert(!ev.user.present);
	cr_assert(!kstr_present(ev.user.username));
	cr_assert_eq(parse("{\"auditID\":\"1\",\"annotations\":{\"authorization.k8s.io/decision\":"
			   "\"allow\"},\"annotations\":{}}",
			   &ev, NULL),
		     0);
	cr_assert(!kstr_present(ev.decision));
	cr_assert_eq(parse("{\"auditID\":\"1\",\"responseStatus\":{\"code\":200,\"code\":403}}",
			   &ev, NULL),
		     0);
	cr_assert_eq(ev.response_code, 403);
}

Test(audit_parse, wrong_types_are_absent)
{
	struct audit_event ev;

	cr_assert_eq(parse("{\"auditID\":\"1\",\"verb\":[\"get\"],\"userAgent\":{\"a\":1},"
			   "\"sourceIPs\":\"1.2.3.4\",\"objectRef\":\"secrets\","
			   "\"responseStatus\":{\"code\":\"200\"},\"user\":{\"groups\":\"g\"}}",
			   &ev, NULL),
		     0);
	cr_assert(!kstr_present(ev.verb));
	cr_assert(!kstr_present(ev.user_agent));
	cr_assert_eq(ev.source_ips.n, 0);
	cr_assert(!ev.object_ref_present);
	cr_assert_eq(ev.response_code, -1);
	cr_assert(ev.user.present);
	cr_assert_eq(ev.user.groups.n, 0);
}

Test(audit_parse, list_elements_kept_by_position)
{
	struct audit_event ev;

	cr_assert_eq(parse("{\"auditID\":\"1\",\"user\":{\"groups\":[\"a\",1,null,\"b\"],"
			   "\"extra\":{\"authentication.kubernetes.io/pod-name\":[7,\"p\"]}}}",
			   &ev, NULL),
		     0);
	cr_assert_eq(ev.user.groups.n, 4);
	expect_str(ev.user.groups.v[0], "a");
	cr_assert(!kstr_present(ev.user.groups.v[1]));
	cr_assert(!kstr_present(ev.user.groups.v[2]));
	expect_str(ev.user.groups.v[3], "b");
	/* element 0 is not a string: no pod name, even though element 1 is */
	cr_assert(!kstr_present(ev.user.extra_pod_name));
}

Test(audit_parse, lists_are_bounded_and_counted)
{
	char line[4096];
	struct audit_event ev;
	int n = snprintf(line, sizeof(line), "{\"auditID\":\"1\",\"sourceIPs\":[");

	for (int i = 0; i < 11; i++)
		n += snprintf(line + n, sizeof(line) - n, "%s\"10.0.0.%d\"", i ? "," : "", i);
	n += snprintf(line + n, sizeof(line) - n, "],\"user\":{\"groups\":[");
	for (int i = 0; i < 40; i++)
		n += snprintf(line + n, sizeof(line) - n, "%s\"g%d\"", i ? "," : "", i);
	snprintf(line + n, sizeof(line) - n, "]}}");
	cr_assert_eq(parse(line, &ev, NULL), 0);
	cr_assert_eq(ev.source_ips.n, KH_MAX_SOURCE_IPS);
	cr_assert_eq(ev.source_ips.total, 11);
	expect_str(ev.source_ips.v[KH_MAX_SOURCE_IPS - 1], "10.0.0.7");
	cr_assert_eq(ev.user.groups.n, KH_MAX_GROUPS);
	cr_assert_eq(ev.user.groups.total, 40);
	expect_str(ev.user.groups.v[KH_MAX_GROUPS - 1], "g31");
}

Test(audit_parse, response_code_forms)
{
	struct audit_event ev;
	static const struct {
		const char *code;
		int32_t want;
	} cases[] = {
	    {"200", 200},	{"0", 0},
	    {"-1", -1},		{"2147483647", 2147483647},
	    {"2147483648", -1}, {"99999999999999999999", -1},
	    {"200.0", -1},	{"2e2", -1},
	    {"null", -1},	{"true", -1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char line[128];

		snprintf(line, sizeof(line), "{\"auditID\":\"1\",\"responseStatus\":{\"code\":%s}}",
			 cases[i].code);
		cr_assert_eq(parse(line, &ev, NULL), 0, "%s", line);
		cr_assert_eq(ev.response_code, cases[i].want, "%s", line);
	}
}

Test(audit_parse, request_and_response_object_spans)
{
	struct audit_event ev;

	cr_assert_eq(parse("{\"auditID\":\"1\",\"requestObject\":null,\"responseObject\":"
			   "{\"data\":{\"k\":\"c2VjcmV0\"}}}",
			   &ev, NULL),
		     0);
	cr_assert(!kstr_present(ev.request_object));
	cr_assert_eq(ev.response_object.len, strlen("{\"data\":{\"k\":\"c2VjcmV0\"}}"));
	cr_assert(!memcmp(ev.response_object.p, "{\"data\":{\"k\":\"c2VjcmV0\"}}",
			  ev.response_object.len));
}

static void expect_reject(const char *s, size_t len, const char *why_part)
{
	struct audit_event ev;
	struct kh_parse_error err = {0};

	cr_assert_eq(audit_parse__line(s, len, &ev, &err), -EINVAL, "accepted: %.*s", (int)len, s);
	cr_assert_not_null(err.reason);
	cr_assert(err.offset <= len, "offset %zu past the line (%zu)", err.offset, len);
	if (why_part)
		cr_assert(strstr(err.reason, why_part), "reason \"%s\" for %.*s", err.reason,
			  (int)len, s);
}

#define REJECT(s, why) expect_reject(s, strlen(s), why)

Test(audit_parse, rejects_non_events)
{
	REJECT("", "empty");
	REJECT("   \r\n", "empty");
	REJECT("[1,2]", "not a JSON object");
	REJECT("\"Event\"", "not a JSON object");
	REJECT("null", "not a JSON object");
	REJECT("{}", "auditID");
	REJECT("{\"kind\":\"Event\",\"verb\":\"get\"}", "auditID");
	REJECT("{\"auditID\":7}", "auditID");
	REJECT("{\"kind\":\"Pod\",\"auditID\":\"1\"}", "kind");
	REJECT("{\"kind\":\"EventList\",\"auditID\":\"1\"}", "kind");
	REJECT("{\"kind\":null,\"auditID\":\"1\"}", "kind");
	REJECT("{\"kind\":\"event\",\"auditID\":\"1\"}", "kind");
}

Test(audit_parse, rejects_malformed_json_with_offset)
{
	struct audit_event ev;
	struct kh_parse_error err;
	const char *s;

	REJECT("{\"auditID\":\"1\"} x", "trailing");
	REJECT("{\"auditID\":\"1\"}}", "trailing");
	REJECT("{\"auditID\":\"1\",}", "key");
	REJECT("{\"auditID\":\"1\",\"a\":[1,]}", NULL);
	REJECT("{\"auditID\":\"1\",\"a\":tru}", "literal");
	REJECT("{\"auditID\":\"1\",\"a\":nul}", "literal");
	REJECT("{\"auditID\":\"1\",\"a\":True}", NULL);
	REJECT("{\"auditID\":\"1\",\"a\":01}", NULL);
	REJECT("{\"auditID\":\"1\",\"a\":1.}", "fraction");
	REJECT("{\"auditID\":\"1\",\"a\":1e}", "exponent");
	REJECT("{\"auditID\":\"1\",\"a\":+1}", NULL);
	REJECT("{\"auditID\":\"1\",\"a\":\"x\ty\"}", "control");
	REJECT("{\"auditID\":\"1\",\"a\":\"\\x\"}", "escape");
	REJECT("{\"auditID\":\"1\",\"a\":\"\\u12\"}", "escape");
	REJECT("{\"auditID\":\"1\",\"a\":[}", NULL);
	REJECT("{\"auditID\":\"1\",\"a\":{]}", NULL);
	REJECT("{\"auditID\":\"1\",\"a\":[[1]}", NULL);
	REJECT("{\"auditID\":\"1\" \"a\":1}", NULL);
	REJECT("{\"auditID\" \"1\"}", "':'");
	REJECT("{'auditID':'1'}", "key");
	REJECT("{\"auditID\":\"1\",\"a\":{\"b\" 1}}", "':'");
	REJECT("{\"auditID\":\"1\"\"a\":1}", NULL);
	/* a NUL byte is not whitespace */
	expect_reject("{\"auditID\":\"1\"}\0", 16, "trailing");

	s = "{\"auditID\":\"1\",\"verb\":\"get\" ,\"a\":fals}";
	cr_assert_eq(parse(s, &ev, &err), -EINVAL);
	cr_assert_eq(err.offset, (size_t)(strstr(s, "fals") - s));
}

Test(audit_parse, truncation_at_every_offset_is_rejected)
{
	struct audit_event ev;
	size_t len = strlen(full_line);

	for (size_t cut = 0; cut < len; cut++) {
		/* a private copy of exactly @cut bytes, so reading past it is caught by ASan */
		char *copy = malloc(cut ? cut : 1);
		struct kh_parse_error err = {0};

		cr_assert_not_null(copy);
		memcpy(copy, full_line, cut);
		cr_assert_eq(audit_parse__line(copy, cut, &ev, &err), -EINVAL,
			     "accepted cut at %zu", cut);
		cr_assert(err.offset <= cut);
		free(copy);
	}
	cr_assert_eq(audit_parse__line(full_line, len, &ev, NULL), 0);
}

static char *nested(int depth, char open, char close)
{
	char *s = malloc(64 + 2 * (size_t)depth);
	int n;

	cr_assert_not_null(s);
	n = sprintf(s, "{\"auditID\":\"1\",\"a\":");
	memset(s + n, open, depth);
	memset(s + n + depth, close, depth);
	strcpy(s + n + 2 * depth, "}");
	return s;
}

static char *extra_nested(int arrays)
{
	char *s = malloc(64 + 2 * (size_t)arrays);
	int n;

	cr_assert_not_null(s);
	n = sprintf(s, "{\"auditID\":\"1\",\"user\":{\"extra\":{\"x\":");
	memset(s + n, '[', arrays);
	memset(s + n + arrays, ']', arrays);
	strcpy(s + n + 2 * arrays, "}}}");
	return s;
}

/* mixed objects and arrays, @depth levels, the innermost holding 1; then "verb":"patch" */
static char *mixed_nested(size_t depth)
{
	char *s = malloc(128 + 6 * depth);
	size_t n;

	cr_assert_not_null(s);
	n = (size_t)sprintf(s, "{\"auditID\":\"1\",\"requestObject\":");
	for (size_t i = 0; i < depth; i++)
		n += (size_t)sprintf(s + n, i % 2 ? "[" : "{\"a\":");
	s[n++] = '1';
	for (size_t i = depth; i-- > 0;)
		s[n++] = i % 2 ? ']' : '}';
	strcpy(s + n, ",\"verb\":\"patch\"}");
	return s;
}

/* issue 13: a body nested deeper than any bound is JSON like any other, and read past */
Test(audit_parse, nesting_has_no_depth_bound)
{
	static const size_t depths[] = {63, 64, 65, 1023, 1024, 1025, 10000, 1000000};
	struct audit_event ev;

	for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
		char *s = mixed_nested(depths[i]);

		cr_assert_eq(parse(s, &ev, NULL), 0, "depth %zu", depths[i]);
		expect_str(ev.verb, "patch");
		cr_assert(kstr_present(ev.request_object));
		free(s);
	}
	{
		char *arr = nested(1000000, '[', ']');
		char *ex = extra_nested(100000);

		cr_assert_eq(parse(arr, &ev, NULL), 0);
		cr_assert_eq(parse(ex, &ev, NULL), 0);
		cr_assert(kstr_present(ev.user.extra));
		free(arr);
		free(ex);
	}
}

/* depth is still checked for structure: a wrong or missing bracket deep down rejects the line */
Test(audit_parse, deep_bracket_mismatch_is_malformed)
{
	struct audit_event ev;
	struct kh_parse_error err;
	char *s = mixed_nested(5000);
	char *inner = strrchr(s, '1');

	/* the innermost object's '}' becomes ']': the mismatch is found exactly there */
	cr_assert_not_null(inner);
	cr_assert(inner[1] == '}' || inner[1] == ']');
	inner[1] = inner[1] == '}' ? ']' : '}';
	cr_assert_eq(parse(s, &ev, &err), -EINVAL);
	cr_assert_eq(err.offset, (size_t)(inner + 1 - s));
	free(s);

	s = nested(3000, '[', ']');
	s[strlen(s) - 2] = '}'; /* the outermost array closes with '}' */
	REJECT(s, "closing bracket");
	free(s);
}

Test(audit_parse, ten_megabyte_line)
{
	size_t body = 10 * 1024 * 1024;
	const char *head = "{\"auditID\":\"big\",\"verb\":\"get\",\"requestObject\":{\"data\":\"";
	const char *tail = "\"},\"annotations\":{\"authorization.k8s.io/decision\":\"allow\"}}";
	size_t hl = strlen(head), tl = strlen(tail);
	char *s = malloc(hl + body + tl);
	struct audit_event ev;

	cr_assert_not_null(s);
	memcpy(s, head, hl);
	for (size_t i = 0; i < body; i++)
		s[hl + i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/\\n"[i % 38];
	memcpy(s + hl + body, tail, tl);
	cr_assert_eq(audit_parse__line(s, hl + body + tl, &ev, NULL), 0);
	expect_str(ev.decision, "allow");
	cr_assert_eq(ev.request_object.len, body + strlen("{\"data\":\"\"}"));
	/* and a 10 MB string never closed */
	cr_assert_eq(audit_parse__line(s, hl + body, &ev, NULL), -EINVAL);
	free(s);
}

Test(audit_parse, binary_garbage_never_crashes)
{
	unsigned seed = 12345;
	struct audit_event ev;

	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(rand_r(&seed) % 300);
		char *s = malloc(len ? len : 1);

		cr_assert_not_null(s);
		for (size_t i = 0; i < len; i++)
			s[i] = (char)rand_r(&seed);
		/* half of them look like the start of an event */
		if (round & 1 && len > 12)
			memcpy(s, "{\"auditID\":\"", 12);
		(void)audit_parse__line(s, len, &ev, NULL);
		free(s);
	}
}

Test(audit_parse, rfc3339_timestamps)
{
	static const struct {
		const char *s;
		long long want;
	} ok[] = {
	    {"1970-01-01T00:00:00Z", 0},
	    {"2026-11-23T19:06:46Z", 0},
	    {"2026-11-23T19:06:46.1Z", 100000000},
	    {"2026-11-23T19:06:46.123456789Z", 123456789},
	    {"2026-11-23T19:06:46.1234567891234Z", 123456789},
	    {"2026-11-23t19:06:46.5z", 500000000},
	};
	long long base = utc_ns(2026, 11, 23, 19, 6, 46, 0);

	cr_assert_eq(audit_parse__rfc3339_ns(ok[0].s, strlen(ok[0].s)), 0);
	for (size_t i = 1; i < sizeof(ok) / sizeof(ok[0]); i++)
		cr_assert_eq(audit_parse__rfc3339_ns(ok[i].s, strlen(ok[i].s)), base + ok[i].want,
			     "%s", ok[i].s);
	cr_assert_eq(audit_parse__rfc3339_ns("2026-11-23T21:06:46+02:00", 25), base);
	cr_assert_eq(audit_parse__rfc3339_ns("2026-11-23T14:36:46.25-04:30", 28), base + 250000000);
	cr_assert_eq(audit_parse__rfc3339_ns("2024-02-29T00:00:00Z", 20),
		     utc_ns(2024, 2, 29, 0, 0, 0, 0));
	/* outside 1970..2199 a time is absent: rules subtract times and windows without overflow */
	cr_assert_eq(audit_parse__rfc3339_ns("1969-12-31T23:59:59Z", 20), 0);
	cr_assert_eq(audit_parse__rfc3339_ns("1970-01-01T00:00:00.000000001Z", 30), 1);
	cr_assert_eq(audit_parse__rfc3339_ns("1970-01-01T00:30:00+01:00", 25), 0);
	cr_assert_eq(audit_parse__rfc3339_ns("2199-12-31T23:59:59Z", 20),
		     utc_ns(2199, 12, 31, 23, 59, 59, 0));
	cr_assert_eq(audit_parse__rfc3339_ns("2200-01-01T00:00:00Z", 20), 0);
	cr_assert_eq(audit_parse__rfc3339_ns("9999-12-31T23:59:59Z", 20), 0);
	cr_assert_eq(audit_parse__rfc3339_ns("2000-03-01T00:00:00Z", 20),
		     utc_ns(2000, 3, 1, 0, 0, 0, 0));

	static const char *const bad[] = {
	    "",
	    "2026-11-23",
	    "2026-11-23T19:06:46",
	    "2026-11-23T19:06:46.Z",
	    "2026-11-23T19:06:46ZZ",
	    "2026-13-01T00:00:00Z",
	    "2026-02-29T00:00:00Z",
	    "2026-11-31T00:00:00Z",
	    "2026-11-23T24:00:00Z",
	    "2026-11-23T19:60:00Z",
	    "2026-11-23 19:06:46Z",
	    "2026-11-23T19:06:46+0200",
	    "2026-11-23T19:06:46+02:00x",
	    "20x6-11-23T19:06:46Z",
	    "9999-12-31T23:59:59Z", /* past int64 nanoseconds */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(audit_parse__rfc3339_ns(bad[i], strlen(bad[i])), 0, "accepted %s",
			     bad[i]);
}

Test(audit_parse, escaped_timestamp_is_parsed)
{
	struct audit_event ev;

	cr_assert_eq(
	    parse("{\"auditID\":\"1\",\"stageTimestamp\":\"2026-11-23T19:06:46\\u002e5Z\"}", &ev,
		  NULL),
	    0);
	cr_assert_eq(ev.stage_ns, utc_ns(2026, 11, 23, 19, 6, 46, 500000000));
	cr_assert_eq(audit_event_time_ns(&ev), ev.stage_ns);
}

Test(audit_parse, legacy_timestamp_is_the_time_when_alone)
{
	struct audit_event ev;
	struct kh_parse_error err;

	cr_assert_eq(parse("{\"kind\":\"Event\",\"timestamp\":\"2017-09-11T19:55:05Z\","
			   "\"auditID\":\"a\"}",
			   &ev, &err),
		     0);
	expect_str(ev.legacy_timestamp, "2017-09-11T19:55:05Z");
	cr_assert_eq(ev.request_received_ns, utc_ns(2017, 9, 11, 19, 55, 5, 0));
	/* the v1 fields win when present */
	cr_assert_eq(parse("{\"timestamp\":\"2017-09-11T19:55:05Z\",\"auditID\":\"a\","
			   "\"requestReceivedTimestamp\":\"2026-11-23T19:06:46.000001Z\"}",
			   &ev, &err),
		     0);
	cr_assert_eq(ev.request_received_ns, utc_ns(2026, 11, 23, 19, 6, 46, 1000));
}
