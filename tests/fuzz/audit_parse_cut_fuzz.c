// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for audit_parse__cut(), the reader of lines the capture cut (head and tail
 * kept, middle lost). The first 4 bytes are a little-endian number v, the rest is a line L.
 *
 *  1. L as the capture might hand over anything, cut at v mod (len + 1): accepted events hold only
 *     slices inside L that decode cleanly, an auditID, no bodies, the truncated flag; a rejection
 *     carries a reason and an offset inside L.
 *  2. When L is an audit Event audit_parse__line() accepts, v also picks a hole [h, t) and the
 * bytes L[0, h) + L[t, len) are parsed with cut h, as the tap would deliver them. The head is then
 * a prefix of valid JSON and the tail a suffix of it, so the line may only be rejected as "not an
 *     audit event" (no auditID before the cut, kind), never for its syntax; and every field read
 *     from the tail must be exactly the whole line's field, at the same place in L: a resync
 *     point inside a string, or on a nested key, would break this.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/audit_parse.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

/* the slices of an event, in one order for any two events */
struct slices {
	struct kstr *v[128];
	size_t n;
};

static void add(struct slices *s, struct kstr *k)
{
	CHECK(s->n < sizeof(s->v) / sizeof(s->v[0]));
	s->v[s->n++] = k;
}

static void add_user(struct slices *s, struct kh_user *u)
{
	add(s, &u->username);
	add(s, &u->uid);
	add(s, &u->extra_pod_name);
	add(s, &u->extra);
	for (uint32_t i = 0; i < KH_MAX_GROUPS; i++)
		add(s, i < u->groups.n ? &u->groups.v[i] : NULL);
}

static void slices_of(struct audit_event *ev, struct slices *s)
{
	s->n = 0;
	add(s, &ev->kind);
	add(s, &ev->api_version);
	add(s, &ev->level);
	add(s, &ev->audit_id);
	add(s, &ev->stage);
	add(s, &ev->request_uri);
	add(s, &ev->verb);
	add(s, &ev->user_agent);
	add(s, &ev->object_ref.resource);
	add(s, &ev->object_ref.subresource);
	add(s, &ev->object_ref.namespace_);
	add(s, &ev->object_ref.name);
	add(s, &ev->object_ref.api_group);
	add(s, &ev->object_ref.api_version);
	add(s, &ev->request_received_timestamp);
	add(s, &ev->stage_timestamp);
	add(s, &ev->decision);
	add(s, &ev->reason);
	add_user(s, &ev->user);
	add_user(s, &ev->impersonated_user);
	for (uint32_t i = 0; i < KH_MAX_SOURCE_IPS; i++)
		add(s, i < ev->source_ips.n ? &ev->source_ips.v[i] : NULL);
}

/* an accepted cut event: slices in bounds and decodable, the cut parser's promises kept */
static void check_event(struct audit_event *ev, const char *line, size_t len, size_t cut)
{
	struct slices s;
	char buf[256];

	CHECK(ev->line == line && ev->len == len);
	CHECK(ev->flags & KH_EV_TRUNCATED);
	CHECK(!kstr_present(ev->request_object) && !kstr_present(ev->response_object));
	CHECK(kstr_present(ev->audit_id));
	CHECK(!kstr_present(ev->kind) || kstr__eq(ev->kind, "Event"));
	CHECK(ev->user.groups.n <= ev->user.groups.total && ev->user.groups.n <= KH_MAX_GROUPS);
	CHECK(ev->source_ips.n <= ev->source_ips.total && ev->source_ips.n <= KH_MAX_SOURCE_IPS);
	if (!kstr_present(ev->stage_timestamp))
		CHECK(ev->stage_ns == 0);
	slices_of(ev, &s);
	for (size_t i = 0; i < s.n; i++) {
		struct kstr k = s.v[i] ? *s.v[i] : (struct kstr){0};
		long n;

		if (!kstr_present(k))
			continue;
		CHECK(k.p >= line && k.p + k.len <= line + len);
		/* no slice straddles the hole */
		CHECK(k.p + k.len <= line + cut || k.p >= line + cut);
		n = kstr__decode(k, buf, sizeof(buf));
		CHECK(n >= 0 && (size_t)n <= k.len);
	}
}

static bool syntax_reason(const char *why)
{
	return strncmp(why, "not an audit event", 18) && strcmp(why, "nothing before the cut") &&
	       strcmp(why, "the object ends before the cut");
}

/* 2: a valid line with the hole [h, t) cut out, checked against the whole line's parse */
static void cut_valid_line(const char *l, size_t len, uint32_t v)
{
	struct audit_event whole, cut;
	struct slices sw, sc;
	struct kh_parse_error err = {0};
	size_t h, t;
	char *b;
	int rc;

	if (len < 3 || audit_parse__line(l, len, &whole, NULL) != 0)
		return;
	h = 1 + (v & 0xffff) % (len - 2);
	t = h + 1 + (v >> 16) % (len - 1 - h);
	b = malloc(h + len - t);
	CHECK(b);
	memcpy(b, l, h);
	memcpy(b + h, l + t, len - t);
	rc = audit_parse__cut(b, h + len - t, h, &cut, &err);
	if (rc) {
		CHECK(rc == -EINVAL && err.reason && !syntax_reason(err.reason));
		free(b);
		return;
	}
	check_event(&cut, b, h + len - t, h);
	slices_of(&whole, &sw);
	slices_of(&cut, &sc);
	for (size_t i = 0; i < sc.n; i++) {
		struct kstr c = sc.v[i] ? *sc.v[i] : (struct kstr){0};
		struct kstr w = sw.v[i] ? *sw.v[i] : (struct kstr){0};

		if (!kstr_present(c) || c.p < b + h)
			continue;
		/* read from the tail: the whole line's slice, at the same place in L */
		CHECK(kstr_present(w));
		CHECK((size_t)(c.p - b) - h + t == (size_t)(w.p - l));
		CHECK(c.len == w.len && c.flags == w.flags);
	}
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *l = (const char *)data + 4;
	struct kh_parse_error err = {0};
	struct audit_event ev;
	size_t len, cut;
	uint32_t v;

	if (size < 4)
		return 0;
	v = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
	    (uint32_t)data[3] << 24;
	len = size - 4;
	cut = v % (len + 1);
	if (audit_parse__cut(l, len, cut, &ev, &err) == 0) {
		check_event(&ev, l, len, cut);
	} else {
		CHECK(err.reason != NULL);
		CHECK(err.offset <= len);
	}
	cut_valid_line(l, len, v);
	return 0;
}
