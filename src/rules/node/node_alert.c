// SPDX-License-Identifier: Apache-2.0
/*
 * node_alert: what a node alert says about the pod, the process and the session, in Elastic
 * Common Schema names where ECS has them (orchestrator.*, container.*, process.*, file.path), and
 * under keyhole.* otherwise. The request's own fields (user, source IP, user agent, auditID) are
 * written by alert_begin_node() exactly as for audit alerts.
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
		json_kv_str(j, key, v);
}

static void put_orchestrator(struct json_out *j, const struct node_identity *w)
{
	if (!w->pod_uid[0] && !w->pod_namespace[0])
		return;
	json_key(j, "orchestrator");
	json_obj_begin(j);
	json_kv_str(j, "type", "kubernetes");
	kv_nonempty(j, "namespace", w->pod_namespace);
	json_key(j, "resource");
	json_obj_begin(j);
	json_kv_str(j, "type", "pod");
	kv_nonempty(j, "name", w->pod_name);
	kv_nonempty(j, "id", w->pod_uid);
	json_obj_end(j);
	json_obj_end(j);
}

static void put_container(struct json_out *j, const struct node_identity *w)
{
	if (!w->container_id[0])
		return;
	json_key(j, "container");
	json_obj_begin(j);
	json_kv_str(j, "id", w->container_id);
	kv_nonempty(j, "name", w->container_name);
	json_obj_end(j);
}

static void put_id(struct json_out *j, const char *obj, uint32_t id)
{
	char s[16];

	snprintf(s, sizeof(s), "%u", id);
	json_key(j, obj);
	json_obj_begin(j);
	json_kv_str(j, "id", s);
	json_obj_end(j);
}

/* NUL-separated argv as a JSON array */
static void put_args_buf(struct json_out *j, const char *buf, uint32_t len)
{
	uint32_t at = 0;

	json_key(j, "args");
	json_arr_begin(j);
	while (at < len) {
		size_t n = strnlen(buf + at, len - at);

		json_strn(j, buf + at, n);
		at += (uint32_t)n + 1;
	}
	json_arr_end(j);
}

static void put_process(struct json_out *j, const struct node_event *ev)
{
	const struct node_session *s = ev->session;

	json_key(j, "process");
	json_obj_begin(j);
	json_kv_int(j, "pid", ev->proc.pid);
	json_kv_int(j, "vpid", ev->proc.ns_pid);
	json_kv_str(j, "name", ev->proc.comm);
	if (ev->kind == NODE_EV_EXEC) {
		kv_nonempty(j, "executable", ev->exe);
		json_key(j, "args");
		json_arr_begin(j);
		for (uint32_t i = 0; i < ev->argc; i++)
			json_str(j, ev->argv[i]);
		json_arr_end(j);
		json_kv_int(j, "args_count", ev->argc_total);
	}
	put_id(j, "user", ev->proc.uid);
	put_id(j, "group", ev->proc.gid);
	json_key(j, "parent");
	json_obj_begin(j);
	json_kv_int(j, "pid", ev->proc.ppid);
	json_obj_end(j);
	json_key(j, "session_leader");
	json_obj_begin(j);
	json_kv_int(j, "pid", s->leader_pid);
	kv_nonempty(j, "executable", s->leader_exe);
	if (s->leader_args_len)
		put_args_buf(j, s->leader_args, s->leader_args_len);
	json_obj_end(j);
	json_obj_end(j);
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

	json_key(j, "open");
	json_obj_begin(j);
	if (ev->ret >= 0) {
		json_kv_str(j, "result", "success");
	} else {
		/* a syscall fails with -1..-4095; anything else is a corrupt record */
		const char *e = ev->ret >= -4095 ? strerrorname_np((int)-ev->ret) : NULL;

		json_kv_str(j, "result", "failure");
		if (e)
			json_kv_str(j, "error", e);
		else
			json_kv_int(j, "return", ev->ret);
	}
	json_kv_int(j, "flags", ev->open_flags);
	json_key(j, "matched");
	json_arr_begin(j);
	for (size_t i = 0; i < sizeof(why) / sizeof(why[0]); i++)
		if (ev->match & why[i].bit)
			json_str(j, why[i].name);
	json_arr_end(j);
	if (ev->path_truncated) {
		json_key(j, "path_truncated");
		json_boolean(j, true);
	}
	json_obj_end(j);
}

static void put_request(struct json_out *j, const struct audit_event *req)
{
	struct exec_command c;

	if (exec_request__command(req->request_uri, &c))
		return;
	json_key(j, "exec_request");
	json_obj_begin(j);
	json_kv_kstr(j, "auditID", req->audit_id);
	json_key(j, "command");
	json_arr_begin(j);
	for (uint32_t i = 0; i < c.argc; i++)
		json_str(j, c.argv[i]);
	json_arr_end(j);
	kv_nonempty(j, "container", c.container);
	json_obj_end(j);
}

void node_alert__write(struct json_out *j, const struct node_event *ev,
		       const struct audit_event *req)
{
	const struct node_session *s = ev->session;
	char id[24];

	put_orchestrator(j, &s->who);
	put_container(j, &s->who);
	put_process(j, ev);
	if (ev->kind == NODE_EV_OPEN) {
		json_key(j, "file");
		json_obj_begin(j);
		json_kv_str(j, "path", ev->path);
		json_obj_end(j);
	}
	json_key(j, "keyhole");
	json_obj_begin(j);
	json_key(j, "exec_session");
	json_obj_begin(j);
	snprintf(id, sizeof(id), "%llu", (unsigned long long)s->id);
	json_kv_str(j, "id", id);
	json_key(j, "start");
	json_time_ns(j, s->start_ns);
	json_obj_end(j);
	if (s->who.cgroup_path[0]) {
		json_key(j, "cgroup");
		json_obj_begin(j);
		json_kv_str(j, "path", s->who.cgroup_path);
		json_kv_str(j, "hierarchy", s->who.cgroup_v1 ? "v1" : "v2");
		json_obj_end(j);
	}
	if (ev->kind == NODE_EV_OPEN)
		put_open(j, ev);
	if (req)
		put_request(j, req);
	json_obj_end(j);
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
