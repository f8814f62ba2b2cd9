/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigma: native Sigma rules (with correlation) for the Kubernetes audit log.
 *
 * A rule set is loaded from YAML files (libyaml) and compiled once: every field a rule names is
 * resolved to a slot, every value with its modifiers to a matcher, every condition to a tree, and
 * the rules are grouped by the objectRef.resource and verb they can match. Per event the fields
 * are extracted at most once (the ones the parser already read come from struct audit_event, the
 * others from one walk of the raw line) and only the rules of the event's group run.
 *
 * Matches go out through the same alert envelope as the built-in rules (rule.ruleset "sigma",
 * rule.reference the file); correlation rules (event_count, value_count, temporal,
 * temporal_ordered) run on event time with bounded state. Semantics follow the Sigma
 * specification (sigma-specification: Sigma_specification.md, Sigma_meta_rules.md); where
 * keyhole departs or leaves a part out, docs/writing-rules.md says so.
 */
#ifndef KEYHOLE_SIGMA_H
#define KEYHOLE_SIGMA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "keyhole/audit_event.h"

struct kh_emit;
struct kh_rule_info;
struct kh_sigma;

/* at most this many --rules paths and rules.paths entries together */
#define KH_SIGMA_MAX_PATHS 32

/*
 * Load every rule in @paths (files, or directories whose *.yml / *.yaml files are read in name
 * order). A rule that does not compile is reported through kh_log as "file:line:column: what"
 * and skipped; the others load. @n_errors (may be NULL) receives the number of rules refused and
 * files unreadable. Returns NULL with errno only when memory runs out. An empty set is valid.
 */
struct kh_sigma *sigma__load(const char *const *paths, size_t n_paths, size_t *n_errors);
void sigma__free(struct kh_sigma *s);

/*
 * Validate only: the same load, with each error written to @err as "file:line:column: message"
 * lines. Returns the number of errors (0: every rule is valid).
 */
size_t sigma__check(const char *const *paths, size_t n_paths, FILE *err);

/*
 * Load the rules of one file's text (@len bytes at @buf, named @name in errors and alerts); errors
 * go to @err as sigma__check writes them (NULL: through kh_log). For tests and the fuzzer.
 */
struct kh_sigma *sigma__load_mem(const char *buf, size_t len, const char *name, FILE *err,
				 size_t *n_errors);

/* rules in the set (detection and correlation), and rule @i's alert identity */
size_t sigma__n(const struct kh_sigma *s);
const struct kh_rule_info *sigma__info(const struct kh_sigma *s, size_t i);
/* "detection" or the correlation type of rule @i */
const char *sigma__kind(const struct kh_sigma *s, size_t i);

/*
 * Alerts are counted under kh_counters.alerts_by_rule[@count_index] and deduplicated per rule
 * with keys that never collide with the built-in rules' (@key_base and up).
 */
void sigma__attach(struct kh_sigma *s, struct kh_emit *e, size_t count_index, size_t key_base);
/* count rule @i's alerts under alerts_by_rule[@count_index] instead (a series of its own) */
void sigma__count_as(struct kh_sigma *s, size_t i, size_t count_index);

/* one parsed event; emits through the attached emitter */
void sigma__on_event(struct kh_sigma *s, const struct audit_event *ev);
/* the input ended: decide the open windows of lt/lte/neq correlations (NULL: no-op) */
void sigma__flush(struct kh_sigma *s);

/* state entries dropped to stay in bounds (correlation groups), since load */
uint64_t sigma__evictions(const struct kh_sigma *s);

#endif /* KEYHOLE_SIGMA_H */
