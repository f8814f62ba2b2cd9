// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/rules/secret_rapid_get.c (seed 001): >= 3 distinct secret names read by one
 * client fingerprint within a sliding 6 minutes of event time, every exclusion of the ES|QL
 * query, one alert per burst, and what the alert carries.
 */
#define json_bool jsonc_bool
#include <json-c/json.h>
#undef json_bool

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyhole/config.h"
#include "keyhole/emit.h"
#include "keyhole/rule.h"
#include "rules/rules.h"
#include "rules_harness.h"

#define ID "k8s-secret-rapid-get"
#define MIN 60l

static const struct kh_rule *const only[] = {&rule_secret_rapid_get, NULL};

/* RFC 3339 time @secs after 2026-11-23T10:00:00Z, in one of a few rotating buffers */
static const char *at(long secs)
{
	static char bufs[16][40];
	static int next;
	char *b = bufs[next++ % 16];
	time_t t = 1795428000 + secs;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(b, 40, "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
	return b;
}

/* one get of secret @name at @secs by the default client (alice, 192.0.2.10, kubectl) */
static void get(struct rh *h, const char *name, long secs)
{
	rh_request(h, &(struct ev_spec){.name = name, .time = at(secs)});
}

/* alerts for three gets of distinct names, the first and last @span seconds apart */
static size_t burst_of_three(long span)
{
	struct rh *h = rh_new(only);
	size_t n;

	get(h, "a", 0);
	get(h, "b", span / 2);
	get(h, "c", span);
	rh_flush(h);
	n = rh_count(h, ID);
	rh_free(h);
	return n;
}

Test(rapid_get, three_names_within_the_window_alert_and_outside_do_not)
{
	cr_expect_eq(burst_of_three(5 * MIN + 59), 1, "5m59s apart must alert");
	cr_expect_eq(burst_of_three(6 * MIN), 1, "exactly 6m apart is inside the window");
	cr_expect_eq(burst_of_three(6 * MIN + 1), 0, "6m01s apart must not alert");
}

Test(rapid_get, the_same_name_five_times_does_not_alert)
{
	struct rh *h = rh_new(only);

	for (int i = 0; i < 5; i++)
		get(h, "db-credentials", i * 10);
	get(h, "other", 60);
	rh_flush(h);
	cr_expect_eq(rh_count(h, ID), 0);
	rh_free(h);
}

Test(rapid_get, the_alert_carries_names_namespaces_decisions_and_every_audit_id)
{
	struct rh *h = rh_new(only);
	struct json_object *a, *ids;

	rh_request(h, &(struct ev_spec){.audit_id = "11111111-0000-4000-8000-000000000001",
					.ns = "prod",
					.name = "db",
					.time = at(0)});
	rh_request(h, &(struct ev_spec){.audit_id = "11111111-0000-4000-8000-000000000002",
					.ns = "prod",
					.name = "db",
					.time = at(5)});
	rh_request(h, &(struct ev_spec){.audit_id = "11111111-0000-4000-8000-000000000003",
					.ns = "kube-system",
					.name = "bootstrap-token-abc",
					.decision = "forbid",
					.code = 403,
					.time = at(10)});
	rh_request(h, &(struct ev_spec){.audit_id = "11111111-0000-4000-8000-000000000004",
					.ns = "prod",
					.name = "tls",
					.time = at(20)});
	rh_flush(h);
	cr_assert_eq(rh_count(h, ID), 1);
	a = rh_alert(h, ID, 0);
	cr_expect_eq(json_object_get_int(rh_get(a, "Esql.unique_credentials")), 3);
	cr_expect_str_eq(json_object_to_json_string_ext(rh_get(a, "Esql.secrets_names"),
							JSON_C_TO_STRING_PLAIN),
			 "[\"db\",\"bootstrap-token-abc\",\"tls\"]");
	cr_expect_str_eq(json_object_to_json_string_ext(rh_get(a, "Esql.namespaces"),
							JSON_C_TO_STRING_PLAIN),
			 "[\"prod\",\"kube-system\"]");
	/* forbidden reads count, and the outcome lists both decisions */
	cr_expect_str_eq(json_object_to_json_string_ext(rh_get(a, "Esql.outcome"),
							JSON_C_TO_STRING_PLAIN),
			 "[\"allow\",\"forbid\"]");
	/* the alert is rendered from the ResponseComplete stage of the request that tipped it */
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.stage"), "ResponseComplete");
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.auditID"),
			 "11111111-0000-4000-8000-000000000004");
	cr_expect_eq(json_object_get_int(rh_get(a, "keyhole.window.requests")), 4);
	cr_expect_str_eq(rh_str(a, "keyhole.window.start"), "2026-11-23T10:00:00.000000Z");
	ids = rh_get(a, "evidence.audit_ids");
	cr_assert_eq(json_object_array_length(ids), 4, "%s", json_object_to_json_string(ids));
	cr_expect_str_eq(json_object_get_string(json_object_array_get_idx(ids, 0)),
			 "11111111-0000-4000-8000-000000000004");
	cr_expect_str_eq(json_object_get_string(json_object_array_get_idx(ids, 1)),
			 "11111111-0000-4000-8000-000000000001");
	cr_expect_eq(h->c.alerts, 1, "one alert line for the request, not one per stage");
	rh_free(h);
}

