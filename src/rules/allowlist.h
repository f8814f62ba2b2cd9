/* SPDX-License-Identifier: Apache-2.0 */
/*
 * allowlist: the exclusions an operator adds to a rule, in one shape for every rule that takes
 * them (k8s-secret-rapid-get, k8s-unusual-decision-ua).
 *
 * A rule embeds struct kh_allowlist in its tunables with the seed's own exclusions as default
 * lists, lists KH_CFG_ALLOWLIST_KEYS among its config keys and skips events for which
 * allowlist__match() is true. A list set in the config file replaces that field's default list
 * whole (the README gives every default, so a user can keep them and add to them).
 */
#ifndef KEYHOLE_RULES_ALLOWLIST_H
#define KEYHOLE_RULES_ALLOWLIST_H

#include <stdbool.h>

#include "keyhole/audit_event.h"
#include "keyhole/config.h"
#include "rules/match.h"

struct kh_allowlist {
	kh_list usernames;	   /* user.username, exact */
	kh_list username_prefixes; /* user.username, prefix */
	kh_list namespaces;	   /* objectRef.namespace, exact */
	kh_list name_prefixes;	   /* objectRef.name, prefix */
	kh_list source_ips;	   /* source.ip (first of sourceIPs): address or CIDR prefix */
	kh_list user_agents;	   /* userAgent: case-sensitive wildcards ('*', '?') */
};

/* the config keys of the kh_allowlist member @f of the tunables struct @T */
#define KH_CFG_ALLOWLIST_KEYS(T, f)                                                                \
	KH_CFG_LIST_KEY("excluded_usernames", T, f.usernames,                                      \
			"user.username values never alerted on (exact)"),                          \
	    KH_CFG_LIST_KEY("excluded_username_prefixes", T, f.username_prefixes,                  \
			    "user.username prefixes never alerted on"),                            \
	    KH_CFG_LIST_KEY("excluded_namespaces", T, f.namespaces,                                \
			    "objectRef.namespace values never alerted on (exact)"),                \
	    KH_CFG_LIST_KEY("excluded_name_prefixes", T, f.name_prefixes,                          \
			    "objectRef.name prefixes never alerted on"),                           \
	    KH_CFG_IPLIST_KEY("excluded_source_ips", T, f.source_ips,                              \
			      "source IPs or CIDR prefixes never alerted on"),                     \
	    KH_CFG_LIST_KEY("excluded_user_agents", T, f.user_agents,                              \
			    "userAgent wildcards never alerted on ('*' any run)")

/*
 * True when @ev is excluded by any list of @a. A field the event lacks matches no list: an
 * event without a namespace is not excluded by excluded_namespaces.
 */
bool allowlist__match(const struct kh_allowlist *a, const struct audit_event *ev);

/* @ip (an address as the log has it) is in @list of addresses and CIDR prefixes */
bool allowlist__any_ip_in(struct kstr ip, const char *const *list);

#endif /* KEYHOLE_RULES_ALLOWLIST_H */
