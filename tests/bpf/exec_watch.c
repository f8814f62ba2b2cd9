// SPDX-License-Identifier: Apache-2.0
/*
 * BPF integration tests of bpf/exec_watch.bpf.c with a real runc container dressed as a pod:
 * the records the kernel side emits for `runc exec` sessions, and the silence for everything
 * else (the container's own init and its children, host processes reading the same files).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bpf_need.h"
#include "keyhole/exec_watch.h"
#include "runc_pod.h"

#define TOKEN "/var/run/secrets/kubernetes.io/serviceaccount/token"

/* records seen, copied out of the ring */
struct seen {
	union {
		struct kh_rec_hdr hdr;
		struct kh_rec_node_exec exec;
		struct kh_rec_node_open open;
		struct kh_rec_node_exit exit;
	} * v;
	size_t n, cap;
};

static struct exec_watch *w;
static struct ring_buffer *rb;
static struct seen seen;
static struct runc_pod pod;

/* records of this test's container: the exec watch sees the whole machine */
static uint64_t our_sessions[64];
static size_t n_our;

static bool ours(const void *data)
{
	const struct kh_rec_hdr *h = data;
	const struct kh_node_proc *p = (const void *)(h + 1);

	/* and this test process and its children, for the host-side tests */
	if (p->pid == (uint32_t)getpid() || p->ppid == (uint32_t)getpid())
		return true;
	if (h->type == KH_REC_NODE_EXEC) {
		const struct kh_rec_node_exec *e = data;

		if (e->cgrp_depth && !strcmp(e->cgrp[0], pod.id)) {
			if (n_our < 64)
				our_sessions[n_our++] = p->session_id;
			return true;
		}
	}
	for (size_t i = 0; i < n_our; i++)
		if (our_sessions[i] == p->session_id)
			return true;
	return false;
}

static int collect(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (!ours(data))
		return 0;
	if (seen.n == seen.cap) {
		seen.cap = seen.cap ? 2 * seen.cap : 64;
		seen.v = realloc(seen.v, seen.cap * sizeof(*seen.v));
		cr_assert(seen.v);
	}
	memset(&seen.v[seen.n], 0, sizeof(seen.v[0]));
	memcpy(&seen.v[seen.n++], data, size < sizeof(seen.v[0]) ? size : sizeof(seen.v[0]));
	return 0;
}

static void drain(int ms)
{
	for (int i = 0; i < ms / 20; i++)
		ring_buffer__poll(rb, 20);
}

/* skip loudly, or fail when the environment promises BPF works */
static void need(const char *why)
{
	bpf_need("exec_watch", why);
}

/*
 * The container's init reads both secrets itself (a shell redirect) and through children (cat),
 * then says so in /shared and waits.
 */
#define INIT_SCRIPT                                                                                \
	"read t < " TOKEN "; cat " TOKEN " >/dev/null; cat /etc/db-creds/password >/dev/null; "    \
	"touch /shared/init-done; exec sleep 3600"

static void setup(void)
{
	static char why[256];
	int err;

	need(runc_pod__unavailable());
	err = exec_watch__new(NULL, &w);
	if (err) {
		snprintf(why, sizeof(why), "exec watch did not load: %s", strerror(-err));
		need(why);
	}
	rb = ring_buffer__new(exec_watch__ring_fd(w), collect, NULL, NULL);
	cr_assert(rb);
	cr_assert_eq(runc_pod__start(&pod, INIT_SCRIPT), 0, "container did not start");
	cr_assert(runc_pod__wait_file(&pod, "init-done", 10000), "container init did not run");
	drain(100);
}

static void teardown(void)
{
	runc_pod__stop(&pod);
	ring_buffer__free(rb);
	exec_watch__free(w);
	free(seen.v);
	memset(&seen, 0, sizeof(seen));
	n_our = 0;
	rb = NULL;
	w = NULL;
}