Test(rapid_get, forbidden_reads_alone_make_a_burst)
{
	struct rh *h = rh_new(only);
	const char *names[] = {"a", "b", "c"};

	for (int i = 0; i < 3; i++)
		rh_request(h,
			   &(struct ev_spec){
			       .name = names[i], .decision = "forbid", .code = 403, .time = at(i)});
	rh_flush(h);
	cr_expect_eq(rh_count(h, ID), 1);
	rh_free(h);
}

Test(rapid_get, one_alert_per_burst_and_when_it_alerts_again)
{
	struct rh *h = rh_new(only);
	char name[16];

	/* a burst of 20 names over 5 minutes: one alert */
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		get(h, name, i * 15);
	}
	cr_expect_eq(rh_count(h, ID), 1);
	/* still inside the window of the burst: still the same burst */
	get(h, "late-1", 9 * MIN);
	get(h, "late-2", 9 * MIN + 30);
	cr_expect_eq(rh_count(h, ID), 1);
	/* 6m01s after the last read only the new one is in the window: the burst is over ... */
	get(h, "x", 15 * MIN + 31);
	get(h, "y", 15 * MIN + 40);
	cr_expect_eq(rh_count(h, ID), 1);
	/* ... and the third distinct name of the new window alerts again */
	get(h, "z", 16 * MIN);
	rh_flush(h);
	cr_expect_eq(rh_count(h, ID), 2);
	rh_free(h);
}

Test(rapid_get, a_burst_that_slows_below_the_threshold_rearms)
{
	struct rh *h = rh_new(only);

	get(h, "a", 0);
	get(h, "b", 10);
	get(h, "c", 20);	   /* alert */
	get(h, "d", 4 * MIN + 20); /* the window ending here holds a..d: the same burst */
	/* 6m01s after d, the window holds e alone: fewer than 3 names, the burst is over */
	get(h, "e", 10 * MIN + 21);
	get(h, "f", 10 * MIN + 30); /* e, f: 2 names */
	cr_expect_eq(rh_count(h, ID), 1);
	get(h, "g", 11 * MIN); /* e, f, g */
	rh_flush(h);
	cr_expect_eq(rh_count(h, ID), 2);
	rh_free(h);
}

/* the alert count for three distinct gets by the client @s describes */
static size_t alerts_for(struct ev_spec s)
{
	struct rh *h = rh_new(only);
	const char *names[] = {"a", "b", "c"};
	size_t n;

	if (!s.name)
		for (int i = 0; i < 3; i++) {
			s.name = names[i];
			s.time = at(i);
			rh_request(h, &s);
			s.name = NULL;
		}
	else
		for (int i = 0; i < 3; i++) {
			s.time = at(i);
			rh_request(h, &s);
		}
	rh_flush(h);
	n = rh_count(h, ID);
	rh_free(h);
	return n;
}

Test(rapid_get, every_exclusion_of_the_query)
{
	cr_expect_eq(alerts_for((struct ev_spec){0}), 1, "the baseline alerts");
	cr_expect_eq(alerts_for((struct ev_spec){.ips = "[\"127.0.0.1\"]"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.ips = "[\"::1\"]"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.ips = "[\"::ffff:127.0.0.1\"]"}), 0,
		     "source.ip is an address: the mapped form is 127.0.0.1");
	cr_expect_eq(alerts_for((struct ev_spec){.ips = "[\"127.0.0.2\"]"}), 1);
	cr_expect_eq(alerts_for((struct ev_spec){.ips = "-"}), 0, "source.ip is not null");
	cr_expect_eq(alerts_for((struct ev_spec){.ips = "[]"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.user = "system:kube-controller-manager"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.user = "system:kube-scheduler"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){
			 .user = "system:serviceaccount:flux-system:kustomize-controller"}),
		     0);
	cr_expect_eq(alerts_for((struct ev_spec){
			 .user = "system:serviceaccount:flux-system:helm-controller"}),
		     0);
	cr_expect_eq(alerts_for((struct ev_spec){
			 .user = "system:serviceaccount:flux-system:source-controller"}),
		     0);
	cr_expect_eq(
	    alerts_for((struct ev_spec){.user = "system:serviceaccount:security:trivy-operator"}),
	    0);
	cr_expect_eq(alerts_for((struct ev_spec){
			 .user = "system:serviceaccount:flux-system:notification-controller"}),
		     1, "only the four named service accounts are excluded");
	cr_expect_eq(alerts_for((struct ev_spec){.verb = "list", .name = "-"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.verb = "watch"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.resource = "configmaps"}), 0);
}

