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
#include "keyhole/keytab.h"
#include "rules/match.h"

struct held {
	uint64_t key; /* its (rule, request) key */
	uint64_t req; /* its request key (emit__request_key) */
	char *line;   /* the rendered alert, without newline */
	size_t len;
	size_t rule;
	int64_t at_ns; /* event time it was held at */
};

enum building { B_NONE, B_WRITE, B_HOLD, B_INCIDENT };

/*
 * Held alerts per request-key bucket: every event that ends with alerts held must learn whether
 * one of them is its own, and probing the held table once per rule (every built-in and Sigma
 * rule, a SipHash each) was a third of replay time on alert-heavy logs. A zero count answers
 * "none" with one load; a collision only costs the per-rule probe. 16 Ki buckets keep the false
 * positives under a quarter at the table's bound; a count never exceeds that bound.
 */
#define HELD_BUCKETS (1u << 14)
_Static_assert(KH_EMIT_PENDING_MAX <= UINT16_MAX, "held bucket counts are 16-bit");

struct kh_emit {
	FILE *out;
	struct kh_counters *c;
	struct kh_counters own; /* used when the caller passed no counters */
	size_t rule;
	size_t count_rule; /* the alerts_by_rule slot of the running rule (rule, unless told) */
	int muted;
	int batched;	/* replay: no flush per line (see emit__set_batched) */
	int64_t now_ns; /* latest event time seen */
	struct json_out j;
	enum building building;
	uint64_t building_key;
	uint64_t building_req; /* the request key of building_key */
	size_t building_rule;  /* B_INCIDENT: the alerts_by_rule index to count it under */
	const struct audit_event *building_ev;
	struct keytab *done;	/* (rule, request) keys already alerted, first in first out */
	struct keytab *pending; /* (rule, request) key -> struct held, held at RequestReceived */
	int warm;		/* resume warm-up: state as live, nothing written */
	struct keytab *written; /* emit_line_key() of lines a previous run wrote, or NULL */
	uint16_t held_in[HELD_BUCKETS]; /* held alerts per request-key bucket (see HELD_BUCKETS) */
};

static uint16_t *held_count(struct kh_emit *e, uint64_t req)
{
	return &e->held_in[req & (HELD_BUCKETS - 1)];
}

/* every way out of the pending table comes through here, so the bucket counts stay exact */
static void held_drop(void *value, void *arg)
{
	struct held *h = value;

	(*held_count(arg, h->req))--;
	free(h->line);
}

struct kh_emit *emit__new(FILE *out, struct kh_counters *c)
{
	struct kh_emit *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->out = out;
	e->c = c ? c : &e->own;
	json_out__init(&e->j);
	e->done = keytab__new(0, KH_EMIT_DONE_MAX, NULL, NULL);
	e->pending = keytab__new(sizeof(struct held), KH_EMIT_PENDING_MAX, held_drop, e);
	if (!e->done || !e->pending) {
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
	keytab__free(e->done);
	keytab__free(e->pending);
	emit__forget_written(e);
	json_out__free(&e->j);
	free(e);
}

void emit__set_rule(struct kh_emit *e, size_t rule_index)
{
	e->rule = rule_index;
	e->count_rule = rule_index;
}

void emit__set_batched(struct kh_emit *e, int on)
{
	e->batched = on;
}

void emit__set_rule_counted(struct kh_emit *e, size_t key_index, size_t count_index)
{
	e->rule = key_index;
	e->count_rule = count_index;
}

void emit__count_state_eviction(struct kh_emit *e)
{
	e->c->state_evictions++;
}

int emit__is_request_received(const struct audit_event *ev)
{
	return kstr__eq(ev->stage, "RequestReceived");
}

/*
 * The request key hashes four fields of every event that alerts or ends with alerts held, and
 * match__hash_kstr's FNV-1a, one dependent multiply per byte, made it a tenth of replay's CPU on
 * alert-heavy logs. This takes eight bytes per step (MurmurHash64A's mixing). The key never
 * leaves the process (dedupe, holds, the rules' own request joins), so unlike the histories'
 * hashes, which are saved, its function is free to change.
 */
#define REQ_HASH_M 0xc6a4a7935bd1e995ull

static uint64_t req_mix(uint64_t h, uint64_t w)
{
	w *= REQ_HASH_M;
	w ^= w >> 47;
	w *= REQ_HASH_M;
	return (h ^ w) * REQ_HASH_M;
}

/* @n bytes: whole words, then one last word holding the 0-7 bytes left and, in its top byte
 * (never a data byte), how many they are, so lengths are part of the key */
static uint64_t req_mix_bytes(uint64_t h, const char *p, size_t n)
{
	uint64_t w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = req_mix(h, w);
	}
	w = (uint64_t)n << 56;
	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)(unsigned char)p[i] << (8 * i);
	return req_mix(h, w);
}

