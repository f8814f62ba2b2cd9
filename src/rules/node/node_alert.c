// SPDX-License-Identifier: Apache-2.0
/*
 * node_alert: what a node alert says about the pod, the process and the session, in Elastic
 * Common Schema names where ECS has them (orchestrator.*, container.*, process.*, file.path), and
 * under keyhole.* otherwise. The request's own fields (user, source IP, user agent, auditID) are
 * written by emit__alert_begin_node() exactly as for audit alerts.
 */
#define _GNU_SOURCE /* strerrorname_np */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "keyhole/correlate.h"
#include "rules/node/exec_request.h"
#include "rules/node/node_rules.h"

static void kv_nonempty(struct json_out *j, const char *key, const char *v)
{
	if (v && v[0])
		json_out__kv_str(j, key, v);
}

static void put_orchestrator(struct json_out *j, const struct node_identity *w)
{
	if (!w->pod_uid[0] && !w->pod_namespace[0])
		return;
	json_out__key(j, "orchestrator");
	json_out__obj_begin(j);
	json_out__kv_str(j, "type", "kubernetes");
	kv_nonempty(j, "namespace", w->pod_namespace);
	json_out__key(j, "resource");
	json_out__obj_begin(j);
	json_out__kv_str(j, "type", "pod");
	kv_nonempty(j, "name", w->pod_name);
	kv_nonempty(j, "id", w->pod_uid);
	json_out__obj_end(j);
	json_out__obj_end(j);
}

static void put_container(struct json_out *j, const struct node_identity *w)
{
	if (!w->container_id[0])
		return;
	json_out__key(j, "container");
	json_out__obj_begin(j);
	json_out__kv_str(j, "id", w->container_id);
	kv_nonempty(j, "name", w->container_name);
	json_out__obj_end(j);
}

static void put_id(struct json_out *j, const char *obj, uint32_t id)
{
	char s[16];

	snprintf(s, sizeof(s), "%u", id);
	json_out__key(j, obj);
	json_out__obj_begin(j);
	json_out__kv_str(j, "id", s);
	json_out__obj_end(j);
}

/* NUL-separated argv as a JSON array */
static void put_args_buf(struct json_out *j, const char *buf, uint32_t len)
{
	uint32_t at = 0;

	json_out__key(j, "args");
	json_out__arr_begin(j);
	while (at < len) {
		size_t n = strnlen(buf + at, len - at);

		json_out__strn(j, buf + at, n);
		at += (uint32_t)n + 1;
	}
	json_out__arr_end(j);
}

static void put_process(struct json_out *j, const struct node_event *ev)
{
	const struct node_session *s = ev->session;

	json_out__key(j, "process");
	json_out__obj_begin(j);
	json_out__kv_int(j, "pid", ev->proc.pid);
	json_out__kv_int(j, "vpid", ev->proc.ns_pid);
	json_out__kv_str(j, "name", ev->proc.comm);
	if (ev->kind == NODE_EV_EXEC) {
		kv_nonempty(j, "executable", ev->exe);
		json_out__key(j, "args");
		json_out__arr_begin(j);
		for (uint32_t i = 0; i < ev->argc; i++)
			json_out__str(j, ev->argv[i]);
		json_out__arr_end(j);
		json_out__kv_int(j, "args_count", ev->argc_total);
	}
	put_id(j, "user", ev->proc.uid);
	put_id(j, "group", ev->proc.gid);
	json_out__key(j, "parent");
	json_out__obj_begin(j);
	json_out__kv_int(j, "pid", ev->proc.ppid);
	json_out__obj_end(j);
	json_out__key(j, "session_leader");
	json_out__obj_begin(j);
	json_out__kv_int(j, "pid", s->leader_pid);
	kv_nonempty(j, "executable", s->leader_exe);
	if (s->leader_args_len)
		put_args_buf(j, s->leader_args, s->leader_args_len);
	json_out__obj_end(j);
	json_out__obj_end(j);
}