Test(rapid_get, helm_release_secrets_do_not_count)
{
	struct rh *h = rh_new(only);

	get(h, "sh.helm.release.v1.web.v1", 0);
	get(h, "sh.helm.release.v1.web.v2", 1);
	get(h, "app-config", 2);
	get(h, "sh.helm.releasex", 3); /* LIKE "sh.helm.release.*": the dot is literal */
	cr_expect_eq(rh_count(h, ID), 0);
	get(h, "other", 4);
	rh_flush(h);
	cr_expect_eq(rh_count(h, ID), 1);
	rh_free(h);
}

Test(rapid_get, groups_are_user_source_ip_and_user_agent)
{
	struct rh *h = rh_new(only);

	rh_request(h, &(struct ev_spec){.name = "a", .time = at(0)});
	rh_request(h, &(struct ev_spec){.name = "b", .time = at(1), .ips = "[\"192.0.2.11\"]"});
	rh_request(h, &(struct ev_spec){.name = "c", .time = at(2), .ua = "curl/8.5.0"});
	rh_request(h, &(struct ev_spec){.name = "d", .time = at(3), .user = "bob"});
	rh_request(h, &(struct ev_spec){.name = "e", .time = at(4), .ua = "-"});
	rh_flush(h);
	cr_expect_eq(rh_count(h, ID), 0);
	rh_free(h);
}

Test(rapid_get, stages_of_one_request_are_one_request)
{
	struct rh *h = rh_new(only);
	struct ev_spec s = {.audit_id = "22222222-0000-4000-8000-000000000001", .name = "a"};

	/* the same request logged at three stages, and its line repeated: still one name */
	s.time = at(0);
	s.stage = "RequestReceived";
	rh_ev(h, &s);
	s.stage = "ResponseStarted";
	rh_ev(h, &s);
	s.stage = "ResponseComplete";
	rh_ev(h, &s);
	rh_ev(h, &s);
	get(h, "b", 10);
	cr_expect_eq(rh_count(h, ID), 0);
	get(h, "c", 20);
	rh_flush(h);
	cr_assert_eq(rh_count(h, ID), 1);
	cr_expect_eq(json_object_get_int(rh_get(rh_alert(h, ID, 0), "keyhole.window.requests")), 3);
	rh_free(h);
}

Test(rapid_get, padding_with_rereads_cannot_push_names_out)
{
	struct rh *h = rh_new(only);

	get(h, "a", 0);
	for (int i = 0; i < 200; i++)
		get(h, "b", 1);
	get(h, "c", 2);
	rh_flush(h);
	cr_expect_eq(rh_count(h, ID), 1);
	cr_expect_gt(h->c.state_evictions, 0, "the re-reads were the ones evicted");
	rh_free(h);
}

Test(rapid_get, policy_without_request_received_still_alerts)
{
	struct rh *h = rh_new(only);
	const char *names[] = {"a", "b", "c"};

	for (int i = 0; i < 3; i++)
		rh_ev(h, &(struct ev_spec){.name = names[i], .time = at(i)});
	rh_flush(h);
	cr_expect_eq(rh_count(h, ID), 1);
	rh_free(h);
}

Test(rapid_get, baseline_mode_learns_the_burst_without_alerting)
{
	struct rh *h = rh_new(only);

	emit__set_muted(h->e, 1);
	get(h, "a", 0);
	get(h, "b", 1);
	get(h, "c", 2);
	emit__set_muted(h->e, 0);
	get(h, "d", 3); /* the same burst, now live: it already alerted in the baseline */
	cr_expect_eq(rh_count(h, ID), 0);
	get(h, "e", 20 * MIN);
	get(h, "f", 20 * MIN + 1);
	get(h, "g", 20 * MIN + 2);
	rh_flush(h);
	cr_expect_eq(rh_count(h, ID), 1);
	rh_free(h);
}

static struct kh_config *cfg_of(const char *yaml)
{
	struct kh_config_error err;
	struct kh_config *c;

	cr_assert_eq(config__load_buf(yaml, strlen(yaml), "t.yaml", rules__config_schema(), &c,
				      &err),
		     0, "%s: %s", err.key, err.msg);
	return c;
}

