// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/rules/secret_configmap_arc_proxy.c (seed 003 and its Elastic rule file): secret
 * and configmap access through the Azure Arc proxy account, one alert per impersonated user not
 * seen in the 5 days before, with the impersonated user reported as the caller.
 */
#include <json-c/json.h>

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyhole/emit.h"
#include "rules/rules.h"
#include "rules_harness.h"

#define ID "k8s-secret-configmap-arc-proxy"
#define ARC_SA "system:serviceaccount:azure-arc:azure-arc-kube-aad-proxy-sa"
#define OID1 "4d2a1e7b-0c3f-4b9e-8a61-2f5c7d9e1b03"
#define OID2 "9b8c7d6e-5f4a-4b3c-9d2e-1f0a9b8c7d6e"
#define OID3 "c0ffee00-1d2c-4b3a-8e9f-a0b1c2d3e4f5"
#define HOUR 3600l
#define DAY (24 * HOUR)

static const struct kh_rule *const only[] = {&rule_secret_configmap_arc_proxy, NULL};

/* RFC 3339 time @secs after 2026-11-23T10:00:00Z, in one of a few rotating buffers */
static const char *at(long secs)
{
	static char bufs[8][40];
	static int next;
	char *b = bufs[next++ % 8];
	time_t t = 1795428000 + secs; /* 2026-11-23T10:00:00Z */
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(b, 40, "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
	return b;
}

/* a request through the Arc proxy for @who (NULL: no impersonation) at @secs */
static void arc(struct rh *h, const char *who, long secs)
{
	rh_request(h, &(struct ev_spec){.user = ARC_SA,
					.imp_user = who,
					.time = at(secs),
					.ns = "prod",
					.name = "payments-db",
					.ips = "[\"10.244.0.9\"]"});
}

static size_t alerts_for(struct ev_spec s)
{
	struct rh *h = rh_new(only);
	size_t n;

	s.user = s.user ? s.user : ARC_SA;
	s.imp_user = s.imp_user ? s.imp_user : OID1;
	rh_request(h, &s);
	rh_flush(h);
	n = rh_count(h, ID);
	rh_free(h);
	return n;
}

Test(arc_proxy, alerts_once_per_new_impersonated_user)
{
	struct rh *h = rh_new(only);
	struct json_object *a;

	arc(h, OID1, 0);
	arc(h, OID1, 60);
	arc(h, OID2, 120);
	arc(h, OID1, 4 * DAY);
	arc(h, OID2, 130);
	rh_flush(h);
	cr_assert_eq(rh_count(h, ID), 2);
	a = rh_alert(h, ID, 0);
	cr_expect_str_eq(rh_str(a, "user.effective.name"), OID1);
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.impersonatedUser.username"), OID1);
	cr_expect_str_eq(rh_str(a, "user.name"), ARC_SA);
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.stage"), "ResponseComplete",
			 "the RequestReceived hold gave way to the stage naming the caller");
	cr_expect_str_eq(rh_str(a, "@timestamp"), at(0));
	cr_expect_str_eq(rh_str(a, "rule.uuid"), "220d92c6-479d-4a49-9cc0-3a29756dad0c");
	cr_expect_str_eq(rh_str(a, "rule.severity"), "medium");
	cr_expect_eq(json_object_array_length(rh_get(a, "threat.technique.id")), 4,
		     "T1552, T1213, T1530, T1565");
	cr_expect_str_eq(rh_str(rh_alert(h, ID, 1), "user.effective.name"), OID2);
	rh_free(h);
}

Test(arc_proxy, five_days_since_last_seen)
{
	struct rh *h = rh_new(only);

	arc(h, OID1, 0);
	arc(h, OID1, 3 * DAY);
	arc(h, OID1, 6 * DAY);		    /* seen 3 days before: no */
	arc(h, OID1, 11 * DAY);		    /* exactly 5 days after the last: still within */
	arc(h, OID1, 16 * DAY + 1);	    /* 5 days and a second: new again */
	arc(h, OID1, 16 * DAY - 10 * HOUR); /* earlier than the last seen (out of order): no */
	rh_flush(h);
	cr_assert_eq(rh_count(h, ID), 2);
	cr_expect_str_eq(rh_str(rh_alert(h, ID, 1), "@timestamp"), at(16 * DAY + 1));
	rh_free(h);
}

