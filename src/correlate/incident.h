/* SPDX-License-Identifier: Apache-2.0 */
/*
 * incident: one escalate-then-loot incident, its steps and how it is written.
 *
 * An incident belongs to one principal (the subject who read secrets after gaining rights) and
 * starts from the first grant that gave it those rights; its id is derived from that grant's
 * auditID and the principal's name only, so replay and live capture give the same id. Steps are
 * added as they arrive (grants, secret reads, execs, node-side secret reads) and summarised per
 * secret and per exec; the timeline keeps the first max_steps steps in time order and counts the
 * rest. Every step is deduplicated by (kind, auditID), so the two stages a watch or an exec is
 * logged at count once.
 */
#ifndef KEYHOLE_CORRELATE_INCIDENT_H
#define KEYHOLE_CORRELATE_INCIDENT_H

#include <stdbool.h>
#include <stdint.h>

#include "keyhole/audit_event.h"
#include "keyhole/json_out.h"
#include "keyhole/correlate.h"
#include "correlate/grant.h"

/* per-incident bounds on the summaries; the timeline's bound is configured (max_steps) */
#define KH_INCIDENT_MAX_SECRETS 64
#define KH_INCIDENT_MAX_EXECS 16
#define KH_INCIDENT_MAX_NODE_READS 16
#define KH_INCIDENT_MAX_GRANTS 8
#define KH_INCIDENT_SEEN 64 /* recent (kind, auditID) hashes remembered past a full timeline */

struct kh_incident_step {
	uint8_t kind; /* enum kh_step_kind */
	int64_t t_ns; /* when requested (node reads: when seen) */
	int32_t code; /* responseStatus.code, -1 when not logged */
	char *audit_id;
	char *user; /* user.username */
	char *as;   /* impersonatedUser.username */
	char *verb;
	char *resource; /* resource[/subresource] */
	char *namespace_;
	char *name;
	char *decision;
	char *detail; /* role (grants), command (exec), path (node reads) */
};

struct kh_incident_secret {
	char *namespace_; /* "" for a cluster-wide list */
	char *name;	  /* NULL for list/watch of the collection */
	uint8_t verbs;	  /* 1 get, 2 list, 4 watch */
	uint32_t allowed, forbidden, not_found, failed;
	int64_t first_ns, last_ns;
};

struct kh_incident_exec {
	char *audit_id;
	char *namespace_, *pod, *container, *subresource, *verb, *command, *decision;
	int32_t code;
	int64_t t_ns;
};

struct kh_incident_node_read {
	char *namespace_, *pod, *container, *path, *comm, *id;
	int64_t t_ns;
};

struct keytab;

struct kh_incident {
	char id[40];
	uint32_t revision; /* lines written so far */
	char *subject;	   /* the principal that looted (a username) */
	uint8_t via;	   /* enum kh_via of the first grant for it */
	char *via_group;   /* when it gained through a group it is a member of */
	struct kh_grant *grants[KH_INCIDENT_MAX_GRANTS]; /* [0] the first; all referenced */
	uint32_t n_grants, grants_total;
	uint32_t grant_repeats; /* the same impersonation or token request again (grant__same) */
	struct kh_incident_step *steps;
	uint32_t n_steps, max_steps, steps_total, steps_dropped;
	uint32_t steps_dropped_counted; /* of steps_dropped, in the correlator's stats */
	struct kh_incident_secret secrets[KH_INCIDENT_MAX_SECRETS];
	uint32_t n_secrets, secrets_dropped;
	struct kh_incident_exec execs[KH_INCIDENT_MAX_EXECS];
	uint32_t n_execs, execs_dropped;
	struct kh_incident_node_read node_reads[KH_INCIDENT_MAX_NODE_READS];
	uint32_t n_node_reads, node_reads_dropped;
	struct keytab *seen; /* recent step keys, first in first out */
	uint32_t loot_allowed, loot_forbidden, loot_not_found;
	char *source_ip, *user_agent; /* of the first loot step */
	char *reason_role_kind;	      /* the first grant's role as authorization reasons name it */
	char *reason_role_name;
	int64_t first_ns, last_ns; /* step times */
	int64_t touched_ns;	   /* event time it last changed */
	bool opened;		   /* written at least once */
	bool pending;		   /* changed since it was last written */
};

/* the outcome of adding a step */
enum kh_step_add {
	KH_ADD_DUP = 0, /* that step was already in: nothing changed */
	KH_ADD_REPEAT,	/* counted (a repeat read of a known secret): no new fact */
	KH_ADD_NEW,	/* a new fact: worth a new revision */
};

/*
 * A new incident for @subject from grant @g (a reference is taken), which it gained via @via
 * (through @via_group when not NULL). NULL when out of memory.
 */
struct kh_incident *incident__new(const char *subject, struct kh_grant *g, uint8_t via,
				  const char *via_group, uint32_t max_steps);
void incident__free(struct kh_incident *inc);

/* "etl-" and 32 hex digits from the grant's auditID and the subject (deterministic) */
void incident__make_id(char out[40], const char *grant_audit_id, const char *subject);

/* a further grant step for the same subject (or made by it) */
enum kh_step_add incident__add_grant(struct kh_incident *inc, struct kh_grant *g);

/* a secret read (KH_STEP_SECRET_READ) or exec (KH_STEP_EXEC) request by the subject */
enum kh_step_add incident__add_request(struct kh_incident *inc, enum kh_step_kind kind,
				       const struct audit_event *ev);

/* a secret file read inside an exec session into a pod the subject exec'd into */
enum kh_step_add incident__add_node_read(struct kh_incident *inc,
					 const struct kh_node_secret_read *r);

/* the subject exec'd into @ns/@pod at or before @t_ns + slack */
bool incident__execd_into(const struct kh_incident *inc, struct kstr ns, struct kstr pod,
			  int64_t t_ns);

/* the first grant's binding is bound to @kind/@name (learnt from an authorization reason) */
void incident__note_role(struct kh_incident *inc, const char *kind, const char *name);

/* loot that opens the incident has been seen (successful, or forbidden when @on_forbidden) */
bool incident__has_loot(const struct kh_incident *inc, bool on_forbidden);

/*
 * Write the incident's own members into the open top-level object @j: user, source,
 * user_agent, related and keyhole.incident. The caller writes the common alert fields before and
 * evidence after (incident__audit_ids()).
 */
void incident__write(const struct kh_incident *inc, struct json_out *j, int64_t window_ns);

/*
 * The auditIDs of the incident's evidence in timeline order, each once; returns how many were
 * put in @ids (at most @cap). The strings belong to the incident.
 */
uint32_t incident__audit_ids(const struct kh_incident *inc, const char **ids, uint32_t cap);

#endif /* KEYHOLE_CORRELATE_INCIDENT_H */
