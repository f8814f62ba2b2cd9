// SPDX-License-Identifier: Apache-2.0
/*
 * rbac_json: a small, bounded JSON walker over an RBAC requestObject (see rbac_json.h).
 *
 * The span was already checked for structure by the audit parser, but this walker trusts nothing:
 * every read is bounds-checked, the nesting of what it reads is capped (values it steps over may
 * nest to any depth), and a malformed span stops the walk with what
 * was read so far. Only the keys named in rbac_json.h are looked at; every other value, whatever
 * its size, is stepped over without being decoded.
 */
#include <errno.h>
#include <string.h>

#include "correlate/rbac_json.h"

struct jw {
	const char *p, *end;
};

static void ws(struct jw *w)
{
	while (w->p < w->end && (*w->p == ' ' || *w->p == '\t' || *w->p == '\n' || *w->p == '\r'))
		w->p++;
}

static bool peek(struct jw *w, char c)
{
	ws(w);
	return w->p < w->end && *w->p == c;
}

static bool eat(struct jw *w, char c)
{
	if (!peek(w, c))
		return false;
	w->p++;
	return true;
}

/* a JSON string; @out gets the raw bytes between the quotes, flagged when they hold escapes */
static bool str(struct jw *w, struct kstr *out)
{
	const char *s;
	uint32_t flags = 0;

	if (!eat(w, '"'))
		return false;
	s = w->p;
	while (w->p < w->end && *w->p != '"') {
		if (*w->p == '\\') {
			flags = KSTR_ESCAPED;
			if (w->end - w->p < 2)
				return false;
			w->p++;
		}
		w->p++;
	}
	if (w->p >= w->end)
		return false;
	*out = (struct kstr){s, (uint32_t)(w->p - s), flags};
	w->p++;
	return true;
}

/*
 * Step over one value of any type, at any depth, without recursion: brackets are counted, not
 * paired (the audit parser validated the span; here a mismatched pair can only end the value
 * early or late, never read outside the span). A patch body may carry a field nested 10,000
 * deep next to the subjects it grants: it must not hide them.
 */
static bool skip(struct jw *w, int depth)
{
	struct kstr s;
	const char *start;
	size_t open = 0;

	(void)depth;
	do {
		ws(w);
		if (w->p >= w->end)
			return false;
		switch (*w->p) {
		case '"':
			if (!str(w, &s))
				return false;
			break;
		case '{':
		case '[':
			open++;
			w->p++;
			break;
		case '}':
		case ']':
			if (!open)
				return false;
			open--;
			w->p++;
			break;
		case ',':
		case ':':
			if (!open)
				return false;
			w->p++;
			break;
		default:
			/* number, true, false, null: a run up to the next delimiter */
			start = w->p;
			while (w->p < w->end && !strchr(",:}]{[\" \t\r\n", *w->p))
				w->p++;
			if (w->p == start)
				return false;
			break;
		}
	} while (open);
	return true;
}

/* a string value into @out, or any other value stepped over (leaving @out absent) */
static bool str_or_skip(struct jw *w, int depth, struct kstr *out)
{
	if (peek(w, '"'))
		return str(w, out);
	return skip(w, depth);
}

typedef bool (*member_fn)(struct jw *w, struct kstr key, int depth, void *ctx);
typedef bool (*elem_fn)(struct jw *w, int depth, void *ctx);

/* call @fn for each member of an object; @fn consumes the value */
static bool each_member(struct jw *w, int depth, member_fn fn, void *ctx)
{
	struct kstr k;

	if (depth > KH_RBAC_MAX_DEPTH || !eat(w, '{'))
		return false;
	if (eat(w, '}'))
		return true;
	for (;;) {
		if (!str(w, &k) || !eat(w, ':') || !fn(w, k, depth + 1, ctx))
			return false;
		if (eat(w, ','))
			continue;
		return eat(w, '}');
	}
}