/* the decoded value when it fits (two spellings of one value agree), else the raw bytes; an
 * absent value mixes a word no byte string gives (tail length 8) */
static uint64_t req_mix_kstr(uint64_t h, struct kstr s)
{
	char buf[1024];
	long n;

	if (!kstr_present(s))
		return req_mix(h, 8ull << 56);
	if (s.flags & KSTR_ESCAPED) {
		n = kstr__decode(s, buf, sizeof(buf));
		if (n >= 0 && (size_t)n <= sizeof(buf))
			return req_mix_bytes(h, buf, (size_t)n);
	}
	return req_mix_bytes(h, s.p, s.len);
}

uint64_t emit__request_key(const struct audit_event *ev)
{
	uint64_t h = KH_HASH_INIT;

	h = req_mix_kstr(h, ev->audit_id);
	h = req_mix_kstr(h, ev->verb);
	h = req_mix_kstr(h, ev->request_uri);
	h = req_mix_kstr(h, ev->user.username);
	return match__hash_final(h);
}

static uint64_t alert_key(uint64_t request, size_t rule)
{
	return match__hash_final(request ^ ((uint64_t)(rule + 1) * 0x9e3779b97f4a7c15ull));
}

static bool has(const struct keytab *t, uint64_t key)
{
	return keytab__find(t, &key, sizeof(key)) != NULL;
}

/* add @key to the first-in-first-out set @t; true when that pushed the oldest key out */
static bool set_add(struct keytab *t, uint64_t key)
{
	uint64_t evictions = keytab__evictions(t);
	bool created;

	if (!has(t, key))
		keytab__upsert(t, &key, sizeof(key), &created);
	return keytab__evictions(t) != evictions;
}

static void remember(struct kh_emit *e, uint64_t key)
{
	if (set_add(e->done, key))
		e->c->dedup_evictions++;
}

static void write_line(struct kh_emit *e, const char *line, size_t len, size_t rule)
{
	if (e->warm) { /* the last run wrote it, or decided not to: only the state matters */
		e->c->warmup_alerts++;
		return;
	}
	if (e->written && has(e->written, emit_line_key(line, len))) {
		e->c->already_written++;
		return;
	}
	int bad;

	/* one locked write per line: in cluster mode the correlator thread shares the output */
	flockfile(e->out);
	bad = fwrite(line, 1, len, e->out) != len || fputc('\n', e->out) == EOF ||
	      (!e->batched && fflush(e->out) != 0);
	funlockfile(e->out);
	if (bad) {
		e->c->output_errors++;
		return;
	}
	e->c->alerts++;
	if (e->c->alerts_by_rule)
		e->c->alerts_by_rule[rule]++;
}

static struct held *held_find(const struct kh_emit *e, uint64_t key)
{
	return keytab__find(e->pending, &key, sizeof(key));
}

/* drop the held alert @h without writing it */
static void drop_held(struct kh_emit *e, struct held *h)
{
	keytab__remove(e->pending, h); /* held_drop frees the line */
}

