// SPDX-License-Identifier: Apache-2.0
/*
 * audit_parse__line: one pass over an audit.k8s.io Event line, filling a struct audit_event with
 * slices into the line (no copies, and no allocation but the kind stack of a value nested deeper
 * than 1024 levels).
 *
 * The whole line is validated as strict JSON (RFC 8259: no trailing commas, no control bytes in
 * strings, exact literals, nothing after the object), so the agent counts a malformed line
 * instead of acting on half of it. Keys are matched on their decoded form, so "\u0076erb" is
 * "verb". Unknown keys and nested values are skipped by structure at any depth (a bit per open
 * container, no recursion: a patch body nested 10,000 deep is audited as sent and must not hide
 * the event). String scanning finds the next quote, backslash or control byte 16 bytes at a time
 * (SSE2) because strings are nearly all of an audit line's bytes.
 *
 * Why this is not json_in's cursor (keyhole/json_in.h, the reader every other JSON reader uses):
 * this is the one reader that validates, and it must say where and why a line fails (and whether
 * more bytes could have made it valid, for the capture's cut lines), check every escape and
 * number as it passes, and keep pace with the apiserver. So it keeps its own validating scanners,
 * built on json_in's primitives: the vector string-stop scan (json_in__str_stop), hex digits and
 * whitespace are the same code; its strings decode with json_in__decode (through kstr).
 *
 * Duplicate keys: the last one wins, as in json-c (the differential oracle), and a later value of
 * the wrong type clears the field ({"verb":"get","verb":null} has no verb).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/audit_parse.h"
#include "keyhole/json_in.h"
#include "parse/parse_internal.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* record the first failure only: that is where the line went wrong */
static __attribute__((cold, noinline)) const char *fail(struct pctx *c, const char *at,
							const char *why)
{
	if (!c->reason) {
		c->err_at = at;
		c->reason = why;
		c->starved = at >= c->end;
	}
	return NULL;
}

/* a failure before the end that more bytes could still have made valid (a cut escape, literal) */
static __attribute__((cold, noinline)) const char *starve(struct pctx *c, const char *at,
							  const char *why)
{
	bool first = !c->reason;

	fail(c, at, why);
	if (first)
		c->starved = true;
	return NULL;
}

/* a \u escape at @p that is not 4 hex digits: cut short by the end, or simply bad */
static __attribute__((cold, noinline)) const char *bad_u_escape(struct pctx *c, const char *p)
{
	const char *q = p + 2;

	while (q < c->end && q < p + 6 && json_in__is_hex(*q))
		q++;
	if (q == c->end)
		return starve(c, p, "bad \\u escape in string");
	return fail(c, p, "bad \\u escape in string");
}

/* @p is just past the opening quote; returns just past the closing one, @out spans between */
static inline const char *scan_str(struct pctx *c, const char *p, struct kstr *out)
{
	const char *start = p, *end = c->end;
	uint32_t flags = 0;

	for (;;) {
		p = json_in__str_stop(p, end);
		if (unlikely(p >= end))
			return fail(c, p, "unterminated string");
		if (likely(*p == '"'))
			break;
		if (*p != '\\')
			return fail(c, p, "control character in string");
		if (end - p < 2)
			return starve(c, p, "unterminated string");
		switch (p[1]) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			p += 2;
			break;
		case 'u':
			if (end - p < 6 || !json_in__is_hex(p[2]) || !json_in__is_hex(p[3]) ||
			    !json_in__is_hex(p[4]) || !json_in__is_hex(p[5]))
				return bad_u_escape(c, p);
			p += 6;
			break;
		default:
			return fail(c, p, "bad escape in string");
		}
		flags = KSTR_ESCAPED;
	}
	out->p = start;
	out->len = (uint32_t)(p - start);
	out->flags = flags;
	return p + 1;
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 8259 number; *@is_int says it had neither fraction nor exponent */
static const char *scan_number(struct pctx *c, const char *p, bool *is_int)
{
	const char *end = c->end;

	*is_int = true;
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0') {
		p++;
	} else if (p < end && *p >= '1' && *p <= '9') {
		while (p < end && is_digit(*p))
			p++;
	} else {
		return fail(c, p, p < end ? "unexpected character" : "truncated number");
	}
	if (p < end && *p == '.') {
		*is_int = false;
		p++;
		if (p >= end || !is_digit(*p))
			return fail(c, p, "bad number fraction");
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		*is_int = false;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || !is_digit(*p))
			return fail(c, p, "bad number exponent");
		while (p < end && is_digit(*p))
			p++;
	}
	return p;
}

