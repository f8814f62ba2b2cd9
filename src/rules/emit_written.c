// SPDX-License-Identifier: Apache-2.0
/*
 * emit_written: the alert lines a previous run already wrote (issue 19, resume).
 *
 * A run killed between writing an alert and saving its checkpoint leaves lines that the next
 * run's catch-up alerts again; a run stopped between a request's RequestReceived and its later
 * stage wrote the held alert at its stop, and the next run would write the later stage's. When
 * the output is a file, the resume reads its tail and notes the lines here; while the catch-up
 * runs, an alert whose key is noted is not written again (counted as already_written).
 *
 * The key of a per-request alert is its rule id with the request's auditID (any stage of one
 * request is the same alert); a line without a kubernetes.audit auditID (an incident revision,
 * a node alert) is keyed by its whole text, which a rerun renders byte for byte the same (alerts
 * carry event time only).
 */
#include <stdbool.h>

#include "keyhole/emit.h"
#include "keyhole/json_in.h"
#include "rules/match.h"

/*
 * The raw string at @path (member names, outermost first, NULL-terminated) of the alert @line,
 * read with the JSON reader, so that a key of that name inside a string value or another
 * object (user.extra, annotations) is never taken for it. False when absent, empty, or escaped:
 * the key values used here never hold escapes, and such a line is keyed by its text instead.
 */
static bool raw_value(const char *line, size_t len, const char *const *path, struct kstr *v)
{
	struct json_in at = json_in__span(line, len), next;

	for (; *path; path++) {
		if (!json_in__member_first(&at, *path, &next))
			return false;
		at = next;
	}
	return json_in__str(&at, v) && v->len && !(v->flags & KSTR_ESCAPED);
}

uint64_t emit_line_key(const char *line, size_t len)
{
	static const char *const rule_id[] = {"rule", "id", NULL};
	static const char *const audit_id[] = {"kubernetes", "audit", "auditID", NULL};
	struct kstr rule, id;
	uint64_t h = KH_HASH_INIT;

	if (raw_value(line, len, rule_id, &rule) && raw_value(line, len, audit_id, &id)) {
		h = match__hash_bytes(h, "R", 1);
		h = match__hash_bytes(h, rule.p, rule.len);
		h = match__hash_bytes(h, "\n", 1);
		h = match__hash_bytes(h, id.p, id.len);
	} else {
		h = match__hash_bytes(h, "L", 1);
		h = match__hash_bytes(h, line, len);
	}
	return match__hash_final(h);
}
