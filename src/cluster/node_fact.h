/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node_fact: a node's secret-material open inside an exec session, as a fact for the
 * correlators' escalate-then-loot (which joins it to the incident whose subject exec'd into
 * that pod, as single-node mode does in-process).
 *
 * The fact has the usual header (khFact, khT: the open's time, khB: 1, to every partition, since
 * the open does not name the principal) and "khKind":"node-secret-read" right after it; the rest
 * is shaped as an audit Event so the audit parser reads it back (no parser of its own): auditID
 * is the node-side id ("exec-session/<id>"), objectRef names the pod (subresource: the
 * container), requestURI is the path opened and userAgent the process. It never holds the
 * file's contents (the exec watch never reads them).
 */
#ifndef KEYHOLE_CLUSTER_NODE_FACT_H
#define KEYHOLE_CLUSTER_NODE_FACT_H

#include <stdbool.h>
#include <stddef.h>

#include "keyhole/audit_event.h"
#include "keyhole/correlate.h"
#include "keyhole/json_out.h"

/* encode @r's fact into @j (reset first); 0 or -ENOMEM */
int node_fact__encode(const struct kh_node_secret_read *r, const char *node, struct json_out *j);

/* a fact line (its header checked) that is a node secret-read fact */
bool node_fact__is(const char *line, size_t len);

/* the secret read a node fact, parsed as an audit event, holds (slices into @ev) */
int node_fact__read(const struct audit_event *ev, int64_t t_ns, struct kh_node_secret_read *r);

#endif /* KEYHOLE_CLUSTER_NODE_FACT_H */
