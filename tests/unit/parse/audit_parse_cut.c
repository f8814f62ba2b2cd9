// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/parse/audit_parse_cut.c: audit lines with bodies of 500 KB to 5 MB (real events
 * from tests/data and the shared samples with a body grown inside them, and generated ones) lose
 * their middle at many places, the way the audit tap cuts a line over its cap, and every field is
 * checked against audit_parse__line() on the whole line:
 *   - a field whose top-level member ends before the cut is the same slice as on the whole line;
 *   - a field whose member comes after the resync point is the same slice, shifted by the hole;
 *   - every other field is absent (never a half-read value), the bodies are never located.
 * Where the members are and where the parser may resynchronise (the first top-level key behind
 * a comma that lies in the tail) is worked out by a separate forward scanner written here, not by
 * the parser's backward walk. Cuts: every byte of the head's first few KB, every byte of the
 * tail's last few KB (so inside the timestamps, right at and inside the annotations), and random
 * ones inside the bodies, aimed at escapes, backslash runs and quotes. Then the whole pipeline:
 * a suspicious-UA secret read with a 2 MB response, cut like the tap cuts it, still alerts with
 * its decision.
 */
#define _GNU_SOURCE
#include <json-c/json.h>

#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/audit_parse.h"
#include "keyhole/pipeline.h"

/* the tap's defaults (include/keyhole/ring_abi.h on the tap branch): 1 MB cap, 64 KB of tail */
#define TAP_CAP (1u << 20)
#define TAP_TAIL (64u << 10)

/* ---- a growable byte buffer ---------------------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		cr_assert_not_null(b->p);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static __attribute__((format(printf, 2, 3))) void putf(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	cr_assert(n >= 0 && (size_t)n < sizeof(tmp));
	put(b, tmp, (size_t)n);
}

/* ---- generated bodies ---------------------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/*
 * JSON string contents that make a resync hard: escaped quotes and backslash runs (a tail that
 * starts inside one cannot tell its parity), \u escapes, raw UTF-8, and text that looks like the
 * event's own keys when read without knowing it is inside a string.
 */
static const char *const tricky[] = {
    "plain words",
    "a \\\"quoted\\\" word",
    "backslash \\\\ then a run \\\\\\\\\\\" and on",
    "\\u003chtml\\u003e \\u0026amp; caf\\u00e9 \\u2028",
    "tab\\there newline\\n slash\\/ cr\\r",
    ",\\\"annotations\\\":{\\\"authorization.k8s.io/decision\\\":\\\"deny\\\"}}",
    "{\\\"stageTimestamp\\\":\\\"1999-01-01T00:00:00.000000Z\\\",\\\"verb\\\":\\\"delete\\\"}",
    "ends in an escaped backslash \\\\",
    "\\\\",
    "\\\"",
    "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x94\x91",
    "\\\"},\\\"auditID\\\":\\\"decoy\\\",\\\"x\\\":\\\"",
};

static void put_base64(struct buf *b, size_t n)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char chunk[256];

	while (n) {
		size_t k = n < sizeof(chunk) ? n : sizeof(chunk);

		for (size_t i = 0; i < k; i++)
			chunk[i] = b64[rnd(64)];
		put(b, chunk, k);
		n -= k;
	}
	puts_(b, "==");
}

/*
 * A Secret-list-like object of about @target bytes. Its items carry nested keys named like the
 * event's top-level ones (annotations with a deny decision, stageTimestamp, auditID, verb), so a
 * resync that is not strictly top-level would read a wrong decision.
 */
static void put_body(struct buf *b, size_t target)
{
	size_t start = b->len;
	unsigned i = 0;

	puts_(b,
	      "{\"kind\":\"SecretList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":"
	      "\"4711\",\"annotations\":{\"authorization.k8s.io/decision\":\"deny\"}},\"items\":[");
	while (b->len - start < target) {
		if (i)
			puts_(b, ",");
		putf(b,
		     "{\"metadata\":{\"name\":\"item-%u\",\"annotations\":{"
		     "\"authorization.k8s.io/decision\":\"deny\",\"note\":\"%s\"}},"
		     "\"stageTimestamp\":\"1999-01-01T00:00:00.000000Z\",\"auditID\":\"decoy-%u\","
		     "\"verb\":\"delete\",\"data\":{\"key-%u\":\"",
		     i, tricky[rnd(sizeof(tricky) / sizeof(tricky[0]))], i, i);
		put_base64(b, 16 + rnd(6000));
		putf(b, "\",\"e\":\"%s%s\"},\"n\":[-1.5e3,0,true,false,null,{},[],[[{\"a\":[]}]]]}",
		     tricky[rnd(sizeof(tricky) / sizeof(tricky[0]))],
		     tricky[rnd(sizeof(tricky) / sizeof(tricky[0]))]);
		i++;
	}
	puts_(b, "]}");
}