static const char *scan_literal(struct pctx *c, const char *p)
{
	static const char *const lits[] = {"true", "false", "null"};
	const char *lit = *p == 't' ? lits[0] : *p == 'f' ? lits[1] : lits[2];
	size_t n = strlen(lit);

	if ((size_t)(c->end - p) < n && !memcmp(p, lit, (size_t)(c->end - p)))
		return starve(c, p, "bad literal");
	if ((size_t)(c->end - p) < n || memcmp(p, lit, n))
		return fail(c, p, "bad literal");
	return p + n;
}

/*
 * The kinds (object or array) of the containers open inside a skipped value, one bit per level.
 * A body may nest as deep as its line is long (the apiserver audits a patch body as the client
 * sent it), so beyond the inline words the stack moves to the heap, a bit per level: at most an
 * eighth of the line, and only while such a line is read.
 */
struct kinds {
	uint64_t *w;
	size_t nw;
	uint64_t inl[16]; /* 1024 levels: every real body */
};

static __attribute__((cold, noinline)) bool kinds_grow(struct kinds *k)
{
	size_t nw = k->nw * 2;
	uint64_t *w = k->w == k->inl ? malloc(nw * sizeof(*w)) : realloc(k->w, nw * sizeof(*w));

	if (!w)
		return false;
	if (k->w == k->inl)
		memcpy(w, k->inl, sizeof(k->inl));
	k->w = w;
	k->nw = nw;
	return true;
}

/*
 * Skip an array or object at @p (its '[' or '{'), validating it, with no recursion and no depth
 * bound: the kind of the innermost open container is @obj, the kinds of those around it are bits
 * of @k, pushed on open and popped on close, so each byte is looked at once.
 */
static const char *skip_nested(struct pctx *c, const char *p, struct kinds *k)
{
	const char *end = c->end;
	size_t lvl = 0; /* open containers */
	bool obj = false;
	struct kstr s;
	bool is_int;

open:
	if (lvl) { /* save the kind of the container we step into a member of */
		if (unlikely((lvl - 1) >> 6 >= k->nw) && !kinds_grow(k))
			return fail(c, p, "out of memory for the nesting");
		if (obj)
			k->w[(lvl - 1) >> 6] |= 1ull << ((lvl - 1) & 63);
		else
			k->w[(lvl - 1) >> 6] &= ~(1ull << ((lvl - 1) & 63));
	}
	obj = *p == '{';
	lvl++;
	p = ws(p + 1, end);
	if (p >= end)
		return fail(c, p, "truncated");
	if (*p == (obj ? '}' : ']')) {
		p++;
		goto close;
	}
	if (!obj)
		goto value;
key:
	if (*p != '"')
		return fail(c, p, "expected a key");
	p = scan_str(c, p + 1, &s);
	if (!p)
		return NULL;
	p = ws(p, end);
	if (p >= end || *p != ':')
		return fail(c, p, "expected ':'");
	p = ws(p + 1, end);
	if (p >= end)
		return fail(c, p, "truncated");
value:
	switch (*p) {
	case '"':
		p = scan_str(c, p + 1, &s);
		break;
	case '{':
	case '[':
		goto open;
	case 't':
	case 'f':
	case 'n':
		p = scan_literal(c, p);
		break;
	default:
		p = scan_number(c, p, &is_int);
		break;
	}
	if (!p)
		return NULL;
next:
	p = ws(p, end);
	if (p >= end)
		return fail(c, p, "truncated");
	if (*p == ',') {
		p = ws(p + 1, end);
		if (p >= end)
			return fail(c, p, "truncated");
		if (obj)
			goto key;
		goto value;
	}
	if (*p != (obj ? '}' : ']'))
		return fail(c, p, "expected ',' or a closing bracket");
	p++;
close:
	if (--lvl == 0)
		return p;
	obj = k->w[(lvl - 1) >> 6] >> ((lvl - 1) & 63) & 1;
	goto next;
}

