// SPDX-License-Identifier: Apache-2.0
/*
 * emit: alert construction, one alert per (rule, request), RequestReceived holds (see emit.h).
 *
 * Every alert starts with the same fields, taken from the triggering event only: the event's own
 * times, never the wall clock, so replaying a log and capturing it live give byte-identical
 * lines. Request and response bodies are never read here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/emit.h"
#include "rules/emit_extra.h"
#include "keyhole/fifo_map.h"
#include "rules/match.h"

struct held {
	char *line; /* the rendered alert, without newline */
	size_t len;
	size_t rule;
	int64_t at_ns; /* event time it was held at */
};

enum building { B_NONE, B_WRITE, B_HOLD, B_INCIDENT };

struct kh_emit {
	FILE *out;
	struct kh_counters *c;
	struct kh_counters own; /* used when the caller passed no counters */
	size_t rule;
	int muted;
	int64_t now_ns; /* latest event time seen */
	struct json_out j;
	enum building building;
	uint64_t building_key;
	size_t building_rule; /* B_INCIDENT: the alerts_by_rule index to count it under */
	const struct audit_event *building_ev;
	struct fifo_map done;	 /* (rule, request) keys already alerted */
	struct fifo_map pending; /* (rule, request) keys held at RequestReceived */
	struct held *held;	 /* indexed by pending slot */
};

struct kh_emit *emit__new(FILE *out, struct kh_counters *c)
{
	struct kh_emit *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->out = out;
	e->c = c ? c : &e->own;
	json_out_init(&e->j);
	e->held = calloc(KH_EMIT_PENDING_MAX, sizeof(*e->held));
	if (!e->held || fifo_map__init(&e->done, KH_EMIT_DONE_MAX) ||
	    fifo_map__init(&e->pending, KH_EMIT_PENDING_MAX)) {
		emit__free(e);
		errno = ENOMEM;
		return NULL;
	}
	return e;
}

void emit__free(struct kh_emit *e)
{
	if (!e)
		return;
	if (e->held)
		for (size_t i = 0; i < KH_EMIT_PENDING_MAX; i++)
			free(e->held[i].line);
	free(e->held);
	fifo_map__fini(&e->done);
	fifo_map__fini(&e->pending);
	json_out_free(&e->j);
	free(e);
}

void emit__set_rule(struct kh_emit *e, size_t rule_index)
{
	e->rule = rule_index;
}

void emit__count_state_eviction(struct kh_emit *e)
{
	e->c->state_evictions++;
}

int emit_is_request_received(const struct audit_event *ev)
{
	return kstr_eq(ev->stage, "RequestReceived");
}

uint64_t emit_request_key(const struct audit_event *ev)
{
	uint64_t h = KH_HASH_INIT;

	h = kh_hash_kstr(h, ev->audit_id);
	h = kh_hash_kstr(h, ev->verb);
	h = kh_hash_kstr(h, ev->request_uri);
	h = kh_hash_kstr(h, ev->user.username);
	return kh_hash_final(h);
}

static uint64_t alert_key(uint64_t request, size_t rule)
{
	return kh_hash_final(request ^ ((uint64_t)(rule + 1) * 0x9e3779b97f4a7c15ull));
}

static void remember(struct kh_emit *e, uint64_t key)
{
	uint64_t old;
	uint32_t slot;

	if (fifo_map__find(&e->done, key) >= 0)
		return;
	if (fifo_map__full(&e->done) && fifo_map__oldest(&e->done, &old, &slot)) {
		fifo_map__remove(&e->done, old);
		e->c->dedup_evictions++;
	}
	fifo_map__insert(&e->done, key);
}

static void write_line(struct kh_emit *e, const char *line, size_t len, size_t rule)
{
	int bad;

	/* one locked write per line: in cluster mode the correlator thread shares the output */
	flockfile(e->out);
	bad = fwrite(line, 1, len, e->out) != len || fputc('\n', e->out) == EOF ||
	      fflush(e->out) != 0;
	funlockfile(e->out);
	if (bad) {
		e->c->output_errors++;
		return;
	}
	e->c->alerts++;
	if (e->c->alerts_by_rule)
		e->c->alerts_by_rule[rule]++;
}

