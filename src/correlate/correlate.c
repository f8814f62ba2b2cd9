// SPDX-License-Identifier: Apache-2.0
/*
 * correlate: escalation steps -> tracked grants -> loot -> one incident (see correlate.h).
 *
 * The per-event path is cheap for the events that matter to nobody here: grant__classify() looks
 * at objectRef and the verb only, and nearly every line (leases, events, configmaps...) stops
 * there. Grants are kept per principal in the subject table; an incident per looting principal,
 * in a table by name ordered by last change (for expiry and eviction).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/correlate.h"
#include "keyhole/config.h"
#include "correlate/grant.h"
#include "correlate/incident.h"
#include "correlate/rbac_json.h"
#include "correlate/subjects.h"
#include "keyhole/emit.h"
#include "keyhole/keytab.h"
#include "keyhole/rules_engine.h"

#define NS_PER_S 1000000000ll
#define NS_PER_MIN (60 * NS_PER_S)

/*
 * The rule the incidents carry. Critical and risk 99: Elastic scores its single-step RBAC rules
 * (cluster-admin binding, SA bound to a role, wildcard role) 47-73 and its secret reads 47-73;
 * an escalation followed within minutes by secret reads from the very principal that gained the
 * rights is the confirmed chain those rules each hint at, which Elastic's severity scale puts at
 * critical (99). MITRE: T1098.006 (Account Manipulation: Additional Container Cluster Roles) for
 * the binding, T1552.007 (Unsecured Credentials: Container API) for the secret reads, T1609
 * (Container Administration Command) for the execs, T1134 (Access Token Manipulation) for
 * impersonation and token requests. The uuid is keyhole's own: seed 004's Sigma id belongs to the
 * single-event rule k8s-secret-access-non-controller.
 */
const struct kh_rule_info kh_rule_escalate_then_loot = {
    .id = "k8s-escalate-then-loot",
    .uuid = "6f0c1d2e-3b4a-4c5d-9e8f-7a6b5c4d3e2f",
    .name = "Kubernetes Escalate-Then-Loot: RBAC Grant Followed by Secret Access",
    .severity = "critical",
    .risk_score = 99,
    .techniques = {"T1098.006", "T1552.007", "T1609", "T1134"},
    .source = "seed 004 (correlation); DESIGN.md Rules: escalate-then-loot",
};

/*
 * Known controllers: seed 004's filter_controllers (kube-system, cert-manager, external-secrets
 * service accounts), plus the control plane's own identities. The kubelet (system:node:*) reads
 * the secrets its pods mount and requests their service-account tokens all day; the apiserver
 * reconciles the bootstrap bindings at every start.
 */
static const char *const default_controllers[] = {KH_CORRELATE_DEFAULT_CONTROLLERS, NULL};

/*
 * The Azure Arc cluster-connect proxy (seed 003) impersonates each AAD user it forwards; its
 * requests are those users' own. Other proxies (Rancher, Teleport, Pinniped...) go in the config.
 */
static const char *const default_proxies[] = {KH_CORRELATE_DEFAULT_PROXIES, NULL};

/* Helm sets "Helm/<version>": an install's bindings and its release-secret reads are deploys */
static const char *const default_ignore_uas[] = {KH_CORRELATE_DEFAULT_IGNORE_UAS, NULL};

void correlate_opts__defaults(struct kh_correlate_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->window_ns = KH_CORRELATE_DEFAULT_WINDOW_NS; /* the issue's: 30 minutes of event time */
	/*
	 * The actor of a binding that does not name it gains nothing by it; its own reads only
	 * count "right after" (an attacker binding a second identity, then using both at once).
	 */
	o->actor_window_ns = KH_CORRELATE_DEFAULT_ACTOR_WINDOW_NS;
	/* 100k principals cost ~35 MiB (bench/correlate_bench.c) */
	o->max_subjects = KH_CORRELATE_DEFAULT_MAX_SUBJECTS;
	o->max_readers = KH_CORRELATE_DEFAULT_MAX_READERS;
	/* incidents are rare; 1024 open at once is an outbreak, and each is at most ~100 KiB */
	o->max_incidents = KH_CORRELATE_DEFAULT_MAX_INCIDENTS;
	o->max_steps = KH_CORRELATE_DEFAULT_MAX_STEPS;
	o->open_on_forbidden = false;
	/* what Helm applies is a release being deployed (the label is set by Helm 3 on everything)
	 */
	o->ignore_helm_managed = true;
	o->controller_prefixes = default_controllers;
	o->ignore_user_agents = default_ignore_uas;
	o->impersonation_proxies = default_proxies;
}