/* ---- where the top-level members are: a plain forward scan, independent of the parser ------- */

#define NO_COMMA SIZE_MAX
#define MAX_MEMBERS 48

struct member {
	char key[32];
	size_t start;	  /* the key's opening quote */
	size_t comma;	  /* the comma before the key, NO_COMMA for the first member */
	size_t value;	  /* first byte of the value */
	size_t value_end; /* one past its last byte */
};

struct layout {
	struct member m[MAX_MEMBERS];
	size_t n;
};

static void scan_members(const char *l, size_t len, struct layout *lay)
{
	size_t depth = 0, last = 0, comma = NO_COMMA;
	bool in_str = false, esc = false, want_key = false, want_value = false;
	struct member *cur = NULL;

	lay->n = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = l[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (ch == '\\')
				esc = true;
			else if (ch == '"')
				in_str = false, last = i + 1;
			continue;
		}
		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
			continue;
		if (depth == 1 && want_key && ch == '"') {
			size_t k = 0;

			cr_assert(lay->n < MAX_MEMBERS);
			cur = &lay->m[lay->n++];
			*cur = (struct member){.start = i, .comma = comma};
			for (size_t j = i + 1; l[j] != '"' && k < sizeof(cur->key) - 1; j++)
				cur->key[k++] = l[j];
			want_key = false;
			in_str = true;
			continue;
		}
		if (depth == 1 && want_value) {
			cur->value = i;
			want_value = false;
		}
		switch (ch) {
		case '"':
			in_str = true;
			break;
		case ':':
			want_value = depth == 1;
			break;
		case ',':
			if (depth == 1) {
				cur->value_end = last;
				want_key = true;
				comma = i;
			}
			break;
		case '{':
		case '[':
			if (depth++ == 0)
				want_key = true;
			break;
		case '}':
		case ']':
			if (depth == 1 && cur)
				cur->value_end = last;
			depth--;
			last = i + 1;
			break;
		default:
			last = i + 1;
		}
	}
}

static const struct member *member(const struct layout *lay, const char *key)
{
	const struct member *found = NULL;

	for (size_t i = 0; i < lay->n; i++) {
		if (strcmp(lay->m[i].key, key))
			continue;
		cr_assert_null(found, "test lines have one member per key (%s twice)", key);
		found = &lay->m[i];
	}
	return found;
}

/* ---- one cut, checked field by field --------------------------------------------------------- */

enum where { GONE, HEAD, TAIL };

struct cut {
	const char *line; /* the whole line */
	size_t len;
	const struct layout *lay;
	const struct audit_event *whole; /* audit_parse__line() of the whole line */
	size_t h, t;			 /* head [0, h) and tail [t, len) are kept */
	const char *b;			 /* the cut line: head then tail */
	const char *what;
};

static enum where where_is(const struct cut *c, const char *key)
{
	const struct member *m = member(c->lay, key);
	size_t first_tail = c->lay->n;

	if (!m)
		return GONE;
	if (m->value_end <= c->h)
		return HEAD;
	for (size_t i = 0; i < c->lay->n; i++) {
		if (c->lay->m[i].comma != NO_COMMA && c->lay->m[i].comma >= c->t) {
			first_tail = i;
			break;
		}
	}
	return (size_t)(m - c->lay->m) >= first_tail ? TAIL : GONE;
}

#define FAIL(c, ...)                                                                               \
	cr_assert_fail("%s, cut [%zu, %zu) of %zu bytes: %s", (c)->what, (c)->h, (c)->t, (c)->len, \
		       __VA_ARGS__)

static void cmp_kstr(const struct cut *c, enum where w, const char *field, struct kstr got,
		     struct kstr want)
{
	size_t off;

	if (w == GONE || !want.p) {
		if (got.p)
			FAIL(c, "field is gone, parser has one");
		(void)field;
		return;
	}
	if (!got.p) {
		cr_log_error("%s absent", field);
		FAIL(c, field);
	}
	off = (size_t)(got.p - c->b);
	if (w == TAIL)
		off += c->t - c->h;
	if (off != (size_t)(want.p - c->line) || got.len != want.len || got.flags != want.flags) {
		cr_log_error("%s: at %zu len %u, whole line: at %zu len %u", field, off, got.len,
			     (size_t)(want.p - c->line), want.len);
		FAIL(c, field);
	}
}

static void cmp_user(const struct cut *c, enum where w, const char *field,
		     const struct kh_user *got, const struct kh_user *want)
{
	uint32_t n = w == GONE ? 0 : want->groups.n;

	if (got->present != (w == GONE ? 0 : want->present) || got->groups.n != n ||
	    got->groups.total != (w == GONE ? 0 : want->groups.total)) {
		cr_log_error("%s: present %d groups %u/%u", field, got->present, got->groups.n,
			     got->groups.total);
		FAIL(c, field);
	}
	cmp_kstr(c, w, field, got->username, want->username);
	cmp_kstr(c, w, field, got->uid, want->uid);
	cmp_kstr(c, w, field, got->extra_pod_name, want->extra_pod_name);
	for (uint32_t i = 0; i < n; i++)
		cmp_kstr(c, w, field, got->groups.v[i], want->groups.v[i]);
}

