// SPDX-License-Identifier: Apache-2.0
/*
 * sigma_counts: one alert counter per Sigma rule id, for /metrics and the exit summaries.
 *
 * Sigma rules come from files and change on reload, while a metrics series, once served, must
 * stay (a counter that vanishes breaks rate()). So each id gets a slot the first time a load
 * brings it and keeps it for the life of the process; a reload that drops a rule leaves its
 * series at its last value. Slots are bounded (KH_SIGMA_SERIES): ids past them count together
 * under rule "sigma", so a process that reloads forever never grows without bound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/pipeline.h"
#include "keyhole/rules_engine.h"
#include "pipeline/sigma_counts.h"

size_t pipeline__alert_slots(void)
{
	return rules__count() + 2 + KH_SIGMA_SERIES;
}

size_t pipeline__sigma_slot(size_t k)
{
	return rules__count() + 2 + k;
}

size_t sigma_counts__slot(struct kh_counters *c, const char *id)
{
	for (size_t k = 0; k < c->n_sigma_ids; k++)
		if (!strcmp(c->sigma_ids[k], id))
			return pipeline__sigma_slot(k);
	if (c->n_sigma_ids < KH_SIGMA_SERIES && (c->sigma_ids[c->n_sigma_ids] = strdup(id)))
		return pipeline__sigma_slot(c->n_sigma_ids++);
	c->sigma_overflow = true;
	return rules__count() + 1;
}

void sigma_counts__free(struct kh_counters *c)
{
	for (size_t k = 0; k < c->n_sigma_ids; k++)
		free(c->sigma_ids[k]);
	c->n_sigma_ids = 0;
}

void pipeline__sigma_summary(const struct kh_counters *now, const uint64_t *before, char *buf,
			     size_t len)
{
	size_t off = 0;

	if (!len)
		return;
	buf[0] = 0;
	for (size_t k = 0; k <= now->n_sigma_ids; k++) {
		size_t slot = k < now->n_sigma_ids ? pipeline__sigma_slot(k) : rules__count() + 1;
		const char *id = k < now->n_sigma_ids ? now->sigma_ids[k] : "sigma";
		uint64_t n = now->alerts_by_rule[slot] - (before ? before[slot] : 0);
		int w;

		if (!n || off >= len)
			continue;
		w = snprintf(buf + off, len - off, "%s%s %llu", off ? ", " : " (", id,
			     (unsigned long long)n);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (off && off + 1 < len)
		strcat(buf, ")");
}
