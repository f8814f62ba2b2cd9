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
    "keyhole_exec_join_session_evictions_total",  "keyhole_exec_probes_allowed_total",
    "keyhole_exec_repeats_suppressed_total",	  "keyhole_exec_new_containers_unpaired_total",
    "keyhole_exec_repeat_evictions_total",
};
/* what the node rules' tables hold now: gauges */
static const char *const held_series[] = {
    "keyhole_exec_join_requests_held",
    "keyhole_exec_join_sessions_held",
    "keyhole_exec_repeats_held",
};
static const char *const node_rules[] = {"node-container-exec", "node-exec-without-audit",
					 "node-secret-read-in-exec"};
#define NRULES (sizeof(node_rules) / sizeof(node_rules[0]))

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
	for (size_t r = 0; r < NRULES; r++) {
		for (size_t i = 0; i < sizeof(join_series) / sizeof(join_series[0]); i++)
			cr_expect_eq(sample(text, join_series[i], node_rules[r]), 0,
				     "%s{rule=\"%s\"} missing or not 0", join_series[i],
				     node_rules[r]);
		for (size_t i = 0; i < sizeof(held_series) / sizeof(held_series[0]); i++)
			cr_expect_eq(sample(text, held_series[i], node_rules[r]), 0,
				     "%s{rule=\"%s\"} missing or not 0", held_series[i],
				     node_rules[r]);
	}
	/* one TYPE line per name: counters count, the tables' sizes are gauges */
	cr_expect_not_null(strstr(text, "# TYPE keyhole_exec_join_requests_total counter\n"));
	for (size_t i = 0; i < sizeof(held_series) / sizeof(held_series[0]); i++) {
		char want[128];

		snprintf(want, sizeof(want), "# TYPE %s gauge\n", held_series[i]);
		cr_expect_not_null(strstr(text, want), "%s", want);
	}
	free(text);

	/* two distinct exec requests, one of them seen at a second stage: two requests kept */
	feed_exec_request(p, "0d0c0b0a-0000-4000-8000-000000000001");
	feed_exec_request(p, "0d0c0b0a-0000-4000-8000-000000000002");
	feed_exec_request(p, "0d0c0b0a-0000-4000-8000-000000000002");
	text = render(m);
	for (size_t r = 0; r < NRULES; r++) {
		cr_expect_eq(sample(text, "keyhole_exec_join_requests_total", node_rules[r]), 2,
			     "%s", node_rules[r]);
		/* held now, as many as kept: no session came, nothing expired */
		cr_expect_eq(sample(text, "keyhole_exec_join_requests_held", node_rules[r]), 2,
			     "%s", node_rules[r]);
		cr_expect_eq(sample(text, "keyhole_exec_join_sessions_held", node_rules[r]), 0);
		cr_expect_eq(sample(text, "keyhole_exec_join_sessions_joined_total", node_rules[r]),
			     0);
	}
	free(text);
	metrics__free(m);
	pipeline__free(p);
	fclose(po.out);
}

/* the value of the unlabelled series @name in @text, or -1 when absent */
static long long plain(const char *text, const char *name)
{
	char want[256];
	const char *at;

	snprintf(want, sizeof(want), "\n%s ", name);
	at = strstr(text, want);
	return at ? strtoll(at + strlen(want), NULL, 10) : -1;
}

Test(rule_metrics, correlator_counters_and_tables_are_served)
{
	static const char *const counters[] = {
	    "keyhole_correlate_grants_total",
	    "keyhole_correlate_grants_ignored_total",
	    "keyhole_correlate_grants_failed_total",
	    "keyhole_correlate_subject_evictions_total",
	    "keyhole_correlate_reader_evictions_total",
	    "keyhole_correlate_incidents_opened_total",
	    "keyhole_correlate_incident_revisions_total",
	    "keyhole_correlate_incident_evictions_total",
	    "keyhole_correlate_steps_dropped_total",
	    "keyhole_correlate_rbac_unreadable_total",
	};
	static const char *const gauges[] = {"keyhole_correlate_subjects",
					     "keyhole_correlate_readers",
					     "keyhole_correlate_incidents"};
	struct kh_pipeline_opts po = {0};
	struct kh_origin o = {.source = "attack.log"};
	struct kh_pipeline *p;
	struct kh_metrics *m = metrics__new();
	char *text, *line = NULL, *out = NULL;
	size_t cap = 0, out_len = 0;
	ssize_t n;
	long long revisions = 0;
	FILE *in = fopen(KH_TEST_DATA_DIR "/attack.log", "r");

	cr_assert_not_null(in);
	po.out = open_memstream(&out, &out_len);
	cr_assert_not_null(po.out);
	p = pipeline__new(&po);
	cr_assert_not_null(p);
	cr_assert_eq(metrics__add_correlate(m, pipeline__correlate_stats(p)), 0);

	text = render(m);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		char want[128];

		cr_expect_eq(plain(text, counters[i]), 0, "%s missing or not 0", counters[i]);
		snprintf(want, sizeof(want), "# TYPE %s counter\n", counters[i]);
		cr_expect_not_null(strstr(text, want), "%s", want);
	}
	for (size_t i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++) {
		char want[128];

		cr_expect_eq(plain(text, gauges[i]), 0, "%s missing or not 0", gauges[i]);
		snprintf(want, sizeof(want), "# TYPE %s gauge\n", gauges[i]);
		cr_expect_not_null(strstr(text, want), "%s", want);
	}
	free(text);

	/* the bundled attack: one escalate-then-loot incident, revised as its steps arrive */
	while ((n = getline(&line, &cap, in)) > 0) {
		o.line_no++;
		cr_assert_eq(
		    pipeline__feed_line(p, line, (size_t)(line[n - 1] == '\n' ? n - 1 : n), &o), 0);
	}
	fclose(in);
	free(line);
	text = render(m);
	fflush(po.out);
	for (const char *at = out; (at = strstr(at, "\"id\":\"k8s-escalate-then-loot\"")); at++)
		revisions++;
	cr_assert_gt(revisions, 0);
	cr_expect_eq(plain(text, "keyhole_correlate_incidents_opened_total"), 1);
	cr_expect_eq(plain(text, "keyhole_correlate_incident_revisions_total"), revisions);
	cr_expect_eq(plain(text, "keyhole_correlate_incidents"), 1, "the incident is still open");
	cr_expect_gt(plain(text, "keyhole_correlate_grants_total"), 0);
	cr_expect_gt(plain(text, "keyhole_correlate_subjects"), 0);
	cr_expect_gt(plain(text, "keyhole_correlate_readers"), 0);
	free(text);
	metrics__free(m);
	pipeline__free(p);
	fclose(po.out);
	free(out);
}