Test(arc_proxy, scope_of_the_query)
{
	cr_expect_eq(alerts_for((struct ev_spec){.ns = "prod"}), 1);
	cr_expect_eq(alerts_for((struct ev_spec){.resource = "configmaps"}), 1);
	for (const char *const *v =
		 (const char *const[]){"get", "list", "create", "update", "patch", "delete", NULL};
	     *v; v++)
		cr_expect_eq(alerts_for((struct ev_spec){.verb = *v}), 1, "verb %s", *v);
	cr_expect_eq(alerts_for((struct ev_spec){.verb = "watch"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.verb = "deletecollection"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.resource = "pods"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.user = "system:serviceaccount:azure-arc:other"}),
		     1, "any account of the azure-arc namespace");
	cr_expect_eq(alerts_for((struct ev_spec){.user = "system:serviceaccount:azure-arc-x:y"}),
		     0);
	cr_expect_eq(alerts_for((struct ev_spec){.user = "system:admin"}), 0,
		     "impersonation by anyone else is not this rule");
	for (const char *const *n =
		 (const char *const[]){"azure-arc", "azure-arc-release", "kube-system", NULL};
	     *n; n++)
		cr_expect_eq(alerts_for((struct ev_spec){.ns = *n}), 0, "namespace %s", *n);
	cr_expect_eq(alerts_for((struct ev_spec){.ns = "azure-arc-other"}), 1);
	cr_expect_eq(alerts_for((struct ev_spec){.name = "sh.helm.release.v1.arc.v3"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.name = "sh.helm.release.v1"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.name = "sh.helm.release.v2.arc.v3"}), 1);
	cr_expect_eq(alerts_for((struct ev_spec){.name = "my-sh.helm.release.v1"}), 1);
}

Test(arc_proxy, missing_namespace_or_name_is_not_excluded)
{
	/* ES|QL would drop these rows (null NOT IN ... is null); the rule means to catch reads */
	cr_expect_eq(alerts_for((struct ev_spec){.verb = "list", .ns = "-", .name = "-"}), 1);
	cr_expect_eq(alerts_for((struct ev_spec){.verb = "list", .ns = "prod", .name = "-"}), 1);
}

Test(arc_proxy, proxy_acting_as_itself_groups_under_no_caller)
{
	struct rh *h = rh_new(only);
	struct json_object *a;

	arc(h, NULL, 0);
	arc(h, NULL, 60);
	arc(h, OID1, 90);
	rh_flush(h);
	cr_assert_eq(rh_count(h, ID), 2);
	a = rh_alert(h, ID, 0);
	cr_expect_null(rh_get(a, "user.effective"));
	cr_expect_null(rh_get(a, "kubernetes.audit.impersonatedUser"));
	cr_expect_str_eq(rh_str(rh_alert(h, ID, 1), "user.effective.name"), OID1);
	rh_free(h);
}

Test(arc_proxy, empty_impersonated_name_is_its_own_caller)
{
	struct rh *h = rh_new(only);

	arc(h, "", 0);
	arc(h, NULL, 10);
	arc(h, "", 20);
	rh_flush(h);
	cr_expect_eq(rh_count(h, ID), 2, "\"\" and no impersonation are different keys");
	rh_free(h);
}

Test(arc_proxy, request_received_alone_still_alerts)
{
	struct rh *h = rh_new(only);

	/* a policy that omits later stages, or a lost ResponseComplete: hold until flush */
	rh_ev(h, &(struct ev_spec){.stage = "RequestReceived", .user = ARC_SA, .time = at(0)});
	cr_expect_eq(rh_count(h, ID), 0, "held while a later stage may still come");
	rh_flush(h);
	cr_assert_eq(rh_count(h, ID), 1);
	cr_expect_str_eq(rh_str(rh_alert(h, ID, 0), "kubernetes.audit.stage"), "RequestReceived");
	rh_free(h);
}

