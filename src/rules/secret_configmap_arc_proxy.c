// SPDX-License-Identifier: Apache-2.0
/*
 * k8s-secret-configmap-arc-proxy: Elastic "Kubernetes Secret or ConfigMap Access via Azure Arc
 * Proxy" (seed 003; rules/elastic/credential_access_azure_arc_proxy_secret_configmap_access.toml,
 * rule_id 220d92c6-479d-4a49-9cc0-3a29756dad0c), an ES|QL query run every 9 minutes over 5 days:
 *
 *   WHERE STARTS_WITH(user.username, "system:serviceaccount:azure-arc:")
 *     AND objectRef.resource IN ("secrets", "configmaps")
 *     AND verb IN ("get", "list", "create", "update", "patch", "delete")
 *     AND objectRef.namespace NOT IN ("azure-arc", "azure-arc-release", "kube-system")
 *     AND NOT STARTS_WITH(objectRef.name, "sh.helm.release.v1")
 *   STATS ... BY impersonatedUser.username
 *   WHERE first_seen >= NOW() - 9 minutes
 *
 * i.e. one alert per impersonated user (the real caller behind the Arc proxy) that had no
 * matching event in the 5 days before. Here: an impersonated user alerts when it is not
 * remembered or was last seen more than window_ns (5 days) of event time earlier; every match
 * refreshes it. Requests without impersonation group under "no impersonated user", as ES|QL
 * groups a null key.
 *
 * One deliberate difference: in ES|QL a comparison with a missing value is null and drops the
 * row, so the query never matches a list (no objectRef.name) nor a cluster-wide request (no
 * namespace), although the rule's own description names reads, list included, as the main
 * thing to catch. A missing namespace or name is therefore treated as not excluded.
 *
 * Stages: the impersonated user is recorded after the RequestReceived event is written, so a
 * RequestReceived match without one is only held (emit.h); the next stage, which names the
 * caller, decides: it alerts (replacing the hold) or cancels it when the caller was seen.
 */
#include <errno.h>
#include <stdlib.h>

#include "keyhole/emit.h"
#include "keyhole/keytab.h"
#include "rules/rules.h"

static const struct kh_rule_info info = {
    .id = "k8s-secret-configmap-arc-proxy",
    .uuid = "220d92c6-479d-4a49-9cc0-3a29756dad0c",
    .name = "Kubernetes Secret or ConfigMap Access via Azure Arc Proxy",
    .severity = "medium",
    .risk_score = 47,
    .techniques = {"T1552", "T1552.007", "T1213", "T1530", "T1565", "T1565.001"},
    .source = "seed 003 (Elastic rule credential_access_azure_arc_proxy_secret_configmap_"
	      "access.toml)",
};

const struct secret_configmap_arc_proxy_tun secret_configmap_arc_proxy_defaults = {
    .user_prefixes = {"system:serviceaccount:azure-arc:"},
    .excluded_namespaces = {"azure-arc", "azure-arc-release", "kube-system"},
    .excluded_name_prefixes = {"sh.helm.release.v1"},
    .window_ns = 5ll * 24 * 3600 * 1000000000ll, /* from = "now-5d" */
    /* Arc callers are people and service principals of one tenant: thousands at most */
    .max_users = 16384,
};

static const char *const resources[] = {"secrets", "configmaps", NULL};
static const char *const verbs[] = {"get", "list", "create", "update", "patch", "delete", NULL};

struct seen {
	int64_t last_ns;    /* latest event time of a match by this caller */
	uint64_t alert_req; /* request key of the match that alerted, to know its later stages */
};

struct arc_state {
	struct secret_configmap_arc_proxy_tun t;
	struct keytab *users; /* hashed impersonated username -> seen, least recently seen first */
};

static void state_free(void *p)
{
	struct arc_state *s = p;

	if (!s)
		return;
	keytab__free(s->users);
	free(s);
}