static void put_open(struct json_out *j, const struct node_event *ev)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} why[] = {
	    {KH_NODE_M_SA_PATH, "secrets_path"},
	    {KH_NODE_M_VOLUME_PATH, "volume_path"},
	    {KH_NODE_M_VOLUME_DEV, "volume_mount"},
	};

	json_out__key(j, "open");
	json_out__obj_begin(j);
	if (ev->ret >= 0) {
		json_out__kv_str(j, "result", "success");
	} else {
		/* a syscall fails with -1..-4095; anything else is a corrupt record */
		const char *e = ev->ret >= -4095 ? strerrorname_np((int)-ev->ret) : NULL;

		json_out__kv_str(j, "result", "failure");
		if (e)
			json_out__kv_str(j, "error", e);
		else
			json_out__kv_int(j, "return", ev->ret);
	}
	json_out__kv_int(j, "flags", ev->open_flags);
	json_out__key(j, "matched");
	json_out__arr_begin(j);
	for (size_t i = 0; i < sizeof(why) / sizeof(why[0]); i++)
		if (ev->match & why[i].bit)
			json_out__str(j, why[i].name);
	json_out__arr_end(j);
	if (ev->path_truncated) {
		json_out__key(j, "path_truncated");
		json_out__bool(j, true);
	}
	json_out__obj_end(j);
}

static void put_request(struct json_out *j, const struct audit_event *req)
{
	struct exec_command c;

	if (exec_request__command(req->request_uri, &c))
		return;
	json_out__key(j, "exec_request");
	json_out__obj_begin(j);
	json_out__kv_kstr(j, "auditID", req->audit_id);
	json_out__kv_str(j, "subresource", exec_request__kind_name(exec_request__kind(req)));
	json_out__key(j, "command");
	json_out__arr_begin(j);
	for (uint32_t i = 0; i < c.argc; i++)
		json_out__str(j, c.argv[i]);
	json_out__arr_end(j);
	kv_nonempty(j, "container", c.container);
	json_out__obj_end(j);
}

void node_alert__attribution(struct json_out *j, const struct node_session *s,
			     const struct exec_attribution *at)
{
	json_out__key(j, "attribution");
	json_out__obj_begin(j);
	json_out__kv_str(j, "method", exec_attrib__method_name(at ? at->method : EXEC_ATTRIB_NONE));
	if (at && at->method == EXEC_ATTRIB_AMBIGUOUS) {
		json_out__kv_int(j, "candidates_count", at->n_candidates);
		json_out__key(j, "candidates");
		json_out__arr_begin(j);
		for (uint32_t i = 0; i < at->n_listed; i++)
			json_out__str(j, at->candidates[i]);
		json_out__arr_end(j);
	}
	if (s->audit_id[0]) {
		json_out__kv_str(j, "session_audit_id", s->audit_id);
		if (at && at->audit_id_unmatched) {
			json_out__key(j, "session_audit_id_unmatched");
			json_out__bool(j, true);
		}
	}
	if (s->env_cut) {
		json_out__key(j, "environment_scan_cut");
		json_out__bool(j, true);
	}
	json_out__obj_end(j);
}

static bool is_runtime(const char *comm)
{
	return !strncmp(comm, "containerd-shim", 15) || !strcmp(comm, "conmon") ||
	       !strcmp(comm, "crio") || !strcmp(comm, "containerd");
}

/*
 * How the session was started, judged from its parent chain: "login-session" when the process or
 * a parent has an audit login uid (someone logged in to the node), else "container-runtime" when
 * a parent is a runtime or its shim, else "unknown".
 */
