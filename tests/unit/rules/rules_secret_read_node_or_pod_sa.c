// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/rules/secret_read_node_or_pod_sa.c (seed 003 and its Elastic rule file): get/list
 * on secrets by system:serviceaccount:* or system:node:*, source IP present and not 127.0.0.1,
 * minus the group and (service account, pod name) exclusions.
 */
#include <json-c/json.h>

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"
#include "rules_harness.h"

#define ID "k8s-secret-read-node-or-pod-sa"
#define SA_GROUPS(ns)                                                                              \
	"[\"system:serviceaccounts\",\"system:serviceaccounts:" ns "\","                           \
	"\"system:authenticated\"]"

static const struct kh_rule *const only[] = {&rule_secret_read_node_or_pod_sa, NULL};

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

static size_t sa_read(const char *ns_sa, const char *groups, const char *pod)
{
	char user[256];

	snprintf(user, sizeof(user), "system:serviceaccount:%s", ns_sa);
	return alerts_for((struct ev_spec){
	    .user = user, .groups = groups, .pod_name = pod, .ips = "[\"10.244.1.9\"]"});
}

Test(node_or_pod_sa, pod_and_node_identities_alert)
{
	cr_expect_eq(sa_read("prod:payments-api", SA_GROUPS("prod"), "payments-api-6d5f-x2"), 1);
	cr_expect_eq(alerts_for((struct ev_spec){.user = "system:node:worker-2",
						 .groups = "[\"system:nodes\"]",
						 .ips = "[\"10.0.0.22\"]"}),
		     1);
	cr_expect_eq(alerts_for((struct ev_spec){
			 .user = "system:serviceaccount:prod:web", .verb = "list", .name = "-"}),
		     1);
	/* a denied read is still an attempt */
	cr_expect_eq(alerts_for((struct ev_spec){
			 .user = "system:node:worker-2", .decision = "forbid", .code = 403}),
		     1);
}

Test(node_or_pod_sa, other_identities_verbs_resources_are_silent)
{
	cr_expect_eq(alerts_for((struct ev_spec){.user = "alice"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.user = "system:kube-controller-manager"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.user = "system:serviceaccounts:prod"}), 0,
		     "a group name is not a service account");
	cr_expect_eq(alerts_for((struct ev_spec){.user = "System:Node:worker-2"}), 0, "case");
	cr_expect_eq(alerts_for((struct ev_spec){.user = "system:node:w", .verb = "watch"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.user = "system:node:w", .verb = "update"}), 0);
	cr_expect_eq(
	    alerts_for((struct ev_spec){.user = "system:node:w", .resource = "configmaps"}), 0);
	/* impersonating a service account is not being one: user.name is the authenticated user */
	cr_expect_eq(alerts_for((struct ev_spec){.user = "alice",
						 .imp_user = "system:serviceaccount:prod:web"}),
		     0);
}

Test(node_or_pod_sa, source_ip_present_and_not_loopback)
{
	const char *u = "system:serviceaccount:prod:web";

	cr_expect_eq(alerts_for((struct ev_spec){.user = u, .ips = "[\"127.0.0.1\"]"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.user = u, .ips = "[\"::ffff:127.0.0.1\"]"}), 0,
		     "the same address as an ip field sees it");
	cr_expect_eq(alerts_for((struct ev_spec){.user = u, .ips = "[\"127.0.0.1\",\"10.1.1.1\"]"}),
		     0, "source.ip is the first address");
	cr_expect_eq(alerts_for((struct ev_spec){.user = u, .ips = "[\"10.1.1.1\",\"127.0.0.1\"]"}),
		     1);
	cr_expect_eq(alerts_for((struct ev_spec){.user = u, .ips = "[\"::1\"]"}), 1,
		     "the source rule excludes only 127.0.0.1");
	cr_expect_eq(alerts_for((struct ev_spec){.user = u, .ips = "[\"127.0.0.2\"]"}), 1);
	cr_expect_eq(alerts_for((struct ev_spec){.user = u, .ips = "-"}), 0, "no sourceIPs");
	cr_expect_eq(alerts_for((struct ev_spec){.user = u, .ips = "[]"}), 0, "empty sourceIPs");
	cr_expect_eq(alerts_for((struct ev_spec){.user = u, .ips = "[\"not-an-ip\"]"}), 1,
		     "a value that is no address is kept, not guessed away");
}

