// SPDX-License-Identifier: Apache-2.0
/*
 * grant: step classification and the reference-counted grant record (see grant.h).
 *
 * A grant is built in one allocation: the struct, then every string it names, decoded from the
 * event's JSON slices. Sizing uses the raw lengths, which bound the decoded ones.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/grant.h"

static const char SA_PREFIX[] = "system:serviceaccount:";

const char *shown__name(uint8_t shown)
{
	switch (shown) {
	case KH_SHOWN_USER:
		return "User";
	case KH_SHOWN_GROUP:
		return "Group";
	case KH_SHOWN_SA:
		return "ServiceAccount";
	case KH_SHOWN_ACTOR:
		return "Actor";
	case KH_SHOWN_BINDING:
		return "Binding";
	}
	return "Unknown";
}

const char *step_kind__name(enum kh_step_kind k)
{
	switch (k) {
	case KH_STEP_BINDING:
		return "rbac-binding";
	case KH_STEP_ROLE_VERB:
		return "role-escalate-bind";
	case KH_STEP_IMPERSONATION:
		return "impersonation";
	case KH_STEP_SA_TOKEN:
		return "serviceaccount-token";
	case KH_STEP_SECRET_READ:
		return "secret-read";
	case KH_STEP_EXEC:
		return "pod-exec";
	case KH_STEP_NODE_SECRET_READ:
		return "node-secret-read-in-exec";
	case KH_STEP_PORT_FORWARD:
		return "pod-port-forward";
	}
	return "unknown";
}

static bool is_rbac_role(struct kstr r)
{
	return kstr__eq(r, "roles") || kstr__eq(r, "clusterroles");
}

unsigned grant__classify(const struct audit_event *ev)
{
	const struct kh_object_ref *o = &ev->object_ref;
	bool sub = kstr_nonempty(o->subresource);
	unsigned cls = 0;

	if (kstr_nonempty(ev->impersonated_user.username))
		cls |= KH_CLS_IMPERSONATION;
	if (!ev->object_ref_present)
		return cls;
	if (kstr__eq(o->resource, "secrets") && !sub) {
		if (kstr__eq(ev->verb, "get") || kstr__eq(ev->verb, "list") ||
		    kstr__eq(ev->verb, "watch"))
			cls |= KH_CLS_SECRET_READ;
	} else if (kstr__eq(o->resource, "pods")) {
		/* kubectl before 1.30 POSTs (create); since 1.30 it upgrades a GET to WebSockets */
		if ((kstr__eq(o->subresource, "exec") || kstr__eq(o->subresource, "attach")) &&
		    (kstr__eq(ev->verb, "create") || kstr__eq(ev->verb, "get")))
			cls |= KH_CLS_EXEC;
		/* kubectl port-forward: a tunnel into the pod's network, a step after the loot */
		else if (kstr__eq(o->subresource, "portforward") &&
			 (kstr__eq(ev->verb, "create") || kstr__eq(ev->verb, "get")))
			cls |= KH_CLS_PORT_FORWARD;
	} else if ((kstr__eq(o->resource, "rolebindings") ||
		    kstr__eq(o->resource, "clusterrolebindings")) &&
		   !sub) {
		if (kstr__eq(ev->verb, "create") || kstr__eq(ev->verb, "update") ||
		    kstr__eq(ev->verb, "patch"))
			cls |= KH_CLS_BINDING;
	} else if (is_rbac_role(o->resource) && !sub) {
		if (kstr__eq(ev->verb, "escalate") || kstr__eq(ev->verb, "bind"))
			cls |= KH_CLS_ROLE_VERB;
		else if (kstr__eq(ev->verb, "create") || kstr__eq(ev->verb, "update") ||
			 kstr__eq(ev->verb, "patch"))
			cls |= KH_CLS_ROLE_WRITE;
	} else if (kstr__eq(o->resource, "serviceaccounts") && kstr__eq(o->subresource, "token")) {
		if (kstr__eq(ev->verb, "create"))
			cls |= KH_CLS_SA_TOKEN;
	}
	return cls;
}

bool grant__succeeded(const struct audit_event *ev)
{
	if (kstr_present(ev->decision) && !kstr__eq(ev->decision, "allow"))
		return false;
	return ev->response_code < 0 || (ev->response_code >= 100 && ev->response_code < 300);
}

uint32_t grant__builtin_role_flags(struct kstr role_kind, struct kstr role_name)
{
	/* a RoleBinding may name a ClusterRole; a namespaced Role called cluster-admin is not it */
	if (!kstr__eq(role_kind, "ClusterRole"))
		return 0;
	if (kstr__eq(role_name, "cluster-admin"))
		return KH_GRANT_CLUSTER_ADMIN | KH_GRANT_WILDCARD | KH_GRANT_SECRETS_ROLE;
	/* the default user-facing roles that include get/list/watch on secrets */
	if (kstr__eq(role_name, "admin") || kstr__eq(role_name, "edit"))
		return KH_GRANT_SECRETS_ROLE;
	return 0;
}

