// SPDX-License-Identifier: Apache-2.0
/*
 * exec_join: exec sessions paired with pods/exec requests (see exec_join.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/audit_parse.h"
#include "rules/node/exec_join.h"
#include "rules/node/exec_request.h"
#include "keyhole/emit.h"
#include "keyhole/keytab.h"

struct req {
	char *line; /* the latest stage's line, owned */
	size_t len;
	int64_t t_ns;	/* requestReceivedTimestamp (else stageTimestamp) */
	int64_t end_ns; /* its ResponseComplete (or Panic) stage's time; 0 while it streams */
	char ns[64], pod[254], container[64];
	char audit_id[KH_NODE_AUDIT_ID_MAX];
	uint64_t key;	     /* its key in the request map */
	uint64_t claimed_by; /* session id, 0 while free */
	enum exec_request_kind kind;
	bool exact; /* claimed by the session's own auditID: no other session's candidate */
};

/* a node event copied with everything it points to, while its session waits */
struct held {
	struct held *next;
	struct node_event ev;
	struct node_session s;
	char exe[KH_NODE_PATH_MAX + 1];
	char args[KH_NODE_ARGS_MAX + 1];
	char path[KH_NODE_PATH_MAX + 1];
};

struct jsession {
	uint64_t id;
	int64_t start_ns;
	int64_t deadline_ns;
	char ns[64], pod[254], container[64];
	uint64_t req_key;   /* paired request, 0 for none */
	uint64_t proxy_key; /* unpaired: the nodes/proxy request that ran in its pod, 0 for none */
	char audit_id[KH_NODE_AUDIT_ID_MAX]; /* from its environment, "" when none */
	bool new_container;		     /* kubectl debug: pairs with ephemeral containers */
	bool attach;			     /* input on a container's stdin: pairs with attaches */
	bool id_unmatched;
	enum exec_attrib_method method;
	uint32_t n_cand;
	char cand[KH_EXEC_JOIN_CANDIDATES][KH_NODE_AUDIT_ID_MAX];
	bool final;
	struct held *head, **tail;
	uint32_t n_held;
};

struct exec_join {
	struct exec_join_opts o;
	exec_join_deliver_fn fn;
	/*
	 * request key -> struct req, session id -> struct jsession; both first in, first out
	 * (found, never touched), and walked oldest first
	 */
	struct keytab *reqs, *sess;
	uint32_t n_waiting;
	int64_t next_deadline; /* earliest deadline of a waiting session */
	int64_t now;
	struct exec_join_stats st;
	char node[254]; /* o.node_name's copy, "" when not checked */
};

static void free_held(struct jsession *js);

static void req_drop(void *value, void *arg)
{
	(void)arg;
	free(((struct req *)value)->line);
}

static void session_drop(void *value, void *arg)
{
	(void)arg;
	free_held(value);
}

struct exec_join *exec_join__new(const struct exec_join_opts *opts, exec_join_deliver_fn fn)
{
	struct exec_join *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	if (opts)
		j->o = *opts;
	if (j->o.window_ns <= 0)
		j->o.window_ns = KH_EXEC_JOIN_WINDOW_NS;
	if (j->o.attach_window_ns <= 0)
		j->o.attach_window_ns = KH_EXEC_JOIN_ATTACH_WINDOW_NS;
	if (j->o.wait_ns <= 0)
		j->o.wait_ns = KH_EXEC_JOIN_WAIT_NS;
	if (!j->o.max_requests)
		j->o.max_requests = 1024;
	if (!j->o.max_sessions)
		j->o.max_sessions = 1024;
	if (!j->o.max_held)
		j->o.max_held = 16;
	if (j->o.node_name)
		snprintf(j->node, sizeof(j->node), "%s", j->o.node_name);
	j->o.node_name = NULL; /* the caller's string may go */
	j->fn = fn;
	j->reqs = keytab__new(sizeof(struct req), j->o.max_requests, req_drop, NULL);
	j->sess = keytab__new(sizeof(struct jsession), j->o.max_sessions, session_drop, NULL);
	if (!j->reqs || !j->sess) {
		exec_join__free(j);
		errno = ENOMEM;
		return NULL;
	}
	return j;
}