static void cmp_event(const struct cut *c, const struct audit_event *ev)
{
	const struct audit_event *W = c->whole;
	enum where w;

	cr_assert(ev->flags & KH_EV_TRUNCATED, "%s: not flagged truncated", c->what);
	cr_assert(!ev->request_object.p && !ev->response_object.p, "%s: a body was located",
		  c->what);
	cmp_kstr(c, where_is(c, "kind"), "kind", ev->kind, W->kind);
	cmp_kstr(c, where_is(c, "apiVersion"), "apiVersion", ev->api_version, W->api_version);
	cmp_kstr(c, where_is(c, "level"), "level", ev->level, W->level);
	cmp_kstr(c, where_is(c, "auditID"), "auditID", ev->audit_id, W->audit_id);
	cmp_kstr(c, where_is(c, "stage"), "stage", ev->stage, W->stage);
	cmp_kstr(c, where_is(c, "requestURI"), "requestURI", ev->request_uri, W->request_uri);
	cmp_kstr(c, where_is(c, "verb"), "verb", ev->verb, W->verb);
	cmp_user(c, where_is(c, "user"), "user", &ev->user, &W->user);
	cmp_user(c, where_is(c, "impersonatedUser"), "impersonatedUser", &ev->impersonated_user,
		 &W->impersonated_user);
	w = where_is(c, "sourceIPs");
	if (ev->source_ips.n != (w == GONE ? 0 : W->source_ips.n) ||
	    ev->source_ips.total != (w == GONE ? 0 : W->source_ips.total))
		FAIL(c, "sourceIPs count");
	for (uint32_t i = 0; i < ev->source_ips.n; i++)
		cmp_kstr(c, w, "sourceIPs[i]", ev->source_ips.v[i], W->source_ips.v[i]);
	cmp_kstr(c, where_is(c, "userAgent"), "userAgent", ev->user_agent, W->user_agent);
	w = where_is(c, "objectRef");
	if (ev->object_ref_present != (w == GONE ? 0 : W->object_ref_present))
		FAIL(c, "objectRef present");
	cmp_kstr(c, w, "objectRef.resource", ev->object_ref.resource, W->object_ref.resource);
	cmp_kstr(c, w, "objectRef.subresource", ev->object_ref.subresource,
		 W->object_ref.subresource);
	cmp_kstr(c, w, "objectRef.namespace", ev->object_ref.namespace_, W->object_ref.namespace_);
	cmp_kstr(c, w, "objectRef.name", ev->object_ref.name, W->object_ref.name);
	cmp_kstr(c, w, "objectRef.apiGroup", ev->object_ref.api_group, W->object_ref.api_group);
	cmp_kstr(c, w, "objectRef.apiVersion", ev->object_ref.api_version,
		 W->object_ref.api_version);
	w = where_is(c, "responseStatus");
	if (ev->response_code != (w == GONE ? -1 : W->response_code)) {
		cr_log_error("responseStatus.code %d, whole line %d", ev->response_code,
			     W->response_code);
		FAIL(c, "responseStatus.code");
	}
	w = where_is(c, "requestReceivedTimestamp");
	cmp_kstr(c, w, "requestReceivedTimestamp", ev->request_received_timestamp,
		 W->request_received_timestamp);
	/* with both v1 times lost, a pre-v1 "timestamp" still standing is the time */
	if (ev->request_received_ns !=
	    (w == GONE
		 ? (ev->stage_ns || !ev->legacy_timestamp.p
			? 0
			: audit_parse__rfc3339_ns(ev->legacy_timestamp.p, ev->legacy_timestamp.len))
		 : W->request_received_ns))
		FAIL(c, "requestReceivedTimestamp ns");
	w = where_is(c, "stageTimestamp");
	cmp_kstr(c, w, "stageTimestamp", ev->stage_timestamp, W->stage_timestamp);
	if (ev->stage_ns != (w == GONE ? 0 : W->stage_ns))
		FAIL(c, "stageTimestamp ns");
	w = where_is(c, "annotations");
	cmp_kstr(c, w, "annotations decision", ev->decision, W->decision);
	cmp_kstr(c, w, "annotations reason", ev->reason, W->reason);
}