Test(arc_proxy, seen_caller_cancels_the_held_request_received)
{
	struct rh *h = rh_new(only);

	arc(h, OID1, 0);
	rh_ev(h, &(struct ev_spec){.audit_id = "aaaaaaaa-0000-4000-8000-000000000001",
				   .stage = "RequestReceived",
				   .user = ARC_SA,
				   .time = at(30)});
	rh_ev(h, &(struct ev_spec){.audit_id = "aaaaaaaa-0000-4000-8000-000000000001",
				   .stage = "ResponseComplete",
				   .user = ARC_SA,
				   .imp_user = OID1,
				   .time = at(30)});
	rh_flush(h);
	cr_expect_eq(rh_count(h, ID), 1, "the second request's hold was cancelled, not written");
	rh_free(h);
}

Test(arc_proxy, later_stages_of_the_alerting_request_do_not_repeat_it)
{
	struct rh *h = rh_new(only);
	struct ev_spec s = {.audit_id = "bbbbbbbb-0000-4000-8000-000000000001",
			    .user = ARC_SA,
			    .imp_user = OID1,
			    .time = at(0),
			    .verb = "list",
			    .name = "-"};

	s.stage = "RequestReceived";
	rh_ev(h, &s);
	s.stage = "ResponseStarted";
	rh_ev(h, &s);
	s.stage = "ResponseComplete";
	s.stage_time = at(5);
	rh_ev(h, &s);
	rh_flush(h);
	cr_assert_eq(rh_count(h, ID), 1);
	cr_expect_str_eq(rh_str(rh_alert(h, ID, 0), "kubernetes.audit.stage"), "ResponseStarted");
	rh_free(h);
}

static uint32_t tuned_max_users;

static void *tuned_new(const struct kh_config *cfg)
{
	struct secret_configmap_arc_proxy_tun t = secret_configmap_arc_proxy_defaults;

	(void)cfg;
	t.max_users = tuned_max_users;
	return secret_configmap_arc_proxy__new_with(&t);
}

Test(arc_proxy, bounded_memory_forgets_the_least_recently_seen)
{
	struct kh_rule tuned = rule_secret_configmap_arc_proxy;
	const struct kh_rule *const table[] = {&tuned, NULL};
	struct rh *h;

	tuned_max_users = 2;
	tuned.state_new = tuned_new;
	h = rh_new(table);
	arc(h, OID1, 0);
	arc(h, OID2, 10);
	arc(h, OID1, 20); /* OID1 is now the most recent */
	arc(h, OID3, 30); /* full: OID2 goes */
	arc(h, OID1, 40); /* remembered: no alert */
	arc(h, OID2, 50); /* forgotten: alerts again */
	rh_flush(h);
	cr_expect_eq(rh_count(h, ID), 4, "OID1, OID2, OID3, OID2 again");
	cr_expect_str_eq(rh_str(rh_alert(h, ID, 3), "user.effective.name"), OID2);
	cr_expect_eq(h->c.state_evictions, 2, "OID2 for OID3, then OID1 for OID2");
	rh_free(h);
}

Test(arc_proxy, baseline_learns_without_alerting)
{
	struct rh *h = rh_new(only);

	emit__set_muted(h->e, 1);
	arc(h, OID1, 0);
	emit__set_muted(h->e, 0);
	cr_expect_eq(rh_count(h, ID), 0);
	arc(h, OID1, DAY);
	arc(h, OID2, DAY);
	rh_flush(h);
	cr_assert_eq(rh_count(h, ID), 1);
	cr_expect_str_eq(rh_str(rh_alert(h, ID, 0), "user.effective.name"), OID2);
	rh_free(h);
}
