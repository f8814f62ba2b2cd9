/* SPDX-License-Identifier: Apache-2.0 */
/*
 * engine: runs every rule of the table on every event, in table order.
 *
 * The pipeline owns one engine per run. Each event goes to every rule's on_event with that
 * rule's state; emit is told which rule runs (for dedupe keys and per-rule counters) and brackets
 * the event so RequestReceived holds end when their request's later stage has been seen by all
 * rules. At end of input (or shutdown) rules__flush() lets windowed rules emit what they hold,
 * then writes the alerts still held.
 */
#ifndef KEYHOLE_RULES_ENGINE_H
#define KEYHOLE_RULES_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "keyhole/audit_event.h"
#include "keyhole/rule.h"

struct kh_config;
struct kh_emit;
struct kh_rules;
struct node_event;

/* all rules of kh_rule_table, tuned by @cfg (NULL: every default). NULL with errno on failure */
struct kh_rules *rules__new(const struct kh_config *cfg, struct kh_emit *e);

/* the same over another NULL-terminated table (tests run one rule, or a re-tuned one) */
struct kh_rules *rules__new_table(const struct kh_rule *const *table, const struct kh_config *cfg,
				  struct kh_emit *e);

void rules__on_event(struct kh_rules *r, const struct audit_event *ev);
/* a node event (exec watch) to every rule that takes them */
void rules__on_node_event(struct kh_rules *r, const struct node_event *ev);
/*
 * An audit event another instance captured (cluster mode's pods/exec requests, src/cluster):
 * only to the rules that pair audit requests with node events (the exec join), so the per-event
 * rules, which ran where it was captured, do not alert on it twice.
 */
void rules__on_remote_event(struct kh_rules *r, const struct audit_event *ev);
/*
 * What a node's exec join keeps (pods/exec, pods/attach, an ephemeral container, a nodes/proxy
 * request running a command in a pod): what cluster mode sends to every node.
 */
bool rules__is_exec_request(const struct audit_event *ev);
void rules__flush(struct kh_rules *r);
void rules__free(struct kh_rules *r);

/* the rules of this engine, and the history rule @i keeps (NULL: none, or disabled) */
/* the longest event-time window any enabled rule (or the emit hold) keeps state over */
int64_t rules__window_ns(const struct kh_rules *r);
size_t rules__n(const struct kh_rules *r);
const struct kh_rule *rules__rule(const struct kh_rules *r, size_t i);
struct kh_history *rules__history(const struct kh_rules *r, size_t i);
/* the counters rule @i's state keeps (*@n of them; NULL and 0: none, or disabled) */
const struct kh_rule_counter *rules__counters(const struct kh_rules *r, size_t i, size_t *n);

/* entries in kh_rule_table (the size of kh_counters.alerts_by_rule) */
size_t rules__count(void);

/*
 * For the pipeline (src/rules/node/node_alert.c): the correlator's view of a secret-material
 * open (correlate__on_node_secret_read): slices into @ev and into @id_buf, which receives the
 * node-side id "exec-session/<id>".
 */
struct kh_node_secret_read;
void node_event__secret_read(const struct node_event *ev, struct kh_node_secret_read *r,
			     char *id_buf, size_t id_size);

#endif /* KEYHOLE_RULES_ENGINE_H */