static bool args_eq(const struct kh_rec_node_exec *e, const char *const *want)
{
	uint32_t at = 0;

	for (; *want; want++) {
		size_t l = strlen(*want) + 1;

		if (at + l > e->args_len || memcmp(e->args + at, *want, l))
			return false;
		at += l;
	}
	return at == e->args_len;
}

static const struct kh_rec_node_exec *find_exec(const char *const *args)
{
	for (size_t i = 0; i < seen.n; i++)
		if (seen.v[i].hdr.type == KH_REC_NODE_EXEC && args_eq(&seen.v[i].exec, args))
			return &seen.v[i].exec;
	return NULL;
}

static const struct kh_rec_node_open *find_open(const char *path)
{
	for (size_t i = 0; i < seen.n; i++)
		if (seen.v[i].hdr.type == KH_REC_NODE_OPEN && !strcmp(seen.v[i].open.path, path))
			return &seen.v[i].open;
	return NULL;
}

static size_t count_type(uint32_t type)
{
	size_t n = 0;

	for (size_t i = 0; i < seen.n; i++)
		n += seen.v[i].hdr.type == type;
	return n;
}

/* the cgroup names, leaf first, are the container ID then pod<uid> */
static void expect_pod_cgroup(const struct kh_rec_node_exec *e)
{
	char podlevel[64];

	snprintf(podlevel, sizeof(podlevel), "pod%s", pod.pod_uid);
	cr_assert_geq(e->cgrp_depth, 2);
	cr_assert_str_eq(e->cgrp[0], pod.id);
	cr_assert_str_eq(e->cgrp[1], podlevel);
	cr_assert_str_eq(e->cgrp[2], "besteffort");
	cr_assert_str_eq(e->cgrp[3], "kubepods");
}

TestSuite(exec_watch, .init = setup, .fini = teardown, .timeout = 120);

Test(exec_watch, container_init_and_its_children_are_silent)
{
	/* the init read the token and the secret, by itself and through cat: nothing recorded */
	cr_assert_eq(seen.n, 0, "%zu records from the container's own processes", seen.n);
}

Test(exec_watch, runc_exec_cat_token_is_a_session_with_a_secret_open)
{
	static const char *const args[] = {"cat", TOKEN, NULL};
	const struct kh_rec_node_exec *e;
	const struct kh_rec_node_open *o;
	uint64_t c[KH_EXEC_WATCH__NR];

	cr_assert_eq(runc_pod__exec(&pod, "exec cat " TOKEN " >/dev/null"), 0);
	drain(300);
	/* sh -c "exec cat ..." : the session is opened by sh, cat is the same process later */
	e = find_exec(args);
	cr_assert(e, "no exec record for cat (%zu records)", seen.n);
	cr_assert(seen.v[0].hdr.type == KH_REC_NODE_EXEC);
	cr_assert(seen.v[0].exec.flags & KH_NODE_F_SESSION_START, "first exec opens the session");
	cr_assert_str_eq(seen.v[0].exec.filename, "/bin/sh");
	cr_assert_eq(e->proc.session_id, seen.v[0].exec.proc.session_id);
	cr_assert_neq(e->proc.ns_pid, 1, "an exec is never pid 1");
	cr_assert_neq(e->proc.pid, e->proc.ns_pid, "the pid is the host's, ns_pid the container's");
	cr_assert_eq(e->proc.uid, 0);
	expect_pod_cgroup(e);

	o = find_open(TOKEN);
	cr_assert(o, "no open record for the token");
	cr_assert_eq(o->proc.session_id, e->proc.session_id);
	cr_assert_eq(o->proc.pid, e->proc.pid);
	cr_assert_geq(o->ret, 0, "the open succeeded");
	cr_assert(o->match & KH_NODE_M_SA_PATH);
	cr_assert(o->match & KH_NODE_M_VOLUME_DEV, "the token lives on a kubelet projected volume");
	cr_assert_str_eq(o->proc.comm, "cat");

	cr_assert_eq(count_type(KH_REC_NODE_EXIT), 1, "the session leader's exit");
	cr_assert_eq(exec_watch__counters(w, c), 0);
	cr_assert_geq(c[KH_EXEC_WATCH_SESSIONS], 1); /* machine-wide: other runs may exec too */
	cr_assert_eq(c[KH_EXEC_WATCH_LOST_EXEC] + c[KH_EXEC_WATCH_LOST_OPEN] +
			 c[KH_EXEC_WATCH_LOST_EXIT],
		     0);
	cr_assert_eq(c[KH_EXEC_WATCH_TAGS_FULL] + c[KH_EXEC_WATCH_PENDING_FULL], 0);
}