/* cut [h, t) out of the line in @c and check the parse; the cut line is built in @scratch */
static void check_cut(struct cut *c, size_t h, size_t t, struct buf *scratch)
{
	struct kh_parse_error err = {0};
	struct audit_event ev;
	int rc;

	cr_assert(h > 0 && h < t && t <= c->len);
	c->h = h;
	c->t = t;
	scratch->len = 0;
	put(scratch, c->line, h);
	put(scratch, c->line + t, c->len - t);
	c->b = scratch->p;
	rc = audit_parse__cut(scratch->p, scratch->len, h, &ev, &err);
	if (where_is(c, "auditID") != HEAD) {
		if (rc != -EINVAL)
			FAIL(c, "accepted without an auditID before the cut");
		cr_assert_not_null(err.reason);
		return;
	}
	if (rc != 0) {
		cr_log_error("rejected at %zu: %s", err.offset, err.reason);
		FAIL(c, "a cut apiserver line must parse");
	}
	cmp_event(c, &ev);
}

/* the same, with the head kept across calls: only the tail is copied again */
static void check_tail_cut(struct cut *c, size_t h, size_t t, struct buf *scratch)
{
	struct kh_parse_error err = {0};
	struct audit_event ev;

	if (scratch->len < h || c->h != h || c->b != scratch->p) {
		check_cut(c, h, t, scratch);
		return;
	}
	c->t = t;
	scratch->len = h;
	put(scratch, c->line + t, c->len - t);
	c->b = scratch->p;
	cr_assert_eq(audit_parse__cut(scratch->p, scratch->len, h, &ev, &err), 0,
		     "%s: cut [%zu, %zu) rejected at %zu: %s", c->what, h, t, err.offset,
		     err.reason);
	cmp_event(c, &ev);
}

/* ---- lines --------------------------------------------------------------------------------- */

static char *read_line(const char *path, int n)
{
	FILE *f = fopen(path, "r");
	char *l = NULL;
	size_t cap = 0;
	ssize_t len = -1;

	cr_assert_not_null(f, "%s: %m", path);
	for (int i = 0; i < n; i++)
		len = getline(&l, &cap, f);
	fclose(f);
	cr_assert(len > 0, "%s has no line %d", path, n);
	if (l[len - 1] == '\n')
		l[len - 1] = '\0';
	return l;
}

static const char *samples_dir(void)
{
	const char *env = getenv("KH_SAMPLES_DIR");

	return env && *env ? env : KH_SAMPLES_DIR;
}

/* grow each body of @line (requestObject, responseObject) by a member of about @grow bytes */
static char *grow_bodies(const char *line, size_t grow)
{
	struct layout lay;
	struct buf b = {0};
	size_t from = 0, len = strlen(line);

	scan_members(line, len, &lay);
	for (size_t i = 0; i < lay.n; i++) {
		const struct member *m = &lay.m[i];

		if (strcmp(m->key, "requestObject") && strcmp(m->key, "responseObject"))
			continue;
		if (line[m->value] != '{')
			continue;
		put(&b, line + from, m->value + 1 - from);
		puts_(&b, "\"kh-test-padding\":");
		put_body(&b, grow);
		puts_(&b, line[m->value + 1] == '}' ? "" : ",");
		from = m->value + 1;
	}
	cr_assert(from > 0, "no body to grow in %.200s", line);
	put(&b, line + from, len - from);
	return b.p;
}

/* an event as kube-apiserver writes it (Go's field order), with a generated body of @body bytes */
static char *generated_line(size_t body)
{
	struct buf b = {0};

	puts_(
	    &b,
	    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"RequestResponse\","
	    "\"auditID\":\"0d3d2b2e-8f1c-4b8e-9a61-5e0f2c7d9a11\",\"stage\":\"ResponseComplete\","
	    "\"requestURI\":\"/api/v1/namespaces/payments/secrets?limit=500\",\"verb\":\"list\","
	    "\"user\":{\"username\":\"system:serviceaccount:ci:deployer\",\"uid\":\"5d1f\","
	    "\"groups\":[\"system:serviceaccounts\",\"system:serviceaccounts:ci\","
	    "\"system:authenticated\"],\"extra\":{\"authentication.kubernetes.io/pod-name\":"
	    "[\"ci-runner-7\"],\"authentication.kubernetes.io/credential-id\":[\"JTI=9\"]}},"
	    "\"impersonatedUser\":{\"username\":\"bob\",\"groups\":[\"dev\"]},"
	    "\"sourceIPs\":[\"203.0.113.66\",\"10.0.0.1\"],"
	    "\"userAgent\":\"python-requests/2.31.0 \\u003cscan\\u003e\","
	    "\"objectRef\":{\"resource\":\"secrets\",\"namespace\":\"payments\","
	    "\"apiVersion\":\"v1\"},\"responseStatus\":{\"metadata\":{},\"code\":200},"
	    "\"requestObject\":{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"x\":\"\\\\\"},"
	    "\"responseObject\":");
	put_body(&b, body);
	puts_(&b,
	      ",\"requestReceivedTimestamp\":\"2026-11-23T19:06:46.123456Z\","
	      "\"stageTimestamp\":\"2026-11-23T19:06:46.834567Z\",\"annotations\":{"
	      "\"authorization.k8s.io/decision\":\"allow\",\"authorization.k8s.io/reason\":"
	      "\"RBAC: allowed by ClusterRoleBinding \\\"ci\\\" of ClusterRole \\\"admin\\\" to "
	      "ServiceAccount \\\"deployer/ci\\\"\",\"pod-security.kubernetes.io/enforce-policy\":"
	      "\"privileged:latest\"}}");
	return b.p;
}