/* drop the held alert in @slot without writing it */
static void drop_held(struct kh_emit *e, uint64_t key, uint32_t slot)
{
	fifo_map__remove(&e->pending, key);
	free(e->held[slot].line);
	e->held[slot] = (struct held){0};
}

/* write the held alert in @slot and remember it as alerted */
static void release_held(struct kh_emit *e, uint64_t key, uint32_t slot)
{
	struct held h = e->held[slot];

	e->held[slot] = (struct held){0};
	fifo_map__remove(&e->pending, key);
	write_line(e, h.line, h.len, h.rule);
	remember(e, key);
	free(h.line);
}

static void release_oldest(struct kh_emit *e)
{
	uint64_t key;
	uint32_t slot;

	if (fifo_map__oldest(&e->pending, &key, &slot))
		release_held(e, key, slot);
}

void emit__flush(struct kh_emit *e)
{
	while (e->pending.count)
		release_oldest(e);
}

void emit__set_muted(struct kh_emit *e, int muted)
{
	if (muted && !e->muted)
		emit__flush(e); /* held alerts were real: write them before going quiet */
	e->muted = muted;
}

void emit__event_begin(struct kh_emit *e, const struct audit_event *ev)
{
	int64_t t = audit_event_time_ns(ev);
	uint64_t key;
	uint32_t slot;

	if (t > e->now_ns)
		e->now_ns = t;
	/* held in event-time order (at_ns is the running maximum), so the oldest expires first */
	while (fifo_map__oldest(&e->pending, &key, &slot) &&
	       e->now_ns - e->held[slot].at_ns > KH_EMIT_HOLD_NS)
		release_held(e, key, slot);
}

void emit__event_end(struct kh_emit *e, const struct audit_event *ev, size_t n_rules)
{
	uint64_t req;

	if (!e->pending.count || emit_is_request_received(ev))
		return;
	req = emit_request_key(ev);
	for (size_t r = 0; r < n_rules && e->pending.count; r++) {
		uint64_t key = alert_key(req, r);
		long slot = fifo_map__find(&e->pending, key);

		if (slot >= 0)
			release_held(e, key, (uint32_t)slot);
	}
}

void alert_cancel(struct kh_emit *e, const struct audit_event *ev)
{
	uint64_t key = alert_key(emit_request_key(ev), e->rule);
	long slot = fifo_map__find(&e->pending, key);

	if (slot >= 0)
		drop_held(e, key, (uint32_t)slot);
}

/* ---- the fields every alert shares ---------------------------------------------------------- */

static void put_strlist(struct json_out *j, const char *key, const struct kh_strlist *l)
{
	if (!l->n)
		return;
	json_key(j, key);
	json_arr_begin(j);
	for (uint32_t i = 0; i < l->n; i++)
		json_kstr(j, l->v[i]);
	json_arr_end(j);
}