void correlate_opts__from_config(struct kh_correlate_opts *o, const struct kh_config *cfg)
{
	const struct kh_correlate_config *k;

	correlate_opts__defaults(o);
	if (!cfg)
		return;
	k = &cfg->correlate;
	o->window_ns = k->window_ns;
	o->actor_window_ns = k->actor_window_ns;
	o->max_subjects = k->max_subjects;
	o->max_readers = k->max_readers;
	o->max_incidents = k->max_incidents;
	o->max_steps = k->max_steps;
	o->open_on_forbidden = k->open_on_forbidden;
	o->ignore_helm_managed = k->ignore_helm_managed;
	o->controller_prefixes = k->controller_prefixes;
	o->ignore_user_agents = k->ignore_user_agents;
	o->impersonation_proxies = k->impersonation_proxies;
	o->disabled = !k->enabled;
}

/* roles seen created or changed with wildcard or secret-reading rules (first in, first out) */
#define KH_ROLE_REG 1024

struct kh_correlate {
	struct kh_correlate_opts o;
	struct kh_emit *e;
	size_t rule_index;	      /* alerts_by_rule slot: after the per-event rules */
	struct kh_subjects *subjects; /* principals holding grants */
	/*
	 * principals that read secrets successfully (prior access), in a table of their own so that
	 * a flood of readers, which any workload can produce, never evicts a grant
	 */
	struct kh_subjects *readers;
	/* subject -> struct kh_incident *, least recently stepped first (expiry and eviction) */
	struct keytab *incidents;
	struct keytab *roles; /* resource, namespace, name -> uint32_t KH_GRANT_* flags */
	int64_t now_ns, swept_ns;
	uint64_t evictions_reported; /* passed on to the pipeline's state_evictions */
	struct kh_correlate_stats st;
};

/* ---- small helpers ------------------------------------------------------------------------ */

/* @s decoded into @buf (NUL-terminated), or NULL when absent or too long for @cap */
static const char *dec(struct kstr s, char *buf, size_t cap)
{
	long n;

	if (!s.p || (size_t)s.len >= cap)
		return NULL;
	n = kstr__decode(s, buf, cap - 1);
	if (n < 0 || (size_t)n >= cap)
		return NULL;
	buf[n] = '\0';
	return buf;
}

static bool any_prefix(const char *const *l, struct kstr s)
{
	for (; l && *l; l++)
		if (kstr__has_prefix(s, *l))
			return true;
	return false;
}

static bool any_glob(const char *const *l, struct kstr s)
{
	for (; l && *l; l++)
		if (kstr__glob(s, *l))
			return true;
	return false;
}

/* requests by known controllers or deploy tools are routine on both sides of the sequence */
static bool routine(const struct kh_correlate *c, const struct audit_event *ev)
{
	return any_prefix(c->o.controller_prefixes, ev->user.username) ||
	       (kstr_present(ev->user_agent) && any_glob(c->o.ignore_user_agents, ev->user_agent));
}

static int64_t req_time(const struct audit_event *ev)
{
	return ev->request_received_ns ? ev->request_received_ns : audit_event_time_ns(ev);
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return (h ^ 0xff) * 0x100000001b3ull;
}

/* ---- the role registry -------------------------------------------------------------------- */

/* a role's key in @buf: resource, namespace and name, each with its NUL; its length */
static size_t role_key(char buf[600], const char *resource, const char *ns, const char *name)
{
	int n = snprintf(buf, 600, "%s%c%s%c%s", resource, 0, ns, 0, name);

	return n < 0 ? 0 : (size_t)n + 1 < 600 ? (size_t)n + 1 : 600;
}

static uint32_t *role_find(struct kh_correlate *c, const char *key, size_t len)
{
	return keytab__find(c->roles, key, len); /* not touched: the oldest learned goes first */
}