/* ---- the cuts ------------------------------------------------------------------------------ */

struct stats {
	size_t cuts;
};

static size_t pick_escape(const char *l, size_t lo, size_t hi)
{
	size_t at = lo + rnd((uint32_t)(hi - lo));
	const char *p = memchr(l + at, rnd(2) ? '\\' : '"', hi - at);

	return p ? (size_t)(p - l) + rnd(3) : at;
}

/*
 * Cut @line at many places and check each: the tap's own shape, every byte of the head's start
 * and of the tail's end, and random cuts inside the bodies.
 */
static void cut_everywhere(const char *what, const char *line, size_t random_cuts, struct stats *st)
{
	size_t len = strlen(line), body_lo = 0, body_hi = 0;
	struct kh_parse_error err = {0};
	struct buf scratch = {0};
	struct audit_event whole;
	struct layout lay;
	struct cut c = {.line = line, .len = len, .lay = &lay, .whole = &whole, .what = what};
	const struct member *m;
	size_t h, t;

	cr_assert_eq(audit_parse__line(line, len, &whole, &err), 0,
		     "%s: the whole line must parse: %s", what, err.reason);
	scan_members(line, len, &lay);
	for (size_t i = 0; i < lay.n; i++) {
		m = &lay.m[i];
		if (!strcmp(m->key, "requestObject") || !strcmp(m->key, "responseObject")) {
			body_lo = body_lo ? body_lo : m->value;
			body_hi = m->value_end;
		}
	}
	cr_assert(body_hi - body_lo >= 400000, "%s: bodies of %zu bytes", what, body_hi - body_lo);

	/* the tap: a 1 MB cap keeps cap - 64 KB of head and 64 KB of tail */
	h = len > TAP_CAP ? TAP_CAP - TAP_TAIL : len / 2;
	check_cut(&c, h, len - TAP_TAIL, &scratch);
	st->cuts++;

	/* every byte of the head's first 3 KB (the tail as the tap keeps it) */
	for (h = 1; h < 3000; h++, st->cuts++)
		check_cut(&c, h, len - TAP_TAIL, &scratch);

	/* every byte of the tail's last 3 KB, after a head that ends inside the first body */
	h = body_lo + 5000;
	check_cut(&c, h, len - 3000, &scratch);
	for (t = len - 3000; t < len; t++, st->cuts++)
		check_tail_cut(&c, h, t, &scratch);

	/* random holes inside the bodies, ending on escapes and quotes */
	for (size_t i = 0; i < random_cuts; i++, st->cuts++) {
		h = body_lo + 1 + rnd((uint32_t)(body_hi - body_lo - 2));
		t = pick_escape(line, h + 1, body_hi);
		check_cut(&c, h, t < len ? t : len - 1, &scratch);
	}
	free(scratch.p);
}

Test(audit_parse_cut, real_events_grown_to_megabytes_cut_everywhere, .timeout = 300)
{
	char path[4096];
	struct stats st = {0};
	struct {
		const char *file; /* under tests/data or tests/data/audit-samples */
		int line;
		size_t grow;
		size_t random_cuts;
	} real[] = {
	    /* Go's field order: a Secret get at RequestResponse level */
	    {KH_TEST_DATA_DIR "/secret-markers.log", 2, 5u << 20, 60},
	    /* alphabetical keys (the annotations come first), both bodies */
	    {"falco-k8s-audit/create_configmap_sensitive_values.jsonl", 1, 300u << 10, 200},
	    /* a pod create by the replicaset controller, v1beta1-era fields */
	    {"falco-psp/privileged.jsonl", 1, 1u << 20, 100},
	    /* Go's field order, both bodies: a Secret created with curl */
	    {KH_TEST_DATA_DIR "/secret-markers.log", 20, 1u << 20, 200},
	};

	for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
		char *line, *big;

		if (real[i].file[0] == '/')
			snprintf(path, sizeof(path), "%s", real[i].file);
		else
			snprintf(path, sizeof(path), "%s/%s", samples_dir(), real[i].file);
		line = read_line(path, real[i].line);
		big = grow_bodies(line, real[i].grow);
		cut_everywhere(path, big, real[i].random_cuts, &st);
		free(big);
		free(line);
	}
	cr_log_info("%zu cuts checked", st.cuts);
}