static void put_threat(struct json_out *j, const struct kh_rule_info *r)
{
	const char *parents[KH_MAX_TECHNIQUES];
	size_t plen[KH_MAX_TECHNIQUES], np = 0, nsub = 0;

	/* ECS: "T1552" goes in threat.technique.id, "T1552.007" in ...subtechnique.id */
	for (size_t t = 0; t < KH_MAX_TECHNIQUES && r->techniques[t]; t++) {
		const char *id = r->techniques[t], *dot = strchr(id, '.');
		size_t len = dot ? (size_t)(dot - id) : strlen(id), k;

		nsub += dot != NULL;
		for (k = 0; k < np; k++)
			if (plen[k] == len && !strncmp(parents[k], id, len))
				break;
		if (k == np) {
			parents[np] = id;
			plen[np++] = len;
		}
	}
	json_key(j, "threat");
	json_obj_begin(j);
	json_kv_str(j, "framework", "MITRE ATT&CK");
	json_key(j, "technique");
	json_obj_begin(j);
	json_key(j, "id");
	json_arr_begin(j);
	for (size_t k = 0; k < np; k++)
		json_strn(j, parents[k], plen[k]);
	json_arr_end(j);
	if (nsub) {
		json_key(j, "subtechnique");
		json_obj_begin(j);
		json_key(j, "id");
		json_arr_begin(j);
		for (size_t t = 0; t < KH_MAX_TECHNIQUES && r->techniques[t]; t++)
			if (strchr(r->techniques[t], '.'))
				json_str(j, r->techniques[t]);
		json_arr_end(j);
		json_obj_end(j);
	}
	json_obj_end(j);
	if (r->tactics[0]) { /* ECS threat.tactic.id, for rules mapped to a tactic only */
		json_key(j, "tactic");
		json_obj_begin(j);
		json_key(j, "id");
		json_arr_begin(j);
		for (size_t t = 0; t < KH_MAX_TECHNIQUES && r->tactics[t]; t++)
			json_str(j, r->tactics[t]);
		json_arr_end(j);
		json_obj_end(j);
	}
	json_obj_end(j);
}

static void put_rule(struct json_out *j, const struct kh_rule_info *r)
{
	json_key(j, "rule");
	json_obj_begin(j);
	json_kv_str(j, "id", r->id);
	json_kv_str(j, "uuid", r->uuid);
	json_kv_str(j, "name", r->name);
	json_kv_str(j, "severity", r->severity);
	json_kv_int(j, "risk_score", r->risk_score);
	json_obj_end(j);
	put_threat(j, r);
}

/* @timestamp, event.*, rule.*, threat.*: what every alert opens with */
static void put_head(struct json_out *j, const struct kh_rule_info *r, int64_t t,
		     struct kstr action)
{
	if (t) {
		json_key(j, "@timestamp");
		json_time_ns(j, t);
	}
	json_key(j, "event");
	json_obj_begin(j);
	json_kv_str(j, "kind", "alert");
	json_kv_kstr(j, "action", action);
	json_kv_int(j, "severity", r->risk_score);
	json_obj_end(j);

	put_rule(j, r);
}

/* user.*, source.ip, user_agent.* of the request */
static void put_who(struct json_out *j, const struct audit_event *ev)
{
	struct kstr ip = kh_source_ip(ev);

	if (kstr_present(ev->user.username) || kstr_present(ev->impersonated_user.username)) {
		json_key(j, "user");
		json_obj_begin(j);
		json_kv_kstr(j, "name", ev->user.username);
		/* ECS user.effective: the identity the request acted as (impersonation) */
		if (kstr_present(ev->impersonated_user.username)) {
			json_key(j, "effective");
			json_obj_begin(j);
			json_kv_kstr(j, "name", ev->impersonated_user.username);
			json_obj_end(j);
		}
		json_obj_end(j);
	}
	if (kstr_nonempty(ip)) {
		json_key(j, "source");
		json_obj_begin(j);
		json_kv_kstr(j, "ip", ip);
		json_obj_end(j);
	}
	if (kstr_present(ev->user_agent)) {
		json_key(j, "user_agent");
		json_obj_begin(j);
		json_kv_kstr(j, "original", ev->user_agent);
		json_obj_end(j);
	}
}

static void put_ecs(struct json_out *j, const struct kh_rule_info *r, const struct audit_event *ev)
{
	/* the request's time, equal at every stage, so which stage alerted does not move it */
	put_head(j, r, ev->request_received_ns ? ev->request_received_ns : ev->stage_ns, ev->verb);
	put_who(j, ev);
}

static void put_user(struct json_out *j, const char *key, const struct kh_user *u,
		     uint64_t *cut_total)
{
	if (!u->present && !kstr_present(u->username))
		return;
	json_key(j, key);
	json_obj_begin(j);
	json_kv_kstr(j, "username", u->username);
	json_kv_kstr(j, "uid", u->uid);
	put_strlist(j, "groups", &u->groups);
	emit_extra(j, u->extra, cut_total);
	json_obj_end(j);
}

