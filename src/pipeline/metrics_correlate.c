// SPDX-License-Identifier: Apache-2.0
/*
 * metrics_correlate: the escalate-then-loot correlator's counters and table sizes as Prometheus
 * series (keyhole_correlate_*), read from correlate__live_stats(): plain counts the pipeline's
 * thread increments and sizes it stores whole after each event, so a scrape never walks the
 * correlator's tables from the metrics server's thread.
 */
#include <errno.h>
#include <stddef.h>

#include "keyhole/correlate.h"
#include "keyhole/metrics.h"
#include "keyhole/pipeline.h"

static const struct {
	size_t off;
	enum kh_metric_type type;
	const char *name;
	const char *help;
} series[] = {
#define S(field, type, name, help)                                                                 \
	{                                                                                          \
		offsetof(struct kh_correlate_stats, field), type, name, help                       \
	}
    S(grants, KH_METRIC_COUNTER, "keyhole_correlate_grants_total",
      "escalation steps (bindings, role escalate/bind, impersonation, tokens) tracked"),
    S(grants_ignored, KH_METRIC_COUNTER, "keyhole_correlate_grants_ignored_total",
      "escalation steps by known controllers or deploy tools, not tracked"),
    S(grants_failed, KH_METRIC_COUNTER, "keyhole_correlate_grants_failed_total",
      "escalation attempts denied or failed, not tracked"),
    S(subjects_tracked, KH_METRIC_GAUGE, "keyhole_correlate_subjects",
      "principals the correlator holds with the grants they gained (max_subjects)"),
    S(subject_evictions, KH_METRIC_COUNTER, "keyhole_correlate_subject_evictions_total",
      "principals with grants forgotten to make room"),
    S(readers_tracked, KH_METRIC_GAUGE, "keyhole_correlate_readers",
      "principals the correlator holds as prior secret readers (max_readers)"),
    S(reader_evictions, KH_METRIC_COUNTER, "keyhole_correlate_reader_evictions_total",
      "prior secret readers forgotten to make room"),
    S(incidents_tracked, KH_METRIC_GAUGE, "keyhole_correlate_incidents",
      "incidents open or pending (max_incidents)"),
    S(incidents_opened, KH_METRIC_COUNTER, "keyhole_correlate_incidents_opened_total",
      "incidents written for the first time"),
    S(incident_revisions, KH_METRIC_COUNTER, "keyhole_correlate_incident_revisions_total",
      "incident lines written (every revision)"),
    S(incident_evictions, KH_METRIC_COUNTER, "keyhole_correlate_incident_evictions_total",
      "incidents closed early to make room"),
    S(steps_dropped_all, KH_METRIC_COUNTER, "keyhole_correlate_steps_dropped_total",
      "timeline steps not kept: the incident's timeline was full (max_steps)"),
    S(rbac_unreadable, KH_METRIC_COUNTER, "keyhole_correlate_rbac_unreadable_total",
      "RBAC request objects that did not read whole"),
#undef S
};

int metrics__add_correlate(struct kh_metrics *m, const struct kh_correlate_stats *st)
{
	for (size_t i = 0; st && i < sizeof(series) / sizeof(series[0]); i++) {
		int err = metrics__add(
		    m, &(struct kh_metric){
			   .name = series[i].name,
			   .help = series[i].help,
			   .type = series[i].type,
			   .value = (const uint64_t *)((const char *)st + series[i].off)});

		if (err)
			return err;
	}
	return 0;
}