char *grant__kstr_dup(struct kstr s)
{
	char *out;
	long n;

	if (!s.p)
		return NULL;
	out = malloc((size_t)s.len + 1);
	if (!out)
		return NULL;
	n = kstr__decode(s, out, s.len);
	if (n < 0)
		n = 0; /* malformed escapes: keep the field, empty, rather than drop the step */
	out[n] = '\0';
	return out;
}

/* ---- building one grant ------------------------------------------------------------------- */

struct packer {
	char *p, *end;
};

/* size bound of a kstr once packed */
static size_t kbound(struct kstr s)
{
	return s.p ? (size_t)s.len + 1 : 0;
}

static const char *pack(struct packer *pk, struct kstr s)
{
	char *out = pk->p;
	long n;

	if (!s.p)
		return NULL;
	n = kstr__decode(s, out, s.len);
	if (n < 0)
		n = 0;
	out[n] = '\0';
	pk->p += n + 1;
	return out;
}

/* "system:serviceaccount:" NS ":" NAME */
static const char *pack_sa(struct packer *pk, struct kstr ns, struct kstr name)
{
	char *out = pk->p;
	long n;

	memcpy(pk->p, SA_PREFIX, sizeof(SA_PREFIX) - 1);
	pk->p += sizeof(SA_PREFIX) - 1;
	n = kstr__decode(ns, pk->p, ns.len);
	pk->p += n > 0 ? n : 0;
	*pk->p++ = ':';
	n = kstr__decode(name, pk->p, name.len);
	pk->p += n > 0 ? n : 0;
	*pk->p++ = '\0';
	return out;
}

/* "ClusterRoleBinding/NAME" or "RoleBinding/NS/NAME", as grant__parse_reason() builds it */
static const char *pack_binding_key(struct packer *pk, const struct audit_event *ev)
{
	const struct kh_object_ref *o = &ev->object_ref;
	char *out = pk->p;
	long n;

	if (kstr__eq(o->resource, "clusterrolebindings")) {
		pk->p += sprintf(pk->p, "ClusterRoleBinding/");
	} else {
		pk->p += sprintf(pk->p, "RoleBinding/");
		n = kstr__decode(o->namespace_, pk->p, o->namespace_.len);
		pk->p += n > 0 ? n : 0;
		*pk->p++ = '/';
	}
	n = kstr__decode(o->name, pk->p, o->name.len);
	pk->p += n > 0 ? n : 0;
	*pk->p++ = '\0';
	return out;
}

/* a Go %q string at *@p: its content into @out (up to @cap - 1 bytes); advances *@p past it */
static bool go_quoted(const char **p, const char *end, char *out, size_t cap)
{
	size_t n = 0;
	const char *s = *p;

	if (s >= end || *s != '"')
		return false;
	for (s++; s < end && *s != '"'; s++) {
		if (*s == '\\' && s + 1 < end)
			s++; /* object names cannot hold escapes; keep the escaped byte as is */
		if (n + 1 >= cap)
			return false;
		out[n++] = *s;
	}
	if (s >= end)
		return false;
	out[n] = '\0';
	*p = s + 1;
	return true;
}

static bool lit(const char **p, const char *end, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(end - *p) < n || memcmp(*p, word, n))
		return false;
	*p += n;
	return true;
}

bool grant__parse_reason(struct kstr reason, struct kh_rbac_reason *out)
{
	char buf[1024], name[512];
	const char *p = buf, *end;
	bool cluster;
	long n;

	if (!kstr__has_prefix(reason, "RBAC: allowed by ") || reason.len >= sizeof(buf))
		return false;
	n = kstr__decode(reason, buf, sizeof(buf));
	if (n < 0 || (size_t)n >= sizeof(buf))
		return false;
	end = buf + n;
	p += strlen("RBAC: allowed by ");
	if (lit(&p, end, "ClusterRoleBinding "))
		cluster = true;
	else if (lit(&p, end, "RoleBinding "))
		cluster = false;
	else
		return false;
	if (!go_quoted(&p, end, name, sizeof(name)) || !lit(&p, end, " of "))
		return false;
	if (lit(&p, end, "ClusterRole "))
		strcpy(out->role_kind, "ClusterRole");
	else if (lit(&p, end, "Role "))
		strcpy(out->role_kind, "Role");
	else
		return false;
	if (!go_quoted(&p, end, out->role_name, sizeof(out->role_name)))
		return false;
	if (cluster) {
		snprintf(out->key, sizeof(out->key), "ClusterRoleBinding/%s", name);
	} else {
		/* a RoleBinding is described as "NAME/NAMESPACE" */
		char *slash = strrchr(name, '/');

		if (!slash)
			return false;
		*slash = '\0';
		snprintf(out->key, sizeof(out->key), "RoleBinding/%s/%s", slash + 1, name);
	}
	return true;
}