static void put_object_ref(struct json_out *j, const struct audit_event *ev)
{
	const struct kh_object_ref *o = &ev->object_ref;

	if (!ev->object_ref_present)
		return;
	json_key(j, "objectRef");
	json_obj_begin(j);
	json_kv_kstr(j, "resource", o->resource);
	json_kv_kstr(j, "subresource", o->subresource);
	json_kv_kstr(j, "namespace", o->namespace_);
	json_kv_kstr(j, "name", o->name);
	json_kv_kstr(j, "apiGroup", o->api_group);
	json_kv_kstr(j, "apiVersion", o->api_version);
	json_obj_end(j);
}

/* kubernetes.audit.*, named as Elastic's Kubernetes integration names them; no bodies */
static void put_audit(struct json_out *j, const struct audit_event *ev, uint64_t *cut_total)
{
	json_key(j, "kubernetes");
	json_obj_begin(j);
	json_key(j, "audit");
	json_obj_begin(j);
	json_kv_kstr(j, "level", ev->level);
	json_kv_kstr(j, "auditID", ev->audit_id);
	json_kv_kstr(j, "stage", ev->stage);
	json_kv_kstr(j, "requestURI", ev->request_uri);
	json_kv_kstr(j, "verb", ev->verb);
	put_user(j, "user", &ev->user, cut_total);
	put_user(j, "impersonatedUser", &ev->impersonated_user, cut_total);
	if (ev->source_ips.n) {
		json_key(j, "sourceIPs");
		json_arr_begin(j);
		for (uint32_t i = 0; i < ev->source_ips.n; i++)
			json_kstr(j, ev->source_ips.v[i]);
		json_arr_end(j);
	}
	json_kv_kstr(j, "userAgent", ev->user_agent);
	put_object_ref(j, ev);
	if (ev->response_code >= 0) {
		json_key(j, "responseStatus");
		json_obj_begin(j);
		json_kv_int(j, "code", ev->response_code);
		json_obj_end(j);
	}
	json_kv_kstr(j, "requestReceivedTimestamp", ev->request_received_timestamp);
	json_kv_kstr(j, "stageTimestamp", ev->stage_timestamp);
	json_kv_kstr(j, "timestamp", ev->legacy_timestamp); /* audit.k8s.io v1alpha1, v1beta1 */
	if (kstr_present(ev->decision) || kstr_present(ev->reason)) {
		json_key(j, "annotations");
		json_obj_begin(j);
		json_kv_kstr(j, "authorization_k8s_io/decision", ev->decision);
		json_kv_kstr(j, "authorization_k8s_io/reason", ev->reason);
		json_obj_end(j);
	}
	json_obj_end(j);
	json_obj_end(j);
}

struct json_out *alert_begin(struct kh_emit *e, const struct kh_rule_info *rule,
			     const struct audit_event *ev)
{
	uint64_t key;
	long slot;
	int hold;

	if (e->muted)
		return NULL;
	key = alert_key(emit_request_key(ev), e->rule);
	if (fifo_map__find(&e->done, key) >= 0) {
		e->c->dedup_suppressed++;
		return NULL;
	}
	hold = emit_is_request_received(ev);
	slot = fifo_map__find(&e->pending, key);
	if (slot >= 0) {
		if (hold) { /* the same RequestReceived line again */
			e->c->dedup_suppressed++;
			return NULL;
		}
		drop_held(e, key, (uint32_t)slot); /* the fuller, later stage replaces it */
	}
	e->building = hold ? B_HOLD : B_WRITE;
	e->building_key = key;
	e->building_ev = ev;
	json_out_reset(&e->j);
	json_obj_begin(&e->j);
	put_ecs(&e->j, rule, ev);
	put_audit(&e->j, ev, &e->c->fields_cut);
	return &e->j;
}

