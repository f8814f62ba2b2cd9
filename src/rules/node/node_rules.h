/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node_rules: the exec-watch rules (node-container-exec, node-secret-read-in-exec), their
 * tunables, and the node-specific alert fields they share.
 */
#ifndef KEYHOLE_NODE_RULES_H
#define KEYHOLE_NODE_RULES_H

#include <stddef.h>

#include "keyhole/audit_event.h"
#include "keyhole/config.h"
#include "keyhole/json_out.h"
#include "keyhole/node_event.h"
#include "keyhole/rule.h"
#include "rules/node/exec_join.h"
#include "keyhole/keytab.h"

#define KH_NODE_PROBES_MAX 64

struct node_rule_tun {
	int64_t join_window_ns; /* pods/exec request to session start, either way; 0: 30 s */
	int64_t join_wait_ns;	/* how long an alert waits for its request; 0: 5 s */
	/*
	 * node-container-exec only: a session with no pods/exec request, running the same command
	 * in the same container as one already alerted within this window, is counted, not
	 * alerted (exec probes: the kubelet runs them through runc exec every few seconds, with no
	 * API request); 0 alerts every session
	 */
	int64_t repeat_window_ns;
	uint32_t max_repeats; /* (container, command) pairs remembered; 0: 4096 */
	/*
	 * the kubelet's exec probe commands (argv joined by single spaces, exactly): a session
	 * without a request that runs one of them through the container runtime (no login session
	 * among its parents) is counted, not alerted; NULL-terminated, empty by default
	 */
	const char *probe_commands[KH_NODE_PROBES_MAX + 1];
	/* node-exec-without-audit: this node's Kubernetes name (see exec_join_opts.node_name) */
	const char *node_name;
};

extern const struct node_rule_tun node_rule_defaults;
/* rules.<id>.join_window and rules.<id>.join_wait, for both rules */
extern const struct kh_config_key node_rule_config_keys[];
/* the same and rules.node-container-exec.repeat_window */
extern const struct kh_config_key node_exec_rule_config_keys[];

/* node-container-exec (medium): a process exec'd into a running container, once per session */
extern const struct kh_rule rule_node_container_exec;
void *node_container_exec__new_with(const struct node_rule_tun *t);

/* node-secret-read-in-exec (high, T1552.007): secret material opened inside an exec session */
extern const struct kh_rule rule_node_secret_read_in_exec;
void *node_secret_read_in_exec__new_with(const struct node_rule_tun *t);

/*
 * node-exec-without-audit (high, T1609): an exec session with no pods/exec, pods/attach (or, for
 * a debug container, ephemeral-container) request within its window: through the kubelet API
 * (nodes/proxy, a stolen kubelet client certificate) or from the node itself (crictl, ctr,
 * nsenter, runc)
 */
extern const struct kh_rule rule_node_exec_without_audit;
void *node_exec_without_audit_new_with(const struct node_rule_tun *t);

/*
 * node-audit-log-tamper (high, T1070): a process other than the apiserver changed its audit log
 * (the audit guard's events, NODE_EV_LOG_TAMPER)
 */
extern const struct kh_rule rule_node_audit_log_tamper;

/* the state both rules keep: their join, fed every audit and node event */
struct node_rule_state {
	struct exec_join *join;
	struct node_rule_tun t;
	struct keytab *repeats; /* hash(container, command) -> when that pair last alerted */
	uint64_t repeats_suppressed;
	/*
	 * sessions of a new container in a running one's pid namespace with no ephemeral-container
	 * request: counted, not alerted (a pod with shareProcessNamespace starts every container
	 * so)
	 */
	uint64_t new_container_unpaired;
	char **probes; /* copies of t.probe_commands */
	uint32_t n_probes;
	uint64_t probes_allowed;   /* sessions counted, not alerted, as allowlisted exec probes */
	uint64_t repeats_held;	   /* pairs in the repeat table now (a gauge, published) */
	uint64_t repeat_evictions; /* pairs forgotten to make room (published) */
	/* the join's counters and the state's own, for /metrics */
	struct kh_rule_counter counters[KH_EXEC_JOIN_COUNTERS + 5];
	size_t n_counters;
};

/* the rule counters of a node rule's state (kh_rule.counters) */
const struct kh_rule_counter *node_rule__counters(const void *state, size_t *n);

/*
 * true (and counted) when @ev's session, which no request accounts for, is an allowlisted exec
 * probe: its first command is exactly one of probe_commands, it came through the container
 * runtime (neither it nor a parent has an audit login uid: no one typed it on the node), and it
 * is an exec (not an attach or a new container)
 */
bool node_rule__is_allowed_probe(struct node_rule_state *s, const struct node_event *ev);

/* true (and counted) when @ev's session is a new container no kubectl debug accounts for */
bool node_rule__unpaired_new_container(struct node_rule_state *s, const struct node_event *ev,
				       const struct audit_event *req);

/* what the join hands back to a rule's deliver function */
struct node_rule_ctx {
	struct kh_emit *e;
	struct node_rule_state *s;
};
struct node_rule_state *node_rule_state__new(const struct node_rule_tun *t,
					     exec_join_deliver_fn fn);
void node_rule_state__free(void *state);
void node_rule__on_audit(void *state, const struct audit_event *ev, struct kh_emit *emit);
void node_rule__flush(void *state, struct kh_emit *emit);
/* see a node event; deliver it to the rule when @deliver */
void node_rule__on_node(void *state, const struct node_event *ev, bool deliver,
			struct kh_emit *emit);

/*
 * node-container-exec's repeat check for a session without a request: true when the same
 * command ran in the same container and alerted within repeat_window (then counted).
 */
bool node_rule__is_repeat(struct node_rule_state *s, const struct node_event *ev);

/*
 * The fields a node alert adds after emit__alert_begin_node(): orchestrator.* and container.* (pod
 * identity), process.* (with process.session_leader.*), file.path for opens, and keyhole.*
 * (exec session, cgroup, open result, and the pods/exec request's command when @req is set).
 */
void node_alert__write(struct json_out *j, const struct node_event *ev,
		       const struct audit_event *req, const struct exec_attribution *at);

/* the same, leaving the keyhole object open for the rule's own fields (it closes it) */
void node_alert__write_open(struct json_out *j, const struct node_event *ev,
			    const struct audit_event *req, const struct exec_attribution *at);

/*
 * keyhole.attribution: how the session was tied to its request (method, candidates when
 * ambiguous, the auditID the session carried), written by node_alert__write
 */
void node_alert__attribution(struct json_out *j, const struct node_session *s,
			     const struct exec_attribution *at);
/* keyhole.exec_session.kind: "exec", "attach" or "debug-container" */
const char *node_alert__session_kind(const struct node_session *s);
/* keyhole.exec_session.parents: the first process's parent chain (pid, name, command line) */
void node_alert__parents(struct json_out *j, const struct node_session *s);

#endif /* KEYHOLE_NODE_RULES_H */
