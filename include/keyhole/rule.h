/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rule: the interface every detection implements, and the table that lists them.
 *
 * A rule is one file in src/rules/ that defines a `const struct kh_rule` and is named in the
 * table in src/rules/rule_table.c; adding a rule touches that file and that table only. Rules see
 * parsed events in order of arrival and emit alerts through struct kh_emit, which writes the
 * fields every alert shares and dedupes by (rule, auditID).
 */
#ifndef KEYHOLE_RULE_H
#define KEYHOLE_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyhole/audit_event.h"
#include "keyhole/json_out.h"

#define KH_MAX_TECHNIQUES 8

struct kh_rule_info {
	const char *id;	      /* stable keyhole id, e.g. "k8s-secret-suspicious-ua" */
	const char *uuid;     /* the source rule's uuid (Elastic rule_id, Sigma id) */
	const char *name;     /* the source rule's name */
	const char *severity; /* low, medium, high, critical */
	int risk_score;	      /* 0-100, as the source rule sets it */
	const char *techniques[KH_MAX_TECHNIQUES]; /* MITRE ids, NULL-terminated */
	const char *tactics[KH_MAX_TECHNIQUES]; /* MITRE tactic ids ("TA0002"), NULL-terminated */
	const char *source;			/* where the logic comes from (seed file) */
	const char *ruleset;   /* rule.ruleset when set ("sigma": a rule loaded from a file) */
	const char *reference; /* rule.reference when set (the rule's file) */
};

struct kh_emit;
struct kh_config;
struct kh_config_key;
struct kh_config_rule;
struct kh_history;
struct node_event;

/*
 * one counter a rule's state keeps, served in /metrics as NAME{rule="<rule id>"}; a gauge (how
 * many entries a table holds now) when @gauge, its value stored with __atomic_store_n since the
 * metrics server reads it from its own thread
 */
struct kh_rule_counter {
	const char *name; /* keyhole_..._total, or a gauge's plain name */
	const char *help;
	const uint64_t *value; /* into the state: valid while the state lives */
	bool gauge;
};

struct kh_rule {
	const struct kh_rule_info *info;
	/* optional: per-rule state; NULL return with errno set fails start-up */
	void *(*state_new)(const struct kh_config *cfg);
	void (*state_free)(void *state);
	/* see one event; emit zero or more alerts */
	void (*on_event)(void *state, const struct audit_event *ev, struct kh_emit *emit);
	/* optional: end of input (replay) or shutdown: emit what is pending */
	void (*flush)(void *state, struct kh_emit *emit);
	/*
	 * optional: the tunables this rule accepts under `rules.<id>` in the config file (see
	 * keyhole/config.h); state_new applies them with config__rule_apply(cfg, id, keys, &t)
	 */
	const struct kh_config_key *config_keys;
	/* with config_keys: the rule's tunables holding the seed's values (for the reference) */
	const void *config_defaults;
	/*
	 * optional: the first-seen/last-seen memory this rule keeps in the state file (new-terms
	 * history), saved under the rule's id and loaded back at start (see keyhole/history.h)
	 */
	struct kh_history *(*history)(void *state);
	/* optional: see one node event (exec watch, keyhole/node_event.h) */
	void (*on_node_event)(void *state, const struct node_event *ev, struct kh_emit *emit);
	/*
	 * optional: how far back in event time this rule's state reaches (its window): a resume
	 * re-reads that much of the log before its checkpoint to rebuild the state (issue 19)
	 */
	int64_t (*window_ns)(const void *state);
	/* optional: the counters this rule's state keeps, *@n of them (for /metrics) */
	const struct kh_rule_counter *(*counters)(const void *state, size_t *n);
};

/* the table, in the order `keyhole rules` lists them; NULL-terminated */
extern const struct kh_rule *const kh_rule_table[];

/*
 * The table as the config loader takes it (config__load(), config__write_reference()): each
 * rule's id, name, source, config keys and defaults, in table order, ended by a NULL id.
 */
const struct kh_config_rule *rules__config_schema(void);

/*
 * Alert construction. emit__alert_begin() opens the alert object and writes @timestamp (the event's
 * own time), event.*, rule.*, threat.*, user.*, source.ip, user_agent.original and
 * kubernetes.audit.* from @ev; the rule may then add its own keys; emit__alert_end() writes
 * evidence.audit_ids (the event's auditID plus @extra_ids) and sends the line to the output.
 * emit__alert_begin() returns NULL when this (rule, auditID) already alerted: the rule then writes
 * nothing and does not call emit__alert_end().
 */
struct json_out *emit__alert_begin(struct kh_emit *e, const struct kh_rule_info *rule,
				   const struct audit_event *ev);
void emit__alert_end(struct kh_emit *e, const struct kstr *extra_ids, size_t n_extra);

/*
 * Node alerts (exec watch). Like emit__alert_begin(), with the node event's wall-clock @time_ns as
 * @timestamp and @action as event.action; when @joined (the pods/exec request the node event was
 * matched to) is non-NULL, also the user.*, source.ip, user_agent.* and kubernetes.audit.* an
 * audit alert carries, and emit__alert_end() lists its auditID. @key names what is alerted on
 * (never the same for two different alerts of one rule), for dedupe. NULL when muted or already
 * alerted.
 */
struct json_out *emit__alert_begin_node(struct kh_emit *e, const struct kh_rule_info *rule,
					int64_t time_ns, const char *action, uint64_t key,
					const struct audit_event *joined);

#endif /* KEYHOLE_RULE_H */