Test(audit_parse_cut, generated_events_cut_everywhere, .timeout = 300)
{
	static const size_t sizes[] = {500u << 10, 1u << 20, 2u << 20, 5u << 20};
	struct stats st = {0};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *line = generated_line(sizes[i]);

		cut_everywhere("generated", line, sizes[i] > (2u << 20) ? 60 : 200, &st);
		free(line);
	}
	cr_log_info("%zu cuts checked", st.cuts);
}

/* ---- named cases: the annotations' edge, the head's limits, rejections ---------------------- */

struct named {
	char *line;
	size_t len;
	struct layout lay;
	struct audit_event ev;
	struct buf b;
};

static int cut_named(struct named *n, size_t h, size_t t)
{
	struct kh_parse_error err = {0};

	n->b.len = 0;
	put(&n->b, n->line, h);
	put(&n->b, n->line + t, n->len - t);
	return audit_parse__cut(n->b.p, n->b.len, h, &n->ev, &err);
}

static struct named *named_new(void)
{
	struct named *n = calloc(1, sizeof(*n));

	cr_assert_not_null(n);
	n->line = generated_line(600u << 10);
	n->len = strlen(n->line);
	scan_members(n->line, n->len, &n->lay);
	return n;
}

static void named_free(struct named *n)
{
	free(n->b.p);
	free(n->line);
	free(n);
}

Test(audit_parse_cut, the_edge_of_the_annotations)
{
	struct named *n = named_new();
	const struct member *a = member(&n->lay, "annotations");
	const struct member *st = member(&n->lay, "stageTimestamp");
	size_t h = 100000;

	cr_assert_not_null(a);
	/* the tail starts at the comma before "annotations": the decision survives */
	cr_assert_eq(cut_named(n, h, a->comma), 0);
	cr_assert(kstr__eq(n->ev.decision, "allow"));
	cr_assert(kstr_present(n->ev.reason));
	cr_assert(!kstr_present(n->ev.stage_timestamp), "its comma was lost");
	/*
	 * One byte later the key starts the tail with no comma before it: it could be the end of an
	 * escaped quote inside a lost string, so it is not trusted. No decision, not a wrong one.
	 */
	cr_assert_eq(cut_named(n, h, a->comma + 1), 0);
	cr_assert(!kstr_present(n->ev.decision) && !kstr_present(n->ev.reason));
	/* inside the annotations: the decoy decisions in the body never stand in for it */
	for (size_t t = a->value; t < n->len - 1; t++) {
		cr_assert_eq(cut_named(n, h, t), 0);
		cr_assert(!kstr_present(n->ev.decision), "cut at %zu gave a decision", t);
		cr_assert(!kstr_present(n->ev.stage_timestamp));
	}
	/* stageTimestamp, then the annotations: both read */
	cr_assert_eq(cut_named(n, h, st->comma), 0);
	cr_assert(kstr__eq(n->ev.stage_timestamp, "2026-11-23T19:06:46.834567Z"));
	cr_assert_eq(n->ev.stage_ns, audit_parse__rfc3339_ns("2026-11-23T19:06:46.834567Z", 27));
	cr_assert(kstr__eq(n->ev.decision, "allow"));
	/* the head's fields are all there, the bodies are not */
	cr_assert(kstr__eq(n->ev.verb, "list"));
	cr_assert(kstr__eq(n->ev.user.username, "system:serviceaccount:ci:deployer"));
	cr_assert(kstr__eq(n->ev.user_agent, "python-requests/2.31.0 <scan>"));
	cr_assert_eq(n->ev.response_code, 200);
	cr_assert(!kstr_present(n->ev.request_object) && !kstr_present(n->ev.response_object));
	cr_assert(n->ev.flags & KH_EV_TRUNCATED);
	named_free(n);
}

Test(audit_parse_cut, a_member_cut_in_the_head_is_absent_not_half_read)
{
	struct named *n = named_new();
	const struct member *rs = member(&n->lay, "responseStatus");
	const struct member *u = member(&n->lay, "user");
	const char *code = strstr(n->line + rs->value, "200");
	size_t t = n->len - TAP_TAIL;

	/* "code":20 then the hole: not 20, not 200, absent */
	cr_assert_eq(cut_named(n, (size_t)(code - n->line) + 2, t), 0);
	cr_assert_eq(n->ev.response_code, -1);
	cr_assert(kstr__eq(n->ev.user.username, "system:serviceaccount:ci:deployer"));
	/* a cut inside user.extra loses the whole user, not just its end */
	cr_assert_eq(cut_named(n, u->value_end - 5, t), 0);
	cr_assert(!n->ev.user.present && !kstr_present(n->ev.user.username) &&
		  n->ev.user.groups.n == 0);
	cr_assert(kstr__eq(n->ev.verb, "list"), "members before it stay");
	cr_assert(kstr__eq(n->ev.decision, "allow"), "and the tail is read");
	/* one byte more and the user is whole */
	cr_assert_eq(cut_named(n, u->value_end, t), 0);
	cr_assert(n->ev.user.present && n->ev.user.groups.n == 3);
	cr_assert(kstr__eq(n->ev.user.extra_pod_name, "ci-runner-7"));
	named_free(n);
}

