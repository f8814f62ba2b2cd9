// SPDX-License-Identifier: Apache-2.0
/*
 * rbac_json: a small, bounded JSON walker over an RBAC requestObject (see rbac_json.h).
 *
 * The span was already checked for structure by the audit parser, but this walker trusts nothing:
 * every read is bounds-checked (the cursor is json_in's, keyhole/json_in.h), the nesting of what
 * it reads is capped (values it steps over, json_in__skip, may nest to any depth), and a
 * malformed span stops the walk with what was read so far. Only the keys named in rbac_json.h
 * are looked at; every other value, whatever its size, is stepped over without being decoded.
 */
#include <errno.h>
#include <string.h>

#include "correlate/rbac_json.h"
#include "keyhole/json_in.h"

/* a string value into @out, or any other value stepped over (leaving @out absent) */
static bool str_or_skip(struct json_in *w, struct kstr *out)
{
	if (json_in__peek(w, '"'))
		return json_in__str(w, out);
	return json_in__skip(w);
}

typedef bool (*member_fn)(struct json_in *w, struct kstr key, int depth, void *ctx);
typedef bool (*elem_fn)(struct json_in *w, int depth, void *ctx);

/* call @fn for each member of an object; @fn consumes the value */
static bool each_member(struct json_in *w, int depth, member_fn fn, void *ctx)
{
	struct kstr k;

	if (depth > KH_RBAC_MAX_DEPTH || !json_in__eat(w, '{'))
		return false;
	if (json_in__eat(w, '}'))
		return true;
	for (;;) {
		if (!json_in__str(w, &k) || !json_in__eat(w, ':') || !fn(w, k, depth + 1, ctx))
			return false;
		if (json_in__eat(w, ','))
			continue;
		return json_in__eat(w, '}');
	}
}

/* call @fn for each element of an array; a non-array value is stepped over */
static bool each_elem(struct json_in *w, int depth, elem_fn fn, void *ctx)
{
	if (depth > KH_RBAC_MAX_DEPTH)
		return false;
	if (!json_in__peek(w, '['))
		return json_in__skip(w);
	w->p++;
	if (json_in__eat(w, ']'))
		return true;
	for (;;) {
		if (!fn(w, depth + 1, ctx))
			return false;
		if (json_in__eat(w, ','))
			continue;
		return json_in__eat(w, ']');
	}
}

/* ---- subjects -------------------------------------------------------------------------------- */

static bool subject_member(struct json_in *w, struct kstr k, int depth, void *ctx)
{
	struct kh_rbac_subject *s = ctx;

	(void)depth;
	if (kstr__eq(k, "kind"))
		return str_or_skip(w, &s->kind);
	if (kstr__eq(k, "name"))
		return str_or_skip(w, &s->name);
	if (kstr__eq(k, "namespace"))
		return str_or_skip(w, &s->namespace_);
	return json_in__skip(w);
}

static bool subject_elem(struct json_in *w, int depth, void *ctx)
{
	struct kh_rbac_object *o = ctx;
	struct kh_rbac_subject s = {0};

	if (!json_in__peek(w, '{'))
		return json_in__skip(w);
	if (!each_member(w, depth, subject_member, &s))
		return false;
	o->total_subjects++;
	if (o->n_subjects < KH_RBAC_MAX_SUBJECTS && kstr_nonempty(s.name))
		o->subjects[o->n_subjects++] = s;
	return true;
}

/* ---- rules ----------------------------------------------------------------------------------- */

struct rule_scan {
	bool verbs_star, verbs_read, res_star, res_secrets;
};

static bool verb_elem(struct json_in *w, int depth, void *ctx)
{
	struct rule_scan *r = ctx;
	struct kstr v = {0};

	(void)depth;
	if (!str_or_skip(w, &v))
		return false;
	if (kstr__eq(v, "*"))
		r->verbs_star = r->verbs_read = true;
	else if (kstr__eq(v, "get") || kstr__eq(v, "list") || kstr__eq(v, "watch"))
		r->verbs_read = true;
	return true;
}

static bool resource_elem(struct json_in *w, int depth, void *ctx)
{
	struct rule_scan *r = ctx;
	struct kstr v = {0};

	(void)depth;
	if (!str_or_skip(w, &v))
		return false;
	if (kstr__eq(v, "*"))
		r->res_star = r->res_secrets = true;
	else if (kstr__eq(v, "secrets"))
		r->res_secrets = true;
	return true;
}

static bool rule_member(struct json_in *w, struct kstr k, int depth, void *ctx)
{
	if (kstr__eq(k, "verbs"))
		return each_elem(w, depth, verb_elem, ctx);
	if (kstr__eq(k, "resources"))
		return each_elem(w, depth, resource_elem, ctx);
	return json_in__skip(w);
}

static bool rule_elem(struct json_in *w, int depth, void *ctx)
{
	struct kh_rbac_object *o = ctx;
	struct rule_scan r = {0};

	if (!json_in__peek(w, '{'))
		return json_in__skip(w);
	if (!each_member(w, depth, rule_member, &r))
		return false;
	if (r.verbs_star && r.res_star)
		o->flags |= KH_RBAC_RULES_WILDCARD;
	if (r.verbs_read && r.res_secrets)
		o->flags |= KH_RBAC_RULES_SECRETS;
	return true;
}

/* ---- metadata and roleRef -------------------------------------------------------------------- */

static bool labels_member(struct json_in *w, struct kstr k, int depth, void *ctx)
{
	struct kh_rbac_object *o = ctx;
	struct kstr v = {0};

	(void)depth;
	if (!str_or_skip(w, &v))
		return false;
	if (kstr__eq(k, "app.kubernetes.io/managed-by") && kstr__eq(v, "Helm"))
		o->flags |= KH_RBAC_HELM;
	return true;
}

