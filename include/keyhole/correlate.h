/* SPDX-License-Identifier: Apache-2.0 */
/*
 * correlate: turns escalate-then-loot sequences into one incident (rule k8s-escalate-then-loot).
 *
 * The pipeline hands every parsed audit event to correlate__on_event() after the per-event rules
 * saw it, and node-side secret reads inside exec sessions to correlate__on_node_secret_read().
 * The correlator recognises escalation steps (RBAC bindings, escalate/bind on roles,
 * impersonation, service-account token requests), remembers who gained rights for a window of
 * event time, and when one of those principals then reads secrets it opens an incident and keeps
 * extending it (new revision, same id) as further steps arrive: more reads, exec into pods,
 * secret files read inside those execs. All state is bounded; time is the events' own time, so a
 * replay and a live capture of the same lines give the same incidents, byte for byte.
 */
#ifndef KEYHOLE_CORRELATE_H
#define KEYHOLE_CORRELATE_H

#include <stdbool.h>
#include <stdint.h>

#include "keyhole/audit_event.h"
#include "keyhole/rule.h"

struct kh_config;
struct kh_emit;
struct kh_correlate;

struct kh_correlate_opts {
	int64_t window_ns;	  /* grant -> loot by a subject of the grant (30 min) */
	int64_t actor_window_ns;  /* grant -> loot by the grant's actor, when not a subject (5 min)
				   */
	uint32_t max_subjects;	  /* principals tracked with the grants they gained */
	uint32_t max_readers;	  /* principals remembered as having read secrets (prior access) */
	uint32_t max_incidents;	  /* incidents open or pending at once */
	uint32_t max_steps;	  /* timeline steps kept per incident (the rest are counted) */
	bool open_on_forbidden;	  /* open an incident on a forbidden loot attempt too */
	bool ignore_helm_managed; /* bindings labelled app.kubernetes.io/managed-by: Helm */
	/* username prefixes of known controllers: their grants and reads are routine */
	const char *const *controller_prefixes; /* NULL-terminated */
	/* user-agent globs whose grants and reads are deployments, not attacks (Helm) */
	const char *const *ignore_user_agents; /* NULL-terminated */
	/*
	 * username prefixes of authenticating proxies: they impersonate the real end user on every
	 * request, so their impersonation is no escalation and the impersonated user is the
	 * requester
	 */
	const char *const *impersonation_proxies; /* NULL-terminated */
	bool disabled;				  /* correlate.enabled: false */
};

/* the correlator's defaults (see correlate.c for why each value) */
void correlate_opts__defaults(struct kh_correlate_opts *o);

/* the options the config's correlate: section sets (@cfg NULL: the defaults); @o points into @cfg
 */
void correlate_opts__from_config(struct kh_correlate_opts *o, const struct kh_config *cfg);

/* Counters, monotonically increasing, and the tables' sizes (*_tracked). */
struct kh_correlate_stats {
	uint64_t grants;	     /* escalation steps tracked */
	uint64_t grants_ignored;     /* escalation steps by controllers or deploy tools */
	uint64_t grants_failed;	     /* escalation attempts denied or failed (not tracked) */
	uint64_t subjects_tracked;   /* principals in the table now */
	uint64_t subject_evictions;  /* principals dropped because the table was full */
	uint64_t readers_tracked;    /* principals remembered as secret readers now */
	uint64_t reader_evictions;   /* readers dropped because their table was full */
	uint64_t incidents_opened;   /* incidents emitted for the first time */
	uint64_t incident_revisions; /* incident lines written (every revision) */
	uint64_t incident_evictions; /* incidents dropped because the table was full */
	uint64_t steps_dropped;	     /* steps not kept in a full timeline (closed incidents) */
	uint64_t steps_dropped_open; /* the same for incidents still open */
	uint64_t rbac_unreadable;    /* RBAC requestObjects that did not read whole */
	uint64_t incidents_tracked;  /* incidents open or pending now */
	uint64_t steps_dropped_all;  /* steps_dropped + steps_dropped_open, kept current */
};

/*
 * @cfg NULL: every default. Incidents go out through @e (not owned). NULL with errno on failure.
 */
struct kh_correlate *correlate__new(const struct kh_config *cfg, struct kh_emit *e);
/* the same with explicit options (tests, bench) */
struct kh_correlate *correlate__new_opts(const struct kh_correlate_opts *o, struct kh_emit *e);
void correlate__free(struct kh_correlate *c);

/* see one audit event (any stage); may write incident revisions */
void correlate__on_event(struct kh_correlate *c, const struct audit_event *ev);

/*
 * Cluster mode's facts (src/cluster): an escalation step (binding, role write or its
 * escalate/bind verb, impersonation, token creation) can make any principal a subject, so its
 * fact goes to every partition.
 */
bool correlate__is_escalation(const struct audit_event *ev);
/*
 * The RBAC requestObject @span rewritten to what the correlator reads from it (kind, name,
 * namespace, roleRef, subjects, the rules' wildcard and secret-read flags, the Helm marker) and
 * nothing else: annotations such as last-applied-configuration never travel.
 */
struct json_out;
void correlate__write_rbac_summary(struct kstr span, struct json_out *j);

/*
 * A secret-material file read inside a container exec session, as the exec watch reports it
 * (node-secret-read-in-exec). It joins the incident whose subject exec'd into that pod.
 */
struct kh_node_secret_read {
	struct kstr pod_namespace;
	struct kstr pod_name;
	struct kstr container;
	struct kstr path;    /* the file opened; its contents are never read */
	struct kstr comm;    /* the process that opened it */
	struct kstr node_id; /* the node alert's id, for the timeline */
	int64_t t_ns;	     /* wall-clock ns since the epoch */
};
void correlate__on_node_secret_read(struct kh_correlate *c, const struct kh_node_secret_read *r);

/* end of input or shutdown: write the last revision of incidents with unwritten steps */
void correlate__flush(struct kh_correlate *c);

/* how far back in event time an incident's state reaches (0 when disabled): what a resume
 * re-reads before its checkpoint to rebuild open incidents */
int64_t correlate__window_ns(const struct kh_correlate *c);

const struct kh_correlate_stats *correlate__stats(const struct kh_correlate *c);

/*
 * The same counters without the walk correlate__stats() makes (steps_dropped_open is not
 * computed; steps_dropped_all is), valid while @c lives: /metrics reads them from the metrics
 * server's thread, so every field that is not a plain count is stored whole after each event.
 */
const struct kh_correlate_stats *correlate__live_stats(const struct kh_correlate *c);

/* the rule the incidents carry (listed by `keyhole rules`) */
extern const struct kh_rule_info kh_rule_escalate_then_loot;

#endif /* KEYHOLE_CORRELATE_H */