Test(audit_parse_cut, rejections)
{
	struct named *n = named_new();
	const struct member *id = member(&n->lay, "auditID");
	struct kh_parse_error err = {0};
	struct audit_event ev;
	char *bad;

	/* the auditID not whole before the cut */
	cr_assert_eq(cut_named(n, id->value_end - 1, n->len - 100), -EINVAL);
	cr_assert_eq(cut_named(n, id->value_end, n->len - 100), 0);
	/* a cut offset outside the line */
	cr_assert_eq(audit_parse__cut(n->line, n->len, 0, &ev, &err), -EINVAL);
	cr_assert_eq(audit_parse__cut(n->line, n->len, n->len, &ev, &err), -EINVAL);
	cr_assert_eq(audit_parse__cut(n->line, n->len, n->len + 5, &ev, &err), -EINVAL);
	/* a syntax error before the cut is malformed input, not a cut */
	bad = strdup(n->line);
	bad[member(&n->lay, "verb")->value] = '\x01';
	cr_assert_eq(audit_parse__cut(bad, n->len, 50000, &ev, &err), -EINVAL);
	cr_assert_eq(err.offset, member(&n->lay, "verb")->value);
	/* the object ending before the cut: the rest is not a tail of it */
	cr_assert_eq(audit_parse__cut(n->line, n->len, n->len - 1, &ev, &err), 0,
		     "the last byte is the tail: allowed");
	free(bad);
	bad = malloc(n->len + 10);
	memcpy(bad, n->line, n->len);
	memcpy(bad + n->len, "{\"x\":1}", 7);
	cr_assert_eq(audit_parse__cut(bad, n->len + 7, n->len + 1, &ev, &err), -EINVAL);
	cr_assert_str_eq(err.reason, "the object ends before the cut");
	/* kind other than Event */
	{
		static const char list[] = "{\"kind\":\"List\",\"auditID\":\"a\",\"x\":\"yyyy\"}";
		static const char event[] = "{\"kind\":\"Event\",\"auditID\":\"a\",\"x\":\"yyyy\"}";

		cr_assert_eq(audit_parse__cut(list, strlen(list), 30, &ev, &err), -EINVAL);
		cr_assert_eq(audit_parse__cut(event, strlen(event), 30, &ev, &err), 0);
	}
	free(bad);
	named_free(n);
}

/* cuts inside escapes and literals of the head are running out of bytes, not syntax errors */
Test(audit_parse_cut, head_cut_inside_escapes_and_literals)
{
	static const char line[] =
	    "{\"auditID\":\"a\",\"verb\":\"g\\u0065t\",\"x\":[true,false,null,-1.5e+3],"
	    "\"userAgent\":\"q\\\"\\\\\",\"y\":\"yyyyyyyyyyyyyyyyyyyy\",\"annotations\":{"
	    "\"authorization.k8s.io/decision\":\"allow\"}}";
	size_t len = sizeof(line) - 1, tail = len - strlen(",\"annotations\":{");
	struct kh_parse_error err = {0};
	struct audit_event ev;
	char buf[sizeof(line) * 2];

	tail -= strlen("\"authorization.k8s.io/decision\":\"allow\"}}");
	for (size_t h = strlen("{\"auditID\":\"a\""); h < tail - 20; h++) {
		memcpy(buf, line, h);
		memcpy(buf + h, line + tail, len - tail);
		cr_assert_eq(audit_parse__cut(buf, h + len - tail, h, &ev, &err), 0,
			     "head of %zu bytes: %s at %zu", h, err.reason, err.offset);
		cr_assert(kstr__eq(ev.decision, "allow"));
		if (h >= (size_t)(strstr(line, ",\"x\"") - line))
			cr_assert(kstr__eq(ev.verb, "get"));
		else
			cr_assert(!kstr_present(ev.verb));
	}
}

/* ---- the pipeline: a cut line alerts, with its decision ---------------------------------------
 */