static const char *session_origin(const struct node_session *s)
{
	if (s->loginuid != KH_NODE_LOGINUID_UNSET && s->n_ancestors)
		return "login-session";
	for (uint32_t i = 0; i < s->n_ancestors; i++)
		if (s->anc[i].loginuid != KH_NODE_LOGINUID_UNSET)
			return "login-session";
	for (uint32_t i = 0; i < s->n_ancestors; i++)
		if (is_runtime(s->anc[i].comm))
			return "container-runtime";
	return "unknown";
}

const char *node_alert__session_kind(const struct node_session *s)
{
	if (s->new_container)
		return "debug-container";
	return s->attach ? "attach" : "exec";
}

/* the first process's parents as the kernel saw them at the session's start */
void node_alert__parents(struct json_out *j, const struct node_session *s)
{
	json_out__key(j, "parents");
	json_out__arr_begin(j);
	for (uint32_t i = 0; i < s->n_ancestors; i++) {
		const struct node_ancestor *a = &s->anc[i];

		json_out__obj_begin(j);
		json_out__kv_int(j, "pid", a->pid);
		json_out__kv_str(j, "name", a->comm);
		kv_nonempty(j, "command_line", a->cmdline);
		if (a->loginuid != KH_NODE_LOGINUID_UNSET) {
			json_out__kv_int(j, "login_uid", a->loginuid);
			json_out__kv_int(j, "login_session", a->sessionid);
		}
		json_out__obj_end(j);
	}
	json_out__arr_end(j);
}

void node_alert__write(struct json_out *j, const struct node_event *ev,
		       const struct audit_event *req, const struct exec_attribution *at)
{
	node_alert__write_open(j, ev, req, at);
	json_out__obj_end(j);
}

void node_alert__write_open(struct json_out *j, const struct node_event *ev,
			    const struct audit_event *req, const struct exec_attribution *at)
{
	const struct node_session *s = ev->session;
	char id[24];

	put_orchestrator(j, &s->who);
	put_container(j, &s->who);
	put_process(j, ev);
	if (ev->kind == NODE_EV_OPEN) {
		json_out__key(j, "file");
		json_out__obj_begin(j);
		json_out__kv_str(j, "path", ev->path);
		json_out__obj_end(j);
	}
	json_out__key(j, "keyhole");
	json_out__obj_begin(j);
	json_out__key(j, "exec_session");
	json_out__obj_begin(j);
	snprintf(id, sizeof(id), "%llu", (unsigned long long)s->id);
	json_out__kv_str(j, "id", id);
	json_out__key(j, "start");
	json_out__time_ns(j, s->start_ns);
	json_out__kv_str(j, "kind", node_alert__session_kind(s));
	if (s->n_ancestors) {
		json_out__kv_str(j, "origin", session_origin(s));
		node_alert__parents(j, s);
	}
	json_out__obj_end(j);
	node_alert__attribution(j, s, at);
	if (s->who.cgroup_path[0]) {
		json_out__key(j, "cgroup");
		json_out__obj_begin(j);
		json_out__kv_str(j, "path", s->who.cgroup_path);
		json_out__kv_str(j, "hierarchy", s->who.cgroup_v1 ? "v1" : "v2");
		json_out__obj_end(j);
	}
	if (ev->kind == NODE_EV_OPEN)
		put_open(j, ev);
	if (req)
		put_request(j, req);
}

static struct kstr lit(const char *s)
{
	return kstr_lit(s, strlen(s));
}

void node_event__secret_read(const struct node_event *ev, struct kh_node_secret_read *r,
			     char *id_buf, size_t id_size)
{
	const struct node_identity *w = &ev->session->who;

	snprintf(id_buf, id_size, "exec-session/%llu", (unsigned long long)ev->session->id);
	r->pod_namespace = lit(w->pod_namespace);
	r->pod_name = lit(w->pod_name);
	r->container = lit(w->container_name);
	r->path = lit(ev->path ? ev->path : "");
	r->comm = lit(ev->proc.comm);
	r->node_id = lit(id_buf);
	r->t_ns = ev->time_ns;
}
