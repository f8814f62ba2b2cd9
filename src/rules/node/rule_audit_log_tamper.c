// SPDX-License-Identifier: Apache-2.0
/*
 * node-audit-log-tamper: a process other than the kube-apiserver opened its audit log for
 * writing, truncated it, renamed it away, put another file in its place, or unlinked it
 * (bpf/audit_guard.bpf.c; tied to the log by src/capture/tamper.c).
 *
 * The audit log is the record of every request; an intruder who got a shell on a control-plane
 * node rewrites or removes it to hide what they did (MITRE T1070, Indicator Removal; T1070.002
 * for Linux logs). The apiserver itself rotates (rename, new file) and prunes its backups; those
 * are its own operations and never reach this rule. keyhole has captured what the apiserver
 * wrote before the change, so the alert says what the log no longer holds is still in keyhole's
 * hands.
 *
 * One alert per (process, operation, log): a process that opens the log a thousand times is one
 * alert. High, not critical: the same operations come from a misconfigured logrotate
 * (copytruncate), which allow_comms can name.
 */
#include <stdlib.h>
#include <string.h>

#include "keyhole/config.h"
#include "rules/node/node_rules.h"
#include "keyhole/emit.h"
#include "rules/match.h"

struct audit_log_tamper_tun {
	kh_list allow_comms; /* process names (comm) whose changes are not alerted */
};

static const struct kh_rule_info info = {
    .id = "node-audit-log-tamper",
    .uuid = "0b7d3e52-9a61-4c8f-a2e4-6d18f5c9b370",
    .name = "Kubernetes audit log changed by a process other than the kube-apiserver",
    .severity = "high",
    .risk_score = 73,
    .techniques = {"T1070", "T1070.002"},
    .tactics = {"TA0005"},
    .source = "design: audit guard (bpf/audit_guard.bpf.c)",
};

static const struct audit_log_tamper_tun defaults = {.allow_comms = {NULL}};

#define T struct audit_log_tamper_tun
static const struct kh_config_key config_keys[] = {
    KH_CFG_LIST_KEY("allow_comms", T, allow_comms,
		    "process names (comm) allowed to change the audit log (e.g. a logrotate "
		    "using copytruncate); default none"),
    KH_CFG_END,
};
#undef T

static const char *const actions[KH_TAMPER_OP__NR] = {
    [KH_TAMPER_OPEN_WRITE] = "audit-log-open-write",
    [KH_TAMPER_TRUNCATE] = "audit-log-truncate",
    [KH_TAMPER_FTRUNCATE] = "audit-log-truncate",
    [KH_TAMPER_UNLINK] = "audit-log-unlink",
    [KH_TAMPER_RENAME_FROM] = "audit-log-rename-away",
    [KH_TAMPER_RENAME_ONTO] = "audit-log-replace",
};

static const char *action_of(uint32_t op)
{
	return op < KH_TAMPER_OP__NR && actions[op] ? actions[op] : "audit-log-change";
}

static void *state_new(const struct kh_config *cfg)
{
	struct audit_log_tamper_tun *t = malloc(sizeof(*t));

	if (!t)
		return NULL;
	*t = defaults;
	config__rule_apply(cfg, info.id, config_keys, t);
	return t;
}

static void put_process(struct json_out *j, const struct node_event *ev,
			const struct node_log_tamper *w)
{
	json_out__key(j, "process");
	json_out__obj_begin(j);
	json_out__kv_int(j, "pid", ev->proc.pid);
	json_out__kv_str(j, "name", ev->proc.comm);
	if (w->exe[0])
		json_out__kv_str(j, "executable", w->exe);
	json_out__key(j, "thread");
	json_out__obj_begin(j);
	json_out__kv_int(j, "id", ev->proc.tid);
	json_out__obj_end(j);
	json_out__key(j, "parent");
	json_out__obj_begin(j);
	json_out__kv_int(j, "pid", ev->proc.ppid);
	json_out__obj_end(j);
	json_out__key(j, "user");
	json_out__obj_begin(j);
	json_out__kv_int(j, "id", ev->proc.uid);
	json_out__obj_end(j);
	json_out__obj_end(j);
}

static void put_tamper(struct json_out *j, const struct node_log_tamper *w)
{
	bool open = w->op == KH_TAMPER_OPEN_WRITE;
	bool trunc = w->op == KH_TAMPER_TRUNCATE || w->op == KH_TAMPER_FTRUNCATE;

	json_out__key(j, "keyhole");
	json_out__obj_begin(j);
	/* every node alert says how it was attributed: nothing in the audit stream names this one
	 */
	json_out__key(j, "attribution");
	json_out__obj_begin(j);
	json_out__kv_str(j, "method", "none");
	json_out__obj_end(j);
	json_out__key(j, "audit_log_tamper");
	json_out__obj_begin(j);
	json_out__kv_str(j, "operation", action_of(w->op) + strlen("audit-log-"));
	if (w->path[0])
		json_out__kv_str(j, "path", w->path);
	if (w->path2[0])
		json_out__kv_str(j, "new_path", w->path2);
	if (w->path_truncated) {
		json_out__key(j, "path_truncated");
		json_out__bool(j, true);
	}
	json_out__kv_int(j, "result", w->ret);
	if (open) {
		json_out__kv_int(j, "open_flags", w->open_flags);
		json_out__kv_int(j, "size_after_open", w->size);
	}
	if (trunc)
		json_out__kv_int(j, "length", w->size);
	if (open || trunc) {
		json_out__key(j, "lost_bytes");
		json_out__bool(j, w->shrunk);
	}
	json_out__kv_str(j, "matched_by", w->how);
	json_out__obj_end(j);
	json_out__obj_end(j);
}

static void on_node_event(void *state, const struct node_event *ev, struct kh_emit *e)
{
	const struct audit_log_tamper_tun *t = state;
	const struct node_log_tamper *w = ev->tamper;
	struct json_out *j;
	uint64_t key;

	if (ev->kind != NODE_EV_LOG_TAMPER || !w)
		return;
	if (match__any_eq(kstr_lit(ev->proc.comm, strlen(ev->proc.comm)), t->allow_comms))
		return;
	key = match__hash_bytes(KH_HASH_INIT, &ev->proc.pid, sizeof(ev->proc.pid));
	key = match__hash_bytes(key, &w->op, sizeof(w->op));
	key = match__hash_final(match__hash_bytes(key, w->file, strlen(w->file) + 1));
	j = emit__alert_begin_node(e, &info, ev->time_ns, action_of(w->op), key, NULL);
	if (!j)
		return;
	json_out__key(j, "file");
	json_out__obj_begin(j);
	json_out__kv_str(j, "path", w->file);
	json_out__obj_end(j);
	put_process(j, ev, w);
	put_tamper(j, w);
	emit__alert_end(e, NULL, 0);
}

const struct kh_rule rule_node_audit_log_tamper = {
    .info = &info,
    .state_new = state_new,
    .state_free = free,
    .on_node_event = on_node_event,
    .config_keys = config_keys,
    .config_defaults = &defaults,
};