Test(node_or_pod_sa, group_exclusions)
{
	cr_expect_eq(sa_read("flux-system:source-controller", SA_GROUPS("flux-system"), NULL), 0);
	cr_expect_eq(sa_read("kyverno:kyverno", SA_GROUPS("kyverno"), NULL), 0);
	cr_expect_eq(sa_read("ibm-csi:x", SA_GROUPS("ibm-csi"), NULL), 0);
	cr_expect_eq(sa_read("harvester-system:x", SA_GROUPS("harvester-system"), NULL), 0);
	cr_expect_eq(sa_read("cattle-system:x", SA_GROUPS("cattle-system"), NULL), 0);
	cr_expect_eq(
	    sa_read("cattle-monitoring-system:x", SA_GROUPS("cattle-monitoring-system"), NULL), 0);
	cr_expect_eq(sa_read("rabbitmq-system:x", SA_GROUPS("rabbitmq-system"), NULL), 0);
	cr_expect_eq(sa_read("cattle-fleet-system:x", SA_GROUPS("cattle-fleet-system"), NULL), 0);
	/* the one wildcard: system\:serviceaccounts\:cluster-fleet-local-local-* */
	cr_expect_eq(sa_read("cluster-fleet-local-local-1a3d67d0a899:x",
			     SA_GROUPS("cluster-fleet-local-local-1a3d67d0a899"), NULL),
		     0);
	cr_expect_eq(sa_read("cluster-fleet-local-local-:x",
			     SA_GROUPS("cluster-fleet-local-local-"), NULL),
		     0);
	cr_expect_eq(sa_read("cluster-fleet-local-x:x", SA_GROUPS("cluster-fleet-local-x"), NULL),
		     1);
	/* exact names elsewhere: a longer namespace is not excluded */
	cr_expect_eq(sa_read("flux-system2:x", SA_GROUPS("flux-system2"), NULL), 1);
	cr_expect_eq(sa_read("kyverno-evil:x", SA_GROUPS("kyverno-evil"), NULL), 1);
	/* any group of the list excludes, wherever it stands */
	cr_expect_eq(sa_read("prod:x", "[\"a\",\"b\",\"system:serviceaccounts:kyverno\"]", NULL),
		     0);
	/* a node with no groups at all */
	cr_expect_eq(alerts_for((struct ev_spec){.user = "system:node:n1", .groups = "[]"}), 1);
}

Test(node_or_pod_sa, service_account_and_pod_name_pairs)
{
	cr_expect_eq(sa_read("security:trivy-operator", SA_GROUPS("security"),
			     "trivy-operator-5f7d8c9b6-abcde"),
		     0);
	cr_expect_eq(sa_read("cert-manager:cert-manager-cainjector", SA_GROUPS("cert-manager"),
			     "cert-manager-cainjector-5c8d9b7f4-9hq2m"),
		     0);
	cr_expect_eq(sa_read("monitoring:plat-central-monitoring-pr-operator",
			     SA_GROUPS("monitoring"), "plat-central-monitoring-pr-operator7f9"),
		     0, "this pattern has no dash before its *");
	cr_expect_eq(sa_read("cert-manager:cert-manager", SA_GROUPS("cert-manager"),
			     "cert-manager-7d9f8c6b5-x2k4q"),
		     0);
	/* a pair needs both halves */
	cr_expect_eq(sa_read("cert-manager:cert-manager", SA_GROUPS("cert-manager"), NULL), 1,
		     "no pod-name (a token not bound to a pod)");
	cr_expect_eq(sa_read("cert-manager:cert-manager", SA_GROUPS("cert-manager"),
			     "attacker-pod"),
		     1, "the account's token used from another pod");
	cr_expect_eq(sa_read("cert-manager:cert-manager-webhook", SA_GROUPS("cert-manager"),
			     "cert-manager-webhook-6b9f-x"),
		     1, "not one of the listed accounts, even with a matching pod name");
	cr_expect_eq(sa_read("cert-manager:cert-manager", SA_GROUPS("cert-manager"),
			     "cert-managerx-1"),
		     1, "cert-manager-* needs the dash");
	cr_expect_eq(sa_read("security:trivy-operator", SA_GROUPS("security"), "trivy-operator"), 1,
		     "trivy-operator-* needs the dash");
	cr_expect_eq(sa_read("security:trivy-operator", SA_GROUPS("security"), "Trivy-operator-1"),
		     1, "case");
	cr_expect_eq(sa_read("default:trivy-operator", SA_GROUPS("default"), "trivy-operator-1"), 1,
		     "another namespace's account of the same name");
}

