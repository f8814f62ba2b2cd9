// SPDX-License-Identifier: Apache-2.0
/*
 * node_rule_state: what the two exec-watch rules share: a join of exec sessions with pods/exec
 * requests, fed every audit event (on_event) and ended at flush.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/config.h"
#include "rules/node/node_rules.h"
#include "rules/match.h"

const struct node_rule_tun node_rule_defaults = {
    .join_window_ns = KH_EXEC_JOIN_WINDOW_NS,
    .join_wait_ns = KH_EXEC_JOIN_WAIT_NS,
    /* exec probes run every 10 s by default: an hour keeps one alert per probe per hour */
    .repeat_window_ns = 3600ll * 1000 * 1000 * 1000,
    .max_repeats = 4096,
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

const struct kh_config_key node_exec_rule_config_keys[] = {
    KH_CFG_DURATION_KEY(
	"join_window", T, join_window_ns, 1, 3600,
	"a pods/exec request this close to a session's start (either way) is its request"),
    KH_CFG_DURATION_KEY("join_wait", T, join_wait_ns, 1, 600,
			"how long a node alert waits (event time) for its pods/exec request"),
    KH_CFG_DURATION_KEY("repeat_window", T, repeat_window_ns, 0, 30 * KH_DAY_S,
			"a session without a pods/exec request repeating an alerted command in the "
			"same container within this window is counted, not alerted (0s: off)"),
    KH_CFG_UINT_KEY("max_repeats", T, max_repeats, 1, 10000000,
		    "(container, command) pairs remembered for repeat_window"),
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
	s->t = *t;
	if (!s->t.max_repeats)
		s->t.max_repeats = 4096;
	s->repeats = keytab__new(sizeof(int64_t), s->t.max_repeats, NULL, NULL);
	if (!s->repeats) {
		node_rule_state__free(s);
		errno = ENOMEM;
		return NULL;
	}
	o.window_ns = t->join_window_ns;
	o.wait_ns = t->join_wait_ns;
	s->join = exec_join__new(&o, fn);
	if (!s->join) {
		node_rule_state__free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->n_counters = exec_join__counters(s->join, s->counters);
	return s;
}

const struct kh_rule_counter *node_rule__counters(const void *state, size_t *n)
{
	const struct node_rule_state *s = state;

	*n = s->n_counters;
	return s->counters;
}

void node_rule_state__free(void *state)
{
	struct node_rule_state *s = state;

	if (!s)
		return;
	exec_join__free(s->join);
	keytab__free(s->repeats);
	free(s);
}

void node_rule__on_audit(void *state, const struct audit_event *ev, struct kh_emit *emit)
{
	struct node_rule_ctx ctx = {emit, state};

	exec_join__on_audit(ctx.s->join, ev, &ctx);
}

void node_rule__flush(void *state, struct kh_emit *emit)
{
	struct node_rule_ctx ctx = {emit, state};

	exec_join__flush(ctx.s->join, &ctx);
}

void node_rule__on_node(void *state, const struct node_event *ev, bool deliver,
			struct kh_emit *emit)
{
	struct node_rule_ctx ctx = {emit, state};

	if (ev->kind == NODE_EV_LOG_TAMPER)
		return; /* not an exec session's */
	exec_join__on_node(ctx.s->join, ev, deliver, &ctx);
}

bool node_rule__is_repeat(struct node_rule_state *s, const struct node_event *ev)
{
	const char *cid = ev->session->who.container_id;
	uint64_t h = match__hash_bytes(KH_HASH_INIT, cid, strlen(cid) + 1);
	int64_t *at;
	bool created;

	if (s->t.repeat_window_ns <= 0)
		return false;
	for (uint32_t i = 0; i < ev->argc; i++)
		h = match__hash_bytes(h, ev->argv[i], strlen(ev->argv[i]) + 1);
	h = match__hash_final(h);
	at = keytab__find(s->repeats, &h, sizeof(h)); /* not touched: first in, first out */
	if (at && ev->time_ns >= *at &&
	    (uint64_t)ev->time_ns - (uint64_t)*at < (uint64_t)s->t.repeat_window_ns) {
		s->repeats_suppressed++;
		return true;
	}
	if (!at)
		at = keytab__upsert(s->repeats, &h, sizeof(h), &created);
	if (at)
		*at = ev->time_ns;
	return false;
}

bool node_rule__unpaired_new_container(struct node_rule_state *s, const struct node_event *ev,
				       const struct audit_event *req)
{
	if (!ev->session->new_container || req)
		return false;
	s->new_container_unpaired++;
	return true;
}