static const char *skip_container(struct pctx *c, const char *p)
{
	struct kinds k;
	const char *r;

	k.w = k.inl;
	k.nw = sizeof(k.inl) / sizeof(k.inl[0]);
	r = skip_nested(c, p, &k);
	if (k.w != k.inl)
		free(k.w);
	return r;
}

/* skip any value at @p (first byte, whitespace already skipped) inside a container at @depth */
static const char *skip_value(struct pctx *c, const char *p, int depth)
{
	struct kstr s;
	bool is_int;

	switch (*p) {
	case '"':
		return scan_str(c, p + 1, &s);
	case '{':
	case '[':
		(void)depth; /* a skipped value may nest to any depth */
		return skip_container(c, p);
	case 't':
	case 'f':
	case 'n':
		return scan_literal(c, p);
	default:
		return scan_number(c, p, &is_int);
	}
}

/* a string field: a value of another type clears it (last key wins, whatever its type) */
static inline const char *str_field(struct pctx *c, const char *p, int depth, struct kstr *out)
{
	if (likely(*p == '"'))
		return scan_str(c, p + 1, out);
	*out = (struct kstr){0};
	return skip_value(c, p, depth);
}

/*
 * Iterate the members of an object from @p (the first key's quote) through its '}', calling
 * @field with each decoded key and @p at the value; @field returns just past the value. Inlined
 * per object kind so @field is a direct call. Keys longer than any key we look for are passed as
 * "" (matches nothing).
 */
static inline __attribute__((always_inline)) const char *
parse_members(struct pctx *c, const char *p, int depth, field_fn field, void *obj)
{
	const char *end = c->end;
	char kbuf[64];
	struct kstr key;

	for (;;) {
		const char *k;
		size_t klen;

		if (unlikely(p >= end))
			return fail(c, p, "truncated object");
		if (unlikely(*p != '"'))
			return fail(c, p, "expected a key");
		p = scan_str(c, p + 1, &key);
		if (unlikely(!p))
			return NULL;
		k = key.p;
		klen = key.len;
		if (unlikely(key.flags & KSTR_ESCAPED)) {
			long n = kstr__decode(key, kbuf, sizeof(kbuf));

			k = kbuf;
			klen = n >= 0 && (size_t)n <= sizeof(kbuf) ? (size_t)n : 0;
		}
		p = ws(p, end);
		if (unlikely(p >= end || *p != ':'))
			return fail(c, p, "expected ':'");
		p = ws(p + 1, end);
		if (unlikely(p >= end))
			return fail(c, p, "truncated object");
		p = field(c, p, depth, k, klen, obj);
		if (unlikely(!p))
			return NULL;
		p = ws(p, end);
		if (unlikely(p >= end))
			return fail(c, p, "truncated object");
		if (*p == ',') {
			p = ws(p + 1, end);
			continue;
		}
		if (likely(*p == '}'))
			return p + 1;
		return fail(c, p, "expected ',' or '}'");
	}
}

/* the object at @p ('{'), as parse_members() */
static inline __attribute__((always_inline)) const char *
parse_object(struct pctx *c, const char *p, int depth, field_fn field, void *obj)
{
	if (depth > KH_PARSE_MAX_DEPTH)
		return fail(c, p, "nesting too deep");
	p = ws(p + 1, c->end);
	if (p < c->end && *p == '}')
		return p + 1;
	return parse_members(c, p, depth, field, obj);
}