static void add_ben(struct kh_grant *g, uint8_t principal, uint8_t via, uint8_t shown,
		    const char *name)
{
	struct kh_beneficiary *b;

	if (!name || !*name || g->n_ben >= g->cap_ben)
		return;
	for (uint32_t i = 0; i < g->n_ben; i++)
		if (g->ben[i].principal == principal && !strcmp(g->ben[i].name, name))
			return; /* listed twice: once is enough */
	b = &g->ben[g->n_ben++];
	b->principal = principal;
	b->via = via;
	b->shown = shown;
	b->name = name;
}

static size_t grant_size(const struct audit_event *ev, const struct kh_rbac_object *obj)
{
	const struct kh_object_ref *o = &ev->object_ref;
	size_t n = sizeof(struct kh_grant);

	n += kbound(ev->audit_id) + kbound(ev->user.username) + kbound(ev->verb);
	n += kbound(o->resource) + kbound(o->subresource) + 1 + kbound(o->namespace_);
	n += kbound(o->name) + kbound(ev->impersonated_user.username);
	n += ev->source_ips.n ? kbound(ev->source_ips.v[0]) : 0;
	n += sizeof("ClusterRoleBinding//") + kbound(o->namespace_) + kbound(o->name);
	/* a service account token request names its account in objectRef */
	if (kstr__eq(o->subresource, "token"))
		n += sizeof(SA_PREFIX) + kbound(o->namespace_) + kbound(o->name);
	if (obj) {
		n += kbound(obj->role_kind) + kbound(obj->role_name);
		for (uint32_t i = 0; i < obj->n_subjects; i++) {
			const struct kh_rbac_subject *s = &obj->subjects[i];

			n += kbound(s->name) + 1;
			if (kstr__eq(s->kind, "ServiceAccount"))
				n += sizeof(SA_PREFIX) + kbound(s->namespace_) +
				     kbound(o->namespace_);
		}
	}
	return n;
}

static void add_subjects(struct kh_grant *g, struct packer *pk, const struct audit_event *ev,
			 const struct kh_rbac_object *obj)
{
	for (uint32_t i = 0; i < obj->n_subjects; i++) {
		const struct kh_rbac_subject *s = &obj->subjects[i];

		if (kstr__eq(s->kind, "ServiceAccount")) {
			/* a RoleBinding's ServiceAccount subject defaults to the binding's
			 * namespace */
			struct kstr ns = kstr_nonempty(s->namespace_) ? s->namespace_
								      : ev->object_ref.namespace_;

			add_ben(g, KH_PRINCIPAL_USER, KH_VIA_SUBJECT, KH_SHOWN_SA,
				pack_sa(pk, ns, s->name));
		} else if (kstr__eq(s->kind, "Group")) {
			add_ben(g, KH_PRINCIPAL_GROUP, KH_VIA_SUBJECT, KH_SHOWN_GROUP,
				pack(pk, s->name));
		} else if (kstr__eq(s->kind, "User")) {
			add_ben(g, KH_PRINCIPAL_USER, KH_VIA_SUBJECT, KH_SHOWN_USER,
				pack(pk, s->name));
		}
	}
}

static bool actor_is_beneficiary(const struct kh_grant *g)
{
	for (uint32_t i = 0; i < g->n_ben; i++)
		if (g->ben[i].principal == KH_PRINCIPAL_USER && !strcmp(g->ben[i].name, g->actor))
			return true;
	return false;
}