/* write the held alert @hp and remember it as alerted */
static void release_held(struct kh_emit *e, struct held *hp)
{
	struct held h = *hp;

	hp->line = NULL; /* now ours */
	keytab__remove(e->pending, hp);
	write_line(e, h.line, h.len, h.rule);
	remember(e, h.key);
	free(h.line);
}

static void release_oldest(struct kh_emit *e)
{
	struct held *h = keytab__oldest(e->pending);

	if (h)
		release_held(e, h);
}

void emit__flush(struct kh_emit *e)
{
	while (keytab__count(e->pending))
		release_oldest(e);
}

void emit__set_muted(struct kh_emit *e, int muted)
{
	if (muted && !e->muted)
		emit__flush(e); /* held alerts were real: write them before going quiet */
	e->muted = muted;
}

void emit__set_warm(struct kh_emit *e, int on)
{
	e->warm = on;
}

int emit__note_written(struct kh_emit *e, const char *line, size_t len)
{
	if (!e->written && !(e->written = keytab__new(0, KH_EMIT_WRITTEN_MAX, NULL, NULL)))
		return -ENOMEM;
	set_add(e->written, emit_line_key(line, len));
	return 0;
}

void emit__forget_written(struct kh_emit *e)
{
	keytab__free(e->written);
	e->written = NULL;
}

void emit__event_begin(struct kh_emit *e, const struct audit_event *ev)
{
	int64_t t = audit_event_time_ns(ev);
	struct held *h;

	if (t > e->now_ns)
		e->now_ns = t;
	/* held in event-time order (at_ns is the running maximum), so the oldest expires first */
	while ((h = keytab__oldest(e->pending)) && e->now_ns - h->at_ns > KH_EMIT_HOLD_NS)
		release_held(e, h);
}

void emit__event_end(struct kh_emit *e, const struct audit_event *ev, size_t n_rules)
{
	emit__event_end_range(e, ev, 0, n_rules);
}

void emit__event_end_range(struct kh_emit *e, const struct audit_event *ev, size_t first,
			   size_t n_rules)
{
	uint64_t req;

	if (!keytab__count(e->pending) || emit__is_request_received(ev))
		return;
	req = emit__request_key(ev);
	if (!*held_count(e, req))
		return;
	for (size_t r = first; r < first + n_rules && keytab__count(e->pending); r++) {
		struct held *h = held_find(e, alert_key(req, r));

		if (h)
			release_held(e, h);
	}
}

void emit__alert_cancel(struct kh_emit *e, const struct audit_event *ev)
{
	struct held *h = held_find(e, alert_key(emit__request_key(ev), e->rule));

	if (h)
		drop_held(e, h);
}

/* ---- the fields every alert shares ---------------------------------------------------------- */

static void put_strlist(struct json_out *j, const char *key, const struct kh_strlist *l)
{
	if (!l->n)
		return;
	json_out__key(j, key);
	json_out__arr_begin(j);
	for (uint32_t i = 0; i < l->n; i++)
		json_out__kstr(j, l->v[i]);
	json_out__arr_end(j);
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
	json_out__key_lit(j, "threat");
	json_out__obj_begin(j);
	json_out__kv_str_lit(j, "framework", "MITRE ATT&CK");
	json_out__key_lit(j, "technique");
	json_out__obj_begin(j);
	json_out__key_lit(j, "id");
	json_out__arr_begin(j);
	for (size_t k = 0; k < np; k++)
		json_out__strn(j, parents[k], plen[k]);
	json_out__arr_end(j);
	if (nsub) {
		json_out__key_lit(j, "subtechnique");
		json_out__obj_begin(j);
		json_out__key_lit(j, "id");
		json_out__arr_begin(j);
		for (size_t t = 0; t < KH_MAX_TECHNIQUES && r->techniques[t]; t++)
			if (strchr(r->techniques[t], '.'))
				json_out__str(j, r->techniques[t]);
		json_out__arr_end(j);
		json_out__obj_end(j);
	}
	json_out__obj_end(j);
	if (r->tactics[0]) { /* ECS threat.tactic.id, for rules mapped to a tactic only */
		json_out__key_lit(j, "tactic");
		json_out__obj_begin(j);
		json_out__key_lit(j, "id");
		json_out__arr_begin(j);
		for (size_t t = 0; t < KH_MAX_TECHNIQUES && r->tactics[t]; t++)
			json_out__str(j, r->tactics[t]);
		json_out__arr_end(j);
		json_out__obj_end(j);
	}
	json_out__obj_end(j);
}

