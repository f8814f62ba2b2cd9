// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/rules/unusual_decision_ua.c (seed 002): ResponseComplete events with a user
 * agent alert when their (decision, username, user agent) was not seen in the 10 days of event
 * time before; what the history remembers, forgets, learns in baseline mode and bounds.
 */
#define json_bool jsonc_bool
#include <json-c/json.h>
#undef json_bool

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyhole/config.h"
#include "keyhole/history.h"
#include "keyhole/emit.h"
#include "keyhole/rule.h"
#include "rules/rules.h"
#include "rules_harness.h"

#define ID "k8s-unusual-decision-ua"
#define HOUR 3600l
#define DAY (24 * HOUR)

static const struct kh_rule *const only[] = {&rule_unusual_decision_ua, NULL};

static const char *at(long secs)
{
	static char bufs[16][40];
	static int next;
	char *b = bufs[next++ % 16];
	time_t t = 1795428000 + secs; /* 2026-11-23T10:00:00Z */
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(b, 40, "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
	return b;
}

/* a request (both stages) by @user with @ua and @decision at @secs */
static void req(struct rh *h, const char *user, const char *ua, const char *decision, long secs)
{
	rh_request(h, &(struct ev_spec){.user = user,
					.ua = ua,
					.decision = decision,
					.code = decision && !strcmp(decision, "forbid") ? 403 : 200,
					.resource = "pods",
					.name = "web-0",
					.time = at(secs)});
}

Test(unusual_decision_ua, a_new_combination_alerts_once)
{
	struct rh *h = rh_new(only);
	struct json_object *a;

	req(h, "alice", "kubectl/v1.30.2", "allow", 0);
	req(h, "alice", "kubectl/v1.30.2", "allow", HOUR);
	req(h, "alice", "kubectl/v1.30.2", "allow", 3 * DAY);
	rh_flush(h);
	cr_assert_eq(rh_count(h, ID), 1);
	a = rh_alert(h, ID, 0);
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.stage"), "ResponseComplete");
	cr_expect_str_eq(json_object_to_json_string_ext(rh_get(a, "new_terms.values"),
							JSON_C_TO_STRING_PLAIN),
			 "[\"allow\",\"alice\",\"kubectl\\/v1.30.2\"]");
	cr_expect_null(rh_get(a, "new_terms.last_seen"), "never seen before: no last_seen");
	cr_expect_str_eq(rh_str(a, "rule.uuid"), "8a1db198-da6f-4500-b985-7fe2457300af");
	cr_expect_str_eq(rh_str(a, "rule.severity"), "low");
	cr_expect_eq(json_object_get_int(rh_get(a, "rule.risk_score")), 21);
	cr_expect_str_eq(
	    json_object_get_string(json_object_array_get_idx(rh_get(a, "threat.tactic.id"), 0)),
	    "TA0002");
	rh_free(h);
}

Test(unusual_decision_ua, each_field_of_the_combination_counts)
{
	struct rh *h = rh_new(only);

	req(h, "alice", "kubectl/v1.30.2", "allow", 0);
	req(h, "alice", "kubectl/v1.30.2", "forbid", 10); /* new decision */
	req(h, "alice", "curl/8.5.0", "allow", 20);	  /* new user agent */
	req(h, "bob", "kubectl/v1.30.2", "allow", 30);	  /* new user */
	req(h, "bob", "kubectl/v1.30.2", "allow", 40);
	rh_flush(h);
	cr_expect_eq(rh_count(h, ID), 4);
	rh_free(h);
}

/* is the combination new again @gap seconds after it was last seen? */
static size_t alerts_after_gap(long gap)
{
	struct rh *h = rh_new(only);
	size_t n;

	req(h, "alice", "kubectl/v1.30.2", "allow", 0);
	req(h, "alice", "kubectl/v1.30.2", "allow", gap);
	rh_flush(h);
	n = rh_count(h, ID);
	rh_free(h);
	return n;
}

Test(unusual_decision_ua, history_expires_after_ten_days)
{
	cr_expect_eq(alerts_after_gap(10 * DAY - 1), 1, "seen 1 s less than 10 days ago");
	cr_expect_eq(alerts_after_gap(10 * DAY), 1, "seen exactly 10 days ago: still history");
	cr_expect_eq(alerts_after_gap(10 * DAY + 1), 2, "last seen more than 10 days ago: new");
}

Test(unusual_decision_ua, every_sighting_extends_the_history)
{
	struct rh *h = rh_new(only);
	struct json_object *a;

	for (long d = 0; d <= 30; d += 9)
		req(h, "alice", "kubectl/v1.30.2", "allow", d * DAY);
	cr_expect_eq(rh_count(h, ID), 1, "seen every 9 days: never 10 days unseen");
	req(h, "alice", "kubectl/v1.30.2", "allow", 27 * DAY + 10 * DAY + 1);
	rh_flush(h);
	cr_assert_eq(rh_count(h, ID), 2);
	a = rh_alert(h, ID, 1);
	cr_expect_str_eq(rh_str(a, "new_terms.last_seen"), "2026-12-20T10:00:00.000000Z");
	rh_free(h);
}

Test(unusual_decision_ua, only_response_complete_with_all_three_values)
{
	struct rh *h = rh_new(only);

	rh_ev(h, &(struct ev_spec){.stage = "RequestReceived", .time = at(0)});
	rh_ev(h, &(struct ev_spec){.stage = "ResponseStarted", .time = at(0), .user = "s"});
	rh_ev(h, &(struct ev_spec){.ua = "-", .time = at(0), .user = "no-ua"});
	rh_ev(h, &(struct ev_spec){.ua = "", .time = at(0), .user = "empty-ua"});
	cr_expect_eq(rh_count(h, ID), 0);
	rh_ev(h, &(struct ev_spec){.time = at(0)});
	rh_flush(h);
	cr_expect_eq(rh_count(h, ID), 1);
	rh_free(h);
}

Test(unusual_decision_ua, a_line_without_a_decision_has_no_combination)
{
	struct rh *h = rh_new(only);
	const char *line =
	    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
	    "\"auditID\":\"33333333-0000-4000-8000-000000000001\",\"stage\":\"ResponseComplete\","
	    "\"requestURI\":\"/version\",\"verb\":\"get\",\"user\":{\"username\":\"alice\"},"
	    "\"sourceIPs\":[\"192.0.2.1\"],\"userAgent\":\"kubectl/v1.30.2\","
	    "\"responseStatus\":{\"code\":200},"
	    "\"requestReceivedTimestamp\":\"2026-11-23T10:00:00.000000Z\","
	    "\"stageTimestamp\":\"2026-11-23T10:00:00.001000Z\"}";

	rh_feed(h, line);
	rh_flush(h);
	cr_expect_eq(rh_count(h, ID), 0);
	rh_free(h);
}

Test(unusual_decision_ua, lines_out_of_order_do_not_make_old_combinations_new)
{
	struct rh *h = rh_new(only);

	req(h, "alice", "kubectl/v1.30.2", "allow", 5 * DAY);
	req(h, "alice", "kubectl/v1.30.2", "allow", 5 * DAY - HOUR);
	rh_flush(h);
	cr_expect_eq(rh_count(h, ID), 1);
	rh_free(h);
}

Test(unusual_decision_ua, baseline_mode_learns_without_alerting)
{
	struct rh *h = rh_new(only);

	emit__set_muted(h->e, 1);
	req(h, "alice", "kubectl/v1.30.2", "allow", 0);
	req(h, "system:node:n1", "kubelet/v1.30.2", "allow", 10);
	emit__set_muted(h->e, 0);
	cr_expect_eq(rh_count(h, ID), 0);
	req(h, "alice", "kubectl/v1.30.2", "allow", DAY);
	req(h, "system:node:n1", "kubelet/v1.30.2", "allow", DAY);
	cr_expect_eq(rh_count(h, ID), 0, "what the baseline saw is not new");
	req(h, "mallory", "python-requests/2.31", "forbid", DAY);
	rh_flush(h);
	cr_expect_eq(rh_count(h, ID), 1);
	rh_free(h);
}

Test(unusual_decision_ua, the_history_is_bounded_and_evictions_counted)
{
	struct kh_config_error err;
	struct kh_config *c;
	const char *yaml = "rules: {k8s-unusual-decision-ua: {max_keys: 2}}\n";
	struct rh *h;

	cr_assert_eq(config__load_buf(yaml, strlen(yaml), "t", rules__config_schema(), &c, &err),
		     0);
	h = rh_new_config(only, c);
	req(h, "u1", "ua", "allow", 0);
	req(h, "u2", "ua", "allow", 1);
	req(h, "u3", "ua", "allow", 2); /* evicts u1 */
	cr_expect_eq(h->c.state_evictions, 1);
	req(h, "u3", "ua", "allow", 3);
	req(h, "u2", "ua", "allow", 4);
	cr_expect_eq(rh_count(h, ID), 3);
	req(h, "u1", "ua", "allow", 5); /* forgotten: alerts again */
	rh_flush(h);
	cr_expect_eq(rh_count(h, ID), 4);
	rh_free(h);
	config__free(c);
}

Test(unusual_decision_ua, config_excludes_and_shortens_the_history)
{
	struct kh_config_error err;
	struct kh_config *c;
	const char *yaml = "rules:\n"
			   "  k8s-unusual-decision-ua:\n"
			   "    history: 1d\n"
			   "    excluded_user_agents: [\"kubelet/*\"]\n"
			   "    excluded_username_prefixes: [\"system:node:\"]\n";
	struct rh *h;

	cr_assert_eq(config__load_buf(yaml, strlen(yaml), "t", rules__config_schema(), &c, &err), 0,
		     "%s", err.msg);
	h = rh_new_config(only, c);
	req(h, "system:serviceaccount:x:y", "kubelet/v1.30.2 (linux/amd64)", "allow", 0);
	req(h, "system:node:n1", "kube-proxy/v1.30", "allow", 0);
	cr_expect_eq(rh_count(h, ID), 0);
	req(h, "alice", "kubectl/v1.30.2", "allow", 0);
	req(h, "alice", "kubectl/v1.30.2", "allow", DAY + 1);
	rh_flush(h);
	cr_expect_eq(rh_count(h, ID), 2, "a 1-day history forgets in a day and a second");
	rh_free(h);
	config__free(c);
}

Test(unusual_decision_ua, the_rule_exposes_its_history_for_the_state_file)
{
	struct kh_history *hist;
	void *s = unusual_decision_ua__new_with(&unusual_decision_ua_defaults);

	cr_assert_not_null(s);
	cr_assert_not_null(rule_unusual_decision_ua.history);
	hist = rule_unusual_decision_ua.history(s);
	cr_assert_not_null(hist);
	cr_expect_eq(history__count(hist), 0);
	cr_expect_eq(history__max(hist), unusual_decision_ua_defaults.max_keys);
	rule_unusual_decision_ua.state_free(s);
}
