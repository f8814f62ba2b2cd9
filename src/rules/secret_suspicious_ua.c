// SPDX-License-Identifier: Apache-2.0
/*
 * k8s-secret-suspicious-ua: Elastic "Kubernetes Secret get or list with Suspicious User Agent"
 * (seed 000; rule_id a4c8e901-2b7f-4d6e-9a3c-8e1f0d5b6c2a), a per-event KQL query:
 *
 *   event.action:(get or list) and kubernetes.audit.objectRef.resource:"secrets" and
 *   user_agent.original:(curl* or python* or Python* or wget* or Go-http* or perl* or java* or
 *                        node* or php* or *distrib#kali* or *kali-amd64 or *kali-arm64*) and
 *   source.ip:*
 *
 * KQL on keyword fields: exact, case-sensitive values; a wildcard matches the whole value, so
 * "curl*" is a prefix ("Curl/8" does not match), "*kali-amd64" a suffix and "*distrib#kali*" a
 * substring. event.action is the verb, source.ip the first of sourceIPs, and `source.ip:*` asks
 * for a value, so an absent or empty first source IP does not match.
 */
#include <stdlib.h>

#include "keyhole/emit.h"
#include "rules/rules.h"

static const struct kh_rule_info info = {
    .id = "k8s-secret-suspicious-ua",
    .uuid = "a4c8e901-2b7f-4d6e-9a3c-8e1f0d5b6c2a",
    .name = "Kubernetes Secret get or list with Suspicious User Agent",
    .severity = "high",
    .risk_score = 73,
    .techniques = {"T1552", "T1552.007"},
    .source = "seed 000 (Elastic rule credential_access_kubernetes_secret_access_scripting_"
	      "http_clients.toml)",
};

const struct secret_suspicious_ua_tun secret_suspicious_ua_defaults = {
    .user_agents = {"curl*", "python*", "Python*", "wget*", "Go-http*", "perl*", "java*", "node*",
		    "php*", "*distrib#kali*", "*kali-amd64", "*kali-arm64*"},
    /* the source rule excludes no one; its triage guide says to tune by identity */
    .excluded_users = {NULL},
};

static const char *const read_verbs[] = {"get", "list", NULL};

void *secret_suspicious_ua__new_with(const struct secret_suspicious_ua_tun *t)
{
	struct secret_suspicious_ua_tun *s = malloc(sizeof(*s));

	if (s)
		*s = *t;
	return s;
}

#define T struct secret_suspicious_ua_tun
static const struct kh_config_key config_keys[] = {
    KH_CFG_LIST_KEY("user_agents", T, user_agents,
		    "user-agent wildcards that alert (replace the seed's list)"),
    KH_CFG_LIST_KEY("excluded_users", T, excluded_users, "user.name wildcards never alerted on"),
    KH_CFG_END,
};
#undef T

static void *state_new(const struct kh_config *cfg)
{
	struct secret_suspicious_ua_tun t = secret_suspicious_ua_defaults;

	config__rule_apply(cfg, info.id, config_keys, &t);
	return secret_suspicious_ua__new_with(&t);
}

static void on_event(void *state, const struct audit_event *ev, struct kh_emit *e)
{
	const struct secret_suspicious_ua_tun *t = state;

	/* cheapest and most selective first: few events are about secrets */
	if (!kstr__eq(ev->object_ref.resource, "secrets") || !match__any_eq(ev->verb, read_verbs))
		return;
	if (!kstr_nonempty(match__source_ip(ev)) ||
	    !match__any_glob(ev->user_agent, t->user_agents))
		return;
	if (match__any_glob(ev->user.username, t->excluded_users))
		return;
	if (emit__alert_begin(e, &info, ev))
		emit__alert_end(e, NULL, 0);
}

const struct kh_rule rule_secret_suspicious_ua = {
    .info = &info,
    .state_new = state_new,
    .state_free = free,
    .on_event = on_event,
    .config_keys = config_keys,
    .config_defaults = &secret_suspicious_ua_defaults,
};