static void free_held(struct jsession *js)
{
	while (js->head) {
		struct held *h = js->head;

		js->head = h->next;
		free(h);
	}
	js->tail = &js->head;
	js->n_held = 0;
}

void exec_join__free(struct exec_join *j)
{
	if (!j)
		return;
	keytab__free(j->reqs);
	keytab__free(j->sess);
	free(j);
}

const struct exec_join_stats *exec_join__stats(const struct exec_join *j)
{
	return &j->st;
}

size_t exec_join__counters(const struct exec_join *j,
			   struct kh_rule_counter out[KH_EXEC_JOIN_COUNTERS])
{
	const struct exec_join_stats *st = &j->st;
	const struct kh_rule_counter c[] = {
	    {"keyhole_exec_join_requests_total",
	     "pods/exec, attach and debug requests the exec join kept (distinct)", &st->requests},
	    {"keyhole_exec_join_sessions_joined_total", "exec sessions paired with their request",
	     &st->joined},
	    {"keyhole_exec_join_sessions_unjoined_total", "exec sessions settled without a request",
	     &st->unjoined},
	    {"keyhole_exec_join_sessions_exact_total",
	     "of the joined sessions: paired by their own auditID", &st->exact},
	    {"keyhole_exec_join_sessions_ambiguous_total",
	     "of the joined sessions: more than one request fitted", &st->ambiguous},
	    {"keyhole_exec_join_sessions_proxied_total",
	     "of the unjoined sessions: a nodes/proxy request ran in their pod", &st->proxied},
	    {"keyhole_exec_join_proxy_other_node_total",
	     "nodes/proxy requests running a command through another node's kubelet, not kept",
	     &st->proxy_other_node},
	    {"keyhole_exec_join_held_overflow_total",
	     "node events delivered before their session was paired (its hold was full)",
	     &st->held_overflow},
	    {"keyhole_exec_join_request_evictions_total", "requests forgotten to make room",
	     &st->request_evictions},
	    {"keyhole_exec_join_session_evictions_total", "sessions forgotten to make room",
	     &st->session_evictions},
	};

	_Static_assert(sizeof(c) / sizeof(c[0]) == KH_EXEC_JOIN_COUNTERS, "one per stat");
	memcpy(out, c, sizeof(c));
	return KH_EXEC_JOIN_COUNTERS;
}

/* |a - b| without overflow, whatever the two times are */
static uint64_t absdiff(int64_t a, int64_t b)
{
	return a > b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a;
}

const char *exec_attrib__method_name(enum exec_attrib_method m)
{
	switch (m) {
	case EXEC_ATTRIB_AUDIT_ID:
		return "audit-id";
	case EXEC_ATTRIB_UNIQUE:
		return "unique-match";
	case EXEC_ATTRIB_AMBIGUOUS:
		return "ambiguous";
	default:
		return "none";
	}
}

/* can a request of this kind have started this session? */
static bool kind_fits(const struct req *r, const struct jsession *js)
{
	if (js->new_container)
		return r->kind == EXEC_REQ_DEBUG;
	if (js->attach)
		return r->kind == EXEC_REQ_ATTACH;
	return r->kind == EXEC_REQ_EXEC || r->kind == EXEC_REQ_ATTACH;
}

static bool same_pod(const struct req *r, const struct jsession *js)
{
	if (strcmp(r->ns, js->ns) || strcmp(r->pod, js->pod))
		return false;
	/* the container only tells apart when both sides name one */
	return !r->container[0] || !js->container[0] || !strcmp(r->container, js->container);
}

/*
 * Is @r near enough in time to have started @js? An exec starts its session at once; an attach
 * opens a stream the user may type into much later, so for an attach session a request received
 * up to attach_window before the first input fits, unless its stream had ended by then.
 */
static bool time_fits(const struct exec_join *j, const struct req *r, const struct jsession *js)
{
	if (js->attach && r->t_ns <= js->start_ns) {
		if ((uint64_t)js->start_ns - (uint64_t)r->t_ns > (uint64_t)j->o.attach_window_ns)
			return false;
		return !r->end_ns || r->end_ns >= js->start_ns ||
		       absdiff(r->end_ns, js->start_ns) <= (uint64_t)j->o.window_ns;
	}
	return absdiff(r->t_ns, js->start_ns) <= (uint64_t)j->o.window_ns;
}

