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
#include "keyhole/fifo_map.h"

struct req {
	char *line; /* the latest stage's line, owned */
	size_t len;
	int64_t t_ns; /* requestReceivedTimestamp (else stageTimestamp) */
	char ns[64], pod[254], container[64];
	uint64_t key;	     /* its key in the request map */
	uint64_t claimed_by; /* session id, 0 while free */
	bool live;
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
	uint64_t req_key; /* paired request, 0 for none */
	bool final;
	struct held *head, **tail;
	uint32_t n_held;
};

struct exec_join {
	struct exec_join_opts o;
	exec_join_deliver_fn fn;
	struct fifo_map reqs, sess;
	struct req *req;
	struct jsession *s;
	uint32_t n_waiting;
	int64_t next_deadline; /* earliest deadline of a waiting session */
	int64_t now;
	struct exec_join_stats st;
};

struct exec_join *exec_join__new(const struct exec_join_opts *opts, exec_join_deliver_fn fn)
{
	struct exec_join *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	if (opts)
		j->o = *opts;
	if (j->o.window_ns <= 0)
		j->o.window_ns = KH_EXEC_JOIN_WINDOW_NS;
	if (j->o.wait_ns <= 0)
		j->o.wait_ns = KH_EXEC_JOIN_WAIT_NS;
	if (!j->o.max_requests)
		j->o.max_requests = 1024;
	if (!j->o.max_sessions)
		j->o.max_sessions = 1024;
	if (!j->o.max_held)
		j->o.max_held = 16;
	j->fn = fn;
	j->req = calloc(j->o.max_requests, sizeof(*j->req));
	j->s = calloc(j->o.max_sessions, sizeof(*j->s));
	if (!j->req || !j->s || fifo_map__init(&j->reqs, j->o.max_requests) ||
	    fifo_map__init(&j->sess, j->o.max_sessions)) {
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
	for (uint32_t i = 0; j->req && i < j->o.max_requests; i++)
		free(j->req[i].line);
	for (uint32_t i = 0; j->s && i < j->o.max_sessions; i++)
		free_held(&j->s[i]);
	fifo_map__fini(&j->reqs);
	fifo_map__fini(&j->sess);
	free(j->req);
	free(j->s);
	free(j);
}

const struct exec_join_stats *exec_join__stats(const struct exec_join *j)
{
	return &j->st;
}

/* |a - b| without overflow, whatever the two times are */
static uint64_t absdiff(int64_t a, int64_t b)
{
	return a > b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a;
}

static bool same_pod(const struct req *r, const struct jsession *js)
{
	if (strcmp(r->ns, js->ns) || strcmp(r->pod, js->pod))
		return false;
	/* the container only tells apart when both sides name one */
	return !r->container[0] || !js->container[0] || !strcmp(r->container, js->container);
}

/* deliver one event with the paired request (re-parsed from its stored line) or none */
static void deliver(struct exec_join *j, const struct node_event *ev, const struct req *r,
		    void *ctx)
{
	struct audit_event a;
	struct kh_parse_error pe;

	if (r && audit_parse(r->line, r->len, &a, &pe) == 0)
		j->fn(ctx, ev, &a);
	else
		j->fn(ctx, ev, NULL);
}

static const struct req *paired(struct exec_join *j, const struct jsession *js)
{
	long slot = js->req_key ? fifo_map__find(&j->reqs, js->req_key) : -1;

	return slot >= 0 ? &j->req[slot] : NULL;
}

/* the pairing of @js is settled: deliver what it held */
static void finalize(struct exec_join *j, struct jsession *js, void *ctx)
{
	const struct req *r;
	struct held *h;

	if (js->final)
		return;
	js->final = true;
	j->n_waiting--;
	if (js->req_key)
		j->st.joined++;
	else
		j->st.unjoined++;
	r = paired(j, js);
	for (h = js->head; h; h = h->next)
		deliver(j, &h->ev, r, ctx);
	free_held(js);
}

/* end the waits that are over at event time j->now */
static void expire(struct exec_join *j, void *ctx)
{
	int64_t next = INT64_MAX;

	if (!j->n_waiting || j->now < j->next_deadline)
		return;
	for (uint32_t i = 0; i < j->o.max_sessions && j->n_waiting; i++) {
		struct jsession *js = &j->s[i];

		if (!js->id || js->final)
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
	long n = kstr_decode(s, dst, size - 1);

	if (n < 0 || (size_t)n >= size)
		return false;
	dst[n] = 0;
	return true;
}

static struct req *req_insert(struct exec_join *j, uint64_t key)
{
	uint64_t old;
	uint32_t slot;

	if (fifo_map__full(&j->reqs) && fifo_map__oldest(&j->reqs, &old, &slot)) {
		fifo_map__remove(&j->reqs, old);
		free(j->req[slot].line);
		memset(&j->req[slot], 0, sizeof(j->req[slot]));
		j->st.request_evictions++;
	}
	slot = fifo_map__insert(&j->reqs, key);
	memset(&j->req[slot], 0, sizeof(j->req[slot]));
	return &j->req[slot];
}

/* a new request: the waiting session of its pod nearest in time claims it */
static void pair_waiting(struct exec_join *j, uint64_t key, struct req *r, void *ctx)
{
	struct jsession *best = NULL;

	for (uint32_t i = 0; i < j->o.max_sessions && j->n_waiting; i++) {
		struct jsession *js = &j->s[i];

		if (!js->id || js->final || !same_pod(r, js) ||
		    absdiff(r->t_ns, js->start_ns) > (uint64_t)j->o.window_ns)
			continue;
		if (!best || absdiff(r->t_ns, js->start_ns) < absdiff(r->t_ns, best->start_ns))
			best = js;
	}
	if (!best)
		return;
	r->claimed_by = best->id;
	best->req_key = key;
	finalize(j, best, ctx);
}

void exec_join__on_audit(struct exec_join *j, const struct audit_event *ev, void *ctx)
{
	struct exec_command cmd;
	uint64_t key;
	struct req *r;
	long slot;
	char *line;

	advance(j, audit_event_time_ns(ev), ctx);
	if (!exec_request__is_exec(ev))
		return;
	key = emit_request_key(ev);
	line = malloc(ev->len ? ev->len : 1);
	if (!line)
		return;
	memcpy(line, ev->line, ev->len);
	slot = fifo_map__find(&j->reqs, key);
	if (slot >= 0) { /* a later stage of a known request: keep the fuller line */
		r = &j->req[slot];
		free(r->line);
		r->line = line;
		r->len = ev->len;
		return;
	}
	r = req_insert(j, key);
	r->line = line;
	r->len = ev->len;
	r->live = true;
	r->key = key;
	r->t_ns = ev->request_received_ns ? ev->request_received_ns : ev->stage_ns;
	if (!kcopy(r->ns, sizeof(r->ns), ev->object_ref.namespace_) ||
	    !kcopy(r->pod, sizeof(r->pod), ev->object_ref.name))
		r->ns[0] = r->pod[0] = 0; /* names no pod can have: never pairs */
	if (exec_request__command(ev->request_uri, &cmd) == 0)
		memcpy(r->container, cmd.container, sizeof(r->container));
	j->st.requests++;
	if (r->ns[0])
		pair_waiting(j, key, r, ctx);
}

/* ---- sessions ---------------------------------------------------------------------------- */

/* the free request of the session's pod nearest its start, within the window */
static void pair_session(struct exec_join *j, struct jsession *js)
{
	struct req *best = NULL;

	for (uint32_t i = 0; i < j->o.max_requests; i++) {
		struct req *r = &j->req[i];

		if (!r->live || r->claimed_by || !r->ns[0] || !same_pod(r, js) ||
		    absdiff(r->t_ns, js->start_ns) > (uint64_t)j->o.window_ns)
			continue;
		if (!best || absdiff(r->t_ns, js->start_ns) < absdiff(best->t_ns, js->start_ns))
			best = r;
	}
	if (!best)
		return;
	best->claimed_by = js->id;
	js->req_key = best->key;
}

static struct jsession *session_insert(struct exec_join *j, const struct node_event *ev, void *ctx)
{
	const struct node_session *s = ev->session;
	struct jsession *js;
	uint64_t old;
	uint32_t slot;

	if (fifo_map__full(&j->sess) && fifo_map__oldest(&j->sess, &old, &slot)) {
		finalize(j, &j->s[slot], ctx);
		fifo_map__remove(&j->sess, old);
		j->st.session_evictions++;
	}
	slot = fifo_map__insert(&j->sess, s->id);
	js = &j->s[slot];
	memset(js, 0, sizeof(*js));
	js->id = s->id;
	js->start_ns = s->start_ns;
	js->tail = &js->head;
	snprintf(js->ns, sizeof(js->ns), "%s", s->who.pod_namespace);
	snprintf(js->pod, sizeof(js->pod), "%s", s->who.pod_name);
	snprintf(js->container, sizeof(js->container), "%s", s->who.container_name);
	j->n_waiting++;
	if (js->ns[0] && js->pod[0])
		pair_session(j, js);
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
		j->st.held_overflow++;
		j->fn(ctx, ev, NULL);
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
	long slot = fifo_map__find(&j->sess, ev->session->id);
	struct jsession *js = slot >= 0 ? &j->s[slot] : session_insert(j, ev, ctx);

	if (deliver_it) {
		if (js->final)
			deliver(j, ev, paired(j, js), ctx);
		else
			hold(j, js, ev, ctx);
	}
	advance(j, ev->time_ns, ctx);
}

void exec_join__flush(struct exec_join *j, void *ctx)
{
	for (uint32_t i = 0; i < j->o.max_sessions && j->n_waiting; i++)
		if (j->s[i].id && !j->s[i].final)
			finalize(j, &j->s[i], ctx);
}