/* call @fn for each element of an array; a non-array value is stepped over */
static bool each_elem(struct jw *w, int depth, elem_fn fn, void *ctx)
{
	if (depth > KH_RBAC_MAX_DEPTH)
		return false;
	if (!peek(w, '['))
		return skip(w, depth);
	w->p++;
	if (eat(w, ']'))
		return true;
	for (;;) {
		if (!fn(w, depth + 1, ctx))
			return false;
		if (eat(w, ','))
			continue;
		return eat(w, ']');
	}
}

/* ---- subjects -------------------------------------------------------------------------------- */

static bool subject_member(struct jw *w, struct kstr k, int depth, void *ctx)
{
	struct kh_rbac_subject *s = ctx;

	if (kstr__eq(k, "kind"))
		return str_or_skip(w, depth, &s->kind);
	if (kstr__eq(k, "name"))
		return str_or_skip(w, depth, &s->name);
	if (kstr__eq(k, "namespace"))
		return str_or_skip(w, depth, &s->namespace_);
	return skip(w, depth);
}

static bool subject_elem(struct jw *w, int depth, void *ctx)
{
	struct kh_rbac_object *o = ctx;
	struct kh_rbac_subject s = {0};

	if (!peek(w, '{'))
		return skip(w, depth);
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

static bool verb_elem(struct jw *w, int depth, void *ctx)
{
	struct rule_scan *r = ctx;
	struct kstr v = {0};

	if (!str_or_skip(w, depth, &v))
		return false;
	if (kstr__eq(v, "*"))
		r->verbs_star = r->verbs_read = true;
	else if (kstr__eq(v, "get") || kstr__eq(v, "list") || kstr__eq(v, "watch"))
		r->verbs_read = true;
	return true;
}

static bool resource_elem(struct jw *w, int depth, void *ctx)
{
	struct rule_scan *r = ctx;
	struct kstr v = {0};

	if (!str_or_skip(w, depth, &v))
		return false;
	if (kstr__eq(v, "*"))
		r->res_star = r->res_secrets = true;
	else if (kstr__eq(v, "secrets"))
		r->res_secrets = true;
	return true;
}

static bool rule_member(struct jw *w, struct kstr k, int depth, void *ctx)
{
	if (kstr__eq(k, "verbs"))
		return each_elem(w, depth, verb_elem, ctx);
	if (kstr__eq(k, "resources"))
		return each_elem(w, depth, resource_elem, ctx);
	return skip(w, depth);
}

static bool rule_elem(struct jw *w, int depth, void *ctx)
{
	struct kh_rbac_object *o = ctx;
	struct rule_scan r = {0};

	if (!peek(w, '{'))
		return skip(w, depth);
	if (!each_member(w, depth, rule_member, &r))
		return false;
	if (r.verbs_star && r.res_star)
		o->flags |= KH_RBAC_RULES_WILDCARD;
	if (r.verbs_read && r.res_secrets)
		o->flags |= KH_RBAC_RULES_SECRETS;
	return true;
}

/* ---- metadata and roleRef -------------------------------------------------------------------- */

static bool labels_member(struct jw *w, struct kstr k, int depth, void *ctx)
{
	struct kh_rbac_object *o = ctx;
	struct kstr v = {0};

	if (!str_or_skip(w, depth, &v))
		return false;
	if (kstr__eq(k, "app.kubernetes.io/managed-by") && kstr__eq(v, "Helm"))
		o->flags |= KH_RBAC_HELM;
	return true;
}

static bool annotations_member(struct jw *w, struct kstr k, int depth, void *ctx)
{
	struct kh_rbac_object *o = ctx;

	if (kstr__eq(k, "meta.helm.sh/release-name"))
		o->flags |= KH_RBAC_HELM;
	return skip(w, depth);
}

static bool metadata_member(struct jw *w, struct kstr k, int depth, void *ctx)
{
	struct kh_rbac_object *o = ctx;

	if (kstr__eq(k, "name"))
		return str_or_skip(w, depth, &o->name);
	if (kstr__eq(k, "namespace"))
		return str_or_skip(w, depth, &o->namespace_);
	if (kstr__eq(k, "labels") && peek(w, '{'))
		return each_member(w, depth, labels_member, o);
	if (kstr__eq(k, "annotations") && peek(w, '{'))
		return each_member(w, depth, annotations_member, o);
	return skip(w, depth);
}

static bool roleref_member(struct jw *w, struct kstr k, int depth, void *ctx)
{
	struct kh_rbac_object *o = ctx;

	if (kstr__eq(k, "kind"))
		return str_or_skip(w, depth, &o->role_kind);
	if (kstr__eq(k, "name"))
		return str_or_skip(w, depth, &o->role_name);
	return skip(w, depth);
}

/* ---- the object itself, or a merge patch shaped like it ---------------------------------------
 */

static bool object_member(struct jw *w, struct kstr k, int depth, void *ctx)
{
	struct kh_rbac_object *o = ctx;

	if (kstr__eq(k, "kind"))
		return str_or_skip(w, depth, &o->kind);
	if (kstr__eq(k, "metadata") && peek(w, '{'))
		return each_member(w, depth, metadata_member, o);
	if (kstr__eq(k, "roleRef") && peek(w, '{'))
		return each_member(w, depth, roleref_member, o);
	if (kstr__eq(k, "subjects")) {
		o->flags |= KH_RBAC_SUBJECTS_SEEN;
		return each_elem(w, depth, subject_elem, o);
	}
	if (kstr__eq(k, "rules"))
		return each_elem(w, depth, rule_elem, o);
	return skip(w, depth);
}

/* ---- JSON patch: [{"op": "add", "path": "/subjects/-", "value": {...}}, ...] -------------------
 */

struct patch_op {
	struct kstr op, path;
	const char *value, *value_end; /* the raw value, read once op and path are known */
};

static bool op_member(struct jw *w, struct kstr k, int depth, void *ctx)
{
	struct patch_op *op = ctx;

	if (kstr__eq(k, "op"))
		return str_or_skip(w, depth, &op->op);
	if (kstr__eq(k, "path"))
		return str_or_skip(w, depth, &op->path);
	if (kstr__eq(k, "value")) {
		ws(w);
		op->value = w->p;
		if (!skip(w, depth))
			return false;
		op->value_end = w->p;
		return true;
	}
	return skip(w, depth);
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

static bool patch_elem(struct jw *w, int depth, void *ctx)
{
	struct kh_rbac_object *o = ctx;
	struct patch_op op = {0};
	struct jw v;

	if (!peek(w, '{'))
		return skip(w, depth);
	if (!each_member(w, depth, op_member, &op))
		return false;
	if (!op.value || !(kstr__eq(op.op, "add") || kstr__eq(op.op, "replace")))
		return true;
	v = (struct jw){op.value, op.value_end};
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
	if (kstr__eq(op.path, "/roleRef") && peek(&v, '{'))
		return each_member(&v, depth, roleref_member, o);
	return true;
}

int rbac_json__read(struct kstr span, struct kh_rbac_object *out)
{
	struct jw w = {span.p, span.p + span.len};
	bool ok;

	memset(out, 0, sizeof(*out));
	if (!span.p) {
		out->flags |= KH_RBAC_PARTIAL;
		return -EINVAL;
	}
	if (peek(&w, '[')) {
		out->flags |= KH_RBAC_JSON_PATCH;
		ok = each_elem(&w, 0, patch_elem, out);
	} else {
		ok = peek(&w, '{') && each_member(&w, 0, object_member, out);
	}
	if (!ok) {
		out->flags |= KH_RBAC_PARTIAL;
		return -EINVAL;
	}
	return 0;
}
