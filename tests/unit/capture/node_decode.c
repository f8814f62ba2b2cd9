// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/capture/node_decode.c on records built as the kernel side builds them: identity from
 * the cgroup names and a kubelet log dir under a temp root, the session carried to later
 * records, the /proc fallback for a session whose first exec was lost, argv splitting and bounds,
 * and what is not a node record.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "keyhole/node_decode.h"

#define UID "0f3c9a52-7f1e-4c1d-9b8e-2a6d5c4b3a21"
#define CID "4e1f0c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"

static char root[64], pods[128], ctrs[128], proc[128];
static struct node_decoder *d;

static void mkdirs(const char *p)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", p);
	cr_assert_eq(system(cmd), 0);
}

static void setup(void)
{
	struct node_decode_opts o = {0};
	char p[512];
	FILE *f;

	snprintf(root, sizeof(root), "/tmp/kh-decode-XXXXXX");
	cr_assert(mkdtemp(root));
	snprintf(pods, sizeof(pods), "%s/pods", root);
	snprintf(ctrs, sizeof(ctrs), "%s/containers", root);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(p, sizeof(p), "%s/payments_api-0_%s/api", pods, UID);
	mkdirs(p);
	mkdirs(ctrs);
	snprintf(p, sizeof(p), "%s/api-0_payments_api-%s.log", ctrs, CID);
	cr_assert_eq(symlink("/x", p), 0);
	/* a process whose exec record was lost: v1 lines and an unused v2 root */
	snprintf(p, sizeof(p), "%s/777", proc);
	mkdirs(p);
	snprintf(p, sizeof(p), "%s/777/cgroup", proc);
	f = fopen(p, "w");
	cr_assert(f);
	fprintf(f,
		"9:name=systemd:/\n4:memory:/kubepods.slice/kubepods-besteffort.slice/"
		"kubepods-besteffort-pod%s.slice/cri-containerd-%s.scope\n0::/\n",
		"0f3c9a52_7f1e_4c1d_9b8e_2a6d5c4b3a21", CID);
	fclose(f);
	o.pods_log_dir = pods;
	o.containers_log_dir = ctrs;
	o.proc_dir = proc;
	o.max_sessions = 2;
	d = node_decoder__new(&o);
	cr_assert(d);
}

