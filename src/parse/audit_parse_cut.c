// SPDX-License-Identifier: Apache-2.0
/*
 * audit_parse__cut: an audit line whose middle the capture lost. Past its size cap the audit tap
 * keeps the head and the tail of a write, so a RequestResponse event of megabytes arrives as its
 * first bytes then directly its last ones. The head holds who did what (user, verb, objectRef,
 * sourceIPs, userAgent), the tail what the apiserver decided (stageTimestamp, annotations): both
 * are read, with audit_parse__line's own field readers (parse_internal.h).
 *
 * Head: parsed as a prefix. Every top-level member that completes before the cut is extracted as
 * audit_parse__line extracts it; the member the cut falls in is cleared (a number cut to "20" must
 * not read as 20); any syntax error other than running out of bytes rejects the line.
 *
 * Tail: the tail starts anywhere, often inside a string of a body. It is read backward from the
 * final '}' one top-level member at a time (value, ':', key, ','), which for JSON is exact: going
 * backward outside strings, a quote always closes a string, and its opening quote is the first
 * one to the left not escaped by an odd run of backslashes. The walk stops at the first member
 * that does not lie whole in the tail with its separating comma; the members it passed are then
 * parsed forward, after a forward check that they run cleanly to the end of the line. A quote is
 * only taken for a string's delimiter when the bytes before it in the tail settle that it is not
 * escaped: a quote at the tail's first byte, or after backslashes running back to it, might be
 * escaped by a lost backslash, so the walk stops there; and a key counts only with its comma in
 * the tail. So the cost of a cut is the members it destroyed plus at most the one member whose
 * key starts exactly where the tail does. Nested keys with the same names (a body's own
 * "annotations") never pass for top-level ones: the walk only ever steps over whole values.
 *
 * requestObject and responseObject are never located on a cut line (one of them is what was cut,
 * and a body that happens to be whole is no use without the other half of the line), and the
 * event is flagged KH_EV_TRUNCATED. A tail with no member to resynchronise on leaves the tail's
 * fields absent (no decision), never half read.
 */
#define _GNU_SOURCE /* memrchr */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "keyhole/audit_parse.h"
#include "parse/parse_internal.h"

/* ---- head ---------------------------------------------------------------------------------- */

/* the top-level member being read, so the one the cut falls in can be cleared */
struct head {
	struct audit_event *ev;
	char key[32]; /* longer keys are none the parser reads (requestReceivedTimestamp: 24) */
	size_t klen;
	bool in_value;
	bool kind_not_string; /* before this member */
};

static const char *head_field(struct pctx *c, const char *p, int depth, const char *k, size_t klen,
			      void *obj)
{
	struct head *h = obj;
	const char *r;

	h->klen = klen <= sizeof(h->key) ? klen : 0;
	memcpy(h->key, k, h->klen);
	h->kind_not_string = c->kind_not_string;
	h->in_value = true;
	r = audit_parse__top_field(c, p, depth, k, klen, h->ev);
	if (r)
		h->in_value = false;
	return r;
}

/*
 * Clear the member the cut fell in: the field readers treat a later value of the wrong type as
 * clearing their field, so reading this key again with the value null resets exactly what the
 * cut member may have half written.
 */
static void clear_cut_member(struct pctx *c, struct head *h)
{
	static const char null_value[] = "null";
	struct pctx n = {.line = null_value, .end = null_value + 4};

	audit_parse__top_field(&n, null_value, 1, h->key, h->klen, h->ev);
	c->kind_not_string = h->kind_not_string;
}

/* ---- tail, backward -------------------------------------------------------------------------- */

/*
 * Each function takes @q, one past the last byte of what it reads, and returns the first byte,
 * or NULL when that is not in [lo, q) or cannot be told from these bytes alone.
 */

static const char *rws(const char *lo, const char *q)
{
	while (q > lo && (q[-1] == ' ' || q[-1] == '\n' || q[-1] == '\r' || q[-1] == '\t'))
		q--;
	return q;
}

/* the opening quote of the string whose closing quote is q[-1] */
static const char *rstring(const char *lo, const char *q)
{
	q--;
	while (q > lo) {
		const char *b;

		q = memrchr(lo, '"', (size_t)(q - lo));
		if (!q)
			return NULL;
		for (b = q; b > lo && b[-1] == '\\'; b--)
			;
		if (b == lo) /* the quote, or its backslashes, start the tail: escaped or not? */
			return NULL;
		if ((q - b) % 2 == 0)
			return q;
	}
	return NULL;
}

/* an array or object ending with q[-1]: brackets are only counted, the forward check pairs them */
static const char *rcontainer(const char *lo, const char *q)
{
	size_t depth = 0;

	while (q > lo) {
		switch (*--q) {
		case '"':
			q = rstring(lo, q + 1);
			if (!q)
				return NULL;
			break;
		case '}':
		case ']':
			depth++;
			break;
		case '{':
		case '[':
			if (--depth == 0)
				return q;
			break;
		}
	}
	return NULL;
}