#define KEY_IS(lit) (klen == sizeof(lit) - 1 && !memcmp(k, lit, sizeof(lit) - 1))

/*
 * A JSON array whose elements are kept positionally up to @cap: strings as slices, any other
 * element as an absent slice (so element i is json-c's element i); all are counted in *@total.
 */
static const char *str_array(struct pctx *c, const char *p, int depth, struct kstr *v, uint32_t cap,
			     uint32_t *n, uint32_t *total)
{
	const char *end = c->end;
	struct kstr s;

	*n = 0;
	*total = 0;
	if (*p != '[')
		return skip_value(c, p, depth);
	if (depth + 1 > KH_PARSE_MAX_DEPTH)
		return fail(c, p, "nesting too deep");
	p = ws(p + 1, end);
	if (p < end && *p == ']')
		return p + 1;
	for (;;) {
		if (p >= end)
			return fail(c, p, "truncated array");
		if (*p == '"') {
			p = scan_str(c, p + 1, &s);
		} else {
			s = (struct kstr){0};
			p = skip_value(c, p, depth + 1);
		}
		if (!p)
			return NULL;
		if (*n < cap)
			v[(*n)++] = s;
		(*total)++;
		p = ws(p, end);
		if (p >= end)
			return fail(c, p, "truncated array");
		if (*p == ',') {
			p = ws(p + 1, end);
			continue;
		}
		if (*p == ']')
			return p + 1;
		return fail(c, p, "expected ',' or ']'");
	}
}

static const char *extra_field(struct pctx *c, const char *p, int depth, const char *k, size_t klen,
			       void *obj)
{
	struct kh_user *u = obj;
	uint32_t n, total;
	struct kstr first;

	if (!KEY_IS("authentication.kubernetes.io/pod-name"))
		return skip_value(c, p, depth);
	p = str_array(c, p, depth, &first, 1, &n, &total);
	u->extra_pod_name = n ? first : (struct kstr){0};
	return p;
}

static const char *user_field(struct pctx *c, const char *p, int depth, const char *k, size_t klen,
			      void *obj)
{
	struct kh_user *u = obj;

	switch (klen) {
	case 3:
		if (KEY_IS("uid"))
			return str_field(c, p, depth, &u->uid);
		break;
	case 5:
		if (KEY_IS("extra")) {
			const char *start = p;

			u->extra_pod_name = u->extra = (struct kstr){0};
			if (*p != '{')
				return skip_value(c, p, depth);
			p = parse_object(c, p, depth + 1, extra_field, u);
			if (p) /* all of it goes to the alert (emit_extra.c) */
				u->extra = (struct kstr){start, (uint32_t)(p - start), 0};
			return p;
		}
		break;
	case 6:
		if (KEY_IS("groups"))
			return str_array(c, p, depth, u->groups.v, KH_MAX_GROUPS, &u->groups.n,
					 &u->groups.total);
		break;
	case 8:
		if (KEY_IS("username"))
			return str_field(c, p, depth, &u->username);
		break;
	}
	return skip_value(c, p, depth);
}

static const char *user_obj(struct pctx *c, const char *p, int depth, struct kh_user *u)
{
	u->username = u->uid = u->extra_pod_name = u->extra = (struct kstr){0};
	u->groups.n = u->groups.total = 0;
	u->present = 0;
	if (*p != '{')
		return skip_value(c, p, depth);
	u->present = 1;
	return parse_object(c, p, depth + 1, user_field, u);
}

