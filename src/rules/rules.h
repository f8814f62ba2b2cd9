/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rules: every rule object, and the tunables of each.
 *
 * A rule's tunables are what an operator may change without changing what the rule means:
 * allowlists, prefixes, patterns, windows, bounds. Each rule file holds its defaults, which are
 * exactly the source rule's values; state_new(cfg) starts from them (config__rule_apply()
 * overlays the config file's values, validated against the rule's config_keys; cfg == NULL
 * means every default), and *_new_with() builds
 * a rule instance from explicit tunables, for tests and for the loader.
 */
#ifndef KEYHOLE_RULES_RULES_H
#define KEYHOLE_RULES_RULES_H

#include <stdint.h>

#include "keyhole/rule.h"
#include "rules/allowlist.h"
#include "rules/match.h"

/* k8s-secret-suspicious-ua: seed 000 */
struct secret_suspicious_ua_tun {
	kh_list user_agents;	/* KQL wildcards on user_agent.original, case-sensitive */
	kh_list excluded_users; /* wildcards on user.name never alerted (default: none) */
};
extern const struct kh_rule rule_secret_suspicious_ua;
extern const struct secret_suspicious_ua_tun secret_suspicious_ua_defaults;
void *secret_suspicious_ua__new_with(const struct secret_suspicious_ua_tun *t);

/* k8s-secret-access-non-controller: seed 004 (Sigma) */
struct secret_access_non_controller_tun {
	kh_list controller_prefixes; /* filter_controllers: user.username|startswith */
};
extern const struct kh_rule rule_secret_access_non_controller;
extern const struct secret_access_non_controller_tun secret_access_non_controller_defaults;
void *secret_access_non_controller__new_with(const struct secret_access_non_controller_tun *t);

/* k8s-secret-read-node-or-pod-sa: seed 003 and its Elastic rule file */
#define KH_POD_EXCLUSIONS_MAX 16
struct kh_pod_exclusion {
	const char *username; /* exact user.username */
	const char *pod_name; /* wildcard on user.extra["authentication.kubernetes.io/pod-name"] */
};
/* the config loader fills these as KH_CFG_PAIRS: two pointers, nothing between */
_Static_assert(sizeof(struct kh_pod_exclusion) == 2 * sizeof(const char *),
	       "kh_pod_exclusion must stay a plain pair for the config loader");
struct secret_read_node_or_pod_sa_tun {
	kh_list users;		     /* wildcards on user.name that make the rule apply */
	kh_list excluded_source_ips; /* source.ip values that never alert (address equality) */
	kh_list excluded_groups;     /* wildcards: any of user.groups matching excludes */
	struct kh_pod_exclusion excluded_pods[KH_POD_EXCLUSIONS_MAX + 1]; /* {NULL} ends */
};
extern const struct kh_rule rule_secret_read_node_or_pod_sa;
extern const struct secret_read_node_or_pod_sa_tun secret_read_node_or_pod_sa_defaults;
void *secret_read_node_or_pod_sa__new_with(const struct secret_read_node_or_pod_sa_tun *t);

/* k8s-secret-configmap-arc-proxy: seed 003 and its Elastic rule file */
struct secret_configmap_arc_proxy_tun {
	kh_list user_prefixes;		/* STARTS_WITH(user.username, ...) */
	kh_list excluded_namespaces;	/* objectRef.namespace NOT IN */
	kh_list excluded_name_prefixes; /* NOT STARTS_WITH(objectRef.name, ...) */
	int64_t window_ns;		/* an impersonated user unseen this long alerts again */
	uint32_t max_users;		/* bound on remembered impersonated users */
};
extern const struct kh_rule rule_secret_configmap_arc_proxy;
extern const struct secret_configmap_arc_proxy_tun secret_configmap_arc_proxy_defaults;
void *secret_configmap_arc_proxy__new_with(const struct secret_configmap_arc_proxy_tun *t);

/* k8s-secret-rapid-get: seed 001 */
struct secret_rapid_get_tun {
	struct kh_allowlist allow;	 /* the seed's exclusions, then the operator's */
	uint32_t min_distinct_names;	 /* count_distinct(objectRef.name) >= this */
	int64_t window_ns;		 /* sliding window of request time */
	uint64_t max_groups;		 /* fingerprints tracked (oldest evicted, counted) */
	uint32_t max_requests_per_group; /* requests remembered per fingerprint */
};
extern const struct kh_rule rule_secret_rapid_get;
extern const struct secret_rapid_get_tun secret_rapid_get_defaults;
void *secret_rapid_get__new_with(const struct secret_rapid_get_tun *t);

/* k8s-unusual-decision-ua: seed 002 */
struct unusual_decision_ua_tun {
	struct kh_allowlist allow; /* the seed excludes nothing */
	int64_t history_ns;	   /* new when unseen this long */
	uint64_t max_keys;	   /* combinations remembered */
};
extern const struct kh_rule rule_unusual_decision_ua;
extern const struct unusual_decision_ua_tun unusual_decision_ua_defaults;
void *unusual_decision_ua__new_with(const struct unusual_decision_ua_tun *t);
struct kh_history *unusual_decision_ua__history(void *state);

#endif /* KEYHOLE_RULES_RULES_H */