void *secret_configmap_arc_proxy__new_with(const struct secret_configmap_arc_proxy_tun *t)
{
	struct arc_state *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->t = *t;
	if (s->t.max_users == 0)
		s->t.max_users = 1;
	s->users = keytab__new(sizeof(struct seen), s->t.max_users, NULL, NULL);
	if (!s->users) {
		state_free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

#define T struct secret_configmap_arc_proxy_tun
static const struct kh_config_key config_keys[] = {
    KH_CFG_LIST_KEY("user_prefixes", T, user_prefixes,
		    "user.username prefixes of the Arc proxy accounts"),
    KH_CFG_LIST_KEY("excluded_namespaces", T, excluded_namespaces,
		    "objectRef.namespace values never alerted on"),
    KH_CFG_LIST_KEY("excluded_name_prefixes", T, excluded_name_prefixes,
		    "objectRef.name prefixes never alerted on"),
    KH_CFG_DURATION_KEY("window", T, window_ns, 60, 400 * KH_DAY_S,
			"an impersonated user unseen this long alerts again"),
    KH_CFG_UINT_KEY("max_users", T, max_users, 1, 10000000,
		    "impersonated users remembered (least recent evicted, counted)"),
    KH_CFG_END,
};
#undef T

static void *state_new(const struct kh_config *cfg)
{
	struct secret_configmap_arc_proxy_tun t = secret_configmap_arc_proxy_defaults;

	config__rule_apply(cfg, info.id, config_keys, &t);
	return secret_configmap_arc_proxy__new_with(&t);
}

static bool matches(const struct secret_configmap_arc_proxy_tun *t, const struct audit_event *ev)
{
	const struct kh_object_ref *o = &ev->object_ref;

	/* resource first: it rules out nearly every event */
	return match__any_eq(o->resource, resources) &&
	       match__any_prefix(ev->user.username, t->user_prefixes) &&
	       match__any_eq(ev->verb, verbs) &&
	       !match__any_eq(o->namespace_, t->excluded_namespaces) &&
	       !match__any_prefix(o->name, t->excluded_name_prefixes);
}

static void alert(struct kh_emit *e, const struct audit_event *ev)
{
	if (emit__alert_begin(e, &info, ev))
		emit__alert_end(e, NULL, 0);
}

/* record @key as seen at @now (most recently used), evicting the least recent when full */
static void touch(struct arc_state *s, struct kh_emit *e, uint64_t key, struct seen v)
{
	uint64_t evictions = keytab__evictions(s->users);
	bool created;
	struct seen *at = keytab__upsert(s->users, &key, sizeof(key), &created);

	if (keytab__evictions(s->users) != evictions)
		emit__count_state_eviction(e);
	if (at)
		*at = v;
}

static void on_event(void *state, const struct audit_event *ev, struct kh_emit *e)
{
	struct arc_state *s = state;
	struct kstr who = ev->impersonated_user.username;
	int64_t now = audit_event_time_ns(ev);
	uint64_t req, key;
	const struct seen *found;
	struct seen prev;

	if (!matches(&s->t, ev))
		return;
	if (!kstr_present(who) && emit__is_request_received(ev)) {
		alert(e, ev); /* held until a later stage names the caller */
		return;
	}
	req = emit__request_key(ev);
	key = match__hash_final(match__hash_kstr(KH_HASH_INIT, who));
	found = keytab__find(s->users, &key, sizeof(key));
	if (!found) {
		touch(s, e, key, (struct seen){now, req});
		alert(e, ev);
		return;
	}
	prev = *found;
	if (prev.alert_req == req) { /* a later stage of the request that alerted */
		touch(s, e, key, (struct seen){now > prev.last_ns ? now : prev.last_ns, req});
		alert(e, ev);
		return;
	}
	if (now <= prev.last_ns || now - prev.last_ns <= s->t.window_ns) {
		touch(s, e, key,
		      (struct seen){now > prev.last_ns ? now : prev.last_ns, prev.alert_req});
		emit__alert_cancel(e, ev); /* seen within the window: a held RequestReceived is not
					      due */
		return;
	}
	touch(s, e, key, (struct seen){now, req});
	alert(e, ev);
}

const struct kh_rule rule_secret_configmap_arc_proxy = {
    .info = &info,
    .state_new = state_new,
    .state_free = state_free,
    .on_event = on_event,
    .config_keys = config_keys,
    .config_defaults = &secret_configmap_arc_proxy_defaults,
};