static void put_rule(struct json_out *j, const struct kh_rule_info *r)
{
	json_out__key_lit(j, "rule");
	json_out__obj_begin(j);
	json_out__kv_str_lit(j, "id", r->id);
	json_out__kv_str_lit(j, "uuid", r->uuid);
	json_out__kv_str_lit(j, "name", r->name);
	json_out__kv_str_lit(j, "severity", r->severity);
	json_out__kv_int_lit(j, "risk_score", r->risk_score);
	if (r->ruleset)
		json_out__kv_str_lit(j, "ruleset", r->ruleset);
	if (r->reference)
		json_out__kv_str_lit(j, "reference", r->reference);
	json_out__obj_end(j);
	put_threat(j, r);
}

/* @timestamp, event.*, rule.*, threat.*: what every alert opens with */
static void put_head(struct json_out *j, const struct kh_rule_info *r, int64_t t,
		     struct kstr action)
{
	if (t) {
		json_out__key_lit(j, "@timestamp");
		json_out__time_ns(j, t);
	}
	json_out__key_lit(j, "event");
	json_out__obj_begin(j);
	json_out__kv_str_lit(j, "kind", "alert");
	json_out__kv_kstr_lit(j, "action", action);
	json_out__kv_int_lit(j, "severity", r->risk_score);
	json_out__obj_end(j);

	put_rule(j, r);
}

