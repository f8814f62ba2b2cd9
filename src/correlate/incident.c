// SPDX-License-Identifier: Apache-2.0
/*
 * incident: state and JSON of one escalate-then-loot incident (see incident.h).
 *
 * Strings are decoded copies of the audit fields that name things (users, secrets by name and
 * namespace, pods, commands); no request or response body is ever copied, so no secret value can
 * reach an incident. Exec commands come from the requestURI's command= parameters, URL-decoded.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/incident.h"
#include "keyhole/keytab.h"

/* a node read may be stamped a little before the exec's audit line (different clocks) */
#define KH_NODE_SLACK_NS (5ll * 1000 * 1000 * 1000)
/* an exec command line in an incident is cut here (the requestURI is bounded anyway) */
#define KH_COMMAND_MAX 1024

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return (h ^ 0xff) * 0x100000001b3ull; /* a separator, so ("ab","c") != ("a","bc") */
}

void incident__make_id(char out[40], const char *grant_audit_id, const char *subject)
{
	uint64_t a = fnv(fnv(0xcbf29ce484222325ull, grant_audit_id), subject);
	uint64_t b = fnv(fnv(0x84222325cbf29ce4ull, subject), grant_audit_id);

	snprintf(out, 40, "etl-%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

static uint64_t step_key(uint8_t kind, const char *audit_id)
{
	return fnv(0xcbf29ce484222325ull ^ kind, audit_id);
}

struct kh_incident *incident__new(const char *subject, struct kh_grant *g, uint8_t via,
				  const char *via_group, uint32_t max_steps)
{
	struct kh_incident *inc = calloc(1, sizeof(*inc));

	if (!inc)
		return NULL;
	inc->max_steps = max_steps ? max_steps : 1;
	inc->steps = calloc(inc->max_steps, sizeof(*inc->steps));
	inc->subject = strdup(subject);
	inc->via_group = via_group ? strdup(via_group) : NULL;
	inc->seen = keytab__new(0, KH_INCIDENT_SEEN, NULL, NULL);
	if (!inc->steps || !inc->subject || (via_group && !inc->via_group) || !inc->seen) {
		incident__free(inc);
		return NULL;
	}
	inc->via = via;
	incident__make_id(inc->id, g->audit_id ? g->audit_id : "", subject);
	incident__add_grant(inc, g);
	return inc;
}

static void step_free(struct kh_incident_step *s)
{
	free(s->audit_id);
	free(s->user);
	free(s->as);
	free(s->verb);
	free(s->resource);
	free(s->namespace_);
	free(s->name);
	free(s->decision);
	free(s->detail);
}

void incident__free(struct kh_incident *inc)
{
	if (!inc)
		return;
	for (uint32_t i = 0; i < inc->n_grants; i++)
		grant__put(inc->grants[i]);
	for (uint32_t i = 0; i < inc->n_steps; i++)
		step_free(&inc->steps[i]);
	for (uint32_t i = 0; i < inc->n_secrets; i++) {
		free(inc->secrets[i].namespace_);
		free(inc->secrets[i].name);
	}
	for (uint32_t i = 0; i < inc->n_execs; i++) {
		struct kh_incident_exec *x = &inc->execs[i];

		free(x->audit_id);
		free(x->namespace_);
		free(x->pod);
		free(x->container);
		free(x->subresource);
		free(x->verb);
		free(x->command);
		free(x->decision);
	}
	for (uint32_t i = 0; i < inc->n_node_reads; i++) {
		struct kh_incident_node_read *n = &inc->node_reads[i];

		free(n->namespace_);
		free(n->pod);
		free(n->container);
		free(n->path);
		free(n->comm);
		free(n->id);
	}
	free(inc->steps);
	free(inc->subject);
	free(inc->via_group);
	free(inc->source_ip);
	free(inc->user_agent);
	free(inc->reason_role_kind);
	free(inc->reason_role_name);
	keytab__free(inc->seen);
	free(inc);
}

/* ---- the timeline ------------------------------------------------------------------------- */

static bool seen(struct kh_incident *inc, uint64_t key)
{
	bool created;

	if (keytab__find(inc->seen, &key, sizeof(key)))
		return true; /* not touched: the oldest key is forgotten first */
	keytab__upsert(inc->seen, &key, sizeof(key), &created);
	return false;
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* a free timeline slot in time order for a step at @t_ns, or NULL when the timeline is full */
static struct kh_incident_step *timeline_slot(struct kh_incident *inc, int64_t t_ns)
{
	uint32_t i;

	inc->steps_total++;
	if (!inc->first_ns || t_ns < inc->first_ns)
		inc->first_ns = t_ns;
	if (t_ns > inc->last_ns)
		inc->last_ns = t_ns;
	if (inc->n_steps == inc->max_steps) {
		inc->steps_dropped++;
		return NULL;
	}
	/* steps arrive nearly in order: insertion from the end */
	for (i = inc->n_steps; i > 0 && inc->steps[i - 1].t_ns > t_ns; i--)
		inc->steps[i] = inc->steps[i - 1];
	inc->n_steps++;
	memset(&inc->steps[i], 0, sizeof(inc->steps[i]));
	return &inc->steps[i];
}

static char *role_text(const struct kh_grant *g)
{
	char buf[512];

	if (!g->role_name)
		return NULL;
	snprintf(buf, sizeof(buf), "%s/%s", g->role_kind ? g->role_kind : "", g->role_name);
	return strdup(buf);
}

enum kh_step_add incident__add_grant(struct kh_incident *inc, struct kh_grant *g)
{
	struct kh_incident_step *s;

	for (uint32_t i = 0; i < inc->n_grants; i++) {
		if (inc->grants[i] == g)
			return KH_ADD_DUP;
		if (grant__same(inc->grants[i], g)) {
			inc->grant_repeats++; /* the same impersonation again: counted, no new step
					       */
			return KH_ADD_DUP;
		}
	}
	if (seen(inc, step_key(g->kind, g->audit_id)))
		return KH_ADD_DUP;
	inc->grants_total++;
	if (inc->n_grants < KH_INCIDENT_MAX_GRANTS)
		inc->grants[inc->n_grants++] = grant__get(g);
	s = timeline_slot(inc, g->req_ns);
	if (s) {
		s->kind = g->kind;
		s->t_ns = g->req_ns;
		s->code = -1;
		s->audit_id = xstrdup(g->audit_id);
		s->user = xstrdup(g->actor);
		s->as = xstrdup(g->impersonated);
		s->verb = xstrdup(g->verb);
		s->resource = xstrdup(g->resource);
		s->namespace_ = xstrdup(g->namespace_);
		s->name = xstrdup(g->name);
		s->decision = strdup("allow");
		s->detail = role_text(g);
	}
	return KH_ADD_NEW;
}

/* ---- secrets ------------------------------------------------------------------------------ */

static bool str_eq_kstr(const char *a, struct kstr b)
{
	if (!a)
		return !kstr_present(b);
	return kstr_present(b) && kstr__eq(b, a);
}

static uint8_t verb_bit(struct kstr verb)
{
	if (kstr__eq(verb, "get"))
		return 1;
	if (kstr__eq(verb, "list"))
		return 2;
	return 4;
}

/* KH_ADD_NEW when this (secret, verb, outcome) is new to the incident */
static enum kh_step_add note_secret(struct kh_incident *inc, const struct audit_event *ev,
				    int64_t t)
{
	const struct kh_object_ref *o = &ev->object_ref;
	struct kstr ns = kstr_present(o->namespace_) ? o->namespace_ : kstr_lit("", 0);
	struct kstr name = kstr_nonempty(o->name) ? o->name : (struct kstr){0};
	struct kh_incident_secret *s = NULL;
	enum kh_step_add r = KH_ADD_REPEAT;
	uint8_t vb = verb_bit(ev->verb);
	uint32_t *counter;

	for (uint32_t i = 0; i < inc->n_secrets; i++)
		if (str_eq_kstr(inc->secrets[i].namespace_, ns) &&
		    str_eq_kstr(inc->secrets[i].name, name)) {
			s = &inc->secrets[i];
			break;
		}
	if (!s) {
		if (inc->n_secrets == KH_INCIDENT_MAX_SECRETS) {
			inc->secrets_dropped++;
			return KH_ADD_REPEAT;
		}
		s = &inc->secrets[inc->n_secrets++];
		memset(s, 0, sizeof(*s));
		s->namespace_ = grant__kstr_dup(ns);
		s->name = grant__kstr_dup(name);
		s->first_ns = t;
		r = KH_ADD_NEW;
	}
	if (!(s->verbs & vb))
		r = KH_ADD_NEW;
	s->verbs |= vb;
	if (kstr_present(ev->decision) && !kstr__eq(ev->decision, "allow"))
		counter = &s->forbidden;
	else if (ev->response_code == 404)
		counter = &s->not_found;
	else if (ev->response_code == 403)
		counter = &s->forbidden;
	else if (grant__succeeded(ev))
		counter = &s->allowed;
	else
		counter = &s->failed;
	if (*counter == 0)
		r = KH_ADD_NEW; /* a new outcome for this secret (first success, first denial) */
	(*counter)++;
	if (t < s->first_ns)
		s->first_ns = t;
	if (t > s->last_ns)
		s->last_ns = t;
	if (counter == &s->allowed)
		inc->loot_allowed++;
	else if (counter == &s->forbidden)
		inc->loot_forbidden++;
	else if (counter == &s->not_found)
		inc->loot_not_found++;
	return r;
}

/* ---- exec --------------------------------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* append the URL-decoded @s[0..n) to @out (bounded), '+' meaning a space as in a query */
static void url_append(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
	for (size_t i = 0; i < n && *len + 1 < cap; i++) {
		char c = s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
			   hexval(s[i + 2]) >= 0) {
			c = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		}
		out[(*len)++] = c;
	}
	out[*len] = '\0';
}

/*
 * The values of every @param= query parameter of @uri, URL-decoded and joined by spaces (the
 * exec command is one command= per argument). NULL when there is none.
 */
static char *query_values(const char *uri, const char *param)
{
	char out[KH_COMMAND_MAX];
	size_t len = 0, plen = strlen(param);
	const char *q = uri ? strchr(uri, '?') : NULL;
	bool any = false;

	out[0] = '\0';
	while (q && *q) {
		const char *start = q + 1, *end = strchr(start, '&');

		if (!end)
			end = start + strlen(start);
		if ((size_t)(end - start) > plen && !strncmp(start, param, plen) &&
		    start[plen] == '=') {
			if (any && len + 1 < sizeof(out))
				out[len++] = ' ';
			url_append(out, sizeof(out), &len, start + plen + 1,
				   (size_t)(end - start) - plen - 1);
			any = true;
		}
		q = *end ? end : NULL;
	}
	return any ? strdup(out) : NULL;
}

static enum kh_step_add note_exec(struct kh_incident *inc, const struct audit_event *ev, int64_t t,
				  const char *command)
{
	const struct kh_object_ref *o = &ev->object_ref;
	struct kh_incident_exec *x;
	char *uri;

	if (inc->n_execs == KH_INCIDENT_MAX_EXECS) {
		inc->execs_dropped++;
		return KH_ADD_NEW;
	}
	x = &inc->execs[inc->n_execs++];
	memset(x, 0, sizeof(*x));
	uri = grant__kstr_dup(ev->request_uri);
	x->audit_id = grant__kstr_dup(ev->audit_id);
	x->namespace_ = grant__kstr_dup(o->namespace_);
	x->pod = grant__kstr_dup(o->name);
	x->container = query_values(uri, "container");
	x->subresource = grant__kstr_dup(o->subresource);
	x->verb = grant__kstr_dup(ev->verb);
	x->command = xstrdup(command);
	x->decision = grant__kstr_dup(ev->decision);
	x->code = ev->response_code;
	x->t_ns = t;
	free(uri);
	return KH_ADD_NEW;
}

bool incident__execd_into(const struct kh_incident *inc, struct kstr ns, struct kstr pod,
			  int64_t t_ns)
{
	for (uint32_t i = 0; i < inc->n_execs; i++) {
		const struct kh_incident_exec *x = &inc->execs[i];

		if (x->namespace_ && x->pod && kstr__eq(ns, x->namespace_) &&
		    kstr__eq(pod, x->pod) && x->t_ns <= t_ns + KH_NODE_SLACK_NS)
			return true;
	}
	return false;
}

/* ---- adding requests ---------------------------------------------------------------------- */

enum kh_step_add incident__add_request(struct kh_incident *inc, enum kh_step_kind kind,
				       const struct audit_event *ev)
{
	int64_t t = ev->request_received_ns ? ev->request_received_ns : audit_event_time_ns(ev);
	struct kh_incident_step *s;
	enum kh_step_add r;
	char *uri, *command = NULL;

	if (!kstr_present(ev->audit_id))
		return KH_ADD_DUP;
	{
		char *id = grant__kstr_dup(ev->audit_id);
		bool dup = id && seen(inc, step_key((uint8_t)kind, id));

		free(id);
		if (dup)
			return KH_ADD_DUP;
	}
	uri = grant__kstr_dup(ev->request_uri);
	if (kind == KH_STEP_EXEC) {
		command = query_values(uri, "command");
		r = note_exec(inc, ev, t, command);
	} else if (kind == KH_STEP_PORT_FORWARD) {
		/* a follow-on step: in the timeline only, its ports as the detail */
		command = query_values(uri, "ports");
		r = KH_ADD_NEW;
	} else {
		r = note_secret(inc, ev, t);
		if (!inc->source_ip && ev->source_ips.n)
			inc->source_ip = grant__kstr_dup(ev->source_ips.v[0]);
		if (!inc->user_agent)
			inc->user_agent = grant__kstr_dup(ev->user_agent);
	}
	s = timeline_slot(inc, t);
	if (s) {
		const struct kh_object_ref *o = &ev->object_ref;

		s->kind = (uint8_t)kind;
		s->t_ns = t;
		s->code = ev->response_code;
		s->audit_id = grant__kstr_dup(ev->audit_id);
		s->user = grant__kstr_dup(ev->user.username);
		s->as = grant__kstr_dup(ev->impersonated_user.username);
		s->verb = grant__kstr_dup(ev->verb);
		s->resource = grant__kstr_dup(o->resource);
		if (s->resource && kstr_nonempty(o->subresource)) {
			char *sub = grant__kstr_dup(o->subresource), *both = NULL;

			if (sub && asprintf(&both, "%s/%s", s->resource, sub) > 0) {
				free(s->resource);
				s->resource = both;
			}
			free(sub);
		}
		s->namespace_ = grant__kstr_dup(o->namespace_);
		s->name = grant__kstr_dup(o->name);
		s->decision = grant__kstr_dup(ev->decision);
		s->detail = command ? strdup(command) : NULL;
	}
	free(command);
	free(uri);
	return r;
}

enum kh_step_add incident__add_node_read(struct kh_incident *inc,
					 const struct kh_node_secret_read *r)
{
	struct kh_incident_node_read *n;
	struct kh_incident_step *s;
	char *id = grant__kstr_dup(r->node_id), *path = grant__kstr_dup(r->path), *key = NULL;
	bool dup;

	/* an exec session reads several files: one step per (session, file, time) */
	if (asprintf(&key, "%s|%s|%lld", id ? id : "", path ? path : "", (long long)r->t_ns) < 0)
		key = NULL;
	dup = !key || seen(inc, step_key(KH_STEP_NODE_SECRET_READ, key));
	free(key);
	free(path);
	if (dup) {
		free(id);
		return KH_ADD_DUP;
	}
	if (inc->n_node_reads == KH_INCIDENT_MAX_NODE_READS) {
		inc->node_reads_dropped++;
	} else {
		n = &inc->node_reads[inc->n_node_reads++];
		n->namespace_ = grant__kstr_dup(r->pod_namespace);
		n->pod = grant__kstr_dup(r->pod_name);
		n->container = grant__kstr_dup(r->container);
		n->path = grant__kstr_dup(r->path);
		n->comm = grant__kstr_dup(r->comm);
		n->id = xstrdup(id);
		n->t_ns = r->t_ns;
	}
	s = timeline_slot(inc, r->t_ns);
	if (s) {
		s->kind = KH_STEP_NODE_SECRET_READ;
		s->t_ns = r->t_ns;
		s->code = -1;
		s->namespace_ = grant__kstr_dup(r->pod_namespace);
		s->name = grant__kstr_dup(r->pod_name);
		s->resource = strdup("pods");
		s->detail = grant__kstr_dup(r->path);
		s->user = grant__kstr_dup(r->comm);
		s->audit_id = NULL; /* node events have no auditID; the id is in node_reads */
	}
	free(id);
	return KH_ADD_NEW;
}

void incident__note_role(struct kh_incident *inc, const char *kind, const char *name)
{
	if (inc->grants[0]->role_name || inc->reason_role_name)
		return;
	inc->reason_role_kind = strdup(kind);
	inc->reason_role_name = strdup(name);
}

bool incident__has_loot(const struct kh_incident *inc, bool on_forbidden)
{
	return inc->loot_allowed || inc->n_node_reads || inc->node_reads_dropped ||
	       (on_forbidden && inc->loot_forbidden);
}

/* ---- output ------------------------------------------------------------------------------- */

static void kv(struct json_out *j, const char *k, const char *v)
{
	if (v)
		json_out__kv_str(j, k, v);
}

static void kv_time(struct json_out *j, const char *k, int64_t ns)
{
	if (!ns)
		return;
	json_out__key(j, k);
	json_out__time_ns(j, ns);
}

static void put_bool(struct json_out *j, const char *k, bool v)
{
	json_out__key(j, k);
	json_out__bool(j, v);
}

static const char *via_name(uint8_t via, bool group)
{
	if (group)
		return "group-member";
	switch (via) {
	case KH_VIA_SUBJECT:
		return "subject";
	case KH_VIA_ACTOR:
		return "actor";
	case KH_VIA_ACTOR_FALLBACK:
		return "actor-subjects-not-visible";
	case KH_VIA_BINDING:
		return "authorized-by-binding";
	}
	return "unknown";
}

static void put_role(struct json_out *j, const char *kind, const char *name, uint32_t flags,
		     const char *source)
{
	bool cadmin =
	    (flags & KH_GRANT_CLUSTER_ADMIN) ||
	    (kind && name && !strcmp(kind, "ClusterRole") && !strcmp(name, "cluster-admin"));

	json_out__key(j, "role");
	json_out__obj_begin(j);
	kv(j, "kind", kind);
	kv(j, "name", name);
	put_bool(j, "cluster_admin", cadmin);
	put_bool(j, "wildcard", cadmin || (flags & KH_GRANT_WILDCARD));
	put_bool(j, "reads_secrets", cadmin || (flags & KH_GRANT_SECRETS_ROLE));
	kv(j, "source", source);
	json_out__obj_end(j);
}

static void put_grant(struct json_out *j, const struct kh_grant *g, const struct kh_incident *inc)
{
	json_out__obj_begin(j);
	kv(j, "step", step_kind__name(g->kind));
	kv_time(j, "@timestamp", g->req_ns);
	kv(j, "audit_id", g->audit_id);
	kv(j, "actor", g->actor);
	kv(j, "verb", g->verb);
	kv(j, "resource", g->resource);
	kv(j, "namespace", g->namespace_);
	kv(j, "name", g->name);
	kv(j, "impersonated_user", g->impersonated);
	if (g->role_name)
		put_role(j, g->role_kind, g->role_name, g->flags, "request-object");
	else if (inc && inc->reason_role_name)
		put_role(j, inc->reason_role_kind, inc->reason_role_name, g->flags,
			 "authorization-reason");
	put_bool(j, "subjects_visible", g->flags & KH_GRANT_SUBJECTS_VISIBLE);
	if (g->flags & KH_GRANT_SUBJECTS_VISIBLE) {
		json_out__key(j, "subjects");
		json_out__arr_begin(j);
		for (uint32_t i = 0; i < g->n_ben; i++) {
			if (g->ben[i].via != KH_VIA_SUBJECT)
				continue;
			json_out__obj_begin(j);
			kv(j, "kind", shown__name(g->ben[i].shown));
			kv(j, "name", g->ben[i].name);
			json_out__obj_end(j);
		}
		json_out__arr_end(j);
		if (g->total_subjects > KH_RBAC_MAX_SUBJECTS)
			json_out__kv_int(j, "subjects_total", g->total_subjects);
	}
	json_out__obj_end(j);
}

static void put_secrets(struct json_out *j, const struct kh_incident *inc)
{
	static const char *const verbs[] = {"get", "list", "watch"};

	json_out__key(j, "secrets");
	json_out__arr_begin(j);
	for (uint32_t i = 0; i < inc->n_secrets; i++) {
		const struct kh_incident_secret *s = &inc->secrets[i];

		json_out__obj_begin(j);
		kv(j, "namespace", s->namespace_);
		kv(j, "name", s->name);
		json_out__key(j, "verbs");
		json_out__arr_begin(j);
		for (int v = 0; v < 3; v++)
			if (s->verbs & (1u << v))
				json_out__str(j, verbs[v]);
		json_out__arr_end(j);
		json_out__key(j, "decisions");
		json_out__arr_begin(j);
		if (s->allowed || s->not_found || s->failed)
			json_out__str(j, "allow");
		if (s->forbidden)
			json_out__str(j, "forbid");
		json_out__arr_end(j);
		json_out__kv_int(j, "allowed", s->allowed);
		json_out__kv_int(j, "forbidden", s->forbidden);
		if (s->not_found)
			json_out__kv_int(j, "not_found", s->not_found);
		if (s->failed)
			json_out__kv_int(j, "failed", s->failed);
		kv_time(j, "first", s->first_ns);
		kv_time(j, "last", s->last_ns);
		json_out__obj_end(j);
	}
	json_out__arr_end(j);
	if (inc->secrets_dropped)
		json_out__kv_int(j, "secrets_dropped", inc->secrets_dropped);
}

static void put_execs(struct json_out *j, const struct kh_incident *inc)
{
	json_out__key(j, "execs");
	json_out__arr_begin(j);
	for (uint32_t i = 0; i < inc->n_execs; i++) {
		const struct kh_incident_exec *x = &inc->execs[i];

		json_out__obj_begin(j);
		kv_time(j, "@timestamp", x->t_ns);
		kv(j, "audit_id", x->audit_id);
		kv(j, "namespace", x->namespace_);
		kv(j, "pod", x->pod);
		kv(j, "container", x->container);
		kv(j, "subresource", x->subresource);
		kv(j, "verb", x->verb);
		kv(j, "command", x->command);
		kv(j, "decision", x->decision);
		if (x->code >= 0)
			json_out__kv_int(j, "code", x->code);
		json_out__obj_end(j);
	}
	json_out__arr_end(j);
	if (inc->execs_dropped)
		json_out__kv_int(j, "execs_dropped", inc->execs_dropped);
	if (!inc->n_node_reads)
		return;
	json_out__key(j, "node_secret_reads");
	json_out__arr_begin(j);
	for (uint32_t i = 0; i < inc->n_node_reads; i++) {
		const struct kh_incident_node_read *n = &inc->node_reads[i];

		json_out__obj_begin(j);
		kv_time(j, "@timestamp", n->t_ns);
		kv(j, "id", n->id);
		kv(j, "namespace", n->namespace_);
		kv(j, "pod", n->pod);
		kv(j, "container", n->container);
		kv(j, "path", n->path);
		kv(j, "process", n->comm);
		json_out__obj_end(j);
	}
	json_out__arr_end(j);
}

static void put_timeline(struct json_out *j, const struct kh_incident *inc)
{
	json_out__key(j, "timeline");
	json_out__arr_begin(j);
	for (uint32_t i = 0; i < inc->n_steps; i++) {
		const struct kh_incident_step *s = &inc->steps[i];
		const char *dk = s->kind == KH_STEP_EXEC	       ? "command"
				 : s->kind == KH_STEP_NODE_SECRET_READ ? "path"
				 : s->kind == KH_STEP_PORT_FORWARD     ? "ports"
								       : "role";

		json_out__obj_begin(j);
		kv_time(j, "@timestamp", s->t_ns);
		kv(j, "step", step_kind__name(s->kind));
		kv(j, "audit_id", s->audit_id);
		kv(j, s->kind == KH_STEP_NODE_SECRET_READ ? "process" : "user", s->user);
		kv(j, "impersonated_user", s->as);
		kv(j, "verb", s->verb);
		kv(j, "resource", s->resource);
		kv(j, "namespace", s->namespace_);
		kv(j, "name", s->name);
		kv(j, "decision", s->decision);
		if (s->code >= 0)
			json_out__kv_int(j, "code", s->code);
		kv(j, dk, s->detail);
		json_out__obj_end(j);
	}
	json_out__arr_end(j);
	json_out__kv_int(j, "steps_total", inc->steps_total);
	if (inc->grant_repeats)
		json_out__kv_int(j, "grant_repeats", inc->grant_repeats);
	json_out__kv_int(j, "steps_dropped", inc->steps_dropped);
}

static const char *subject_kind(const char *name)
{
	if (!strncmp(name, "system:serviceaccount:", 22))
		return "ServiceAccount";
	if (!strncmp(name, "system:node:", 12))
		return "Node";
	return "User";
}

void incident__write(const struct kh_incident *inc, struct json_out *j, int64_t window_ns)
{
	const struct kh_grant *g0 = inc->grants[0];
	bool visible = g0->flags & KH_GRANT_SUBJECTS_VISIBLE;

	json_out__key(j, "user");
	json_out__obj_begin(j);
	kv(j, "name", inc->subject);
	json_out__obj_end(j);
	if (inc->source_ip) {
		json_out__key(j, "source");
		json_out__obj_begin(j);
		kv(j, "ip", inc->source_ip);
		json_out__obj_end(j);
	}
	if (inc->user_agent) {
		json_out__key(j, "user_agent");
		json_out__obj_begin(j);
		kv(j, "original", inc->user_agent);
		json_out__obj_end(j);
	}
	/* ECS related.user: every identity in the incident, for pivoting in a SIEM */
	json_out__key(j, "related");
	json_out__obj_begin(j);
	json_out__key(j, "user");
	json_out__arr_begin(j);
	json_out__str(j, inc->subject);
	if (strcmp(g0->actor, inc->subject))
		json_out__str(j, g0->actor);
	json_out__arr_end(j);
	json_out__obj_end(j);

	json_out__key(j, "keyhole");
	json_out__obj_begin(j);
	json_out__key(j, "incident");
	json_out__obj_begin(j);
	kv(j, "id", inc->id);
	json_out__kv_int(j, "revision", inc->revision);
	kv_time(j, "first", inc->first_ns);
	kv_time(j, "last", inc->last_ns);
	json_out__kv_int(j, "window_seconds", window_ns / 1000000000ll);

	json_out__key(j, "subject");
	json_out__obj_begin(j);
	kv(j, "name", inc->subject);
	kv(j, "kind", subject_kind(inc->subject));
	kv(j, "gained_as", via_name(inc->via, inc->via_group != NULL));
	kv(j, "group", inc->via_group);
	json_out__obj_end(j);
	json_out__key(j, "actor");
	json_out__obj_begin(j);
	kv(j, "name", g0->actor);
	json_out__obj_end(j);

	json_out__key(j, "grant");
	put_grant(j, g0, inc);
	if (inc->n_grants > 1) {
		json_out__key(j, "further_grants");
		json_out__arr_begin(j);
		for (uint32_t i = 1; i < inc->n_grants; i++)
			put_grant(j, inc->grants[i], NULL);
		json_out__arr_end(j);
	}
	put_bool(j, "subjects_visible", visible);
	if (!visible)
		kv(j, "note",
		   "the audit policy logged this RBAC change at Metadata level, so the binding's "
		   "subjects were not visible: the incident follows the actor that made it; log "
		   "RBAC objects at Request level to see who was granted what");
	{
		bool cadmin =
		    (g0->flags & KH_GRANT_CLUSTER_ADMIN) ||
		    (inc->reason_role_name && !strcmp(inc->reason_role_kind, "ClusterRole") &&
		     !strcmp(inc->reason_role_name, "cluster-admin"));

		put_bool(j, "cluster_admin", cadmin);
		put_bool(j, "wildcard_role", cadmin || (g0->flags & KH_GRANT_WILDCARD));
	}

	json_out__key(j, "loot");
	json_out__obj_begin(j);
	json_out__kv_int(j, "allowed", inc->loot_allowed);
	json_out__kv_int(j, "forbidden", inc->loot_forbidden);
	json_out__kv_int(j, "not_found", inc->loot_not_found);
	json_out__kv_int(j, "node_secret_reads", inc->n_node_reads + inc->node_reads_dropped);
	json_out__obj_end(j);
	put_secrets(j, inc);
	put_execs(j, inc);
	put_timeline(j, inc);
	json_out__obj_end(j);
	json_out__obj_end(j);
}

uint32_t incident__audit_ids(const struct kh_incident *inc, const char **ids, uint32_t cap)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < inc->n_steps && n < cap; i++) {
		const char *id = inc->steps[i].audit_id;
		bool dup = false;

		if (!id)
			continue;
		for (uint32_t k = 0; k < n && !dup; k++)
			dup = !strcmp(ids[k], id);
		if (!dup)
			ids[n++] = id;
	}
	return n;
}