static void learn_role(struct kh_correlate *c, const struct audit_event *ev)
{
	char rb[64], nb[256], names[256], key[600];
	const char *res = dec(ev->object_ref.resource, rb, sizeof(rb));
	const char *ns = kstr__eq(ev->object_ref.resource, "roles")
			     ? dec(ev->object_ref.namespace_, nb, sizeof(nb))
			     : "";
	const char *name = dec(ev->object_ref.name, names, sizeof(names));
	struct kh_rbac_object obj;
	uint32_t *r, flags = 0;
	size_t len;
	bool created;

	if (!res || !ns || !name || !grant__succeeded(ev) || !kstr_present(ev->request_object))
		return;
	if (rbac_json__read(ev->request_object, &obj) < 0)
		c->st.rbac_unreadable++;
	/* a JSON patch that adds a rule says nothing of the rules it leaves: only ever add flags */
	if (obj.flags & KH_RBAC_RULES_WILDCARD)
		flags |= KH_GRANT_WILDCARD | KH_GRANT_SECRETS_ROLE;
	if (obj.flags & KH_RBAC_RULES_SECRETS)
		flags |= KH_GRANT_SECRETS_ROLE;
	len = role_key(key, res, ns, name);
	r = role_find(c, key, len);
	if (r) {
		/* a full object (create/update) states all its rules; a patch only adds */
		*r = (obj.flags & KH_RBAC_JSON_PATCH) || kstr__eq(ev->verb, "patch") ? *r | flags
										     : flags;
	} else if (flags && (r = keytab__upsert(c->roles, key, len, &created))) {
		*r = flags; /* a full registry forgets the role learned first */
	}
}

static uint32_t role_flags(struct kh_correlate *c, const struct audit_event *ev,
			   const struct kh_rbac_object *obj)
{
	char kb[64], nb[256], names[256], key[600];
	const char *kind, *ns = "", *name;
	uint32_t *r;

	if (!obj || !kstr_present(obj->role_name))
		return 0;
	kind = dec(obj->role_kind, kb, sizeof(kb));
	name = dec(obj->role_name, names, sizeof(names));
	if (!kind || !name)
		return 0;
	if (!strcmp(kind, "Role")) {
		ns = dec(ev->object_ref.namespace_, nb, sizeof(nb));
		if (!ns)
			return 0;
	}
	r = role_find(c, key,
		      role_key(key, !strcmp(kind, "Role") ? "roles" : "clusterroles", ns, name));
	return r ? *r : 0;
}

/* ---- incidents: lookup, order, emission ---------------------------------------------------- */

/* the incidents' table entry of @subject, or NULL */
static struct kh_incident **incident_slot(struct kh_correlate *c, const char *subject)
{
	return keytab__find(c->incidents, subject, strlen(subject));
}

static struct kh_incident *incident_find(struct kh_correlate *c, const char *subject)
{
	struct kh_incident **slot = incident_slot(c, subject);

	return slot ? *slot : NULL;
}

/* the oldest incident (least recently stepped), or NULL */
static struct kh_incident *incident_oldest(struct kh_correlate *c)
{
	struct kh_incident **slot = keytab__oldest(c->incidents);

	return slot ? *slot : NULL;
}

static void incident_drop(void *value, void *arg)
{
	(void)arg;
	incident__free(*(struct kh_incident **)value);
}

/* write the incident's next revision */
static void emit_incident(struct kh_correlate *c, struct kh_incident *inc)
{
	const char *ids[256];
	struct json_out *j;
	uint32_t n;

	if (!inc->opened) {
		if (!incident__has_loot(inc, c->o.open_on_forbidden))
			return;
		inc->opened = true;
		c->st.incidents_opened++;
	}
	inc->revision++;
	inc->pending = false;
	c->st.incident_revisions++;
	j = emit__incident_begin(c->e, &kh_rule_escalate_then_loot, c->rule_index, inc->last_ns,
				 "escalate-then-loot");
	if (!j)
		return; /* muted (baseline mode): state moves on, nothing is written */
	incident__write(inc, j, c->o.window_ns);
	n = incident__audit_ids(inc, ids, sizeof(ids) / sizeof(ids[0]));
	emit__incident_end(c->e, ids, n);
}

