// SPDX-License-Identifier: Apache-2.0
/*
 * node-exec-without-audit: an exec session into a pod's container that no pods/exec or
 * pods/attach request (for a debug container: no ephemeral-container patch) accounts for within
 * the window after it started. The API server admits and audits every exec that goes through it;
 * one that did not went around it:
 *
 *   - through the kubelet API, reached with nodes/proxy (no pods/exec event, no admission) or
 *     with a stolen kubelet client certificate against port 10250: when the audit stream holds
 *     a nodes/proxy request whose kubelet path runs a command in this pod, the alert names its
 *     user and says the exec came through the kubelet proxy;
 *   - from the node itself: crictl exec, ctr task exec, nsenter, runc exec typed in a shell.
 *     Then the alert names what the node knows: the parent chain of the exec'd process as the
 *     kernel saw it at the session's start (comm, audit login uid and session: an sshd login
 *     shows), with each parent's command line while it still ran.
 *
 * The kubelet's exec probes also come without a request: the same repeat check as
 * node-container-exec counts a session that repeats a command already alerted in the same
 * container within repeat_window (1 h) instead of alerting again.
 *
 * High (T1609, Container Administration Command): the API server's audit trail and admission
 * were bypassed. It needs the audit stream: it runs where the audit log is captured.
 */
#include "keyhole/config.h"
#include "rules/node/node_rules.h"
#include "keyhole/emit.h"

static const struct kh_rule_info info = {
    .id = "node-exec-without-audit",
    .uuid = "9b3e6d21-5a7c-4e08-b4f1-2c8d0a6e7f35",
    .name = "Exec into a container with no Kubernetes API request behind it",
    .severity = "high",
    .risk_score = 73,
    .techniques = {"T1609"},
    .source = "issue 15: exec attributed exactly (KEP-6035, nodes/proxy)",
};

#define WINDOW_NS (30ll * 1000 * 1000 * 1000)

/* a session waits the whole window for its request: the rule is about its absence */
static const struct node_rule_tun defaults = {
    .join_window_ns = WINDOW_NS,
    .join_wait_ns = WINDOW_NS,
    .repeat_window_ns = 3600ll * 1000 * 1000 * 1000,
    .max_repeats = 4096,
};

#define T struct node_rule_tun
static const struct kh_config_key config_keys[] = {
    KH_CFG_DURATION_KEY("window", T, join_wait_ns, 1, 3600,
			"how long after a session starts its pods/exec request may still come"),
    KH_CFG_DURATION_KEY("join_window", T, join_window_ns, 1, 3600,
			"a request this close to a session's start (either way) may be its own"),
    KH_CFG_DURATION_KEY("repeat_window", T, repeat_window_ns, 0, 30 * KH_DAY_S,
			"a session repeating an alerted command in the same container within this "
			"window is counted, not alerted (exec probes; 0s: off)"),
    KH_CFG_UINT_KEY("max_repeats", T, max_repeats, 1, 10000000,
		    "(container, command) pairs remembered for repeat_window"),
    KH_CFG_LIST_KEY("probe_commands", T, probe_commands,
		    "the kubelet's exec probe commands (argv joined by spaces, exact): a session "
		    "with no request running one through the container runtime is counted, not "
		    "alerted"),
    KH_CFG_STRING_KEY("node_name", T, node_name, 1, 253,
		      "this node's Kubernetes name: a nodes/proxy request through another node's "
		      "kubelet is not taken for a session's (default: --node-name, else "
		      "cluster.node_name; none set: not checked)"),
    KH_CFG_END,
};
#undef T

static void put_proxy(struct json_out *j, const struct audit_event *px)
{
	json_out__key(j, "kubelet_proxy");
	json_out__obj_begin(j);
	json_out__kv_kstr(j, "auditID", px->audit_id);
	json_out__kv_kstr(j, "user", px->user.username);
	if (px->source_ips.n)
		json_out__kv_kstr(j, "source_ip", px->source_ips.v[0]);
	json_out__kv_kstr(j, "user_agent", px->user_agent);
	json_out__kv_kstr(j, "verb", px->verb);
	json_out__kv_kstr(j, "node", px->object_ref.name);
	json_out__kv_kstr(j, "requestURI", px->request_uri);
	json_out__obj_end(j);
}

static void deliver(void *ctx, const struct node_event *ev, const struct audit_event *req,
		    const struct exec_attribution *at)
{
	struct node_rule_ctx *c = ctx;
	struct kh_emit *e = c->e;
	const struct node_session *s = ev->session;
	struct json_out *j;

	if (req || !s->who.pod_uid[0]) /* accounted for, or not a pod's container */
		return;
	/* a container started in a running one's pid namespace is kubectl debug's or the pod's own
	 */
	if (node_rule__unpaired_new_container(c->s, ev, req))
		return;
	if (!at->proxy && node_rule__is_allowed_probe(c->s, ev))
		return;
	if (!at->proxy && node_rule__is_repeat(c->s, ev))
		return;
	/* the proxy request is the one the API server saw: it names who, as a joined request */
	j = emit__alert_begin_node(e, &info, ev->time_ns, "exec", s->id, at->proxy);
	if (!j)
		return;
	node_alert__write_open(j, ev, NULL, at);
	/* how the exec reached the container, since not through pods/exec */
	json_out__key(j, "exec_path");
	json_out__obj_begin(j);
	if (at->proxy) {
		json_out__kv_str(j, "via", "kubelet-proxy");
		put_proxy(j, at->proxy);
	} else {
		json_out__kv_str(j, "via", "node");
	}
	json_out__obj_end(j);
	json_out__obj_end(j); /* keyhole */
	emit__alert_end(e, NULL, 0);
}

void *node_exec_without_audit_new_with(const struct node_rule_tun *t)
{
	return node_rule_state__new(t ? t : &defaults, deliver);
}

static void *state_new(const struct kh_config *cfg)
{
	struct node_rule_tun t = defaults;

	config__rule_apply(cfg, info.id, config_keys, &t);
	if (!t.node_name && cfg)
		t.node_name = cfg->cluster.node_name;
	return node_exec_without_audit_new_with(&t);
}

static void on_node_event(void *state, const struct node_event *ev, struct kh_emit *emit)
{
	node_rule__on_node(state, ev, ev->kind == NODE_EV_EXEC && ev->session_start, emit);
}

const struct kh_rule rule_node_exec_without_audit = {
    .info = &info,
    .state_new = state_new,
    .state_free = node_rule_state__free,
    .on_event = node_rule__on_audit,
    .counters = node_rule__counters,
    .flush = node_rule__flush,
    .on_node_event = on_node_event,
    .config_keys = config_keys,
    .config_defaults = &defaults,
};
