/* SPDX-License-Identifier: Apache-2.0 */
/*
 * audit_parse__line: the hot-path reader of audit.k8s.io Event lines.
 *
 * One pass over the bytes, no allocation, no copies: it fills a struct audit_event with slices
 * into the line. Any key order, whitespace and escapes are accepted; unknown and nested fields
 * are skipped by structure. Anything that is not a complete JSON object, or is an object that is
 * not an audit Event, is rejected with the byte offset and a reason.
 */
#ifndef KEYHOLE_AUDIT_PARSE_H
#define KEYHOLE_AUDIT_PARSE_H

#include <stddef.h>

#include "keyhole/audit_event.h"

struct kh_parse_error {
	size_t offset;	    /* byte offset in the line where parsing stopped */
	const char *reason; /* static text, e.g. "unterminated string" */
};

/*
 * Parse @line (@len bytes, no trailing newline needed, need not be NUL-terminated) into @ev.
 * Returns 0 on success; -EINVAL for malformed JSON or a JSON object that is not an audit Event
 * (no auditID, or kind other than "Event"), with @err filled when non-NULL.
 * Values the parser only steps over (request and response bodies, unknown keys) may nest to any
 * depth: they are skipped without recursion, in linear time. KH_PARSE_MAX_DEPTH bounds only the
 * objects the parser reads member by member, which sit at fixed depths (3 at most) in an Event.
 */
#define KH_PARSE_MAX_DEPTH 64
int audit_parse__line(const char *line, size_t len, struct audit_event *ev,
		      struct kh_parse_error *err);

/*
 * Parse a line whose middle was lost: @line holds the first @cut bytes of the original line then
 * directly its last @len - @cut bytes (the audit tap keeps head and tail of a line over its cap).
 * Fills @ev with what survived, flagged KH_EV_TRUNCATED:
 *  - every top-level member that completes before @cut, exactly as audit_parse__line() reads it
 * (the member the cut falls in is left absent);
 *  - every top-level member after the first top-level key found in the tail behind a comma
 *    (found by reading the tail backward from the final '}', and checked to parse cleanly to the
 *    end): on an apiserver line, stageTimestamp and the annotations with the decision, unless
 *    the cut destroyed them, in which case they are absent;
 *  - never requestObject or responseObject (absent).
 * Returns 0, or -EINVAL with @err filled when non-NULL: @cut not inside the line, a head that is
 * not the start of a JSON object (any syntax error before the cut), no auditID before the cut,
 * or a kind other than "Event".
 */
int audit_parse__cut(const char *line, size_t len, size_t cut, struct audit_event *ev,
		     struct kh_parse_error *err);

/*
 * Parse an RFC 3339 timestamp ("2026-11-23T19:06:46.123456Z", offsets allowed) into ns since the
 * epoch; 0 if invalid or outside 1970..2199 (so rules can subtract times without overflow).
 */
long long audit_parse__rfc3339_ns(const char *s, size_t len);

#endif /* KEYHOLE_AUDIT_PARSE_H */