Test(node_or_pod_sa, alert_fields)
{
	struct rh *h = rh_new(only);
	struct json_object *a, *pods;

	rh_request(h, &(struct ev_spec){.user = "system:serviceaccount:prod:web",
					.groups = SA_GROUPS("prod"),
					.pod_name = "web-1",
					.ips = "[\"10.244.1.9\"]"});
	rh_flush(h);
	cr_assert_eq(rh_count(h, ID), 1);
	a = rh_alert(h, ID, 0);
	cr_expect_str_eq(rh_str(a, "rule.uuid"), "f8a31c62-0d4e-4b9a-b7e1-6c2a9d4e8f10");
	cr_expect_str_eq(rh_str(a, "rule.severity"), "medium");
	cr_expect_eq(json_object_get_int(rh_get(a, "rule.risk_score")), 47);
	cr_expect_eq(json_object_array_length(rh_get(a, "kubernetes.audit.user.groups")), 3);
	cr_assert(json_object_object_get_ex(rh_get(a, "kubernetes.audit.user.extra"),
					    "authentication.kubernetes.io/pod-name", &pods));
	cr_expect_str_eq(json_object_get_string(json_object_array_get_idx(pods, 0)), "web-1");
	rh_free(h);
}

static void *tuned_new(const struct kh_config *cfg)
{
	struct secret_read_node_or_pod_sa_tun t = secret_read_node_or_pod_sa_defaults;

	(void)cfg;
	t.excluded_source_ips[1] = "::1";
	t.excluded_source_ips[2] = NULL;
	t.excluded_pods[0] =
	    (struct kh_pod_exclusion){"system:serviceaccount:ci:deployer", "runner-*"};
	t.excluded_pods[1] = (struct kh_pod_exclusion){NULL, NULL};
	return secret_read_node_or_pod_sa__new_with(&t);
}

Test(node_or_pod_sa, exclusions_are_tunable)
{
	struct kh_rule tuned = rule_secret_read_node_or_pod_sa;
	const struct kh_rule *const table[] = {&tuned, NULL};
	struct rh *h;

	tuned.state_new = tuned_new;
	h = rh_new(table);
	rh_request(h, &(struct ev_spec){.user = "system:serviceaccount:ci:deployer",
					.pod_name = "runner-x"});
	rh_request(h,
		   &(struct ev_spec){.user = "system:serviceaccount:ci:other", .ips = "[\"::1\"]"});
	rh_request(h, &(struct ev_spec){.user = "system:serviceaccount:cert-manager:cert-manager",
					.pod_name = "cert-manager-1"});
	rh_flush(h);
	cr_assert_eq(rh_count(h, ID), 1, "the replaced pair list no longer has cert-manager");
	cr_expect_str_eq(rh_str(rh_alert(h, ID, 0), "user.name"),
			 "system:serviceaccount:cert-manager:cert-manager");
	rh_free(h);
}
