// SPDX-License-Identifier: Apache-2.0
/*
 * node-secret-read-in-exec: secret material opened by a process inside a container exec session:
 * the service-account token directory (/var/run/secrets/kubernetes.io/serviceaccount/, and
 * anything under /run/secrets/), or a file on a kubelet secret or projected volume, whatever path
 * the container mounted it at. Reported by the kernel side for session processes only, with the
 * path as the process gave it and whether the open succeeded; an attempt that failed is still an
 * attempt. One alert per session and path, joined to the pods/exec request like
 * node-container-exec.
 *
 * High, T1552.007 (Unsecured Credentials: Container API): someone with exec rights reading the
 * workload's service-account token or mounted secrets is the loot step of an exec-based attack.
 */
#include <string.h>

#include "keyhole/config.h"
#include "rules/node/node_rules.h"
#include "keyhole/emit.h"
#include "rules/match.h"

static const struct kh_rule_info info = {
    .id = "node-secret-read-in-exec",
    .uuid = "c2a94e7b-8f13-4d65-b0a2-7e4f19d3c6b8",
    .name = "Secret material read inside a container exec session",
    .severity = "high",
    .risk_score = 73,
    .techniques = {"T1552", "T1552.007"},
    .source = "design card: exec watch (bpf/exec_watch.bpf.c)",
};

static void deliver(void *ctx, const struct node_event *ev, const struct audit_event *req,
		    const struct exec_attribution *at)
{
	struct node_rule_ctx *c = ctx;
	struct kh_emit *e = c->e;
	uint64_t h = match__hash_bytes(KH_HASH_INIT, &ev->session->id, sizeof(ev->session->id));
	struct json_out *j;

	if (node_rule__unpaired_new_container(c->s, ev, req))
		return;
	h = match__hash_final(match__hash_bytes(h, ev->path, strlen(ev->path)));
	j = emit__alert_begin_node(e, &info, ev->time_ns, "open", h, req);
	if (!j)
		return;
	node_alert__write(j, ev, req, at);
	emit__alert_end(e, NULL, 0);
}

void *node_secret_read_in_exec__new_with(const struct node_rule_tun *t)
{
	return node_rule_state__new(t, deliver);
}

static void *state_new(const struct kh_config *cfg)
{
	struct node_rule_tun t = node_rule_defaults;

	config__rule_apply(cfg, info.id, node_rule_config_keys, &t);
	return node_secret_read_in_exec__new_with(&t);
}

static void on_node_event(void *state, const struct node_event *ev, struct kh_emit *emit)
{
	/* every event, so this rule pairs sessions exactly as node-container-exec does */
	node_rule__on_node(state, ev, ev->kind == NODE_EV_OPEN, emit);
}

const struct kh_rule rule_node_secret_read_in_exec = {
    .info = &info,
    .state_new = state_new,
    .state_free = node_rule_state__free,
    .on_event = node_rule__on_audit,
    .flush = node_rule__flush,
    .on_node_event = on_node_event,
    .config_keys = node_rule_config_keys,
    .config_defaults = &node_rule_defaults,
    .counters = node_rule__counters,
};