static const char *objref_field(struct pctx *c, const char *p, int depth, const char *k,
				size_t klen, void *obj)
{
	struct kh_object_ref *r = obj;

	switch (klen) {
	case 4:
		if (KEY_IS("name"))
			return str_field(c, p, depth, &r->name);
		break;
	case 8:
		if (KEY_IS("resource"))
			return str_field(c, p, depth, &r->resource);
		if (KEY_IS("apiGroup"))
			return str_field(c, p, depth, &r->api_group);
		break;
	case 9:
		if (KEY_IS("namespace"))
			return str_field(c, p, depth, &r->namespace_);
		break;
	case 10:
		if (KEY_IS("apiVersion"))
			return str_field(c, p, depth, &r->api_version);
		break;
	case 11:
		if (KEY_IS("subresource"))
			return str_field(c, p, depth, &r->subresource);
		break;
	}
	return skip_value(c, p, depth);
}

/* an int32 from an integer literal; anything else (fraction, exponent, overflow) gives -1 */
static const char *int_field(struct pctx *c, const char *p, int depth, int32_t *out)
{
	const char *start = p;
	bool is_int;
	int64_t v = 0;
	bool neg;

	*out = -1;
	if (*p != '-' && !is_digit(*p))
		return skip_value(c, p, depth);
	p = scan_number(c, p, &is_int);
	if (!p || !is_int)
		return p;
	neg = *start == '-';
	for (const char *q = start + neg; q < p; q++) {
		v = v * 10 + (*q - '0');
		if (v > (int64_t)INT32_MAX + 1)
			return p;
	}
	v = neg ? -v : v;
	if (v >= INT32_MIN && v <= INT32_MAX)
		*out = (int32_t)v;
	return p;
}

static const char *status_field(struct pctx *c, const char *p, int depth, const char *k,
				size_t klen, void *obj)
{
	if (KEY_IS("code"))
		return int_field(c, p, depth, obj);
	return skip_value(c, p, depth);
}

static const char *annot_field(struct pctx *c, const char *p, int depth, const char *k, size_t klen,
			       void *obj)
{
	struct audit_event *ev = obj;

	if (klen > 20 && !memcmp(k, "authorization.k8s.io/", 21)) {
		if (KEY_IS("authorization.k8s.io/decision"))
			return str_field(c, p, depth, &ev->decision);
		if (KEY_IS("authorization.k8s.io/reason"))
			return str_field(c, p, depth, &ev->reason);
	}
	return skip_value(c, p, depth);
}

/* the raw span of a value located only, never decoded; null counts as absent */
static const char *span_field(struct pctx *c, const char *p, int depth, struct kstr *out)
{
	const char *start = p;

	*out = (struct kstr){0};
	p = skip_value(c, p, depth);
	if (p && !(p - start == 4 && !memcmp(start, "null", 4)))
		*out = (struct kstr){start, (uint32_t)(p - start), 0};
	return p;
}

static int64_t ts_ns(struct kstr s)
{
	char buf[64];
	long n;

	if (!s.p)
		return 0;
	if (!(s.flags & KSTR_ESCAPED))
		return audit_parse__rfc3339_ns(s.p, s.len);
	n = kstr__decode(s, buf, sizeof(buf));
	if (n < 0 || (size_t)n > sizeof(buf))
		return 0;
	return audit_parse__rfc3339_ns(buf, (size_t)n);
}

