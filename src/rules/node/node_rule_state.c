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
    KH_CFG_LIST_KEY("probe_commands", T, probe_commands,
		    "exec probe commands (argv joined by spaces, exact): a session with no request "
		    "running one through the container runtime is counted, not alerted"),
    KH_CFG_END,
};
#undef T

/* the allowlist outlives the config it came from */
static int copy_probes(struct node_rule_state *s)
{
	uint32_t n = 0;

	while (n < KH_NODE_PROBES_MAX && s->t.probe_commands[n])
		n++;
	if (!n)
		return 0;
	s->probes = calloc(n, sizeof(*s->probes));
	if (!s->probes)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		s->probes[i] = strdup(s->t.probe_commands[i] ? s->t.probe_commands[i] : "");
		if (!s->probes[i])
			return -ENOMEM;
		s->n_probes++;
	}
	s->t.probe_commands[0] = NULL; /* the config's strings may go: s->probes is read */
	return 0;
}

/* after the join's: what this state counts and holds itself */
static void add_counters(struct node_rule_state *s)
{
	const struct kh_rule_counter own[] = {
	    {"keyhole_exec_probes_allowed_total",
	     "sessions counted, not alerted, as allowlisted exec probes (probe_commands)",
	     &s->probes_allowed, false},
	    {"keyhole_exec_repeats_suppressed_total",
	     "sessions without a request counted, not alerted: the same command in the same "
	     "container alerted within repeat_window",
	     &s->repeats_suppressed, false},
	    {"keyhole_exec_new_containers_unpaired_total",
	     "new containers in a running pod's pid namespace with no ephemeral-container "
	     "request: counted, not alerted",
	     &s->new_container_unpaired, false},
	    {"keyhole_exec_repeats_held", "(container, command) pairs the repeat table holds now",
	     &s->repeats_held, true},
	    {"keyhole_exec_repeat_evictions_total",
	     "(container, command) pairs forgotten to make room (max_repeats)",
	     &s->repeat_evictions, false},
	};

	_Static_assert(sizeof(own) / sizeof(own[0]) + KH_EXEC_JOIN_COUNTERS ==
			   sizeof(s->counters) / sizeof(s->counters[0]),
		       "room for every counter");
	memcpy(s->counters + s->n_counters, own, sizeof(own));
	s->n_counters += sizeof(own) / sizeof(own[0]);
}

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
	if (copy_probes(s)) {
		node_rule_state__free(s);
		errno = ENOMEM;
		return NULL;
	}
	o.window_ns = t->join_window_ns;
	o.wait_ns = t->join_wait_ns;
	o.node_name = t->node_name;
	s->join = exec_join__new(&o, fn);
	if (!s->join) {
		node_rule_state__free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->n_counters = exec_join__counters(s->join, s->counters);
	add_counters(s);
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
	for (uint32_t i = 0; i < s->n_probes; i++)
		free(s->probes[i]);
	free(s->probes);
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
	/*
	 * stdin read in a pid namespace that is no pod's (`unshare -p` in a terminal, a sandbox):
	 * kubectl attach reaches only pods
	 */
	if (ev->session->attach && !ev->session->who.pod_uid[0])
		return;
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
	__atomic_store_n(&s->repeats_held, keytab__count(s->repeats), __ATOMIC_RELAXED);
	__atomic_store_n(&s->repeat_evictions, keytab__evictions(s->repeats), __ATOMIC_RELAXED);
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

/* did anyone log in to the node on the way to this session? */
static bool from_login(const struct node_session *s)
{
	if (s->loginuid != KH_NODE_LOGINUID_UNSET)
		return true;
	for (uint32_t i = 0; i < s->n_ancestors && i < KH_NODE_ANCESTORS; i++)
		if (s->anc[i].loginuid != KH_NODE_LOGINUID_UNSET)
			return true;
	return false;
}

bool node_rule__is_allowed_probe(struct node_rule_state *s, const struct node_event *ev)
{
	const struct node_session *ss = ev->session;
	char cmd[KH_NODE_ARGS_MAX + 1];
	size_t at = 0;

	if (!s->n_probes || ss->attach || ss->new_container || ev->args_truncated ||
	    ev->argc < ev->argc_total || !ev->argc || from_login(ss))
		return false;
	for (uint32_t i = 0; i < ev->argc; i++) {
		size_t n = strlen(ev->argv[i]);

		if (at + n + 1 > sizeof(cmd))
			return false;
		if (i)
			cmd[at++] = ' ';
		memcpy(cmd + at, ev->argv[i], n);
		at += n;
	}
	cmd[at] = 0;
	for (uint32_t i = 0; i < s->n_probes; i++) {
		if (!strcmp(cmd, s->probes[i])) {
			s->probes_allowed++;
			return true;
		}
	}
	return false;
}