struct json_out *alert_begin_node(struct kh_emit *e, const struct kh_rule_info *rule,
				  int64_t time_ns, const char *action, uint64_t key,
				  const struct audit_event *joined)
{
	uint64_t k;

	if (e->muted)
		return NULL;
	k = alert_key(key ? key : 1, e->rule);
	if (fifo_map__find(&e->done, k) >= 0) {
		e->c->dedup_suppressed++;
		return NULL;
	}
	e->building = B_WRITE;
	e->building_key = k;
	e->building_ev = joined;
	json_out_reset(&e->j);
	json_obj_begin(&e->j);
	put_head(&e->j, rule, time_ns, kstr_lit(action, strlen(action)));
	if (joined) {
		put_who(&e->j, joined);
		put_audit(&e->j, joined, &e->c->fields_cut);
	}
	return &e->j;
}

static void hold_alert(struct kh_emit *e)
{
	struct held h = {.len = e->j.len, .rule = e->rule, .at_ns = e->now_ns};
	uint32_t slot;

	h.line = malloc(h.len);
	if (!h.line) {
		e->c->output_errors++;
		return;
	}
	memcpy(h.line, e->j.buf, h.len);
	if (fifo_map__full(&e->pending)) {
		release_oldest(e);
		e->c->held_written_early++;
	}
	slot = fifo_map__insert(&e->pending, e->building_key);
	e->held[slot] = h;
}

void alert_end(struct kh_emit *e, const struct kstr *extra_ids, size_t n_extra)
{
	struct json_out *j = &e->j;

	if (e->building == B_NONE)
		return;
	json_key(j, "evidence");
	json_obj_begin(j);
	json_key(j, "audit_ids");
	json_arr_begin(j);
	if (e->building_ev) /* a node alert without a matching request has none of its own */
		json_kstr(j, e->building_ev->audit_id);
	for (size_t i = 0; i < n_extra; i++)
		json_kstr(j, extra_ids[i]);
	json_arr_end(j);
	json_obj_end(j);
	json_obj_end(j);
	if (j->oom || j->depth != 0) {
		e->c->output_errors++; /* an alert we cannot render whole is not written half */
	} else if (e->building == B_HOLD) {
		hold_alert(e);
	} else {
		write_line(e, j->buf, j->len, e->rule);
		remember(e, e->building_key);
	}
	e->building = B_NONE;
	e->building_ev = NULL;
}

/* ---- alerts that stand for many requests (correlated incidents) ------------------------------ */

struct json_out *emit__incident_begin(struct kh_emit *e, const struct kh_rule_info *rule,
				      size_t rule_index, int64_t t_ns, const char *action)
{
	if (e->muted)
		return NULL;
	e->building = B_INCIDENT;
	e->building_rule = rule_index;
	json_out_reset(&e->j);
	json_obj_begin(&e->j);
	if (t_ns) {
		json_key(&e->j, "@timestamp");
		json_time_ns(&e->j, t_ns);
	}
	json_key(&e->j, "event");
	json_obj_begin(&e->j);
	json_kv_str(&e->j, "kind", "alert");
	json_kv_str(&e->j, "action", action);
	json_kv_int(&e->j, "severity", rule->risk_score);
	json_obj_end(&e->j);
	put_rule(&e->j, rule);
	return &e->j;
}

void emit__incident_end(struct kh_emit *e, const char *const *ids, size_t n_ids)
{
	struct json_out *j = &e->j;

	if (e->building != B_INCIDENT)
		return;
	json_key(j, "evidence");
	json_obj_begin(j);
	json_key(j, "audit_ids");
	json_arr_begin(j);
	for (size_t i = 0; i < n_ids; i++)
		json_str(j, ids[i]);
	json_arr_end(j);
	json_obj_end(j);
	json_obj_end(j);
	if (j->oom || j->depth != 0)
		e->c->output_errors++;
	else
		write_line(e, j->buf, j->len, e->building_rule);
	e->building = B_NONE;
}