static const struct req *req_by_key(struct exec_join *j, uint64_t key)
{
	return key ? keytab__find(j->reqs, &key, sizeof(key)) : NULL;
}

/*
 * deliver one event with the paired request (re-parsed from its stored line) or none, and how
 * the session was attributed
 */
static void deliver(struct exec_join *j, const struct node_event *ev, const struct jsession *js,
		    void *ctx)
{
	const struct req *r = req_by_key(j, js->req_key);
	const struct req *px = r ? NULL : req_by_key(j, js->proxy_key);
	struct exec_attribution at = {
	    .method = r ? js->method : EXEC_ATTRIB_NONE,
	    .n_candidates = js->n_cand,
	    .audit_id_unmatched = js->id_unmatched,
	};
	struct audit_event a, pa;
	struct kh_parse_error pe;

	at.n_listed = js->n_cand < KH_EXEC_JOIN_CANDIDATES ? js->n_cand : KH_EXEC_JOIN_CANDIDATES;
	for (uint32_t i = 0; i < at.n_listed; i++)
		at.candidates[i] = js->cand[i];
	if (px && audit_parse__line(px->line, px->len, &pa, &pe) == 0)
		at.proxy = &pa;
	if (r && audit_parse__line(r->line, r->len, &a, &pe) == 0) {
		j->fn(ctx, ev, &a, &at);
		return;
	}
	at.method = EXEC_ATTRIB_NONE;
	j->fn(ctx, ev, NULL, &at);
}

/* an unpaired session: the nearest nodes/proxy request running a command in its pod */
static void find_proxy(struct exec_join *j, struct jsession *js)
{
	const struct req *best = NULL;

	for (const struct req *r = keytab__oldest(j->reqs); r; r = keytab__newer(j->reqs, r)) {
		if (r->kind != EXEC_REQ_PROXY || !same_pod(r, js) ||
		    absdiff(r->t_ns, js->start_ns) > (uint64_t)j->o.window_ns)
			continue;
		if (!best || absdiff(r->t_ns, js->start_ns) < absdiff(best->t_ns, js->start_ns))
			best = r;
	}
	js->proxy_key = best ? best->key : 0;
}

static void pair_session(struct exec_join *j, struct jsession *js, bool last);

/* the pairing of @js is settled: deliver what it held */
static void finalize(struct exec_join *j, struct jsession *js, void *ctx)
{
	const struct req *r;
	struct held *h;

	if (js->final)
		return;
	if (!js->req_key)
		pair_session(j, js, true);
	js->final = true;
	j->n_waiting--;
	r = req_by_key(j, js->req_key);
	if (r) {
		j->st.joined++;
		j->st.exact += js->method == EXEC_ATTRIB_AUDIT_ID;
		j->st.ambiguous += js->method == EXEC_ATTRIB_AMBIGUOUS;
	} else {
		j->st.unjoined++;
		find_proxy(j, js);
		j->st.proxied += js->proxy_key != 0;
	}
	for (h = js->head; h; h = h->next)
		deliver(j, &h->ev, js, ctx);
	free_held(js);
}

/* end the waits that are over at event time j->now */
static void expire(struct exec_join *j, void *ctx)
{
	int64_t next = INT64_MAX;

	if (!j->n_waiting || j->now < j->next_deadline)
		return;
	for (struct jsession *js = keytab__oldest(j->sess); js && j->n_waiting;
	     js = keytab__newer(j->sess, js)) {
		if (js->final)
			continue;
		if (js->deadline_ns <= j->now)
			finalize(j, js, ctx);
		else if (js->deadline_ns < next)
			next = js->deadline_ns;
	}
	j->next_deadline = next;
}

static void advance(struct exec_join *j, int64_t t, void *ctx)
{
	if (t > j->now)
		j->now = t;
	expire(j, ctx);
}

/* ---- requests ---------------------------------------------------------------------------- */

static bool kcopy(char *dst, size_t size, struct kstr s)
{
	long n = kstr__decode(s, dst, size - 1);

	if (n < 0 || (size_t)n >= size)
		return false;
	dst[n] = 0;
	return true;
}