/* the steps @inc dropped since last counted, into steps_dropped_all */
static void count_dropped(struct kh_correlate *c, struct kh_incident *inc)
{
	c->st.steps_dropped_all += inc->steps_dropped - inc->steps_dropped_counted;
	inc->steps_dropped_counted = inc->steps_dropped;
}

/* drop @inc, writing what it has not written yet */
static void incident_close(struct kh_correlate *c, struct kh_incident *inc)
{
	if (inc->opened && inc->pending)
		emit_incident(c, inc);
	count_dropped(c, inc);
	c->st.steps_dropped += inc->steps_dropped;
	keytab__remove(c->incidents, incident_slot(c, inc->subject)); /* its drop frees it */
}

static struct kh_incident *incident_open(struct kh_correlate *c, const char *subject,
					 struct kh_grant *g, uint8_t via, const char *group)
{
	struct kh_incident *inc, **slot;
	bool created;

	if (keytab__full(c->incidents)) {
		incident_close(c, incident_oldest(c));
		c->st.incident_evictions++;
	}
	inc = incident__new(subject, g, via, group, c->o.max_steps);
	if (!inc)
		return NULL;
	slot = keytab__upsert(c->incidents, subject, strlen(subject), &created);
	if (!slot) {
		incident__free(inc);
		return NULL;
	}
	*slot = inc;
	return inc;
}

/* after a step was added to @inc: keep its order, write a revision when one is due */
static void stepped(struct kh_correlate *c, struct kh_incident *inc, enum kh_step_add r)
{
	count_dropped(c, inc);
	if (r == KH_ADD_DUP)
		return;
	inc->touched_ns = c->now_ns;
	keytab__touch(c->incidents, incident_slot(c, inc->subject));
	if (!inc->opened || r == KH_ADD_NEW)
		emit_incident(c, inc); /* opens it when loot is in, else waits */
	else
		inc->pending = true;
	if (!inc->opened)
		inc->pending = false;
}

/* the tables' sizes and evictions, stored whole for the metrics server's thread */
static void publish(struct kh_correlate *c)
{
	struct kh_correlate_stats *st = &c->st;

	__atomic_store_n(&st->subjects_tracked, subjects__count(c->subjects), __ATOMIC_RELAXED);
	__atomic_store_n(&st->subject_evictions, subjects__evictions(c->subjects),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&st->readers_tracked, subjects__count(c->readers), __ATOMIC_RELAXED);
	__atomic_store_n(&st->reader_evictions, subjects__evictions(c->readers), __ATOMIC_RELAXED);
	__atomic_store_n(&st->incidents_tracked, keytab__count(c->incidents), __ATOMIC_RELAXED);
}

/* ---- time --------------------------------------------------------------------------------- */

static void advance(struct kh_correlate *c, int64_t t)
{
	struct kh_incident *inc;

	if (t <= c->now_ns)
		return;
	c->now_ns = t;
	/* sweeping costs a walk of what expired; once a second of event time is plenty */
	if (c->now_ns - c->swept_ns < NS_PER_S)
		return;
	c->swept_ns = c->now_ns;
	subjects__expire(c->subjects, c->now_ns);
	subjects__expire(c->readers, c->now_ns);
	while ((inc = incident_oldest(c)) && inc->touched_ns + c->o.window_ns < c->now_ns)
		incident_close(c, inc);
	publish(c);
}

/* ---- grants ------------------------------------------------------------------------------- */