static const char *top_field(struct pctx *c, const char *p, int depth, const char *k, size_t klen,
			     void *obj)
{
	struct audit_event *ev = obj;

	switch (klen) {
	case 4:
		if (KEY_IS("verb"))
			return str_field(c, p, depth, &ev->verb);
		if (KEY_IS("user"))
			return user_obj(c, p, depth, &ev->user);
		if (KEY_IS("kind")) {
			c->kind_not_string = *p != '"';
			return str_field(c, p, depth, &ev->kind);
		}
		break;
	case 5:
		if (KEY_IS("stage"))
			return str_field(c, p, depth, &ev->stage);
		if (KEY_IS("level"))
			return str_field(c, p, depth, &ev->level);
		break;
	case 7:
		if (KEY_IS("auditID"))
			return str_field(c, p, depth, &ev->audit_id);
		break;
	case 9:
		if (KEY_IS("sourceIPs"))
			return str_array(c, p, depth, ev->source_ips.v, KH_MAX_SOURCE_IPS,
					 &ev->source_ips.n, &ev->source_ips.total);
		if (KEY_IS("userAgent"))
			return str_field(c, p, depth, &ev->user_agent);
		if (KEY_IS("timestamp"))
			return str_field(c, p, depth, &ev->legacy_timestamp);
		if (KEY_IS("objectRef")) {
			ev->object_ref = (struct kh_object_ref){0};
			ev->object_ref_present = *p == '{';
			if (*p != '{')
				return skip_value(c, p, depth);
			return parse_object(c, p, depth + 1, objref_field, &ev->object_ref);
		}
		break;
	case 10:
		if (KEY_IS("requestURI"))
			return str_field(c, p, depth, &ev->request_uri);
		if (KEY_IS("apiVersion"))
			return str_field(c, p, depth, &ev->api_version);
		break;
	case 11:
		if (KEY_IS("annotations")) {
			ev->decision = ev->reason = (struct kstr){0};
			if (*p != '{')
				return skip_value(c, p, depth);
			return parse_object(c, p, depth + 1, annot_field, ev);
		}
		break;
	case 13:
		if (KEY_IS("requestObject"))
			return span_field(c, p, depth, &ev->request_object);
		break;
	case 14:
		if (KEY_IS("stageTimestamp"))
			return str_field(c, p, depth, &ev->stage_timestamp);
		if (KEY_IS("responseObject"))
			return span_field(c, p, depth, &ev->response_object);
		if (KEY_IS("responseStatus")) {
			ev->response_code = -1;
			if (*p != '{')
				return skip_value(c, p, depth);
			return parse_object(c, p, depth + 1, status_field, &ev->response_code);
		}
		break;
	case 16:
		if (KEY_IS("impersonatedUser"))
			return user_obj(c, p, depth, &ev->impersonated_user);
		break;
	case 24:
		if (KEY_IS("requestReceivedTimestamp"))
			return str_field(c, p, depth, &ev->request_received_timestamp);
		break;
	}
	return skip_value(c, p, depth);
}

void audit_parse__event_reset(struct audit_event *ev, const char *line, size_t len)
{
	/* the list arrays are not cleared: only their first n entries are ever read */
	ev->line = line;
	ev->len = len;
	ev->kind = ev->api_version = ev->level = ev->audit_id = ev->stage = (struct kstr){0};
	ev->request_uri = ev->verb = ev->user_agent = (struct kstr){0};
	ev->user.username = ev->user.uid = ev->user.extra_pod_name = (struct kstr){0};
	ev->user.extra = ev->impersonated_user.extra = (struct kstr){0};
	ev->user.groups.n = ev->user.groups.total = 0;
	ev->user.present = 0;
	ev->impersonated_user.username = ev->impersonated_user.uid = (struct kstr){0};
	ev->impersonated_user.extra_pod_name = (struct kstr){0};
	ev->impersonated_user.groups.n = ev->impersonated_user.groups.total = 0;
	ev->impersonated_user.present = 0;
	ev->source_ips.n = ev->source_ips.total = 0;
	ev->object_ref = (struct kh_object_ref){0};
	ev->object_ref_present = 0;
	ev->response_code = -1;
	ev->request_received_timestamp = ev->stage_timestamp = (struct kstr){0};
	ev->legacy_timestamp = (struct kstr){0};
	ev->request_received_ns = ev->stage_ns = 0;
	ev->decision = ev->reason = (struct kstr){0};
	ev->request_object = ev->response_object = (struct kstr){0};
	ev->flags = 0;
}

int audit_parse__reject(const struct pctx *c, const char *at, const char *why,
			struct kh_parse_error *err)
{
	if (err) {
		err->offset = (size_t)(at - c->line);
		err->reason = why;
	}
	return -EINVAL;
}