static char *secret_get(const char *stage, size_t body)
{
	struct buf b = {0};

	putf(&b,
	     "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"RequestResponse\","
	     "\"auditID\":\"7f0c9c1e-2b44-4d0e-8f7a-3c5d1e9b2a60\",\"stage\":\"%s\","
	     "\"requestURI\":\"/api/v1/namespaces/payments/secrets/db\",\"verb\":\"get\","
	     "\"user\":{\"username\":\"mallory\",\"groups\":[\"system:authenticated\"]},"
	     "\"sourceIPs\":[\"203.0.113.66\"],\"userAgent\":\"curl/8.5.0\","
	     "\"objectRef\":{\"resource\":\"secrets\",\"namespace\":\"payments\",\"name\":\"db\","
	     "\"apiVersion\":\"v1\"},",
	     stage);
	if (body) {
		puts_(&b,
		      "\"responseStatus\":{\"metadata\":{},\"code\":200},\"responseObject\":{"
		      "\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"db\"},"
		      "\"data\":{\"password\":\"S0hNQVJLLUNVVC1QQVNTV09SRA==\",\"blob\":\""
		      "KHMARK-CUT-SECRET\"},\"history\":");
		put_body(&b, body);
		puts_(&b, "},");
	}
	puts_(&b, "\"requestReceivedTimestamp\":\"2026-11-23T19:06:46.000000Z\","
		  "\"stageTimestamp\":\"2026-11-23T19:06:46.120000Z\"");
	if (body)
		puts_(&b, ",\"annotations\":{\"authorization.k8s.io/decision\":\"allow\","
			  "\"authorization.k8s.io/reason\":\"RBAC: allowed by RoleBinding "
			  "\\\"payments-read\\\"\"}");
	puts_(&b, "}");
	return b.p;
}

struct run {
	char *out;
	size_t out_len;
	struct kh_counters c;
};

/* feed the RequestReceived line whole, then the ResponseComplete one through @o */
static void run_pipeline(const char *received, const char *complete, size_t complete_len,
			 const struct kh_origin *o, struct run *r)
{
	FILE *f = open_memstream(&r->out, &r->out_len);
	struct kh_pipeline *p;
	struct kh_origin whole = {.source = "live:test", .line_no = 1};

	cr_assert_not_null(f);
	p = pipeline__new(&(struct kh_pipeline_opts){.out = f});
	cr_assert_not_null(p);
	cr_assert_eq(pipeline__feed_line(p, received, strlen(received), &whole), 0);
	cr_assert_eq(pipeline__feed_line(p, complete, complete_len, o), 0);
	pipeline__flush(p);
	r->c = *pipeline__counters(p);
	pipeline__free(p);
	fclose(f);
}

/* the suspicious-UA alert of the run, or NULL */
static json_object *ua_alert(const struct run *r, json_object **all)
{
	json_object *found = NULL;
	char *save = NULL, *copy = strdup(r->out);

	*all = json_object_new_array();
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		json_object *a = json_tokener_parse(l), *rule;

		cr_assert_not_null(a, "alert line is not JSON: %s", l);
		json_object_array_add(*all, a);
		if (json_object_object_get_ex(a, "rule", &rule) &&
		    json_object_object_get_ex(rule, "id", &rule) &&
		    !strcmp(json_object_get_string(rule), "k8s-secret-suspicious-ua")) {
			cr_assert_null(found, "one alert per request");
			found = a;
		}
	}
	free(copy);
	return found;
}

static const char *jpath(json_object *o, const char *const *keys)
{
	for (; *keys && o; keys++)
		if (!json_object_object_get_ex(o, *keys, &o))
			return NULL;
	return o ? json_object_get_string(o) : NULL;
}

Test(audit_parse_cut, pipeline_alerts_on_a_cut_line_with_its_decision)
{
	static const char *const decision[] = {"kubernetes", "audit", "annotations",
					       "authorization_k8s_io/decision", NULL};
	static const char *const ua[] = {"kubernetes", "audit", "userAgent", NULL};
	char *received = secret_get("RequestReceived", 0);
	char *complete = secret_get("ResponseComplete", 2u << 20);
	size_t len = strlen(complete), head = TAP_CAP - TAP_TAIL, tail = len - TAP_TAIL;
	char *cut = malloc(head + TAP_TAIL);
	struct kh_origin o = {.source = "live:/var/log/kube-apiserver/audit.log",
			      .line_no = 2,
			      .flags = KH_EV_TRUNCATED,
			      .cut = (uint32_t)head};
	json_object *all, *a;
	struct run r = {0};

	cr_assert(len > 2u << 20);
	memcpy(cut, complete, head);
	memcpy(cut + head, complete + tail, TAP_TAIL);

	/* the tap's cut: parsed, counted truncated, and the alert carries the tail's decision */
	run_pipeline(received, cut, head + TAP_TAIL, &o, &r);
	cr_assert_eq(r.c.parsed, 2);
	cr_assert_eq(r.c.malformed, 0);
	cr_assert_eq(r.c.truncated, 1);
	a = ua_alert(&r, &all);
	cr_assert_not_null(a, "no suspicious-UA alert; output:\n%s", r.out);
	cr_assert_str_eq(jpath(a, decision), "allow");
	cr_assert_str_eq(jpath(a, ua), "curl/8.5.0");
	cr_assert_null(strstr(r.out, "KHMARK"), "secret body bytes in an alert");
	cr_assert_null(strstr(r.out, "S0hNQVJL"), "secret body bytes in an alert");
	json_object_put(all);
	free(r.out);

	free(cut);
	free(complete);
	free(received);
}