static void on_grant(struct kh_correlate *c, const struct audit_event *ev, enum kh_step_kind kind)
{
	struct kh_rbac_object obj, *objp = NULL;
	struct kh_grant *g;
	uint32_t rflags;

	/*
	 * A binding counts once stored (ResponseComplete); an impersonated long-running request
	 * is authorized by ResponseStarted already. Either way the decision is on the line.
	 */
	if (!kstr__eq(ev->stage, "ResponseComplete") &&
	    !(kind == KH_STEP_IMPERSONATION && kstr__eq(ev->stage, "ResponseStarted")))
		return;
	if (!grant__succeeded(ev)) {
		c->st.grants_failed++;
		return;
	}
	if (routine(c, ev)) {
		c->st.grants_ignored++;
		return;
	}
	if (kind == KH_STEP_BINDING && kstr_present(ev->request_object)) {
		if (rbac_json__read(ev->request_object, &obj) == 0) {
			objp = &obj;
		} else {
			c->st.rbac_unreadable++;
			/* a partial read that got the subjects is still better than none */
			if (obj.flags & KH_RBAC_SUBJECTS_SEEN && obj.n_subjects)
				objp = &obj;
		}
		if (objp && objp->flags & KH_RBAC_HELM && c->o.ignore_helm_managed) {
			c->st.grants_ignored++;
			return;
		}
	}
	rflags = role_flags(c, ev, objp);
	g = grant__new(ev, kind, objp, rflags);
	if (!g)
		return; /* a patch that grants nothing, or out of memory */
	c->st.grants++;
	for (uint32_t i = 0; i < g->n_ben; i++) {
		const struct kh_beneficiary *b = &g->ben[i];
		int64_t w = b->via == KH_VIA_ACTOR ? c->o.actor_window_ns : c->o.window_ns;
		struct kh_subject *s;
		struct kh_incident *inc;

		s = subjects__get(c->subjects, b->principal, b->name, strlen(b->name), c->now_ns);
		if (s)
			subject__add_grant(s, g, g->t_ns + w, b->via);
		/* a principal already in an incident escalating further: a new step of it */
		if (b->principal == KH_PRINCIPAL_USER && (inc = incident_find(c, b->name)))
			stepped(c, inc, incident__add_grant(inc, g));
	}
	grant__put(g);
}

/* ---- loot and follow-on ------------------------------------------------------------------- */

struct match {
	struct kh_grant *g;
	uint8_t via;
	bool group;
	char group_name[256];
};

/*
 * @sg counts for a request made at @t that the authorizer allowed for @why (NULL when the
 * decision was not an RBAC allow). The reason settles two cases the subjects alone cannot:
 *  - a subject whose request was allowed by some other binding could already do it: the grant
 *    is not what let it in;
 *  - at Metadata level the actor stands in for the unseen subjects; a request the new binding
 *    itself allowed proves the actor bound itself (full window), anything else is the actor's
 *    own rights, which only count right after the grant (actor window).
 */
static bool counts(const struct kh_correlate *c, const struct kh_subject_grant *sg, int64_t t,
		   const struct kh_rbac_reason *why)
{
	const struct kh_grant *g = sg->g;
	bool by_this = why && g->binding_key && !strcmp(why->key, g->binding_key);
	int64_t until = sg->until_ns;

	if (g->t_ns > t)
		return false;
	if (sg->via == KH_VIA_ACTOR_FALLBACK && !by_this)
		until = g->t_ns + c->o.actor_window_ns;
	if (sg->via == KH_VIA_SUBJECT && g->kind == KH_STEP_BINDING && why && !by_this)
		return false;
	return t <= until;
}

static void consider(const struct kh_correlate *c, struct match *m, const struct kh_subject *s,
		     int64_t t, const struct kh_rbac_reason *why)
{
	for (int i = 0; s && i < s->n_grants; i++) {
		const struct kh_subject_grant *sg = &s->grants[i];

		if (!counts(c, sg, t, why))
			continue;
		if (m->g && m->g->t_ns <= sg->g->t_ns)
			continue; /* the earliest grant starts the incident */
		m->g = sg->g;
		m->via = sg->via;
		m->group = s->principal == KH_PRINCIPAL_GROUP;
		if (m->group) {
			size_t len;
			const char *name = subjects__name(c->subjects, s, &len);

			snprintf(m->group_name, sizeof(m->group_name), "%.*s", (int)len, name);
		}
	}
}

static void consider_user(struct kh_correlate *c, struct match *m, const struct kh_user *u,
			  int64_t t, const struct kh_rbac_reason *why)
{
	char buf[1024];
	const char *name = dec(u->username, buf, sizeof(buf));

	if (name)
		consider(c, m, subjects__find(c->subjects, KH_PRINCIPAL_USER, name, strlen(name)),
			 t, why);
	for (uint32_t i = 0; i < u->groups.n; i++) {
		name = dec(u->groups.v[i], buf, sizeof(buf));
		if (name)
			consider(c, m,
				 subjects__find(c->subjects, KH_PRINCIPAL_GROUP, name,
						strlen(name)),
				 t, why);
	}
}

