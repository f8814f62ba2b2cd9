// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of metrics__add_rules (src/pipeline/metrics_pipeline.c): the counters the rules' states
 * keep reach /metrics, one series per rule, and move with what the rules see. The exec join's
 * are the first such counters: both exec-watch rules keep a join of their own.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/metrics.h"
#include "keyhole/pipeline.h"

static const char *const join_series[] = {
    "keyhole_exec_join_requests_total",		  "keyhole_exec_join_sessions_joined_total",
    "keyhole_exec_join_sessions_unjoined_total",  "keyhole_exec_join_sessions_exact_total",
    "keyhole_exec_join_sessions_ambiguous_total", "keyhole_exec_join_sessions_proxied_total",
    "keyhole_exec_join_held_overflow_total",	  "keyhole_exec_join_request_evictions_total",
    "keyhole_exec_join_session_evictions_total",
};
static const char *const node_rules[] = {"node-container-exec", "node-exec-without-audit"};

/* the exposition text of @m (malloc'd) */
static char *render(struct kh_metrics *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(metrics__render(m, f), 0);
	fclose(f);
	return buf;
}

/* the value of series @name{rule="@rule"} in @text, or -1 when absent */
static long long sample(const char *text, const char *name, const char *rule)
{
	char want[256];
	const char *at;

	snprintf(want, sizeof(want), "\n%s{rule=\"%s\"} ", name, rule);
	at = strstr(text, want);
	return at ? strtoll(at + strlen(want), NULL, 10) : -1;
}

static void feed_exec_request(struct kh_pipeline *p, const char *id)
{
	char line[1024];
	struct kh_origin o = {.source = "test", .line_no = 1};
	int n = snprintf(
	    line, sizeof(line),
	    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
	    "\"auditID\":\"%s\",\"stage\":\"ResponseStarted\",\"requestURI\":\"/api/v1/namespaces/"
	    "shop/pods/web-0/exec?command=sh\\u0026container=web\\u0026stdout=true\","
	    "\"verb\":\"create\",\"user\":{\"username\":\"bob\"},\"sourceIPs\":[\"192.0.2.7\"],"
	    "\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"shop\",\"name\":\"web-0\","
	    "\"apiVersion\":\"v1\",\"subresource\":\"exec\"},\"responseStatus\":{\"code\":101},"
	    "\"requestReceivedTimestamp\":\"2026-11-23T10:00:00.000000Z\","
	    "\"stageTimestamp\":\"2026-11-23T10:00:00.100000Z\"}",
	    id);

	cr_assert_eq(pipeline__feed_line(p, line, (size_t)n, &o), 0);
}

Test(rule_metrics, exec_join_counters_are_served_per_rule_and_count)
{
	struct kh_pipeline_opts po = {0};
	struct kh_pipeline *p;
	struct kh_metrics *m = metrics__new();
	char *text;

	po.out = tmpfile();
	cr_assert_not_null(po.out);
	p = pipeline__new(&po);
	cr_assert_not_null(p);
	cr_assert_not_null(m);
	cr_assert_eq(metrics__add_rules(m, pipeline__rules(p)), 0);

	text = render(m);
	for (size_t r = 0; r < 2; r++)
		for (size_t i = 0; i < sizeof(join_series) / sizeof(join_series[0]); i++)
			cr_expect_eq(sample(text, join_series[i], node_rules[r]), 0,
				     "%s{rule=\"%s\"} missing or not 0", join_series[i],
				     node_rules[r]);
	/* one TYPE line per name, as a counter */
	cr_expect_not_null(strstr(text, "# TYPE keyhole_exec_join_requests_total counter\n"));
	free(text);

	/* two distinct exec requests, one of them seen at a second stage: two requests kept */
	feed_exec_request(p, "0d0c0b0a-0000-4000-8000-000000000001");
	feed_exec_request(p, "0d0c0b0a-0000-4000-8000-000000000002");
	feed_exec_request(p, "0d0c0b0a-0000-4000-8000-000000000002");
	text = render(m);
	for (size_t r = 0; r < 2; r++) {
		cr_expect_eq(sample(text, "keyhole_exec_join_requests_total", node_rules[r]), 2,
			     "%s", node_rules[r]);
		cr_expect_eq(sample(text, "keyhole_exec_join_sessions_joined_total", node_rules[r]),
			     0);
	}
	free(text);
	metrics__free(m);
	pipeline__free(p);
	fclose(po.out);
}