Test(rapid_get, config_tunes_threshold_window_and_allowlists)
{
	struct kh_config *c = cfg_of("rules:\n"
				     "  k8s-secret-rapid-get:\n"
				     "    min_distinct_names: 4\n"
				     "    window: 1m\n"
				     "    excluded_namespaces: [ci]\n"
				     "    excluded_source_ips: [192.0.2.0/28]\n"
				     "    excluded_user_agents: [\"argocd-*\"]\n");
	struct rh *h = rh_new_config(only, c);
	const char *names[] = {"a", "b", "c", "d"};

	for (int i = 0; i < 3; i++)
		rh_request(h, &(struct ev_spec){
				  .name = names[i], .time = at(i), .ips = "[\"198.51.100.1\"]"});
	cr_expect_eq(rh_count(h, ID), 0, "3 names are below a threshold of 4");
	rh_request(h, &(struct ev_spec){.name = "d", .time = at(61), .ips = "[\"198.51.100.1\"]"});
	cr_expect_eq(rh_count(h, ID), 0, "a 1 minute window has lost the first name");
	/* b, c, d and e are within the minute ending at e */
	rh_request(h, &(struct ev_spec){.name = "e", .time = at(61), .ips = "[\"198.51.100.1\"]"});
	cr_expect_eq(rh_count(h, ID), 1);
	/* the allowlists: namespace, CIDR, user-agent wildcard */
	for (int i = 0; i < 4; i++) {
		rh_request(
		    h, &(struct ev_spec){
			   .name = names[i], .time = at(100 + i), .ns = "ci", .user = "ns-test"});
		rh_request(h, &(struct ev_spec){.name = names[i],
						.time = at(100 + i),
						.ips = "[\"192.0.2.14\"]",
						.user = "ip-test"});
		rh_request(h, &(struct ev_spec){.name = names[i],
						.time = at(100 + i),
						.ua = "argocd-application-controller/v2",
						.user = "ua-test"});
	}
	rh_flush(h);
	cr_expect_eq(rh_count(h, ID), 1);
	rh_free(h);
	config__free(c);
}

Test(rapid_get, config_can_disable_the_rule)
{
	struct kh_config *c = cfg_of("rules: {k8s-secret-rapid-get: {enabled: false}}\n");
	struct rh *h = rh_new_config(only, c);

	get(h, "a", 0);
	get(h, "b", 1);
	get(h, "c", 2);
	rh_flush(h);
	cr_expect_eq(rh_count(h, ID), 0);
	rh_free(h);
	config__free(c);
}

Test(rapid_get, groups_are_bounded_and_evictions_counted)
{
	struct kh_config *c = cfg_of("rules: {k8s-secret-rapid-get: {max_groups: 2}}\n");
	struct rh *h = rh_new_config(only, c);

	rh_request(h, &(struct ev_spec){.name = "a", .time = at(0), .user = "u1"});
	rh_request(h, &(struct ev_spec){.name = "a", .time = at(1), .user = "u2"});
	rh_request(h, &(struct ev_spec){.name = "a", .time = at(2), .user = "u3"});
	cr_expect_eq(h->c.state_evictions, 1);
	rh_free(h);
	config__free(c);
}

/* the auditIDs an expected-alerts file lists for this rule */
static size_t expected_ids(const char *path, char ids[][64], size_t cap)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	size_t n = 0;

	cr_assert_not_null(f, "%s", path);
	while (fgets(line, sizeof(line), f)) {
		struct json_object *o = json_tokener_parse(line);

		cr_assert_not_null(o, "%s: not JSON: %s", path, line);
		if (rh_get(o, "auditID") && !strcmp(rh_str(o, "rule"), ID)) {
			cr_assert_lt(n, cap);
			snprintf(ids[n++], 64, "%s", rh_str(o, "auditID"));
		}
		json_object_put(o);
	}
	fclose(f);
	return n;
}

Test(rapid_get, bundled_log_raises_exactly_the_labelled_alerts)
{
	struct rh *h = rh_new(only);
	char want[16][64];
	size_t n = expected_ids(KH_TEST_DATA_DIR "/rapid-get.expected.jsonl", want, 16);

	rh_feed_file(h, KH_TEST_DATA_DIR "/rapid-get.log");
	rh_flush(h);
	cr_assert_geq(n, 4);
	cr_assert_eq(rh_count(h, ID), n, "got %zu alerts, labelled %zu", rh_count(h, ID), n);
	for (size_t i = 0; i < n; i++)
		cr_expect_str_eq(rh_str(rh_alert(h, ID, i), "kubernetes.audit.auditID"), want[i],
				 "alert %zu", i);
	rh_free(h);
}