static bool annotations_member(struct json_in *w, struct kstr k, int depth, void *ctx)
{
	struct kh_rbac_object *o = ctx;

	(void)depth;
	if (kstr__eq(k, "meta.helm.sh/release-name"))
		o->flags |= KH_RBAC_HELM;
	return json_in__skip(w);
}

static bool metadata_member(struct json_in *w, struct kstr k, int depth, void *ctx)
{
	struct kh_rbac_object *o = ctx;

	if (kstr__eq(k, "name"))
		return str_or_skip(w, &o->name);
	if (kstr__eq(k, "namespace"))
		return str_or_skip(w, &o->namespace_);
	if (kstr__eq(k, "labels") && json_in__peek(w, '{'))
		return each_member(w, depth, labels_member, o);
	if (kstr__eq(k, "annotations") && json_in__peek(w, '{'))
		return each_member(w, depth, annotations_member, o);
	return json_in__skip(w);
}

static bool roleref_member(struct json_in *w, struct kstr k, int depth, void *ctx)
{
	struct kh_rbac_object *o = ctx;

	(void)depth;
	if (kstr__eq(k, "kind"))
		return str_or_skip(w, &o->role_kind);
	if (kstr__eq(k, "name"))
		return str_or_skip(w, &o->role_name);
	return json_in__skip(w);
}

/* ---- the object itself, or a merge patch shaped like it ---------------------------------------
 */

static bool object_member(struct json_in *w, struct kstr k, int depth, void *ctx)
{
	struct kh_rbac_object *o = ctx;

	if (kstr__eq(k, "kind"))
		return str_or_skip(w, &o->kind);
	if (kstr__eq(k, "metadata") && json_in__peek(w, '{'))
		return each_member(w, depth, metadata_member, o);
	if (kstr__eq(k, "roleRef") && json_in__peek(w, '{'))
		return each_member(w, depth, roleref_member, o);
	if (kstr__eq(k, "subjects")) {
		o->flags |= KH_RBAC_SUBJECTS_SEEN;
		return each_elem(w, depth, subject_elem, o);
	}
	if (kstr__eq(k, "rules"))
		return each_elem(w, depth, rule_elem, o);
	return json_in__skip(w);
}

/* ---- JSON patch: [{"op": "add", "path": "/subjects/-", "value": {...}}, ...] -------------------
 */

struct patch_op {
	struct kstr op, path;
	const char *value, *value_end; /* the raw value, read once op and path are known */
};

static bool op_member(struct json_in *w, struct kstr k, int depth, void *ctx)
{
	struct patch_op *op = ctx;

	(void)depth;
	if (kstr__eq(k, "op"))
		return str_or_skip(w, &op->op);
	if (kstr__eq(k, "path"))
		return str_or_skip(w, &op->path);
	if (kstr__eq(k, "value")) {
		json_in__ws(w);
		op->value = w->p;
		if (!json_in__skip(w))
			return false;
		op->value_end = w->p;
		return true;
	}
	return json_in__skip(w);
}

/* "/subjects/3" or "/subjects/-": one element of the list, not a field inside one */
static bool is_element_path(struct kstr path, const char *list)
{
	size_t n = strlen(list);
	const char *rest;
	uint32_t left;

	if (path.flags & KSTR_ESCAPED || path.len <= n || memcmp(path.p, list, n))
		return false;
	rest = path.p + n;
	left = path.len - (uint32_t)n;
	return memchr(rest, '/', left) == NULL;
}

static bool patch_elem(struct json_in *w, int depth, void *ctx)
{
	struct kh_rbac_object *o = ctx;
	struct patch_op op = {0};
	struct json_in v;

	if (!json_in__peek(w, '{'))
		return json_in__skip(w);
	if (!each_member(w, depth, op_member, &op))
		return false;
	if (!op.value || !(kstr__eq(op.op, "add") || kstr__eq(op.op, "replace")))
		return true;
	v = json_in__span(op.value, (size_t)(op.value_end - op.value));
	if (kstr__eq(op.path, "/subjects")) {
		o->flags |= KH_RBAC_SUBJECTS_SEEN;
		return each_elem(&v, depth, subject_elem, o);
	}
	if (is_element_path(op.path, "/subjects/")) {
		o->flags |= KH_RBAC_SUBJECTS_SEEN;
		return subject_elem(&v, depth, o);
	}
	if (kstr__eq(op.path, "/rules"))
		return each_elem(&v, depth, rule_elem, o);
	if (is_element_path(op.path, "/rules/"))
		return rule_elem(&v, depth, o);
	if (kstr__eq(op.path, "/roleRef") && json_in__peek(&v, '{'))
		return each_member(&v, depth, roleref_member, o);
	return true;
}

int rbac_json__read(struct kstr span, struct kh_rbac_object *out)
{
	struct json_in w = json_in__span(span.p, span.len);
	bool ok;

	memset(out, 0, sizeof(*out));
	if (!span.p) {
		out->flags |= KH_RBAC_PARTIAL;
		return -EINVAL;
	}
	if (json_in__peek(&w, '[')) {
		out->flags |= KH_RBAC_JSON_PATCH;
		ok = each_elem(&w, 0, patch_elem, out);
	} else {
		ok = json_in__peek(&w, '{') && each_member(&w, 0, object_member, out);
	}
	if (!ok) {
		out->flags |= KH_RBAC_PARTIAL;
		return -EINVAL;
	}
	return 0;
}
