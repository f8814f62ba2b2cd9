/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exec_join: pairs exec sessions seen on the node with the pods/exec requests in the audit log.
 *
 * A `kubectl exec` is one pods/exec request (verb create, or get since kubectl 1.30) and, on the
 * node, one exec session in that pod's container. A session is paired with the unclaimed request
 * for the same namespace and pod (and container, when both name one) whose time is nearest the
 * session's start, within a window (30 s). Each request pairs with one session, so two execs into
 * one pod in quick succession are told apart by time.
 *
 * On a control-plane node the apiserver logs the request before the kubelet even starts runc, so
 * the request is normally there when the session starts. When it is not, the session waits (5 s
 * of event time) for it; node events a rule wants delivered meanwhile are held (bounded) and
 * delivered, joined or not, once the pairing is final. Event time is the later of the audit and
 * node event times seen so far; flush ends every wait.
 *
 * Exact pairing: when the kernel read KUBERNETES_EXEC_AUDIT_ID (KEP-6035) in the session's
 * environment, the session pairs with the request of that auditID and nothing else, provided it
 * names the same pod (an ID copied from another pod's request pairs by time instead, flagged).
 * Such a session waits for its own request; at the end of its wait it falls back to time.
 * Otherwise the pairing is by pod and time, and every request that fits (same pod, within the
 * window, not claimed exactly by another session) is a candidate: one is a unique match, more
 * are ambiguous and listed. pods/attach requests pair like pods/exec; ephemeral-container
 * patches (kubectl debug) pair only with sessions the kernel saw start a new container in a
 * running pod. An attach session (no process started: a container process read input from its
 * container's stdin) pairs only with pods/attach requests, and, since the user may type long after
 * attaching, with one received up to attach_window (10 min) before that input whose stream was
 * still open. A session left without a request is checked against the nodes/proxy requests
 * whose kubelet path runs a command in its pod (the kubelet API, reached without pods/exec).
 *
 * The pairing depends only on the order of the events fed in, so two rules each owning a join
 * and fed the same events pair every session with the same request.
 */
#ifndef KEYHOLE_NODE_EXEC_JOIN_H
#define KEYHOLE_NODE_EXEC_JOIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyhole/audit_event.h"
#include "keyhole/node_event.h"
#include "keyhole/rule.h"

struct exec_join_opts {
	int64_t window_ns;     /* |request time - session start|; 0: 30 s */
	int64_t wait_ns;       /* how long a session waits for its request; 0: 5 s */
	uint32_t max_requests; /* pods/exec requests remembered; 0: 1024 */
	uint32_t max_sessions; /* sessions remembered; 0: 1024 */
	uint32_t max_held;     /* node events held per waiting session; 0: 16 */
	/* an attach session: how long before its first input its pods/attach may be; 0: 10 min */
	int64_t attach_window_ns;
	/*
	 * the Kubernetes name of the node the sessions run on: a nodes/proxy request for another
	 * node is not kept (its kubelet cannot have run a command here); NULL: not checked
	 */
	const char *node_name;
};

#define KH_EXEC_JOIN_WINDOW_NS (30ll * 1000 * 1000 * 1000)
#define KH_EXEC_JOIN_WAIT_NS (5ll * 1000 * 1000 * 1000)
#define KH_EXEC_JOIN_ATTACH_WINDOW_NS (600ll * 1000 * 1000 * 1000)

struct exec_join_stats {
	uint64_t requests;	    /* pods/exec requests seen (distinct) */
	uint64_t joined;	    /* sessions paired with a request */
	uint64_t unjoined;	    /* sessions final without one */
	uint64_t exact;		    /* of the joined: by the session's auditID */
	uint64_t ambiguous;	    /* of the joined: more than one request fitted */
	uint64_t proxied;	    /* of the unjoined: a nodes/proxy request ran in their pod */
	uint64_t proxy_other_node;  /* nodes/proxy requests running a command on another node */
	uint64_t held_overflow;	    /* events delivered early: the session's hold was full */
	uint64_t request_evictions; /* requests forgotten to make room */
	uint64_t session_evictions; /* sessions forgotten to make room */
	uint64_t requests_held;	    /* requests in the table now (a gauge) */
	uint64_t sessions_held;	    /* sessions in the table now (a gauge) */
};

enum exec_attrib_method {
	EXEC_ATTRIB_NONE = 0,  /* no request fits */
	EXEC_ATTRIB_AUDIT_ID,  /* the session's KUBERNETES_EXEC_AUDIT_ID named the request */
	EXEC_ATTRIB_UNIQUE,    /* one request fits by pod, container and time */
	EXEC_ATTRIB_AMBIGUOUS, /* several fit; the nearest in time is the one given */
};

#define KH_EXEC_JOIN_CANDIDATES 4 /* candidate auditIDs listed for an ambiguous match */

/* how a session was tied to its request (valid for the deliver call) */
struct exec_attribution {
	enum exec_attrib_method method;
	uint32_t n_candidates; /* requests that fit by pod and time */
	uint32_t n_listed;     /* of them in candidates[], nearest first */
	const char *candidates[KH_EXEC_JOIN_CANDIDATES];
	bool audit_id_unmatched; /* the session carried an auditID that paired with no request */
	/* no request: a nodes/proxy request running a command in the session's pod, or NULL */
	const struct audit_event *proxy;
};

/* "none", "audit-id", "unique-match", "ambiguous" */
const char *exec_attrib__method_name(enum exec_attrib_method m);

/*
 * Receives a node event the caller asked to deliver, once its session's pairing is final; @req
 * is the paired request (valid for the call), or NULL when there is none; @at says how.
 */
typedef void (*exec_join_deliver_fn)(void *ctx, const struct node_event *ev,
				     const struct audit_event *req,
				     const struct exec_attribution *at);

struct exec_join;

/* NULL with errno set on failure */
struct exec_join *exec_join__new(const struct exec_join_opts *opts, exec_join_deliver_fn fn);
void exec_join__free(struct exec_join *j);

/* see an audit event (only the request kinds above are kept); may deliver held events */
void exec_join__on_audit(struct exec_join *j, const struct audit_event *ev, void *ctx);

/* see a node event; deliver it to fn when @deliver (now, or when its session is final) */
void exec_join__on_node(struct exec_join *j, const struct node_event *ev, bool deliver, void *ctx);

/* end of input: every waiting session is final, its held events delivered */
void exec_join__flush(struct exec_join *j, void *ctx);

const struct exec_join_stats *exec_join__stats(const struct exec_join *j);

/* the stats above as rule counters (and gauges) for /metrics: fills @out, returns how many */
#define KH_EXEC_JOIN_COUNTERS 12
size_t exec_join__counters(const struct exec_join *j,
			   struct kh_rule_counter out[KH_EXEC_JOIN_COUNTERS]);

#endif /* KEYHOLE_NODE_EXEC_JOIN_H */