Test(exec_watch, descendant_of_exec_shell_reading_secret_volume_is_caught)
{
	static const char *const inner[] = {"cat", "/etc/db-creds/password", NULL};
	const struct kh_rec_node_exec *e;
	const struct kh_rec_node_open *o;

	/* exec'd shell -> shell -> cat: two forks below the session leader */
	cr_assert_eq(
	    runc_pod__exec(&pod, "sh -c 'cat /etc/db-creds/password >/dev/null; true'; true"), 0);
	drain(300);
	e = find_exec(inner);
	cr_assert(e, "no exec record for the grandchild cat");
	cr_assert(!(e->flags & KH_NODE_F_SESSION_START));
	cr_assert_neq(e->proc.pid, e->proc.session_leader, "cat is a descendant, not the leader");
	cr_assert_neq(e->proc.ppid, e->proc.session_leader, "cat's parent is the inner shell");
	o = find_open("/etc/db-creds/password");
	cr_assert(o, "no open record for the secret volume file");
	cr_assert_eq(o->proc.session_id, e->proc.session_id);
	/* the mount path names nothing secret: the volume's device gives it away */
	cr_assert_eq(o->match, KH_NODE_M_VOLUME_DEV);
}

Test(exec_watch, relative_open_inside_the_token_dir_is_caught)
{
	const struct kh_rec_node_open *o;

	cr_assert_eq(runc_pod__exec(&pod, "cd /var/run/secrets/kubernetes.io/serviceaccount && "
					  "cat token >/dev/null"),
		     0);
	drain(300);
	o = find_open("token");
	cr_assert(o, "no open record for the relative path");
	cr_assert_eq(o->match, KH_NODE_M_VOLUME_DEV);
}

Test(exec_watch, failed_open_of_token_path_is_reported_with_its_error)
{
	const struct kh_rec_node_open *o;

	runc_pod__exec(&pod, "cat /var/run/secrets/kubernetes.io/serviceaccount/nope");
	drain(300);
	o = find_open("/var/run/secrets/kubernetes.io/serviceaccount/nope");
	cr_assert(o, "the attempt is reported");
	cr_assert_eq(o->ret, -ENOENT);
	cr_assert_eq(o->match, KH_NODE_M_SA_PATH);
}

Test(exec_watch, other_files_in_a_session_are_not_reported)
{
	cr_assert_eq(runc_pod__exec(&pod, "cat /etc/hostname /shared/init-done >/dev/null"), 0);
	drain(300);
	cr_assert_eq(count_type(KH_REC_NODE_OPEN), 0);
	cr_assert_geq(count_type(KH_REC_NODE_EXEC), 1);
}

Test(exec_watch, host_process_reading_the_same_files_is_silent)
{
	char tok[512], sec[512], buf[64];
	char *argv[] = {"/bin/cat", tok, sec, NULL};
	int fd;

	snprintf(tok, sizeof(tok), "%s/token", pod.token_dir);
	snprintf(sec, sizeof(sec), "%s/password", pod.secret_dir);
	/* this process, and a child that execs cat, read both volumes by kubelet paths that name
	 * kubernetes.io~projected and ~secret, and the in-container token path itself */
	fd = open(tok, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_gt(read(fd, buf, sizeof(buf)), 0);
	close(fd);
	cr_assert_eq(kh_run(argv, true), 0);
	fd = open(TOKEN, O_RDONLY);
	if (fd >= 0)
		close(fd);
	drain(300);
	cr_assert_eq(seen.n, 0, "%zu records from host processes", seen.n);
}
