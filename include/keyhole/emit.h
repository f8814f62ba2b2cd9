/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emit: turns rule matches into alert lines, once per request.
 *
 * Rules call emit__alert_begin()/alert_end() (keyhole/rule.h); emit writes the fields every alert
 * shares, dedupes, holds and writes. The engine brackets each event with emit__event_begin()
 * and emit__event_end() and tells emit which rule is running (emit__set_rule()).
 *
 * One alert per request: the apiserver writes a request once per stage (RequestReceived, then
 * ResponseStarted for long-running requests, then ResponseComplete or Panic). The key of an
 * alert is (rule, request), where the request is its auditID together with verb, requestURI and
 * user.username, which are equal at every stage of one request; the extra fields matter because
 * a client can set the Audit-ID header itself, and must not silence a second, different request
 * by reusing the ID of a first one.
 *
 * Stage policy. The apiserver writes the RequestReceived event right after authentication,
 * before impersonation and authorization run, so it carries no decision annotation, no
 * impersonatedUser and no response. A match at RequestReceived is therefore held, not written:
 *  - a later stage of the same request that matches the same rule replaces it: one alert, from
 *    the fuller event (decision, response code, impersonated user);
 *  - a later stage on which the rule does not alert (it called emit__alert_cancel(), or just did
 * not match) ends the hold: the held alert is written, unless it was cancelled. A rule cancels when
 * the fuller event shows the alert is not due (the Arc rule: the impersonated user was already
 * seen);
 *  - without a later stage (a policy omitting ResponseComplete, a lost line, a watch running
 *    long) the held alert is written once event time has moved KH_EMIT_HOLD_NS past it, when
 *    the pending table is full (oldest first), at flush (end of input), or when muting.
 * So nothing is lost, and an alert carries the decision whenever the log has one.
 */
#ifndef KEYHOLE_RULES_EMIT_H
#define KEYHOLE_RULES_EMIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "keyhole/audit_event.h"
#include "keyhole/pipeline.h"
#include "keyhole/rule.h"

/*
 * How long a RequestReceived match waits for its request's next stage, in event time. The
 * apiserver ends any non-long-running request at --request-timeout (default 60 s); a secret
 * get/list completes in milliseconds, so in practice the hold ends at the next stage. Long-running
 * requests (watch, exec) get a ResponseStarted stage, carrying the decision, as soon as they are
 * authorized. 60 s therefore loses no decision, and bounds how late an alert can be when a
 * later stage never comes.
 */
#define KH_EMIT_HOLD_NS (60ll * 1000 * 1000 * 1000)

/*
 * Requests remembered as alerted, per rule. An entry only has to outlive its request's last
 * stage (seconds; hours for a long exec or watch). Alerts are rare, so 64 Ki entries (1.5 MiB)
 * hold weeks of alerts at any sane rate; evicting one can at worst repeat an alert, never lose
 * one. Evictions are counted (kh_counters.dedup_evictions).
 */
#define KH_EMIT_DONE_MAX 65536

/*
 * Held RequestReceived matches. Entries live for one request's latency, so this only fills when
 * a log carries RequestReceived without later stages and matches at a high rate; then the oldest
 * is written early (counted in kh_counters.held_written_early). 4 Ki held alerts of ~2 KiB each
 * bound the memory at ~8 MiB.
 */
#define KH_EMIT_PENDING_MAX 4096

struct kh_emit;

/*
 * @out receives the alert lines; @c (may be NULL) gets alerts, dedup_suppressed, output_errors
 * and alerts_by_rule[rule index] counted (alerts_by_rule may be NULL). Returns NULL with errno.
 */
struct kh_emit *emit__new(FILE *out, struct kh_counters *c);
void emit__free(struct kh_emit *e);

/* the rule now running: its index in the rule table (for keys and alerts_by_rule) */
void emit__set_rule(struct kh_emit *e, size_t rule_index);

/*
 * the same, for rules outside the table (Sigma rules loaded from files): @key_index keys dedupe
 * and holds (never below the table's size), @count_index is the alerts_by_rule slot
 */
void emit__set_rule_counted(struct kh_emit *e, size_t key_index, size_t count_index);

/*
 * replay: alert lines go through the stream's buffer, written in large blocks, and the caller
 * flushes at the end; live (the default) flushes every line so no alert waits
 */
void emit__set_batched(struct kh_emit *e, int on);

/* baseline mode: rules update their state, nothing is written (held alerts are written first) */
void emit__set_muted(struct kh_emit *e, int muted);

/*
 * Resume warm-up (issue 19): rules, holds and the per-request dedupe run as live, but no line is
 * written (counted as warmup_alerts). Held alerts stay held when it ends: their later stage is in
 * the catch-up that follows.
 */
void emit__set_warm(struct kh_emit *e, int on);

/*
 * Lines a previous run wrote (the tail of the output file): until emit__forget_written(), an
 * alert with the same emit_line_key() is not written (counted as already_written). At most
 * KH_EMIT_WRITTEN_MAX are kept (oldest forgotten). Returns 0 or -ENOMEM.
 */
#define KH_EMIT_WRITTEN_MAX 65536
int emit__note_written(struct kh_emit *e, const char *line, size_t len);
void emit__forget_written(struct kh_emit *e);
/* rule id and kubernetes.audit.auditID of an alert line, else its whole text (emit_written.c) */
uint64_t emit_line_key(const char *line, size_t len);

/* before the rules see @ev: advance event time, write holds that expired */
void emit__event_begin(struct kh_emit *e, const struct audit_event *ev);

/* after all @n_rules rules saw @ev: a later stage ends the holds of its request */
void emit__event_end(struct kh_emit *e, const struct audit_event *ev, size_t n_rules);

/* emit__event_end() for the rules keyed @first .. @first + @n_rules - 1 */
void emit__event_end_range(struct kh_emit *e, const struct audit_event *ev, size_t first,
			   size_t n_rules);

/* end of input: write every held alert, oldest first */
void emit__flush(struct kh_emit *e);

/*
 * The running rule will not alert on @ev's request after all: drop its held RequestReceived
 * alert for that request, if any.
 */
void emit__alert_cancel(struct kh_emit *e, const struct audit_event *ev);

/*
 * An alert that stands for many requests (a correlated incident): written at once, never
 * deduplicated or held, because its owner decides when a new line (revision) is due. Writes
 * @timestamp (@t_ns, event time), event.kind/action/severity, rule.* and threat.*; the caller
 * adds its own fields into the returned object, then emit__incident_end() adds
 * evidence.audit_ids and writes the line, counted under alerts_by_rule[@rule_index]. NULL when
 * muted (baseline mode): the caller then writes nothing and does not call emit__incident_end().
 */
struct json_out *emit__incident_begin(struct kh_emit *e, const struct kh_rule_info *rule,
				      size_t rule_index, int64_t t_ns, const char *action);
void emit__incident_end(struct kh_emit *e, const char *const *ids, size_t n_ids);

/* a rule dropped an entry of its bounded state to make room (counted as state_evictions) */
void emit__count_state_eviction(struct kh_emit *e);

/* the request key of @ev (auditID, verb, requestURI, user.username), never 0 */
uint64_t emit__request_key(const struct audit_event *ev);

/* @ev is a RequestReceived event */
int emit__is_request_received(const struct audit_event *ev);

#endif /* KEYHOLE_RULES_EMIT_H */
