// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/rules/secret_access_non_controller.c (seed 004, Sigma): get/list/watch on secrets
 * by anyone outside the controller allowlist prefixes.
 */
#include <json-c/json.h>

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"
#include "rules_harness.h"

#define ID "k8s-secret-access-non-controller"

static const struct kh_rule *const only[] = {&rule_secret_access_non_controller, NULL};

static size_t alerts_for(struct ev_spec s)
{
	struct rh *h = rh_new(only);
	size_t n;

	rh_request(h, &s);
	rh_flush(h);
	n = rh_count(h, ID);
	rh_free(h);
	return n;
}

Test(non_controller, reads_by_people_and_unknown_accounts_alert)
{
	cr_expect_eq(alerts_for((struct ev_spec){.user = "attacker-admin"}), 1);
	cr_expect_eq(
	    alerts_for((struct ev_spec){.user = "attacker-admin", .verb = "list", .name = "-"}), 1);
	cr_expect_eq(
	    alerts_for((struct ev_spec){.user = "attacker-admin", .verb = "watch", .name = "-"}),
	    1);
	cr_expect_eq(alerts_for((struct ev_spec){.user = "system:serviceaccount:prod:web"}), 1);
	cr_expect_eq(alerts_for((struct ev_spec){.user = "system:node:worker-1"}), 1);
	/* the rule has no source-IP or user-agent condition */
	cr_expect_eq(alerts_for((struct ev_spec){.user = "bob", .ips = "-", .ua = "-"}), 1);
	/* nor a decision one: a denied read is still an attempt */
	cr_expect_eq(alerts_for((struct ev_spec){.user = "bob", .decision = "forbid", .code = 403}),
		     1);
}

Test(non_controller, allowlisted_controllers_are_silent)
{
	cr_expect_eq(alerts_for((struct ev_spec){
			 .user = "system:serviceaccount:kube-system:generic-garbage-collector",
			 .verb = "watch",
			 .name = "-"}),
		     0);
	cr_expect_eq(alerts_for((struct ev_spec){.user = "system:serviceaccount:cert-manager:"
							 "cert-manager"}),
		     0);
	cr_expect_eq(alerts_for((struct ev_spec){.user = "system:serviceaccount:external-secrets:"
							 "external-secrets"}),
		     0);
}

Test(non_controller, allowlist_prefixes_are_exact)
{
	/* a prefix includes its final colon: another namespace that merely starts alike alerts */
	cr_expect_eq(
	    alerts_for((struct ev_spec){.user = "system:serviceaccount:kube-system-evil:x"}), 1);
	cr_expect_eq(alerts_for((struct ev_spec){.user = "system:serviceaccount:cert-manager2:x"}),
		     1);
	/* usernames are case-sensitive in Kubernetes: this is not a kube-system account */
	cr_expect_eq(alerts_for((struct ev_spec){.user = "SYSTEM:SERVICEACCOUNT:KUBE-SYSTEM:x"}),
		     1);
	/* the allowlist is on the authenticated user, not on whom it impersonates */
	cr_expect_eq(alerts_for((struct ev_spec){
			 .user = "system:admin",
			 .imp_user = "system:serviceaccount:kube-system:namespace-controller"}),
		     1);
	cr_expect_eq(alerts_for((struct ev_spec){
			 .user = "system:serviceaccount:kube-system:namespace-controller",
			 .imp_user = "mallory"}),
		     0);
}

Test(non_controller, selection_is_sigma_case_insensitive)
{
	cr_expect_eq(alerts_for((struct ev_spec){.user = "bob", .resource = "Secrets"}), 1);
	cr_expect_eq(alerts_for((struct ev_spec){.user = "bob", .verb = "GET"}), 1);
	cr_expect_eq(alerts_for((struct ev_spec){.user = "bob", .resource = "secr\\u0065ts"}), 1);
	cr_expect_eq(alerts_for((struct ev_spec){.user = "bob", .resource = "configmaps"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.user = "bob", .resource = "secretsx"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.user = "bob", .verb = "create"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.user = "bob", .verb = "delete"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.user = "bob", .resource = "-"}), 0);
}

Test(non_controller, escaped_allowlisted_username_is_still_allowlisted)
{
	cr_expect_eq(alerts_for((struct ev_spec){
			 .user = "system:serviceaccount:kube\\u002dsystem:replicaset-controller"}),
		     0);
}

Test(non_controller, alert_fields)
{
	struct rh *h = rh_new(only);
	struct json_object *a;

	rh_request(h, &(struct ev_spec){.user = "attacker-admin",
					.ns = "prod",
					.name = "aws-credentials",
					.ips = "[\"203.0.113.77\"]"});
	rh_flush(h);
	cr_assert_eq(rh_count(h, ID), 1);
	a = rh_alert(h, ID, 0);
	cr_expect_str_eq(rh_str(a, "rule.uuid"), "3d9c1f75-6b48-4a29-8e17-5f2b7c4a1e09");
	cr_expect_str_eq(rh_str(a, "rule.name"), "Kubernetes Secret Access / Exfiltration");
	cr_expect_str_eq(rh_str(a, "rule.severity"), "high");
	cr_expect_str_eq(rh_str(a, "user.name"), "attacker-admin");
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.objectRef.name"), "aws-credentials");
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.objectRef.namespace"), "prod");
	cr_expect_str_eq(rh_str(a, "source.ip"), "203.0.113.77");
	rh_free(h);
}

static void *tuned_new(const struct kh_config *cfg)
{
	struct secret_access_non_controller_tun t = secret_access_non_controller_defaults;
	size_t n = 0;

	(void)cfg;
	while (t.controller_prefixes[n])
		n++;
	t.controller_prefixes[n] = "system:serviceaccount:flux-system:";
	t.controller_prefixes[n + 1] = NULL;
	return secret_access_non_controller__new_with(&t);
}

Test(non_controller, allowlist_is_tunable)
{
	struct kh_rule tuned = rule_secret_access_non_controller;
	const struct kh_rule *const table[] = {&tuned, NULL};
	struct rh *h;

	tuned.state_new = tuned_new;
	h = rh_new(table);
	rh_request(h, &(struct ev_spec){.user =
					    "system:serviceaccount:flux-system:source-controller"});
	rh_request(h, &(struct ev_spec){.user = "system:serviceaccount:kube-system:x"});
	rh_request(h, &(struct ev_spec){.user = "bob"});
	rh_flush(h);
	cr_assert_eq(rh_count(h, ID), 1);
	cr_expect_str_eq(rh_str(rh_alert(h, ID, 0), "user.name"), "bob");
	rh_free(h);
}