static struct req *req_insert(struct exec_join *j, uint64_t key)
{
	bool created;

	if (keytab__full(j->reqs)) {
		keytab__remove(j->reqs, keytab__oldest(j->reqs)); /* its drop frees the line */
		j->st.request_evictions++;
	}
	return keytab__upsert(j->reqs, &key, sizeof(key), &created);
}

/*
 * A new request: the waiting session that carries its auditID takes it; else the waiting
 * session of its pod nearest in time without an auditID of its own pairs (by time, which may
 * still pick a nearer request).
 */
static void pair_waiting(struct exec_join *j, struct req *r, void *ctx)
{
	struct jsession *best = NULL;

	for (struct jsession *js = keytab__oldest(j->sess); js && j->n_waiting;
	     js = keytab__newer(j->sess, js)) {
		if (js->final || !kind_fits(r, js) || !same_pod(r, js))
			continue;
		if (js->audit_id[0]) {
			if (r->audit_id[0] && !strcmp(js->audit_id, r->audit_id)) {
				best = js;
				break;
			}
			continue;
		}
		if (!time_fits(j, r, js))
			continue;
		if (!best || absdiff(r->t_ns, js->start_ns) < absdiff(r->t_ns, best->start_ns))
			best = js;
	}
	if (!best)
		return;
	pair_session(j, best, false);
	if (best->req_key)
		finalize(j, best, ctx);
}

void exec_join__on_audit(struct exec_join *j, const struct audit_event *ev, void *ctx)
{
	char pns[64], ppod[254], pctr[64];
	enum exec_request_kind kind;
	struct exec_command cmd;
	uint64_t key;
	struct req *r;
	char *line;

	advance(j, audit_event_time_ns(ev), ctx);
	kind = exec_request__kind(ev);
	if (kind == EXEC_REQ_NONE)
		return;
	/* of the kubelet API through nodes/proxy, only what runs a command in a pod is kept */
	if (kind == EXEC_REQ_PROXY && exec_request__proxy_target(ev->request_uri, pns, ppod, pctr))
		return;
	/* through another node's kubelet: not a command run here */
	if (kind == EXEC_REQ_PROXY && j->node[0] && !kstr__eq(ev->object_ref.name, j->node)) {
		j->st.proxy_other_node++;
		return;
	}
	key = emit__request_key(ev);
	line = malloc(ev->len ? ev->len : 1);
	if (!line)
		return;
	memcpy(line, ev->line, ev->len);
	r = keytab__find(j->reqs, &key, sizeof(key));
	if (r) { /* a later stage of a known request: keep the fuller line */
		if (kstr__eq(ev->stage, "ResponseComplete") || kstr__eq(ev->stage, "Panic"))
			r->end_ns = audit_event_time_ns(ev);
		free(r->line);
		r->line = line;
		r->len = ev->len;
		return;
	}
	r = req_insert(j, key);
	if (!r) {
		free(line);
		return;
	}
	r->line = line;
	r->len = ev->len;
	r->key = key;
	r->kind = kind;
	r->t_ns = ev->request_received_ns ? ev->request_received_ns : ev->stage_ns;
	if (kstr__eq(ev->stage, "ResponseComplete") || kstr__eq(ev->stage, "Panic"))
		r->end_ns = audit_event_time_ns(ev);
	if (!kcopy(r->audit_id, sizeof(r->audit_id), ev->audit_id))
		r->audit_id[0] = 0;
	if (kind == EXEC_REQ_PROXY) {
		memcpy(r->ns, pns, sizeof(r->ns));
		memcpy(r->pod, ppod, sizeof(r->pod));
		memcpy(r->container, pctr, sizeof(r->container));
		return; /* never paired: only looked up for sessions left without a request */
	}
	if (!kcopy(r->ns, sizeof(r->ns), ev->object_ref.namespace_) ||
	    !kcopy(r->pod, sizeof(r->pod), ev->object_ref.name))
		r->ns[0] = r->pod[0] = 0; /* names no pod can have: never pairs */
	if (kind != EXEC_REQ_DEBUG && exec_request__command(ev->request_uri, &cmd) == 0)
		memcpy(r->container, cmd.container, sizeof(r->container));
	j->st.requests++;
	if (r->ns[0])
		pair_waiting(j, r, ctx);
}

