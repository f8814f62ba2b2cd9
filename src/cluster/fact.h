/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fact: the record cluster mode puts on the bus for one audit event.
 *
 * A fact is an audit.k8s.io Event cut down to the fields the cluster-scope detections read,
 * plus "khFact" (the format version) and "khNode" (who captured it). Being an Event still, the
 * correlator reads it with the same parser and feeds it to the same rules, so a fact stream
 * gives the alerts the event stream would. It never carries a request or response body, with
 * one exception the correlator cannot do without: the requestObject of an RBAC role or binding
 * write (its rules, roleRef and subjects; RBAC objects hold no secret data).
 */
#ifndef KEYHOLE_CLUSTER_FACT_H
#define KEYHOLE_CLUSTER_FACT_H

#include <stdbool.h>
#include <stdint.h>

#include "keyhole/audit_event.h"
#include "keyhole/json_out.h"

#define KH_FACT_VERSION 1
/* a fact longer than this is not published (counted): only an RBAC body can come near it */
#define KH_FACT_MAX_BYTES (256u * 1024)

/*
 * Encode @ev's fact into @j (reset first), its header naming the partition of its principal
 * among @partitions. Returns 0, or -ENOMEM / -E2BIG.
 */
int fact__encode(const struct audit_event *ev, const char *node, uint32_t partitions,
		 struct json_out *j);

/*
 * Where a fact goes. Reads, execs and requests go to the partition of the principal that made
 * them; escalation steps (bindings, role writes and their escalate/bind verbs, impersonation,
 * token creation) reach every partition, since any principal can be their subject.
 */
bool fact__broadcast(const struct audit_event *ev);
uint32_t fact__partition(const struct audit_event *ev, uint32_t partitions);

/* the header every fact starts with, read without parsing the event */
struct fact_header {
	int version;
	int64_t t_ns;	    /* the event's time (stageTimestamp, else requestReceived) */
	uint32_t partition; /* the partition of the principal */
	bool broadcast;	    /* sent to every partition */
};
/* 0, -EINVAL (not a fact), -EPROTO (a fact of another version) */
int fact__header(const char *line, size_t len, struct fact_header *h);

#endif /* KEYHOLE_CLUSTER_FACT_H */
