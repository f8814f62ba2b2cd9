// SPDX-License-Identifier: Apache-2.0
/*
 * rule_table: every rule keyhole applies, in the order `keyhole rules` lists them and the engine
 * runs them. Adding a rule is its file plus one line here (and its declaration in rules.h).
 */
#include <pthread.h>
#include <stddef.h>

#include "keyhole/config.h"

#include "rules/node/node_rules.h"
#include "rules/rules.h"

const struct kh_rule *const kh_rule_table[] = {
    &rule_secret_suspicious_ua,
    &rule_secret_access_non_controller,
    &rule_secret_read_node_or_pod_sa,
    &rule_secret_configmap_arc_proxy,
    &rule_secret_rapid_get,
    &rule_unusual_decision_ua,
    &rule_node_container_exec,
    &rule_node_exec_without_audit,
    &rule_node_secret_read_in_exec,
    &rule_node_audit_log_tamper,
    NULL,
};

/* what config needs of each rule, in the same order (config sits below rules: it is handed this) */
static struct kh_config_rule schema[sizeof(kh_rule_table) / sizeof(kh_rule_table[0])];
static pthread_once_t schema_once = PTHREAD_ONCE_INIT;

static void schema_fill(void)
{
	for (size_t i = 0; kh_rule_table[i]; i++) {
		const struct kh_rule *r = kh_rule_table[i];

		schema[i] = (struct kh_config_rule){r->info->id, r->info->name, r->info->source,
						    r->config_keys, r->config_defaults};
	}
}

const struct kh_config_rule *rules__config_schema(void)
{
	pthread_once(&schema_once, schema_fill);
	return schema; /* the last entry stays zero: its NULL id ends the list */
}
