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
 * The pairing depends only on the order of the events fed in, so two rules each owning a join
 * and fed the same events pair every session with the same request.
 */
#ifndef KEYHOLE_NODE_EXEC_JOIN_H
#define KEYHOLE_NODE_EXEC_JOIN_H

#include <stdbool.h>
#include <stdint.h>

#include "keyhole/audit_event.h"
#include "keyhole/node_event.h"

struct exec_join_opts {
	int64_t window_ns;     /* |request time - session start|; 0: 30 s */
	int64_t wait_ns;       /* how long a session waits for its request; 0: 5 s */
	uint32_t max_requests; /* pods/exec requests remembered; 0: 1024 */
	uint32_t max_sessions; /* sessions remembered; 0: 1024 */
	uint32_t max_held;     /* node events held per waiting session; 0: 16 */
};

#define KH_EXEC_JOIN_WINDOW_NS (30ll * 1000 * 1000 * 1000)
#define KH_EXEC_JOIN_WAIT_NS (5ll * 1000 * 1000 * 1000)

struct exec_join_stats {
	uint64_t requests;	    /* pods/exec requests seen (distinct) */
	uint64_t joined;	    /* sessions paired with a request */
	uint64_t unjoined;	    /* sessions final without one */
	uint64_t held_overflow;	    /* events delivered early: the session's hold was full */
	uint64_t request_evictions; /* requests forgotten to make room */
	uint64_t session_evictions; /* sessions forgotten to make room */
};

/*
 * Receives a node event the caller asked to deliver, once its session's pairing is final; @req
 * is the paired request (valid for the call), or NULL when there is none.
 */
typedef void (*exec_join_deliver_fn)(void *ctx, const struct node_event *ev,
				     const struct audit_event *req);

struct exec_join;

/* NULL with errno set on failure */
struct exec_join *exec_join__new(const struct exec_join_opts *opts, exec_join_deliver_fn fn);
void exec_join__free(struct exec_join *j);

/* see an audit event (only pods/exec requests are kept); may deliver held events */
void exec_join__on_audit(struct exec_join *j, const struct audit_event *ev, void *ctx);

/* see a node event; deliver it to fn when @deliver (now, or when its session is final) */
void exec_join__on_node(struct exec_join *j, const struct node_event *ev, bool deliver, void *ctx);

/* end of input: every waiting session is final, its held events delivered */
void exec_join__flush(struct exec_join *j, void *ctx);

const struct exec_join_stats *exec_join__stats(const struct exec_join *j);

#endif /* KEYHOLE_NODE_EXEC_JOIN_H */
