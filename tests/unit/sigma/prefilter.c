// SPDX-License-Identifier: Apache-2.0
/*
 * The Sigma prefilter (src/sigma/sigma_gate.c) never changes what matches: for rules whose
 * values it indexes (resource buckets, OR across fields, cased values, response codes, escaped
 * event strings, group lists, tables that overflow), an event that matches is still alerted on
 * and a near miss is not.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigma_harness.h"

#define HEAD "title: p\nid: p\nlogsource:\n  product: kubernetes\n  service: audit\ndetection:\n"

static size_t line_hits(const char *yaml, const char *line)
{
	struct sh *h = sh_new(yaml);
	size_t n;

	cr_assert(h);
	sh_feed(h, line);
	sh_flush(h);
	n = sh_count(h, NULL);
	sh_free(h);
	return n;
}

/* an audit line with @verb, @resource, @user and the rest of the members in @extra */
static char *pf_line(const char *verb, const char *resource, const char *user, const char *extra)
{
	static char buf[4096];

	snprintf(
	    buf, sizeof(buf),
	    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
	    "\"auditID\":\"a1\",\"stage\":\"ResponseComplete\",\"requestURI\":\"/api/v1/x\","
	    "\"verb\":\"%s\",\"user\":{\"username\":\"%s\",\"groups\":[\"system:authenticated\"]},"
	    "\"sourceIPs\":[\"10.0.0.1\"],\"objectRef\":{\"resource\":\"%s\",\"namespace\":\"d\"},"
	    "\"requestReceivedTimestamp\":\"2026-01-01T00:00:00.000000Z\","
	    "\"stageTimestamp\":\"2026-01-01T00:00:00.000001Z\"%s%s}",
	    verb, user, resource, *extra ? "," : "", extra);
	return buf;
}

Test(sigma_prefilter, or_across_fields)
{
	const char *y = HEAD "  sel:\n    - user.username|cased: system:anonymous\n"
			     "    - user.groups|cased: system:unauthenticated\n  condition: sel\n";

	cr_expect_eq(line_hits(y, pf_line("get", "pods", "system:anonymous", "")), 1);
	cr_expect_eq(line_hits(y, pf_line("get", "pods", "alice", "")), 0);
	/* the gate folds case, the matcher does not: a near miss in case stays a miss */
	cr_expect_eq(line_hits(y, pf_line("get", "pods", "SYSTEM:ANONYMOUS", "")), 0);
	cr_expect_eq(line_hits(y, "{\"kind\":\"Event\",\"verb\":\"get\",\"auditID\":\"b\","
				  "\"stage\":\"ResponseComplete\",\"user\":{\"username\":\"x\","
				  "\"groups\":[\"a\",\"system:unauthenticated\"]},"
				  "\"stageTimestamp\":\"2026-01-01T00:00:00Z\"}"),
		     1);
}

Test(sigma_prefilter, case_insensitive_values_and_escapes)
{
	const char *y = HEAD "  sel:\n    verb: create\n    objectRef.resource: Secrets\n"
			     "  condition: sel\n";

	cr_expect_eq(line_hits(y, pf_line("create", "secrets", "a", "")), 1);
	cr_expect_eq(line_hits(y, pf_line("CREATE", "SECRETS", "a", "")), 1);
	/* JSON escapes in the event: the value is compared decoded */
	cr_expect_eq(line_hits(y, pf_line("cr\\u0065ate", "s\\u0065crets", "a", "")), 1);
	cr_expect_eq(line_hits(y, pf_line("create", "configmaps", "a", "")), 0);
	cr_expect_eq(line_hits(y, pf_line("update", "secrets", "a", "")), 0);
}

Test(sigma_prefilter, response_code)
{
	const char *y = HEAD "  sel:\n    responseStatus.code:\n      - 401\n      - 403\n"
			     "  condition: sel\n";

	cr_expect_eq(line_hits(y, pf_line("get", "pods", "a", "\"responseStatus\":{\"code\":403}")),
		     1);
	cr_expect_eq(line_hits(y, pf_line("get", "pods", "a", "\"responseStatus\":{\"code\":200}")),
		     0);
	cr_expect_eq(line_hits(y, pf_line("get", "pods", "a", "")), 0);
}

Test(sigma_prefilter, not_and_presence)
{
	/* a NOT gives no gate; startswith needs a value (the impersonated user) */
	const char *y = HEAD "  sel:\n    impersonatedUser.username|startswith: 'system:'\n"
			     "  f:\n    verb: get\n  condition: sel and not f\n";

	cr_expect_eq(line_hits(y, pf_line("list", "pods", "a",
					  "\"impersonatedUser\":{\"username\":\"system:admin\"}")),
		     1);
	cr_expect_eq(line_hits(y, pf_line("get", "pods", "a",
					  "\"impersonatedUser\":{\"username\":\"system:admin\"}")),
		     0);
	cr_expect_eq(line_hits(y, pf_line("list", "pods", "a", "")), 0);
	/* null and exists: false match an absent field, so they give no gate either */
	cr_expect_eq(line_hits(HEAD "  sel:\n    objectRef.subresource: null\n    verb: list\n"
				    "  condition: sel\n",
			       pf_line("list", "pods", "a", "")),
		     1);
	cr_expect_eq(line_hits(HEAD "  sel:\n    objectRef.subresource|exists: false\n"
				    "  condition: sel\n",
			       pf_line("list", "pods", "a", "")),
		     1);
}

/* more resource values than the prefilter's table holds: the rules past it still match */
Test(sigma_prefilter, table_overflow_widens)
{
	size_t cap = 200 * 160, n = 0;
	char *y = malloc(cap);

	cr_assert(y);
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(y + n, cap - n,
				      "title: r%d\nid: r%d\nlogsource:\n  product: kubernetes\n"
				      "  service: audit\ndetection:\n  sel:\n"
				      "    objectRef.resource: res%d\n  condition: sel\n---\n",
				      i, i, i);
	y[n - 4] = 0; /* the last separator */
	struct sh *h = sh_new(y);

	cr_assert(h);
	cr_expect_eq(sh_rules(h), 100);
	sh_feed(h, pf_line("get", "res3", "a", ""));
	sh_feed(h, pf_line("get", "res99", "a", ""));
	sh_feed(h, pf_line("get", "res100", "a", ""));
	sh_flush(h);
	cr_expect_eq(sh_count(h, "r3"), 1);
	cr_expect_eq(sh_count(h, "r99"), 1);
	cr_expect_eq(sh_count(h, NULL), 2);
	sh_free(h);
	free(y);
}