/* ---- sessions ---------------------------------------------------------------------------- */

/* the request whose auditID the session carries, if it is one that could have started it */
static bool pair_by_id(struct exec_join *j, struct jsession *js)
{
	for (struct req *r = keytab__oldest(j->reqs); r; r = keytab__newer(j->reqs, r)) {
		if (!r->audit_id[0] || strcmp(r->audit_id, js->audit_id))
			continue;
		if (!kind_fits(r, js) || !same_pod(r, js) ||
		    (r->claimed_by && r->exact && r->claimed_by != js->id)) {
			js->id_unmatched = true; /* another pod's (or session's) request */
			return false;
		}
		if (r->claimed_by && r->claimed_by != js->id) {
			/* a session paired by time took it: the ID is the stronger claim */
			struct jsession *by =
			    keytab__find(j->sess, &r->claimed_by, sizeof(r->claimed_by));

			if (by && by->req_key == r->key)
				by->method = EXEC_ATTRIB_AMBIGUOUS;
		}
		r->claimed_by = js->id;
		r->exact = true;
		js->req_key = r->key;
		js->method = EXEC_ATTRIB_AUDIT_ID;
		return true;
	}
	return false;
}

/* keep the candidate auditIDs nearest first */
static void add_candidate(struct jsession *js, const struct req *r, int64_t *dist)
{
	uint32_t n = js->n_cand < KH_EXEC_JOIN_CANDIDATES ? js->n_cand : KH_EXEC_JOIN_CANDIDATES;
	int64_t d = (int64_t)absdiff(r->t_ns, js->start_ns);
	uint32_t at = n;

	while (at > 0 && dist[at - 1] > d)
		at--;
	js->n_cand++;
	if (at >= KH_EXEC_JOIN_CANDIDATES)
		return;
	if (n == KH_EXEC_JOIN_CANDIDATES)
		n--;
	memmove(js->cand[at + 1], js->cand[at], (n - at) * sizeof(js->cand[0]));
	memmove(&dist[at + 1], &dist[at], (n - at) * sizeof(dist[0]));
	snprintf(js->cand[at], sizeof(js->cand[at]), "%s", r->audit_id);
	dist[at] = d;
}

/* @r is nearer @js's start than @than (or @than is NULL) */
static bool nearer(const struct req *r, const struct req *than, const struct jsession *js)
{
	return !than || absdiff(r->t_ns, js->start_ns) < absdiff(than->t_ns, js->start_ns);
}

/*
 * By pod, container and time: every request that fits and no other session took by its auditID
 * is a candidate; the nearest one still free is the pair. An attach session with none free
 * takes the nearest another session took: one attach stream feeds the sessions a reader opens
 * after input gaps (node.attach_idle), and the time fit has left out streams that had ended.
 */
static void pair_by_time(struct exec_join *j, struct jsession *js)
{
	int64_t dist[KH_EXEC_JOIN_CANDIDATES];
	struct req *best = NULL, *taken = NULL;

	js->n_cand = 0;
	for (struct req *r = keytab__oldest(j->reqs); r; r = keytab__newer(j->reqs, r)) {
		if (!r->ns[0] || (r->exact && r->claimed_by != js->id) || !kind_fits(r, js) ||
		    !same_pod(r, js) || !time_fits(j, r, js))
			continue;
		add_candidate(js, r, dist);
		if (r->claimed_by) {
			if (js->attach && nearer(r, taken, js))
				taken = r;
			continue;
		}
		if (nearer(r, best, js))
			best = r;
	}
	if (!best && !(best = taken))
		return;
	if (!best->claimed_by)
		best->claimed_by = js->id;
	js->req_key = best->key;
	js->method = js->n_cand > 1 ? EXEC_ATTRIB_AMBIGUOUS : EXEC_ATTRIB_UNIQUE;
}

/*
 * Pair @js: by its auditID when it carries one (before @last, only that way: its request may
 * still come), else by time.
 */