/* user.*, source.ip, user_agent.* of the request */
static void put_who(struct json_out *j, const struct audit_event *ev)
{
	struct kstr ip = match__source_ip(ev);

	if (kstr_present(ev->user.username) || kstr_present(ev->impersonated_user.username)) {
		json_out__key_lit(j, "user");
		json_out__obj_begin(j);
		json_out__kv_kstr_lit(j, "name", ev->user.username);
		/* ECS user.effective: the identity the request acted as (impersonation) */
		if (kstr_present(ev->impersonated_user.username)) {
			json_out__key_lit(j, "effective");
			json_out__obj_begin(j);
			json_out__kv_kstr_lit(j, "name", ev->impersonated_user.username);
			json_out__obj_end(j);
		}
		json_out__obj_end(j);
	}
	if (kstr_nonempty(ip)) {
		json_out__key_lit(j, "source");
		json_out__obj_begin(j);
		json_out__kv_kstr_lit(j, "ip", ip);
		json_out__obj_end(j);
	}
	if (kstr_present(ev->user_agent)) {
		json_out__key_lit(j, "user_agent");
		json_out__obj_begin(j);
		json_out__kv_kstr_lit(j, "original", ev->user_agent);
		json_out__obj_end(j);
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
	json_out__key(j, key);
	json_out__obj_begin(j);
	json_out__kv_kstr_lit(j, "username", u->username);
	json_out__kv_kstr_lit(j, "uid", u->uid);
	put_strlist(j, "groups", &u->groups);
	emit_extra__write(j, u->extra, cut_total);
	json_out__obj_end(j);
}

static void put_object_ref(struct json_out *j, const struct audit_event *ev)
{
	const struct kh_object_ref *o = &ev->object_ref;

	if (!ev->object_ref_present)
		return;
	json_out__key_lit(j, "objectRef");
	json_out__obj_begin(j);
	json_out__kv_kstr_lit(j, "resource", o->resource);
	json_out__kv_kstr_lit(j, "subresource", o->subresource);
	json_out__kv_kstr_lit(j, "namespace", o->namespace_);
	json_out__kv_kstr_lit(j, "name", o->name);
	json_out__kv_kstr_lit(j, "apiGroup", o->api_group);
	json_out__kv_kstr_lit(j, "apiVersion", o->api_version);
	json_out__obj_end(j);
}

/* kubernetes.audit.*, named as Elastic's Kubernetes integration names them; no bodies */
static void put_audit(struct json_out *j, const struct audit_event *ev, uint64_t *cut_total)
{
	json_out__key_lit(j, "kubernetes");
	json_out__obj_begin(j);
	json_out__key_lit(j, "audit");
	json_out__obj_begin(j);
	json_out__kv_kstr_lit(j, "level", ev->level);
	json_out__kv_kstr_lit(j, "auditID", ev->audit_id);
	json_out__kv_kstr_lit(j, "stage", ev->stage);
	json_out__kv_kstr_lit(j, "requestURI", ev->request_uri);
	json_out__kv_kstr_lit(j, "verb", ev->verb);
	put_user(j, "user", &ev->user, cut_total);
	put_user(j, "impersonatedUser", &ev->impersonated_user, cut_total);
	if (ev->source_ips.n) {
		json_out__key_lit(j, "sourceIPs");
		json_out__arr_begin(j);
		for (uint32_t i = 0; i < ev->source_ips.n; i++)
			json_out__kstr(j, ev->source_ips.v[i]);
		json_out__arr_end(j);
	}
	json_out__kv_kstr_lit(j, "userAgent", ev->user_agent);
	put_object_ref(j, ev);
	if (ev->response_code >= 0) {
		json_out__key_lit(j, "responseStatus");
		json_out__obj_begin(j);
		json_out__kv_int_lit(j, "code", ev->response_code);
		json_out__obj_end(j);
	}
	json_out__kv_kstr_lit(j, "requestReceivedTimestamp", ev->request_received_timestamp);
	json_out__kv_kstr_lit(j, "stageTimestamp", ev->stage_timestamp);
	json_out__kv_kstr_lit(j, "timestamp", ev->legacy_timestamp); /* audit.k8s.io v1alpha1,
								      * v1beta1
								      */
	if (kstr_present(ev->decision) || kstr_present(ev->reason)) {
		json_out__key_lit(j, "annotations");
		json_out__obj_begin(j);
		json_out__kv_kstr_lit(j, "authorization_k8s_io/decision", ev->decision);
		json_out__kv_kstr_lit(j, "authorization_k8s_io/reason", ev->reason);
		json_out__obj_end(j);
	}
	json_out__obj_end(j);
	json_out__obj_end(j);
}

struct json_out *emit__alert_begin(struct kh_emit *e, const struct kh_rule_info *rule,
				   const struct audit_event *ev)
{
	struct held *held;
	uint64_t req, key;
	int hold;

	if (e->muted)
		return NULL;
	req = emit__request_key(ev);
	key = alert_key(req, e->rule);
	if (has(e->done, key)) {
		e->c->dedup_suppressed++;
		return NULL;
	}
	hold = emit__is_request_received(ev);
	held = held_find(e, key);
	if (held) {
		if (hold) { /* the same RequestReceived line again */
			e->c->dedup_suppressed++;
			return NULL;
		}
		drop_held(e, held); /* the fuller, later stage replaces it */
	}
	e->building = hold ? B_HOLD : B_WRITE;
	e->building_key = key;
	e->building_req = req;
	e->building_ev = ev;
	json_out__reset(&e->j);
	json_out__obj_begin(&e->j);
	put_ecs(&e->j, rule, ev);
	put_audit(&e->j, ev, &e->c->fields_cut);
	return &e->j;
}

struct json_out *emit__alert_begin_node(struct kh_emit *e, const struct kh_rule_info *rule,
					int64_t time_ns, const char *action, uint64_t key,
					const struct audit_event *joined)
{
	uint64_t k;

	if (e->muted)
		return NULL;
	k = alert_key(key ? key : 1, e->rule);
	if (has(e->done, k)) {
		e->c->dedup_suppressed++;
		return NULL;
	}
	e->building = B_WRITE;
	e->building_key = k;
	e->building_ev = joined;
	json_out__reset(&e->j);
	json_out__obj_begin(&e->j);
	put_head(&e->j, rule, time_ns, kstr_lit(action, strlen(action)));
	if (joined) {
		put_who(&e->j, joined);
		put_audit(&e->j, joined, &e->c->fields_cut);
	}
	return &e->j;
}

static void hold_alert(struct kh_emit *e)
{
	struct held h = {.key = e->building_key,
			 .req = e->building_req,
			 .len = e->j.len,
			 .rule = e->count_rule,
			 .at_ns = e->now_ns};
	struct held *at;
	bool created;

	h.line = malloc(h.len);
	if (!h.line) {
		e->c->output_errors++;
		return;
	}
	memcpy(h.line, e->j.buf, h.len);
	if (keytab__full(e->pending)) {
		release_oldest(e);
		e->c->held_written_early++;
	}
	at = keytab__upsert(e->pending, &h.key, sizeof(h.key), &created);
	if (!at) {
		free(h.line);
		e->c->output_errors++;
		return;
	}
	if (!created) /* emit__alert_begin dropped any held alert of this key: never, but stay exact
		       */
		held_drop(at, e);
	*at = h;
	(*held_count(e, h.req))++;
}

void emit__alert_end(struct kh_emit *e, const struct kstr *extra_ids, size_t n_extra)
{
	struct json_out *j = &e->j;

	if (e->building == B_NONE)
		return;
	json_out__key_lit(j, "evidence");
	json_out__obj_begin(j);
	json_out__key_lit(j, "audit_ids");
	json_out__arr_begin(j);
	if (e->building_ev) /* a node alert without a matching request has none of its own */
		json_out__kstr(j, e->building_ev->audit_id);
	for (size_t i = 0; i < n_extra; i++)
		json_out__kstr(j, extra_ids[i]);
	json_out__arr_end(j);
	json_out__obj_end(j);
	json_out__obj_end(j);
	if (j->oom || j->depth != 0) {
		e->c->output_errors++; /* an alert we cannot render whole is not written half */
	} else if (e->building == B_HOLD) {
		hold_alert(e);
	} else {
		write_line(e, j->buf, j->len, e->count_rule);
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
	json_out__reset(&e->j);
	json_out__obj_begin(&e->j);
	if (t_ns) {
		json_out__key_lit(&e->j, "@timestamp");
		json_out__time_ns(&e->j, t_ns);
	}
	json_out__key_lit(&e->j, "event");
	json_out__obj_begin(&e->j);
	json_out__kv_str_lit(&e->j, "kind", "alert");
	json_out__kv_str_lit(&e->j, "action", action);
	json_out__kv_int_lit(&e->j, "severity", rule->risk_score);
	json_out__obj_end(&e->j);
	put_rule(&e->j, rule);
	return &e->j;
}

void emit__incident_end(struct kh_emit *e, const char *const *ids, size_t n_ids)
{
	struct json_out *j = &e->j;

	if (e->building != B_INCIDENT)
		return;
	json_out__key_lit(j, "evidence");
	json_out__obj_begin(j);
	json_out__key_lit(j, "audit_ids");
	json_out__arr_begin(j);
	for (size_t i = 0; i < n_ids; i++)
		json_out__str(j, ids[i]);
	json_out__arr_end(j);
	json_out__obj_end(j);
	json_out__obj_end(j);
	if (j->oom || j->depth != 0)
		e->c->output_errors++;
	else
		write_line(e, j->buf, j->len, e->building_rule);
	e->building = B_NONE;
}
