/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigma_counts: the per-id Sigma alert slots of struct kh_counters (see sigma_counts.c); the
 * pipeline's own, the public part is in keyhole/pipeline.h.
 */
#ifndef KEYHOLE_PIPELINE_SIGMA_COUNTS_H
#define KEYHOLE_PIPELINE_SIGMA_COUNTS_H

#include <stddef.h>

struct kh_counters;

/* the alerts_by_rule slot of Sigma rule @id, given one the first time */
size_t sigma_counts__slot(struct kh_counters *c, const char *id);
void sigma_counts__free(struct kh_counters *c);

#endif
