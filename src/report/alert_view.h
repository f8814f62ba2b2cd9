/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alert_view: the handful of fields a person scans in an alert, read from one alert JSON line
 * (audit, node and incident alerts alike). The strings point into the jdoc (or at static
 * defaults), so they live as long as it does.
 */
#ifndef KEYHOLE_REPORT_ALERT_VIEW_H
#define KEYHOLE_REPORT_ALERT_VIEW_H

#include "report/jdom.h"

struct alert_view {
	const char *time;     /* "@timestamp" */
	const char *severity; /* rule.severity: low, medium, high, critical */
	const char *rule;     /* rule.id */
	const char *user;     /* user.name */
	const char *ip;	      /* source.ip */
	const char *ua;	      /* user_agent.original */
	const char *verb;     /* the audit verb, or event.action */
	const char *object;   /* namespace/resource/name, or the file, process or subject */
	const char *incident; /* keyhole.incident.id, or "" */
	const char *decision; /* authorization decision, or "" */
	const char *audit_id; /* kubernetes.audit.auditID, or "" */
	long long revision;   /* keyhole.incident.revision, 0 when not an incident */
	long long risk;	      /* rule.risk_score */
	char object_buf[512];
};

/* Fill @v from @d. Returns 0, or -EINVAL when @d is not an alert (no rule.id). */
int alert_view__read(const struct jdoc *d, struct alert_view *v);

/* 0 low, 1 medium, 2 high, 3 critical, -1 unknown */
int alert_view__sev_rank(const char *severity);

#endif /* KEYHOLE_REPORT_ALERT_VIEW_H */
