// SPDX-License-Identifier: Apache-2.0
/*
 * k8s-unusual-decision-ua: Elastic "Kubernetes Unusual Decision by User Agent" (seed 002,
 * rule_id 8a1db198-da6f-4500-b985-7fe2457300af), a new_terms rule:
 *
 *   query: event.dataset:"kubernetes.audit_logs" and kubernetes.audit.stage:"ResponseComplete"
 *          and user_agent.original:*
 *   new_terms fields: authorization.k8s.io/decision, user.username, user_agent.original
 *   history_window_start: now-10d
 *
 * An event alerts when its (decision, username, user agent) combination was not seen in the 10
 * days of event time before it: never seen, or last seen more than 10 days earlier (exactly 10
 * days is still within the history). Every matching event, alerting or not, records the
 * combination, so one alert per new combination. As in new_terms, an event lacking one of the
 * three values has no combination and is ignored; `user_agent.original:*` asks for a value.
 * host.os.type:"linux" in the seed names the collecting host, which is this one.
 *
 * The seed wins over the newer upstream rule file, which adds two exclusions (user agents
 * ending in "kubernetes/$Format", and kubelet user agents doing get/list/watch/patch on
 * resources other than pods, nodes, ...): they are not applied here. deploy/keyhole.example.yaml
 * shows how to exclude kubelets through this rule's config instead.
 *
 * The history is this rule's kh_history: bounded (max_keys, least recently seen evicted and
 * counted) and saved in the state file under the rule id, so a restart remembers it. In
 * baseline mode emit is muted and the history still learns.
 */
#include <errno.h>
#include <stdlib.h>

#include "keyhole/history.h"
#include "rules/allowlist.h"
#include "keyhole/emit.h"
#include "rules/keybuf.h"
#include "rules/rules.h"

static const struct kh_rule_info info = {
    .id = "k8s-unusual-decision-ua",
    .uuid = "8a1db198-da6f-4500-b985-7fe2457300af",
    .name = "Kubernetes Unusual Decision by User Agent",
    .severity = "low",
    .risk_score = 21,
    .techniques = {NULL}, /* the seed maps the Execution tactic only */
    .tactics = {"TA0002"},
    .source = "seed 002 (Elastic rule execution_unusual_request_response_by_user_agent.toml)",
};

const struct unusual_decision_ua_tun unusual_decision_ua_defaults = {
    .allow = {.usernames = {NULL}},		 /* the seed excludes nothing */
    .history_ns = 10ll * 24 * 3600 * 1000000000, /* history_window_start = now-10d */
    /* decisions x users x client versions: tens of thousands in a busy cluster */
    .max_keys = 200000,
};

#define T struct unusual_decision_ua_tun
static const struct kh_config_key config_keys[] = {
    KH_CFG_ALLOWLIST_KEYS(T, allow),
    KH_CFG_DURATION_KEY("history", T, history_ns, 60, 400 * KH_DAY_S,
			"a combination unseen this long (event time) is new again"),
    KH_CFG_UINT_KEY("max_keys", T, max_keys, 1, 100000000,
		    "combinations remembered (least recently seen evicted, counted)"),
    KH_CFG_END,
};
#undef T

#define DEC_CAP 64
#define USER_CAP 1024
#define UA_CAP 2048

struct ua_state {
	struct unusual_decision_ua_tun t;
	struct kh_history *h;
	int64_t now_ns; /* latest event time seen: history older than now - history goes */
};

static void state_free(void *p)
{
	struct ua_state *s = p;

	if (!s)
		return;
	history__free(s->h);
	free(s);
}

void *unusual_decision_ua__new_with(const struct unusual_decision_ua_tun *t)
{
	struct ua_state *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->t = *t;
	s->h = history__new(t->max_keys ? t->max_keys : 1);
	if (!s->h) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

static void *state_new(const struct kh_config *cfg)
{
	struct unusual_decision_ua_tun t = unusual_decision_ua_defaults;

	config__rule_apply(cfg, info.id, config_keys, &t);
	return unusual_decision_ua__new_with(&t);
}

struct kh_history *unusual_decision_ua__history(void *state)
{
	return ((struct ua_state *)state)->h;
}

static void alert(const struct audit_event *ev, int64_t prev_ns, struct kh_emit *e)
{
	struct json_out *j = emit__alert_begin(e, &info, ev);

	if (!j)
		return;
	json_out__key(j, "new_terms");
	json_out__obj_begin(j);
	json_out__key(j, "fields");
	json_out__arr_begin(j);
	json_out__str(j, "kubernetes.audit.annotations.authorization_k8s_io/decision");
	json_out__str(j, "kubernetes.audit.user.username");
	json_out__str(j, "user_agent.original");
	json_out__arr_end(j);
	json_out__key(j, "values");
	json_out__arr_begin(j);
	json_out__kstr(j, ev->decision);
	json_out__kstr(j, ev->user.username);
	json_out__kstr(j, ev->user_agent);
	json_out__arr_end(j);
	if (prev_ns) { /* seen before, but longer ago than the history reaches */
		json_out__key(j, "last_seen");
		json_out__time_ns(j, prev_ns);
	}
	json_out__obj_end(j);
	emit__alert_end(e, NULL, 0);
}

static void on_event(void *state, const struct audit_event *ev, struct kh_emit *e)
{
	struct ua_state *s = state;
	int64_t t = audit_event_time_ns(ev), prev = 0;
	uint64_t evictions;
	struct keybuf k;

	if (!t || !kstr__eq(ev->stage, "ResponseComplete") || !kstr_nonempty(ev->user_agent) ||
	    !kstr_present(ev->decision) || !kstr_present(ev->user.username))
		return;
	if (allowlist__match(&s->t.allow, ev))
		return;
	if (t > s->now_ns)
		s->now_ns = t;
	keybuf_init(&k);
	keybuf__add(&k, ev->decision, DEC_CAP);
	keybuf__add(&k, ev->user.username, USER_CAP);
	keybuf__add(&k, ev->user_agent, UA_CAP);
	evictions = history__evictions(s->h);
	if (history__see(s->h, k.b, k.len, t, &prev))
		return; /* out of memory: the next event tries again */
	if (history__evictions(s->h) != evictions)
		emit__count_state_eviction(e);
	/* after the lookup, so a combination new again can still say when it was last seen */
	history__prune(s->h, s->now_ns - s->t.history_ns);
	/* a combination seen later than this event (lines out of order) is not new to it */
	if (prev == 0 || t - prev > s->t.history_ns)
		alert(ev, prev, e);
}

const struct kh_rule rule_unusual_decision_ua = {
    .info = &info,
    .state_new = state_new,
    .state_free = state_free,
    .on_event = on_event,
    .config_keys = config_keys,
    .config_defaults = &unusual_decision_ua_defaults,
    .history = unusual_decision_ua__history,
};
