/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fact_dedup: the correlator's filter of facts it has already taken.
 *
 * Facts are delivered at least once (an XADD resent after a broken link, a disk-queue cursor
 * that lost its last move or was damaged, a catch-up re-reading lines past its checkpoint), and
 * a counting window fed one fact twice counts it twice: an incident's read counts, a threshold
 * rule. The alert fence keeps alert lines single, not their counts; this filter drops the second
 * copy before it reaches the reorder buffer.
 *
 * A fact's identity is its auditID and stage, its event time (khT) and its requestURI, and for a
 * node fact also the node that published it (its auditID, "exec-session/<id>", is that node's).
 * auditID and stage alone would do for honest clients, but a client may send its own Audit-ID
 * header and kube-apiserver logs it as the auditID: an attacker reusing one for every request
 * must not see all but the first of them dropped. A republished fact is the same bytes, so
 * these fields match exactly; a fact without an auditID is never filtered.
 *
 * Bounded: identities are kept as 16-byte digests (SipHash-2-4 under a per-filter random key, so
 * no one can make two identities collide) in one keytab, first in first out, for @horizon_ns of
 * event time behind the newest fact taken (the correlator's longest window plus the lag: a copy
 * of an older fact can no longer meet its original in one window) and at most @max_keys (the
 * partition stream's retention, which is sized to cover the same window). An identity pushed
 * out by the key bound while still inside the horizon is counted (fact_dedup__evicted).
 */
#ifndef KEYHOLE_CLUSTER_FACT_DEDUP_H
#define KEYHOLE_CLUSTER_FACT_DEDUP_H

#include <stddef.h>
#include <stdint.h>

struct fact_dedup;

/* NULL with errno set (@max_keys >= 1) */
struct fact_dedup *fact_dedup__new(uint64_t max_keys, int64_t horizon_ns);
void fact_dedup__free(struct fact_dedup *d);

/*
 * The fact @line (its header read: event time @t_ns) arrives: 1 when it is a copy of one taken
 * before (drop it), 0 when it is taken (remembered, or without an identity). Out of memory, it
 * is taken and not remembered.
 */
int fact_dedup__seen(struct fact_dedup *d, const char *line, size_t len, int64_t t_ns);

uint64_t fact_dedup__count(const struct fact_dedup *d);	  /* identities held */
uint64_t fact_dedup__evicted(const struct fact_dedup *d); /* forgotten inside the horizon */

#endif /* KEYHOLE_CLUSTER_FACT_DEDUP_H */
