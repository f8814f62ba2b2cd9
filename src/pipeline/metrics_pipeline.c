// SPDX-License-Identifier: Apache-2.0
/*
 * metrics_pipeline: registers the pipeline's counters (struct kh_counters) with the metrics
 * registry, under names a Prometheus user would look for. Apart from metrics.c so the registry
 * itself does not depend on the rule table.
 */
#include <errno.h>
#include <stddef.h>

#include "keyhole/metrics.h"
#include "keyhole/pipeline.h"
#include "keyhole/correlate.h"
#include "keyhole/rule.h"
#include "keyhole/rules_engine.h"

static const struct {
	size_t off;
	const char *name;
	const char *help;
} pipeline_counters[] = {
    {offsetof(struct kh_counters, lines), "keyhole_events_total",
     "audit lines fed to the pipeline, from every source"},
    {offsetof(struct kh_counters, parsed), "keyhole_events_parsed_total",
     "lines parsed as audit.k8s.io Events"},
    {offsetof(struct kh_counters, malformed), "keyhole_events_malformed_total",
     "lines rejected as not an audit Event (counted, skipped)"},
    {offsetof(struct kh_counters, empty), "keyhole_events_empty_total", "blank lines skipped"},
    {offsetof(struct kh_counters, oversized), "keyhole_events_oversized_total",
     "lines longer than the line maximum: read from their head and tail (also counted truncated)"},
    {offsetof(struct kh_counters, truncated), "keyhole_events_truncated_total",
     "lines whose middle the capture cut to keep head and tail"},
    {offsetof(struct kh_counters, fields_cut), "keyhole_alert_fields_cut_total",
     "user.extra keys, values or value bytes an alert could not carry (its extra_cut says how many)"},
    {offsetof(struct kh_counters, dedup_suppressed), "keyhole_alerts_deduplicated_total",
     "alerts not written again for the same rule and auditID"},
    {offsetof(struct kh_counters, output_errors), "keyhole_output_errors_total",
     "alert lines the output failed to take"},
    {offsetof(struct kh_counters, state_evictions), "keyhole_state_evictions_total",
     "entries of bounded rule and correlator state evicted to make room"},
};

int metrics__add_pipeline(struct kh_metrics *m, const struct kh_counters *c)
{
	int err;

	for (size_t i = 0; i < sizeof(pipeline_counters) / sizeof(pipeline_counters[0]); i++) {
		err = metrics__add_counter(
		    m, pipeline_counters[i].name, pipeline_counters[i].help,
		    (const uint64_t *)((const char *)c + pipeline_counters[i].off));
		if (err)
			return err;
	}
	/* one series per rule, present from the start at 0 so rate() and absent() behave */
	for (size_t i = 0; kh_rule_table[i]; i++) {
		err = metrics__add(m, &(struct kh_metric){.name = "keyhole_alerts_total",
							  .help = "alerts written, by rule",
							  .type = KH_METRIC_COUNTER,
							  .label_name = "rule",
							  .label_value = kh_rule_table[i]->info->id,
							  .value = &c->alerts_by_rule[i]});
		if (err)
			return err;
	}
	/* the correlator's incidents, counted in the slot after the table */
	err = metrics__add(m, &(struct kh_metric){.name = "keyhole_alerts_total",
						  .help = "alerts written, by rule",
						  .type = KH_METRIC_COUNTER,
						  .label_name = "rule",
						  .label_value = kh_rule_escalate_then_loot.id,
						  .value = &c->alerts_by_rule[rules__count()]});
	if (err)
		return err;
	return metrics__add_sigma(m, c);
}

int metrics__add_sigma(struct kh_metrics *m, const struct kh_counters *c)
{
	int err = 0;

	/* one series per Sigma rule id loaded so far; those already there stay (-EEXIST) */
	for (size_t k = 0; k <= c->n_sigma_ids && (!err || err == -EEXIST); k++) {
		if (k == c->n_sigma_ids && !c->sigma_overflow)
			break;
		err = metrics__add(
		    m, &(struct kh_metric){
			   .name = "keyhole_alerts_total",
			   .help = "alerts written, by rule",
			   .type = KH_METRIC_COUNTER,
			   .label_name = "rule",
			   .label_value = k < c->n_sigma_ids ? c->sigma_ids[k] : "sigma",
			   .value = &c->alerts_by_rule[k < c->n_sigma_ids ? pipeline__sigma_slot(k)
									  : rules__count() + 1]});
	}
	return err == -EEXIST ? 0 : err;
}

int metrics__add_rules(struct kh_metrics *m, const struct kh_rules *r)
{
	for (size_t i = 0; r && i < rules__n(r); i++) {
		size_t n;
		const struct kh_rule_counter *c = rules__counters(r, i, &n);

		for (size_t k = 0; k < n; k++) {
			int err = metrics__add(m, &(struct kh_metric){
						      .name = c[k].name,
						      .help = c[k].help,
						      .type = c[k].gauge ? KH_METRIC_GAUGE
									 : KH_METRIC_COUNTER,
						      .label_name = "rule",
						      .label_value = rules__rule(r, i)->info->id,
						      .value = c[k].value,
						  });

			if (err)
				return err;
		}
	}
	return 0;
}
