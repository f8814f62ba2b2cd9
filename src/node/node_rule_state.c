// SPDX-License-Identifier: Apache-2.0
/*
 * node_rule_state: what the two exec-watch rules share: a join of exec sessions with pods/exec
 * requests, fed every audit event (on_event) and ended at flush.
 */
#include <errno.h>
#include <stdlib.h>

#include "keyhole/config.h"
#include "node/node_rules.h"

const struct node_rule_tun node_rule_defaults = {
    .join_window_ns = KH_EXEC_JOIN_WINDOW_NS,
    .join_wait_ns = KH_EXEC_JOIN_WAIT_NS,
};

#define T struct node_rule_tun
const struct kh_config_key node_rule_config_keys[] = {
    KH_CFG_DURATION_KEY(
	"join_window", T, join_window_ns, 1, 3600,
	"a pods/exec request this close to a session's start (either way) is its request"),
    KH_CFG_DURATION_KEY("join_wait", T, join_wait_ns, 1, 600,
			"how long a node alert waits (event time) for its pods/exec request"),
    KH_CFG_END,
};
#undef T

struct node_rule_state *node_rule_state__new(const struct node_rule_tun *t, exec_join_deliver_fn fn)
{
	struct node_rule_state *s = calloc(1, sizeof(*s));
	struct exec_join_opts o = {0};

	if (!s)
		return NULL;
	if (!t)
		t = &node_rule_defaults;
	o.window_ns = t->join_window_ns;
	o.wait_ns = t->join_wait_ns;
	s->join = exec_join__new(&o, fn);
	if (!s->join) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

void node_rule_state__free(void *state)
{
	struct node_rule_state *s = state;

	if (!s)
		return;
	exec_join__free(s->join);
	free(s);
}

void node_rule__on_audit(void *state, const struct audit_event *ev, struct kh_emit *emit)
{
	exec_join__on_audit(((struct node_rule_state *)state)->join, ev, emit);
}

void node_rule__flush(void *state, struct kh_emit *emit)
{
	exec_join__flush(((struct node_rule_state *)state)->join, emit);
}
