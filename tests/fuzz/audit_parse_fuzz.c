// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the audit-event parser and the kstr helpers.
 *
 * Beyond "no crash, no sanitizer report", it checks the parser's contract on every input it
 * accepts: each slice lies inside the line, decodes without error (the parser validated its
 * escapes), never grows when decoded, and compares equal to its own decoding through every kstr
 * helper. A rejected input must carry a reason and an offset inside the line. The input is also
 * fed to kstr__decode as one escaped slice, to the wildcard matcher (its first bytes as the
 * pattern) and to the RFC 3339 reader.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/audit_parse.h"
#include "keyhole/json_out.h"
#include "rules/emit_extra.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

static const char *g_line;
static size_t g_len;

static void check_slice(struct kstr s)
{
	char *buf;
	long n;

	if (!kstr_present(s))
		return;
	CHECK(s.p >= g_line && s.p + s.len <= g_line + g_len);
	buf = malloc(s.len + 1);
	CHECK(buf);
	n = kstr__decode(s, buf, s.len + 1);
	CHECK(n >= 0 && (size_t)n <= s.len);
	buf[n] = '\0';
	CHECK(kstr__eq_kstr(s, s));
	CHECK(kstr__eq_kstr(s, kstr_lit(buf, (size_t)n)));
	CHECK(kstr__glob(s, "*"));
	if (!memchr(buf, '\0', (size_t)n)) {
		CHECK(kstr__eq(s, buf));
		CHECK(kstr__has_prefix(s, buf));
		CHECK(kstr__has_suffix(s, buf));
		CHECK(kstr__contains(s, buf));
		if (!strpbrk(buf, "*?\\"))
			CHECK(kstr__glob(s, buf));
	}
	free(buf);
}

static void check_list(const struct kstr *v, uint32_t n, uint32_t total, uint32_t cap)
{
	CHECK(n <= cap && n <= total);
	CHECK(n == total || n == cap);
	for (uint32_t i = 0; i < n; i++)
		check_slice(v[i]);
}

static void check_user(const struct kh_user *u)
{
	check_slice(u->username);
	check_slice(u->uid);
	check_slice(u->extra_pod_name);
	check_slice(u->extra);
	if (kstr_present(u->extra)) { /* the alert's walk of the whole map stays in it, any shape */
		struct json_out j;
		uint64_t cut = 0;

		CHECK(u->extra.p[0] == '{' && u->extra.p[u->extra.len - 1] == '}');
		json_out__init(&j);
		json_out__obj_begin(&j);
		emit_extra__write(&j, u->extra, &cut);
		json_out__obj_end(&j);
		CHECK(j.oom || (j.len > 10 && !memcmp(j.buf, "{\"extra\":{", 10)));
		json_out__free(&j);
	}
	check_list(u->groups.v, u->groups.n, u->groups.total, KH_MAX_GROUPS);
	if (!u->present)
		CHECK(!kstr_present(u->username) && u->groups.n == 0);
}

static void check_event(const struct audit_event *ev)
{
	const struct kstr *all[] = {
	    &ev->kind,
	    &ev->api_version,
	    &ev->level,
	    &ev->audit_id,
	    &ev->stage,
	    &ev->request_uri,
	    &ev->verb,
	    &ev->user_agent,
	    &ev->object_ref.resource,
	    &ev->object_ref.subresource,
	    &ev->object_ref.namespace_,
	    &ev->object_ref.name,
	    &ev->object_ref.api_group,
	    &ev->object_ref.api_version,
	    &ev->request_received_timestamp,
	    &ev->stage_timestamp,
	    &ev->decision,
	    &ev->reason,
	};

	CHECK(ev->line == g_line && ev->len == g_len);
	CHECK(kstr_present(ev->audit_id));
	CHECK(!kstr_present(ev->kind) || kstr__eq(ev->kind, "Event"));
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		check_slice(*all[i]);
	check_user(&ev->user);
	check_user(&ev->impersonated_user);
	check_list(ev->source_ips.v, ev->source_ips.n, ev->source_ips.total, KH_MAX_SOURCE_IPS);
	if (!ev->object_ref_present)
		CHECK(!kstr_present(ev->object_ref.resource));
	/* the object spans are raw JSON values inside the line, never decoded */
	CHECK(!kstr_present(ev->request_object) ||
	      (ev->request_object.p >= g_line &&
	       ev->request_object.p + ev->request_object.len <= g_line + g_len));
	CHECK(!kstr_present(ev->response_object) ||
	      (ev->response_object.p >= g_line &&
	       ev->response_object.p + ev->response_object.len <= g_line + g_len));
	if (!kstr_present(ev->stage_timestamp))
		CHECK(ev->stage_ns == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_event ev;
	struct kh_parse_error err = {0};
	struct kstr whole = {(const char *)data, (uint32_t)size, KSTR_ESCAPED};
	char pat[17], out[256];
	size_t plen = size < 16 ? size : 16;
	long n;

	g_line = (const char *)data;
	g_len = size;
	if (audit_parse__line(g_line, size, &ev, &err) == 0) {
		check_event(&ev);
	} else {
		CHECK(err.reason != NULL);
		CHECK(err.offset <= size);
	}

	/* the raw input as an escaped string slice: decoding must stay in bounds either way */
	n = kstr__decode(whole, out, sizeof(out));
	CHECK(n == -EINVAL || (n >= 0 && (size_t)n <= size));

	/* the first bytes as a wildcard pattern over the rest */
	memcpy(pat, data, plen);
	pat[plen] = '\0';
	(void)kstr__glob(kstr_lit(g_line + plen, size - plen), pat);
	(void)kstr__contains(kstr_lit(g_line + plen, size - plen), pat);

	(void)audit_parse__rfc3339_ns(g_line, size);
	return 0;
}
