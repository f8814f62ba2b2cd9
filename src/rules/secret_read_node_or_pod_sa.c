// SPDX-License-Identifier: Apache-2.0
/*
 * k8s-secret-read-node-or-pod-sa: Elastic "Kubernetes Secret get or list from Node or Pod Service
 * Account" (seed 003; rules/elastic/credential_access_kubernetes_secret_read_by_node_or_pod_
 * service_account.toml, rule_id f8a31c62-0d4e-4b9a-b7e1-6c2a9d4e8f10), a per-event KQL query:
 *
 *   event.action:(get or list) and kubernetes.audit.objectRef.resource:"secrets" and
 *   user.name:(system\:serviceaccount\:* or system\:node\:*) and
 *   source.ip:(* and not "127.0.0.1") and
 *   not kubernetes.audit.user.groups:("system:serviceaccounts:flux-system" or ... or
 *                                     system\:serviceaccounts\:cluster-fleet-local-local-*) and
 *   not (username "system:serviceaccount:security:trivy-operator" and pod-name trivy-operator-*)
 *   and three more (username, pod-name) pairs
 *
 * KQL semantics: case-sensitive; quoted values exact, unquoted ones with `*` wildcards; a
 * condition on an array field (user.groups) holds when any value meets it; `not` of a missing
 * field is true, so an event without pod-name is never excluded by a pair. source.ip is an `ip`
 * field in Elasticsearch, so the 127.0.0.1 test compares addresses ("::ffff:127.0.0.1" is the
 * same address; "::1" is not excluded, as in the source); a first source IP that is not an
 * address at all is kept (alerts) rather than guessed away.
 */
#include <stdlib.h>

#include "keyhole/emit.h"
#include "rules/rules.h"

static const struct kh_rule_info info = {
    .id = "k8s-secret-read-node-or-pod-sa",
    .uuid = "f8a31c62-0d4e-4b9a-b7e1-6c2a9d4e8f10",
    .name = "Kubernetes Secret get or list from Node or Pod Service Account",
    .severity = "medium",
    .risk_score = 47,
    .techniques = {"T1552", "T1552.007"},
    .source = "seed 003 (Elastic rule credential_access_kubernetes_secret_read_by_node_or_pod_"
	      "service_account.toml)",
};

const struct secret_read_node_or_pod_sa_tun secret_read_node_or_pod_sa_defaults = {
    .users = {"system:serviceaccount:*", "system:node:*"},
    .excluded_source_ips = {"127.0.0.1"},
    .excluded_groups = {"system:serviceaccounts:flux-system", "system:serviceaccounts:kyverno",
			"system:serviceaccounts:ibm-csi", "system:serviceaccounts:harvester-system",
			"system:serviceaccounts:cattle-system",
			"system:serviceaccounts:cattle-monitoring-system",
			"system:serviceaccounts:cluster-fleet-local-local-*",
			"system:serviceaccounts:rabbitmq-system",
			"system:serviceaccounts:cattle-fleet-system"},
    .excluded_pods =
	{
	    {"system:serviceaccount:security:trivy-operator", "trivy-operator-*"},
	    {"system:serviceaccount:cert-manager:cert-manager-cainjector",
	     "cert-manager-cainjector-*"},
	    {"system:serviceaccount:monitoring:plat-central-monitoring-pr-operator",
	     "plat-central-monitoring-pr-operator*"},
	    {"system:serviceaccount:cert-manager:cert-manager", "cert-manager-*"},
	    {NULL, NULL},
	},
};

static const char *const read_verbs[] = {"get", "list", NULL};

void *secret_read_node_or_pod_sa__new_with(const struct secret_read_node_or_pod_sa_tun *t)
{
	struct secret_read_node_or_pod_sa_tun *s = malloc(sizeof(*s));

	if (s)
		*s = *t;
	return s;
}

#define T struct secret_read_node_or_pod_sa_tun
static const struct kh_config_key config_keys[] = {
    KH_CFG_LIST_KEY("users", T, users, "user.name wildcards the rule applies to"),
    KH_CFG_LIST_KEY("excluded_source_ips", T, excluded_source_ips,
		    "source.ip addresses never alerted on (exact address)"),
    KH_CFG_LIST_KEY("excluded_groups", T, excluded_groups,
		    "user.groups wildcards: a member of any is never alerted on"),
    KH_CFG_PAIRS_KEY("excluded_pods", T, excluded_pods, "username", "pod_name",
		     "{username, pod_name wildcard} pairs never alerted on"),
    KH_CFG_END,
};
#undef T

static void *state_new(const struct kh_config *cfg)
{
	struct secret_read_node_or_pod_sa_tun t = secret_read_node_or_pod_sa_defaults;

	config__rule_apply(cfg, info.id, config_keys, &t);
	return secret_read_node_or_pod_sa__new_with(&t);
}

static bool excluded_pod(const struct secret_read_node_or_pod_sa_tun *t, const struct kh_user *u)
{
	for (const struct kh_pod_exclusion *x = t->excluded_pods; x->username; x++)
		if (kstr__eq(u->username, x->username) &&
		    kstr__glob(u->extra_pod_name, x->pod_name))
			return true;
	return false;
}

static void on_event(void *state, const struct audit_event *ev, struct kh_emit *e)
{
	const struct secret_read_node_or_pod_sa_tun *t = state;
	struct kstr ip;

	if (!kstr__eq(ev->object_ref.resource, "secrets") || !match__any_eq(ev->verb, read_verbs))
		return;
	if (!match__any_glob(ev->user.username, t->users))
		return;
	ip = match__source_ip(ev);
	if (!kstr_nonempty(ip) || match__any_ip_eq(ip, t->excluded_source_ips))
		return;
	if (match__strlist_any_glob(&ev->user.groups, t->excluded_groups) ||
	    excluded_pod(t, &ev->user))
		return;
	if (emit__alert_begin(e, &info, ev))
		emit__alert_end(e, NULL, 0);
}

const struct kh_rule rule_secret_read_node_or_pod_sa = {
    .info = &info,
    .state_new = state_new,
    .state_free = free,
    .on_event = on_event,
    .config_keys = config_keys,
    .config_defaults = &secret_read_node_or_pod_sa_defaults,
};