static bool is_number_byte(char ch)
{
	return (ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == '.' || ch == 'e' ||
	       ch == 'E';
}

static const char *rliteral(const char *lo, const char *q, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(q - lo) >= n && !memcmp(q - n, lit, n))
		return q - n;
	return NULL;
}

static const char *rvalue(const char *lo, const char *q)
{
	const char *s;

	if (q <= lo)
		return NULL;
	switch (q[-1]) {
	case '"':
		return rstring(lo, q);
	case '}':
	case ']':
		return rcontainer(lo, q);
	case 'e':
		s = rliteral(lo, q, "true");
		return s ? s : rliteral(lo, q, "false");
	case 'l':
		return rliteral(lo, q, "null");
	}
	for (s = q; s > lo && is_number_byte(s[-1]); s--)
		;
	return s < q ? s : NULL;
}

/*
 * The earliest top-level member of the tail [lo, end) that lies whole in it after a comma in it:
 * the opening quote of its key, or NULL.
 */
static const char *resync(const char *lo, const char *end)
{
	const char *q = rws(lo, end), *found = NULL;

	if (q <= lo || q[-1] != '}')
		return NULL;
	q--;
	for (;;) {
		const char *v, *k;

		v = rvalue(lo, rws(lo, q));
		if (!v)
			break;
		q = rws(lo, v);
		if (q <= lo || q[-1] != ':')
			break;
		q = rws(lo, q - 1);
		if (q <= lo || q[-1] != '"')
			break;
		k = rstring(lo, q);
		if (!k)
			break;
		q = rws(lo, k);
		if (q <= lo || q[-1] != ',')
			break;
		found = k;
		q--;
	}
	return found;
}

/* ---- tail, forward --------------------------------------------------------------------------- */

static const char *skip_field(struct pctx *c, const char *p, int depth, const char *k, size_t klen,
			      void *obj)
{
	(void)k, (void)klen, (void)obj;
	return audit_parse__skip_value(c, p, depth);
}

/* the members from @r run cleanly through the top-level '}' and the line's end */
static bool tail_checks_out(const char *line, const char *r, const char *end)
{
	struct pctx t = {.line = line, .end = end};
	const char *p = audit_parse__members(&t, r, 1, skip_field, NULL);

	return p && ws(p, end) == end;
}

/* ---- the line ------------------------------------------------------------------------------ */

/* the head [line, line + cut): 0 with its complete members in @ev, or -EINVAL */
static int parse_head(struct pctx *c, struct audit_event *ev, struct kh_parse_error *err)
{
	struct head h = {.ev = ev};
	const char *p = ws(c->line, c->end);

	if (p >= c->end)
		return audit_parse__reject(c, p, "nothing before the cut", err);
	if (*p != '{')
		return audit_parse__reject(c, p, "not a JSON object", err);
	p = audit_parse__object(c, p, 1, head_field, &h);
	if (p)
		return audit_parse__reject(c, p, "the object ends before the cut", err);
	if (!c->starved)
		return audit_parse__reject(c, c->err_at, c->reason, err);
	if (h.in_value)
		clear_cut_member(c, &h);
	return 0;
}

int audit_parse__cut(const char *line, size_t len, size_t cut, struct audit_event *ev,
		     struct kh_parse_error *err)
{
	struct pctx c = {.line = line, .end = line + (cut < len ? cut : len)};
	const char *r;
	int ret;

	audit_parse__event_reset(ev, line, len);
	if (len > UINT32_MAX)
		return audit_parse__reject(&c, line, "line longer than 4 GiB", err);
	if (cut == 0 || cut >= len)
		return audit_parse__reject(&c, c.end, "cut offset not inside the line", err);
	ret = parse_head(&c, ev, err);
	if (ret)
		return ret;
	if (!ev->audit_id.p)
		return audit_parse__reject(&c, line,
					   "not an audit event: no auditID before the cut", err);

	r = resync(line + cut, line + len);
	if (r && tail_checks_out(line, r, line + len)) {
		struct pctx t = {
		    .line = line, .end = line + len, .kind_not_string = c.kind_not_string};

		/* checked above, so this cannot fail; if it did, the event would be half read */
		if (!audit_parse__members(&t, r, 1, audit_parse__top_field, ev))
			return audit_parse__reject(&t, t.err_at, t.reason, err);
		c.kind_not_string = t.kind_not_string;
	}
	ev->request_object = ev->response_object = (struct kstr){0};
	ev->flags |= KH_EV_TRUNCATED;
	return audit_parse__finish(&c, ev, err);
}