/* the earliest grant that gave the requester (or the identity it impersonates) this request */
static bool find_grant(struct kh_correlate *c, const struct audit_event *ev,
		       const struct kh_rbac_reason *why, struct match *m)
{
	int64_t t = req_time(ev);

	m->g = NULL;
	consider_user(c, m, &ev->user, t, why);
	if (kstr_nonempty(ev->impersonated_user.username))
		consider_user(c, m, &ev->impersonated_user, t, why);
	if (why)
		consider(c, m,
			 subjects__find(c->subjects, KH_PRINCIPAL_BINDING, why->key,
					strlen(why->key)),
			 t, why);
	return m->g != NULL;
}

static uint64_t ns_hash(const struct audit_event *ev)
{
	char buf[256];
	const char *ns = dec(ev->object_ref.namespace_, buf, sizeof(buf));

	return hash_str(0xcbf29ce484222325ull, ns ? ns : "");
}

/*
 * The requester read secrets of this namespace (or of every namespace) successfully before @g
 * took effect: it could already, so this read is not what the grant gave it.
 */
static bool read_before(const struct kh_subject *s, uint64_t nsh, const struct kh_grant *g)
{
	uint64_t all = hash_str(0xcbf29ce484222325ull, "");

	for (int i = 0; s && i < s->n_reads; i++)
		if ((s->reads[i].ns_hash == nsh || s->reads[i].ns_hash == all) &&
		    s->reads[i].first_ns < g->t_ns)
			return true;
	return false;
}

static void remember_read(struct kh_correlate *c, const char *reader, uint64_t nsh, int64_t t)
{
	struct kh_subject *s =
	    subjects__get(c->readers, KH_PRINCIPAL_USER, reader, strlen(reader), c->now_ns);
	struct kh_subject_read *r = s ? subject__read_slot(s, nsh) : NULL;

	if (!r)
		return;
	if (!r->first_ns || t < r->first_ns)
		r->first_ns = t;
	if (t > r->last_ns)
		r->last_ns = t;
	subjects__keep_until(c->readers, s, t + c->o.window_ns);
}

static void on_request(struct kh_correlate *c, const struct audit_event *ev, enum kh_step_kind kind)
{
	bool proxied = any_prefix(c->o.impersonation_proxies, ev->user.username) &&
		       kstr_nonempty(ev->impersonated_user.username);
	char rbuf[1024];
	/* behind an authenticating proxy the requester is the user it impersonates */
	const char *reader =
	    dec(proxied ? ev->impersonated_user.username : ev->user.username, rbuf, sizeof(rbuf));
	bool ok = grant__succeeded(ev) && ev->response_code != 404;
	uint64_t nsh = kind == KH_STEP_SECRET_READ ? ns_hash(ev) : 0;
	struct kh_incident *inc;
	struct match m;

	struct kh_rbac_reason why;
	bool rbac = grant__parse_reason(ev->reason, &why);

	if (!reader || !*reader || routine(c, ev))
		return;
	inc = incident_find(c, reader);
	if (!inc && find_grant(c, ev, rbac ? &why : NULL, &m)) {
		const struct kh_subject *self =
		    subjects__find(c->readers, KH_PRINCIPAL_USER, reader, strlen(reader));

		if (kind != KH_STEP_SECRET_READ || !read_before(self, nsh, m.g))
			inc = incident_open(c, reader, m.g, m.via, m.group ? m.group_name : NULL);
	}
	if (!inc)
		goto out;
	/* at Metadata level the binding's role is only ever seen in the reasons it allows with */
	if (rbac && inc->grants[0]->binding_key && !strcmp(why.key, inc->grants[0]->binding_key))
		incident__note_role(inc, why.role_kind, why.role_name);
	stepped(c, inc, incident__add_request(inc, kind, ev));
out:
	if (kind == KH_STEP_SECRET_READ && ok)
		remember_read(c, reader, nsh, req_time(ev));
}

/* ---- the interface ------------------------------------------------------------------------ */

/* tell the pipeline's counters (state_evictions, a metric) about evictions since last time */
static void report_evictions(struct kh_correlate *c)
{
	uint64_t n = subjects__evictions(c->subjects) + subjects__evictions(c->readers) +
		     c->st.incident_evictions;

	while (c->evictions_reported < n) {
		emit__count_state_eviction(c->e);
		c->evictions_reported++;
	}
	publish(c);
}