struct kh_grant *grant__new(const struct audit_event *ev, enum kh_step_kind kind,
			    const struct kh_rbac_object *obj, uint32_t role_flags)
{
	const struct kh_object_ref *o = &ev->object_ref;
	struct kh_grant *g;
	struct packer pk;
	size_t size;
	uint32_t n_ben;

	/* a logged binding patch that touches neither subjects nor roleRef grants nothing */
	if (kind == KH_STEP_BINDING && obj && !(obj->flags & KH_RBAC_SUBJECTS_SEEN) &&
	    !kstr_present(obj->role_name) && kstr__eq(ev->verb, "patch"))
		return NULL;
	n_ben = (obj ? obj->n_subjects : 0) + 3; /* subjects, the actor, the binding */
	size = grant_size(ev, obj) + n_ben * sizeof(struct kh_beneficiary);
	g = calloc(1, size);
	if (!g)
		return NULL;
	g->ben = (struct kh_beneficiary *)g->data;
	g->cap_ben = n_ben;
	pk = (struct packer){g->data + n_ben * sizeof(struct kh_beneficiary), (char *)g + size};
	g->refs = 1;
	g->kind = (uint8_t)kind;
	g->flags = role_flags;
	g->req_ns = ev->request_received_ns ? ev->request_received_ns : audit_event_time_ns(ev);
	/* impersonation takes effect as the request is authorized; a binding once it is stored */
	g->t_ns = kind == KH_STEP_IMPERSONATION ? g->req_ns : audit_event_time_ns(ev);
	g->audit_id = pack(&pk, ev->audit_id);
	g->actor = pack(&pk, ev->user.username);
	g->verb = pack(&pk, ev->verb);
	if (kstr_nonempty(o->subresource)) {
		char *r = pk.p;

		pack(&pk, o->resource);
		pk.p[-1] = '/';
		pack(&pk, o->subresource);
		g->resource = r;
	} else {
		g->resource = pack(&pk, o->resource);
	}
	g->namespace_ = pack(&pk, o->namespace_);
	g->name = pack(&pk, o->name);
	g->impersonated = pack(&pk, ev->impersonated_user.username);
	g->source_ip = ev->source_ips.n ? pack(&pk, ev->source_ips.v[0]) : NULL;
	if (!g->actor)
		g->actor = "";

	switch (kind) {
	case KH_STEP_BINDING:
		g->binding_key = pack_binding_key(&pk, ev);
		add_ben(g, KH_PRINCIPAL_BINDING, KH_VIA_BINDING, KH_SHOWN_BINDING, g->binding_key);
		if (obj) {
			g->role_kind = pack(&pk, obj->role_kind);
			g->role_name = pack(&pk, obj->role_name);
			g->flags |= grant__builtin_role_flags(obj->role_kind, obj->role_name);
			if (obj->flags & KH_RBAC_HELM)
				g->flags |= KH_GRANT_HELM;
			g->total_subjects = obj->total_subjects;
			if (obj->flags & KH_RBAC_SUBJECTS_SEEN) {
				g->flags |= KH_GRANT_SUBJECTS_VISIBLE;
				add_subjects(g, &pk, ev, obj);
			}
		}
		if (g->flags & KH_GRANT_SUBJECTS_VISIBLE) {
			/* the actor gains nothing it is not bound to: only a short window for it */
			if (!actor_is_beneficiary(g))
				add_ben(g, KH_PRINCIPAL_USER, KH_VIA_ACTOR, KH_SHOWN_ACTOR,
					g->actor);
		} else {
			add_ben(g, KH_PRINCIPAL_USER, KH_VIA_ACTOR_FALLBACK, KH_SHOWN_ACTOR,
				g->actor);
		}
		break;
	case KH_STEP_SA_TOKEN:
		/* whoever holds the new token acts as the account; the actor holds it first */
		g->flags |= KH_GRANT_SUBJECTS_VISIBLE;
		g->total_subjects = 1;
		add_ben(g, KH_PRINCIPAL_USER, KH_VIA_SUBJECT, KH_SHOWN_SA,
			pack_sa(&pk, o->namespace_, o->name));
		if (!actor_is_beneficiary(g))
			add_ben(g, KH_PRINCIPAL_USER, KH_VIA_ACTOR, KH_SHOWN_ACTOR, g->actor);
		break;
	case KH_STEP_IMPERSONATION:
	case KH_STEP_ROLE_VERB:
	default:
		/* the actor itself gains: the impersonated identity's rights, or its own new role
		 */
		g->flags |= KH_GRANT_SUBJECTS_VISIBLE;
		g->total_subjects = 1;
		add_ben(g, KH_PRINCIPAL_USER, KH_VIA_SUBJECT, KH_SHOWN_USER, g->actor);
		break;
	}
	return g;
}

static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

bool grant__same(const struct kh_grant *a, const struct kh_grant *b)
{
	if (a == b)
		return true;
	if (a->kind != b->kind || (a->kind != KH_STEP_IMPERSONATION && a->kind != KH_STEP_SA_TOKEN))
		return false;
	return str_same(a->actor, b->actor) && str_same(a->impersonated, b->impersonated) &&
	       str_same(a->namespace_, b->namespace_) &&
	       (a->kind == KH_STEP_IMPERSONATION || str_same(a->name, b->name));
}

struct kh_grant *grant__get(struct kh_grant *g)
{
	if (g)
		g->refs++;
	return g;
}

void grant__put(struct kh_grant *g)
{
	if (g && --g->refs == 0)
		free(g);
}