static void teardown(void)
{
	char cmd[128];

	node_decoder__free(d);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(node_decode, .init = setup, .fini = teardown);

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void exec_rec(struct kh_rec_node_exec *r, uint64_t session, uint32_t pid, bool start,
		     const char *args, size_t args_len)
{
	static const char *const cg[] = {CID, ("pod" UID), "besteffort", "kubepods"};

	memset(r, 0, sizeof(*r));
	r->hdr.type = KH_REC_NODE_EXEC;
	r->hdr.size = sizeof(*r);
	r->hdr.ts_ns = mono_now();
	r->proc.session_id = session;
	r->proc.session_leader = pid;
	r->proc.pid = r->proc.tid = pid;
	r->proc.ppid = 1;
	r->proc.ns_pid = 5;
	memcpy(r->proc.comm, "sh", 3);
	r->flags = start ? KH_NODE_F_SESSION_START : 0;
	snprintf(r->filename, sizeof(r->filename), "/bin/sh");
	memcpy(r->args, args, args_len);
	r->args_len = (uint32_t)args_len;
	r->cgrp_depth = 4;
	for (int i = 0; i < 4; i++)
		snprintf(r->cgrp[i], sizeof(r->cgrp[i]), "%s", cg[i]);
}

static void open_rec(struct kh_rec_node_open *r, uint64_t session, uint32_t pid, const char *path)
{
	memset(r, 0, sizeof(*r));
	r->hdr.type = KH_REC_NODE_OPEN;
	r->hdr.size = sizeof(*r);
	r->hdr.ts_ns = mono_now();
	r->proc.session_id = session;
	r->proc.session_leader = pid;
	r->proc.pid = pid;
	memcpy(r->proc.comm, "cat", 4);
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->ret = 3;
	r->match = KH_NODE_M_SA_PATH;
}

Test(node_decode, exec_names_the_pod_and_later_records_carry_it)
{
	struct kh_rec_node_exec e;
	struct kh_rec_node_open o;
	struct node_event ev;
	struct timespec now;
	const struct node_session *s;

	exec_rec(&e, 100, 42, true, "sh\0-c\0cat token\0", 16);
	cr_assert_eq(node_decoder__decode(d, &e, sizeof(e), &ev), 1);
	cr_assert_eq(ev.kind, NODE_EV_EXEC);
	cr_assert(ev.session_start);
	s = ev.session;
	cr_assert_str_eq(s->who.cgroup_path, "/kubepods/besteffort/pod" UID "/" CID);
	cr_assert_str_eq(s->who.pod_uid, UID);
	cr_assert_str_eq(s->who.container_id, CID);
	cr_assert_str_eq(s->who.pod_namespace, "payments");
	cr_assert_str_eq(s->who.pod_name, "api-0");
	cr_assert_str_eq(s->who.container_name, "api");
	cr_assert_eq(ev.argc, 3);
	cr_assert_str_eq(ev.argv[2], "cat token");
	cr_assert_null(ev.argv[3]);
	cr_assert_str_eq(s->leader_exe, "/bin/sh");
	/* kernel monotonic time became wall-clock time */
	clock_gettime(CLOCK_REALTIME, &now);
	cr_assert_lt(llabs(ev.time_ns - (now.tv_sec * 1000000000ll + now.tv_nsec)), 1000000000ll);

	open_rec(&o, 100, 43, "/var/run/secrets/kubernetes.io/serviceaccount/token");
	cr_assert_eq(node_decoder__decode(d, &o, sizeof(o), &ev), 1);
	cr_assert_eq(ev.kind, NODE_EV_OPEN);
	cr_assert_eq(ev.session, s, "the open belongs to the exec's session");
	cr_assert_str_eq(ev.path, "/var/run/secrets/kubernetes.io/serviceaccount/token");
	cr_assert_eq(ev.ret, 3);
	cr_assert_eq(node_decoder__stats(d)->sessions, 1);
}

Test(node_decode, session_met_first_by_an_open_takes_its_cgroup_from_proc)
{
	struct kh_rec_node_open o;
	struct node_event ev;

	open_rec(&o, 200, 777, "/run/secrets/x");
	cr_assert_eq(node_decoder__decode(d, &o, sizeof(o), &ev), 1);
	cr_assert_str_eq(ev.session->who.pod_uid, UID);
	cr_assert_str_eq(ev.session->who.container_id, CID);
	cr_assert(ev.session->who.cgroup_v1);
	cr_assert_str_eq(ev.session->who.pod_namespace, "payments");
	cr_assert_eq(node_decoder__stats(d)->late_sessions, 1);
}

Test(node_decode, argv_bounds_and_truncation_flag)
{
	struct kh_rec_node_exec e;
	struct node_event ev;
	char args[KH_NODE_ARGS_MAX];

	/* 100 one-letter arguments: all counted, KH_NODE_ARGV_MAX kept */
	for (int i = 0; i < 100; i++) {
		args[2 * i] = 'a';
		args[2 * i + 1] = 0;
	}
	exec_rec(&e, 300, 50, true, args, 200);
	cr_assert_eq(node_decoder__decode(d, &e, sizeof(e), &ev), 1);
	cr_assert_eq(ev.argc, KH_NODE_ARGV_MAX);
	cr_assert_eq(ev.argc_total, 100);
	cr_assert_null(ev.argv[KH_NODE_ARGV_MAX]);
	/* the kernel stopped mid-argument: the partial one is kept, the flag set */
	memset(args, 'b', sizeof(args));
	exec_rec(&e, 301, 51, true, args, sizeof(args));
	e.flags |= KH_NODE_F_ARGS_TRUNC;
	cr_assert_eq(node_decoder__decode(d, &e, sizeof(e), &ev), 1);
	cr_assert_eq(ev.argc, 1);
	cr_assert_eq(strlen(ev.argv[0]), KH_NODE_ARGS_MAX);
	cr_assert(ev.args_truncated);
}

Test(node_decode, bounded_session_table_evicts_oldest)
{
	struct kh_rec_node_exec e;
	struct node_event ev;

	for (uint64_t id = 1; id <= 3; id++) {
		exec_rec(&e, id, (uint32_t)id, true, "sh\0", 3);
		cr_assert_eq(node_decoder__decode(d, &e, sizeof(e), &ev), 1);
	}
	cr_assert_eq(node_decoder__stats(d)->session_evictions, 1);
}

Test(node_decode, other_and_malformed_records)
{
	struct kh_rec_node_exec e;
	struct kh_rec_hdr h = {.type = 1 /* KH_REC_AUDIT_CHUNK */, .size = 16};
	struct node_event ev;

	cr_assert_eq(node_decoder__decode(d, &h, sizeof(h), &ev), 0);
	cr_assert_eq(node_decoder__decode(d, &h, 4, &ev), 0);
	exec_rec(&e, 9, 9, true, "sh\0", 3);
	cr_assert_eq(node_decoder__decode(d, &e, sizeof(e) - 1, &ev), -EINVAL);
	cr_assert_eq(node_decoder__stats(d)->malformed, 1);
}

Test(node_decode, pod_unknown_to_the_log_dirs_keeps_uid_and_container)
{
	struct kh_rec_node_exec e;
	struct node_event ev;

	exec_rec(&e, 400, 60, true, "sh\0", 3);
	snprintf(e.cgrp[1], sizeof(e.cgrp[1]), "pod11111111-2222-3333-4444-555555555555");
	cr_assert_eq(node_decoder__decode(d, &e, sizeof(e), &ev), 1);
	cr_assert_str_eq(ev.session->who.pod_uid, "11111111-2222-3333-4444-555555555555");
	cr_assert_str_eq(ev.session->who.container_id, CID);
	cr_assert_str_eq(ev.session->who.pod_namespace, "");
	/* and a process outside any pod */
	exec_rec(&e, 401, 61, true, "sh\0", 3);
	e.cgrp_depth = 1;
	snprintf(e.cgrp[0], sizeof(e.cgrp[0]), "system.slice");
	cr_assert_eq(node_decoder__decode(d, &e, sizeof(e), &ev), 1);
	cr_assert_str_eq(ev.session->who.cgroup_path, "/system.slice");
	cr_assert_str_eq(ev.session->who.pod_uid, "");
	cr_assert_eq(node_decoder__stats(d)->no_pod, 1);
}