static void pair_session(struct exec_join *j, struct jsession *js, bool last)
{
	if (js->req_key || !js->ns[0] || !js->pod[0])
		return;
	if (js->audit_id[0]) {
		if (pair_by_id(j, js))
			return;
		if (!last && !js->id_unmatched)
			return;
		js->id_unmatched = true;
	}
	pair_by_time(j, js);
}

static struct jsession *session_insert(struct exec_join *j, const struct node_event *ev, void *ctx)
{
	const struct node_session *s = ev->session;
	struct jsession *js;
	bool created;

	if (keytab__full(j->sess)) {
		js = keytab__oldest(j->sess);
		finalize(j, js, ctx);
		keytab__remove(j->sess, js);
		j->st.session_evictions++;
	}
	js = keytab__upsert(j->sess, &s->id, sizeof(s->id), &created);
	if (!js)
		return NULL;
	js->id = s->id;
	js->start_ns = s->start_ns;
	js->tail = &js->head;
	snprintf(js->ns, sizeof(js->ns), "%s", s->who.pod_namespace);
	snprintf(js->pod, sizeof(js->pod), "%s", s->who.pod_name);
	snprintf(js->container, sizeof(js->container), "%s", s->who.container_name);
	if (!s->audit_id_truncated)
		snprintf(js->audit_id, sizeof(js->audit_id), "%s", s->audit_id);
	js->new_container = s->new_container;
	js->attach = s->attach && !s->new_container;
	j->n_waiting++;
	pair_session(j, js, false);
	if (js->req_key || !js->ns[0] || !js->pod[0]) {
		finalize(j, js, ctx); /* paired, or nothing could ever pair with it */
	} else {
		js->deadline_ns = js->start_ns + j->o.wait_ns;
		if (j->n_waiting == 1 || js->deadline_ns < j->next_deadline)
			j->next_deadline = js->deadline_ns;
	}
	return js;
}

static void hold(struct exec_join *j, struct jsession *js, const struct node_event *ev, void *ctx)
{
	struct held *h;

	if (js->n_held >= j->o.max_held || !(h = calloc(1, sizeof(*h)))) {
		struct exec_attribution none = {0};

		j->st.held_overflow++;
		j->fn(ctx, ev, NULL, &none);
		return;
	}
	h->ev = *ev;
	h->s = *ev->session;
	h->ev.session = &h->s;
	if (ev->exe) {
		snprintf(h->exe, sizeof(h->exe), "%s", ev->exe);
		h->ev.exe = h->exe;
	}
	if (ev->path) {
		snprintf(h->path, sizeof(h->path), "%s", ev->path);
		h->ev.path = h->path;
	}
	/* each argument copied in turn: argv need not share one buffer */
	h->ev.argc = 0;
	for (uint32_t i = 0, at = 0; i < ev->argc; i++) {
		size_t n = strlen(ev->argv[i]) + 1;

		if (at + n > sizeof(h->args))
			break;
		memcpy(h->args + at, ev->argv[i], n);
		h->ev.argv[h->ev.argc++] = h->args + at;
		at += (uint32_t)n;
	}
	h->ev.argv[h->ev.argc] = NULL;
	h->next = NULL;
	*js->tail = h;
	js->tail = &h->next;
	js->n_held++;
}

void exec_join__on_node(struct exec_join *j, const struct node_event *ev, bool deliver_it,
			void *ctx)
{
	struct jsession *js = keytab__find(j->sess, &ev->session->id, sizeof(ev->session->id));

	if (!js)
		js = session_insert(j, ev, ctx);
	if (!js) { /* out of memory: delivered unpaired, as an overflow is */
		struct exec_attribution none = {0};

		j->st.held_overflow++;
		if (deliver_it)
			j->fn(ctx, ev, NULL, &none);
	} else if (deliver_it) {
		if (js->final)
			deliver(j, ev, js, ctx);
		else
			hold(j, js, ev, ctx);
	}
	advance(j, ev->time_ns, ctx);
}

void exec_join__flush(struct exec_join *j, void *ctx)
{
	for (struct jsession *js = keytab__oldest(j->sess); js && j->n_waiting;
	     js = keytab__newer(j->sess, js))
		if (!js->final)
			finalize(j, js, ctx);
}
