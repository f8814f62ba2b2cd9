/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigma_harness: load Sigma rule text through the real loader and pipeline, feed audit lines,
 * count the Sigma alerts (rule.ruleset "sigma") it writes.
 *
 * Rules are written to a private temporary directory, so loading goes the way `--rules` does;
 * only public interfaces are used (keyhole/pipeline.h, keyhole/sigma.h).
 */
#ifndef KH_TEST_SIGMA_HARNESS_H
#define KH_TEST_SIGMA_HARNESS_H

#include <stddef.h>

#include "rules_harness.h"

struct sh;

/* a pipeline with @yaml (one or more documents) loaded as one rule file */
struct sh *sh_new(const char *yaml);
/* a pipeline loading these paths (files or directories) */
struct sh *sh_new_paths(const char *const *paths, size_t n);
void sh_free(struct sh *h);

void sh_feed(struct sh *h, const char *line);
void sh_ev(struct sh *h, const struct ev_spec *s);
void sh_flush(struct sh *h);

/* Sigma alerts so far whose rule.id is @rule_id (NULL: any Sigma alert) */
size_t sh_count(struct sh *h, const char *rule_id);
/* the n-th such alert as a JSON line (valid until the next call), or NULL */
const char *sh_line(struct sh *h, const char *rule_id, size_t n);
/* the string at a dotted path of the n-th such alert, or NULL */
const char *sh_str(struct sh *h, const char *rule_id, size_t n, const char *path);

/* correlation groups evicted to stay in bounds */
unsigned long long sh_evictions(struct sh *h);

/* the rule.uuid of loaded rule @i */
const char *sh_rule_id(struct sh *h, size_t i);

/* rules loaded */
size_t sh_rules(struct sh *h);

/* load @yaml with one event and flush: how many Sigma alerts */
size_t sh_hits(const char *yaml, const struct ev_spec *s);

/* `keyhole rules check` on @yaml: the error count; @errs gets the text (malloc'd, may be NULL) */
size_t sh_check(const char *yaml, char **errs);

#endif /* KH_TEST_SIGMA_HARNESS_H */
