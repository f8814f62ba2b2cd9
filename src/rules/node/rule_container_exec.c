// SPDX-License-Identifier: Apache-2.0
/*
 * node-container-exec: a process exec'd into a running container, the way `kubectl exec`
 * reaches a node (runtime -> runc exec -> runc init joins the container's namespaces -> execve).
 * The kernel side opens an exec session at that execve; this rule alerts once per session, on
 * its first exec, naming the pod and the command, and, when the audit log holds the pods/exec
 * request it came from (same namespace and pod, within the join window), who asked, from where,
 * with which client, and the command as requested.
 *
 * A session without a request that repeats a command already alerted for the same container
 * within repeat_window (1 h) is counted, not alerted: the kubelet runs exec liveness and
 * readiness probes through the same runc exec, every few seconds, with no API request behind them.
 *
 * Medium: exec into a container is an administrative act that is also how an attacker with
 * pods/exec rights gets a shell next to a workload's credentials (MITRE T1609, Container
 * Administration Command). Alone it is worth a look, not a page.
 */
#include "keyhole/config.h"
#include "rules/node/node_rules.h"
#include "keyhole/emit.h"

static const struct kh_rule_info info = {
    .id = "node-container-exec",
    .uuid = "6f1e8a3c-2d4b-4f7a-9c1e-5b3d7a9e2f04",
    .name = "Process exec'd into a running container (kubectl exec)",
    .severity = "medium",
    .risk_score = 47,
    .techniques = {"T1609"},
    .source = "design card: exec watch (bpf/exec_watch.bpf.c)",
};

static void deliver(void *ctx, const struct node_event *ev, const struct audit_event *req,
		    const struct exec_attribution *at)
{
	struct node_rule_ctx *c = ctx;
	struct kh_emit *e = c->e;
	struct json_out *j;

	if (node_rule__unpaired_new_container(c->s, ev, req))
		return;
	if (!req && node_rule__is_allowed_probe(c->s, ev))
		return;
	if (!req && node_rule__is_repeat(c->s, ev))
		return;
	j = emit__alert_begin_node(e, &info, ev->time_ns, "exec", ev->session->id, req);
	if (!j)
		return;
	node_alert__write(j, ev, req, at);
	emit__alert_end(e, NULL, 0);
}

void *node_container_exec__new_with(const struct node_rule_tun *t)
{
	return node_rule_state__new(t, deliver);
}

static void *state_new(const struct kh_config *cfg)
{
	struct node_rule_tun t = node_rule_defaults;

	config__rule_apply(cfg, info.id, node_exec_rule_config_keys, &t);
	return node_container_exec__new_with(&t);
}

static void on_node_event(void *state, const struct node_event *ev, struct kh_emit *emit)
{
	node_rule__on_node(state, ev, ev->kind == NODE_EV_EXEC && ev->session_start, emit);
}

const struct kh_rule rule_node_container_exec = {
    .info = &info,
    .state_new = state_new,
    .state_free = node_rule_state__free,
    .on_event = node_rule__on_audit,
    .counters = node_rule__counters,
    .flush = node_rule__flush,
    .on_node_event = on_node_event,
    .config_keys = node_exec_rule_config_keys,
    .config_defaults = &node_rule_defaults,
};