int audit_parse__finish(const struct pctx *c, struct audit_event *ev, struct kh_parse_error *err)
{
	if (!ev->audit_id.p)
		return audit_parse__reject(c, c->line, "not an audit event: no auditID", err);
	if (c->kind_not_string || (ev->kind.p && !kstr__eq(ev->kind, "Event")))
		return audit_parse__reject(c, c->line, "not an audit event: kind is not \"Event\"",
					   err);
	ev->request_received_ns = ts_ns(ev->request_received_timestamp);
	ev->stage_ns = ts_ns(ev->stage_timestamp);
	/* pre-v1 events carry one "timestamp": it is their received time */
	if (!ev->request_received_ns && !ev->stage_ns)
		ev->request_received_ns = ts_ns(ev->legacy_timestamp);
	return 0;
}

int audit_parse__line(const char *line, size_t len, struct audit_event *ev,
		      struct kh_parse_error *err)
{
	struct pctx c = {.line = line, .end = line + len};
	const char *p;

	audit_parse__event_reset(ev, line, len);
	if (len > UINT32_MAX)
		return audit_parse__reject(&c, line, "line longer than 4 GiB", err);
	p = ws(line, c.end);
	if (p >= c.end)
		return audit_parse__reject(&c, p, "empty line", err);
	if (*p != '{')
		return audit_parse__reject(&c, p, "not a JSON object", err);
	p = parse_object(&c, p, 1, top_field, ev);
	if (!p)
		return audit_parse__reject(&c, c.err_at, c.reason, err);
	p = ws(p, c.end);
	if (p != c.end)
		return audit_parse__reject(&c, p, "trailing data after the object", err);
	return audit_parse__finish(&c, ev, err);
}

/* ---- for audit_parse_cut.c (parse_internal.h): out-of-line entries to the readers above ---- */

const char *audit_parse__object(struct pctx *c, const char *p, int depth, field_fn field, void *obj)
{
	return parse_object(c, p, depth, field, obj);
}

const char *audit_parse__members(struct pctx *c, const char *p, int depth, field_fn field,
				 void *obj)
{
	return parse_members(c, p, depth, field, obj);
}

const char *audit_parse__skip_value(struct pctx *c, const char *p, int depth)
{
	return skip_value(c, p, depth);
}

const char *audit_parse__top_field(struct pctx *c, const char *p, int depth, const char *k,
				   size_t klen, void *ev)
{
	return top_field(c, p, depth, k, klen, ev);
}

/* ---- RFC 3339 timestamps ------------------------------------------------------------------- */

static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* days since 1970-01-01 of a proleptic Gregorian date (the era arithmetic of civil calendars) */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

long long audit_parse__rfc3339_ns(const char *s, size_t len)
{
	int y, mo, d, h, mi, sec, off = 0;
	int64_t frac = 0, secs, ns;
	size_t i = 19;

	/* YYYY-MM-DDTHH:MM:SS is 19 bytes, then [.frac] and Z or +HH:MM */
	if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':')
		return 0;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return 0;
	if (s[i] == '.') {
		int nd = 0;

		for (i++; i < len && is_digit(s[i]); i++, nd++)
			if (nd < 9)
				frac = frac * 10 + (s[i] - '0');
		if (nd == 0)
			return 0;
		for (; nd < 9; nd++)
			frac *= 10;
	}
	if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z')) {
		off = 0;
	} else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
		int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);

		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return 0;
		off = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
	} else {
		return 0;
	}
	/*
	 * Only 1970 up to 2200: every rule subtracts and adds event times and windows, which then
	 * cannot overflow (two such times differ by less than INT64_MAX, and 60 years of headroom
	 * stay above the last). An audit event from outside that span is a broken clock or a forged
	 * line; its time counts as absent, as an unparsable one does.
	 */
	if (y < 1970 || y >= 2200)
		return 0;
	secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	if (__builtin_mul_overflow(secs, (int64_t)1000000000, &ns) ||
	    __builtin_add_overflow(ns, frac, &ns) || ns <= 0)
		return 0;
	return ns;
}
