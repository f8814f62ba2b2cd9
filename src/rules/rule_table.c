// SPDX-License-Identifier: Apache-2.0
/*
 * rule_table: every rule keyhole applies, in the order `keyhole rules` lists them and the engine
 * runs them. Adding a rule is its file plus one line here (and its declaration in rules.h).
 */
#include <stddef.h>

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
