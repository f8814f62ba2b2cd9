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
#define _GNU_SOURCE
#include <string.h>

#include "keyhole/emit.h"
#include "rules/match.h"

/* the raw value of the first "@name":"..." after @from in @line, without decoding */
static bool raw_value(const char *line, size_t len, const char *from, const char *name,
		      const char **v, size_t *vl)
{
	const char *p = line, *end = line + len, *q;
	size_t nl = strlen(name);

	if (from && !(p = memmem(line, len, from, strlen(from))))
		return false;
	if (!(p = memmem(p, (size_t)(end - p), name, nl)))
		return false;
	p += nl;
	for (q = p; q < end && *q != '"'; q++)
		if (*q == '\\') /* the key values we use never hold escapes: a plain scan is exact
				 */
			return false;
	if (q >= end)
		return false;
	*v = p;
	*vl = (size_t)(q - p);
	return true;
}

uint64_t emit_line_key(const char *line, size_t len)
{
	const char *rule, *id;
	size_t rl, il;
	uint64_t h = KH_HASH_INIT;

	if (raw_value(line, len, NULL, "\"rule\":{\"id\":\"", &rule, &rl) &&
	    raw_value(line, len, "\"kubernetes\":{\"audit\":{", "\"auditID\":\"", &id, &il) && il) {
		h = match__hash_bytes(h, "R", 1);
		h = match__hash_bytes(h, rule, rl);
		h = match__hash_bytes(h, "\n", 1);
		h = match__hash_bytes(h, id, il);
	} else {
		h = match__hash_bytes(h, "L", 1);
		h = match__hash_bytes(h, line, len);
	}
	return match__hash_final(h);
}