void correlate__on_event(struct kh_correlate *c, const struct audit_event *ev)
{
	unsigned cls;

	if (c->o.disabled)
		return;
	advance(c, audit_event_time_ns(ev));
	cls = grant__classify(ev);
	/* RequestReceived carries no decision, no impersonation, no response: wait for the rest */
	if (!cls || kstr__eq(ev->stage, "RequestReceived"))
		return;
	if (cls & KH_CLS_IMPERSONATION && any_prefix(c->o.impersonation_proxies, ev->user.username))
		cls &= ~KH_CLS_IMPERSONATION;
	if (cls & KH_CLS_ROLE_WRITE)
		learn_role(c, ev);
	for (unsigned k = KH_STEP_BINDING; k <= KH_STEP_SA_TOKEN; k++)
		if (cls & (1u << k))
			on_grant(c, ev, (enum kh_step_kind)k);
	if (cls & KH_CLS_SECRET_READ)
		on_request(c, ev, KH_STEP_SECRET_READ);
	if (cls & KH_CLS_EXEC)
		on_request(c, ev, KH_STEP_EXEC);
	if (cls & KH_CLS_PORT_FORWARD)
		on_request(c, ev, KH_STEP_PORT_FORWARD);
	report_evictions(c);
}

void correlate__on_node_secret_read(struct kh_correlate *c, const struct kh_node_secret_read *r)
{
	struct kh_incident **slot, **next;

	if (c->o.disabled)
		return;
	advance(c, r->t_ns);
	for (slot = keytab__oldest(c->incidents); slot; slot = next) {
		struct kh_incident *inc = *slot;

		next = keytab__newer(c->incidents, slot); /* stepped() moves inc to the end */
		if (incident__execd_into(inc, r->pod_namespace, r->pod_name, r->t_ns))
			stepped(c, inc, incident__add_node_read(inc, r));
	}
	publish(c);
}

void correlate__flush(struct kh_correlate *c)
{
	for (struct kh_incident **slot = keytab__oldest(c->incidents); slot;
	     slot = keytab__newer(c->incidents, slot))
		if ((*slot)->opened && (*slot)->pending)
			emit_incident(c, *slot);
	publish(c);
}

int64_t correlate__window_ns(const struct kh_correlate *c)
{
	if (!c || c->o.disabled)
		return 0;
	return c->o.window_ns > c->o.actor_window_ns ? c->o.window_ns : c->o.actor_window_ns;
}

const struct kh_correlate_stats *correlate__live_stats(const struct kh_correlate *c)
{
	return &c->st;
}

const struct kh_correlate_stats *correlate__stats(const struct kh_correlate *c)
{
	struct kh_correlate *m = (struct kh_correlate *)c;

	publish(m);
	m->st.steps_dropped_open = 0;
	for (struct kh_incident **slot = keytab__oldest(c->incidents); slot;
	     slot = keytab__newer(c->incidents, slot))
		m->st.steps_dropped_open += (*slot)->steps_dropped;
	return &c->st;
}

struct kh_correlate *correlate__new_opts(const struct kh_correlate_opts *o, struct kh_emit *e)
{
	struct kh_correlate *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->o = *o;
	if (!c->o.max_incidents)
		c->o.max_incidents = 1;
	c->e = e;
	c->rule_index = rules__count();
	c->subjects = subjects__new(o->max_subjects);
	c->readers = subjects__new(o->max_readers);
	c->incidents =
	    keytab__new(sizeof(struct kh_incident *), c->o.max_incidents, incident_drop, NULL);
	c->roles = keytab__new(sizeof(uint32_t), KH_ROLE_REG, NULL, NULL);
	if (!c->subjects || !c->readers || !c->incidents || !c->roles) {
		correlate__free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

struct kh_correlate *correlate__new(const struct kh_config *cfg, struct kh_emit *e)
{
	struct kh_correlate_opts o;

	correlate_opts__from_config(&o, cfg);
	return correlate__new_opts(&o, e);
}

void correlate__free(struct kh_correlate *c)
{
	if (!c)
		return;
	keytab__free(c->incidents); /* frees each incident, writing nothing more */
	subjects__free(c->subjects);
	subjects__free(c->readers);
	keytab__free(c->roles);
	free(c);
}
