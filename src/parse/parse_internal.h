/* SPDX-License-Identifier: Apache-2.0 */
/*
 * parse_internal: the pieces of audit_parse.c that its sibling audit_parse_cut.c builds on.
 *
 * A line the capture cut (head and tail kept, middle lost) is read with the very same field
 * readers as a whole line, so a field parses identically whichever path reads it. Only src/parse/
 * includes this header; the rest of the agent sees keyhole/audit_parse.h.
 */
#ifndef KEYHOLE_PARSE_INTERNAL_H
#define KEYHOLE_PARSE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "keyhole/audit_parse.h"
#include "keyhole/json_in.h"

/* one parse: the bytes [line, end) and the first failure */
struct pctx {
	const char *line;
	const char *end;
	const char *err_at;
	const char *reason;
	bool kind_not_string;
	/*
	 * The first failure was running out of bytes (at end, inside an escape or a literal), so
	 * the bytes so far may be a prefix of valid JSON; any other failure proves they are not.
	 */
	bool starved;
};

/* JSON whitespace: json_in's (the one reader's) primitive */
static inline const char *ws(const char *p, const char *end)
{
	return json_in__ws_at(p, end);
}

/*
 * Called with each member's decoded key (@k, @klen; "" for keys longer than any the parser
 * looks for) and @p at its value; returns just past the value, or NULL with the failure in @c.
 */
typedef const char *(*field_fn)(struct pctx *c, const char *p, int depth, const char *k,
				size_t klen, void *obj);

/* the object at @p ('{') at nesting @depth (the top-level object is depth 1) */
const char *audit_parse__object(struct pctx *c, const char *p, int depth, field_fn field,
				void *obj);
/* the members of an object from @p (the opening quote of a key) through its closing '}' */
const char *audit_parse__members(struct pctx *c, const char *p, int depth, field_fn field,
				 void *obj);
/* any value at @p, validated and skipped */
const char *audit_parse__skip_value(struct pctx *c, const char *p, int depth);
/* audit_parse__line's reader of one top-level member: fills the event's field for key @k */
const char *audit_parse__top_field(struct pctx *c, const char *p, int depth, const char *k,
				   size_t klen, void *ev);

/* every field absent, no flags */
void audit_parse__event_reset(struct audit_event *ev, const char *line, size_t len);
/* fill @err (when non-NULL) and return -EINVAL */
int audit_parse__reject(const struct pctx *c, const char *at, const char *why,
			struct kh_parse_error *err);
/*
 * The checks every parsed line passes (an auditID, kind "Event" when present) and the
 * timestamps decoded; 0, or -EINVAL through audit_parse__reject().
 */
int audit_parse__finish(const struct pctx *c, struct audit_event *ev, struct kh_parse_error *err);

#endif /* KEYHOLE_PARSE_INTERNAL_H */
