/* SPDX-License-Identifier: Apache-2.0 */
/*
 * audit_parse: the hot-path reader of audit.k8s.io Event lines.
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
 * Nesting deeper than KH_PARSE_MAX_DEPTH is rejected, so hostile input cannot exhaust the stack.
 */
#define KH_PARSE_MAX_DEPTH 64
int audit_parse(const char *line, size_t len, struct audit_event *ev, struct kh_parse_error *err);

/* Parse an RFC 3339 timestamp ("2026-11-23T19:06:46.123456Z", offsets allowed); 0 if invalid. */
long long kh_parse_rfc3339_ns(const char *s, size_t len);

#endif /* KEYHOLE_AUDIT_PARSE_H */
