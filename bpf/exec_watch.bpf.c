// SPDX-License-Identifier: GPL-2.0
/*
 * exec_watch: container exec sessions and the secret material read inside them.
 *
 * `kubectl exec` reaches a node as `runc exec`: its `runc init` child joins the running
 * container's namespaces with setns(2), mount namespace included, then forks and execve's the
 * command. A container's own init never joins a mount namespace (runc creates a new one for it),
 * so "joined a mount namespace by setns, then exec'd, and is not pid 1 of its pid namespace" tells
 * an exec session apart from the container's own processes.
 *
 *   setns that changes the mount ns   -> tags[tgid] = JOINED
 *   fork of a tagged process          -> the child gets the parent's tag
 *   exec of a JOINED process          -> new session: tags[tgid] = SESSION, record (session start)
 *                                        with the parent chain and KUBERNETES_EXEC_AUDIT_ID from
 *                                        the new environment (bounded scan)
 *   exec of a SESSION process         -> record
 *   open of secret material (SESSION) -> record (path as given, result, device)
 *   read, readv or preadv2 of fd 0 returning data, by an untagged process whose stdin is its
 *   container init's pipe or terminal (kubectl attach) -> new session: tags[tgid] = SESSION, record
 * (attach) last thread of a tagged process   -> tag removed; the session leader's exit is recorded
 *
 * While no process on the node is tagged (almost always), every hook but setns returns after
 * loading one global; while some are, an untagged process pays one hash lookup per exec, fork,
 * exit and open. setns is rare and pays two. Only tracepoints and raw tracepoints are used so the
 * same object loads on every kernel of the matrix (no kprobes, fentry or LSM).
 */
#include "keyhole.bpf.h"

#define E2BIG 7 /* errno values are macros, absent from vmlinux.h */

#define TAG_JOINED 1  /* joined a mount namespace by setns; its next exec opens a session */
#define TAG_SESSION 2 /* inside an exec session */
/*
 * joined a pid namespace (for its children) by setns but kept its own mount namespace: a new
 * container started inside a running one's pid namespace (`kubectl debug --target`, or any
 * container of a pod with shareProcessNamespace); its next exec not as pid 1 opens a session
 * flagged KH_NODE_F_NEW_CONTAINER
 */
#define TAG_JOINED_PID 3

struct tag {
	__u64 session_id;
	__u32 leader; /* tgid of the session's first process (0 while JOINED) */
	__u32 state;  /* TAG_* */
	/*
	 * an attach session's reader (leader == its tgid): when it last read input, 0 for every
	 * other tag; input after attach_idle_ns without any opens a new session (a detach is not
	 * seen)
	 */
	__u64 input_ns;
};

/* set by the agent before load (exec_watch_opts.attach_idle_ns) */
const volatile __u64 attach_idle_ns = 300ull * 1000000000;

/*
 * Tagged processes, keyed by tgid. A plain hash, not an LRU: when full, a new process goes
 * untagged and that is counted (KH_EXEC_WATCH_TAGS_FULL), where an LRU would silently drop an older
 * (possibly still active) session shell. 16384 live processes inside exec sessions is far beyond
 * what people type; the agent may resize it before load.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct tag);
} tags SEC(".maps");

/*
 * Entries in tags and open_inflight, kept exactly (incremented on an insert that added a key,
 * decremented on a delete that removed one). While a table is empty, which on most nodes is
 * almost always, the open hooks return before any map lookup: an untagged open then costs the
 * tracepoint and a load, nothing more.
 */
__s64 n_tags = 0;
__s64 n_inflight = 0;

/* namespaces of a thread in setns(2), to see at exit whether its mount or pid namespace changed */
struct setns_pending {
	__u32 mntns_inum;
	__u32 pidns_inum; /* pid_ns_for_children: what setns(CLONE_NEWPID) changes */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32); /* tid */
	__type(value, struct setns_pending);
} setns_inflight SEC(".maps");

/* an open by a tagged thread between sys_enter and sys_exit */
struct open_pending {
	__u64 path; /* user pointer */
	__u32 open_flags;
	__s32 dfd;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* tid */
	__type(value, struct open_pending);
} open_inflight SEC(".maps");

/* a read of fd 0 by a container process that may be input from kubectl attach (see below) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32); /* tid */
	__type(value, __u32);
} stdin_inflight SEC(".maps");

__s64 n_stdin_inflight = 0;

/* 256 KB: one exec record is 1.9 KB; exec sessions are interactive, so bursts are small */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} exec_events SEC(".maps");

/* loss and state counters, indexed by enum kh_exec_watch_counter (counters.bpf.h) */
KH_COUNTER_MAP(exec_counters, KH_EXEC_WATCH__NR);

/* one environment entry (or a chunk of a long one) at a time, for the session-start scan */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[KH_NODE_ENV_CHUNK]);
} env_chunk SEC(".maps");

static __always_inline void count(__u32 idx)
{
	kh_count_add(&exec_counters, idx, 1, KH_EXEC_WATCH__NR);
}

/*
 * kernfs_node::parent was renamed __parent when it became RCU-protected ("kernfs: Use RCU to
 * access kernfs_node::parent", v6.15).
 */
struct kernfs_node___pre615 {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___pre615 *)kn, parent);
}

static __always_inline __u32 task_mntns(struct task_struct *t)
{
	return BPF_CORE_READ(t, nsproxy, mnt_ns, ns.inum);
}

static __always_inline __u32 task_child_pidns(struct task_struct *t)
{
	return BPF_CORE_READ(t, nsproxy, pid_ns_for_children, ns.inum);
}

static __always_inline void fill_proc(struct kh_node_proc *p, struct task_struct *t,
				      const struct tag *tag)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	struct pid *tp = BPF_CORE_READ(t, thread_pid);
	unsigned int level = BPF_CORE_READ(tp, level);
	struct upid up = {};

	bpf_probe_read_kernel(&up, sizeof(up), &tp->numbers[level]);
	p->session_id = tag->session_id;
	p->session_leader = tag->leader;
	p->pid = pid_tgid >> 32;
	p->tid = (__u32)pid_tgid;
	p->ppid = BPF_CORE_READ(t, real_parent, tgid);
	p->uid = (__u32)uid_gid;
	p->gid = uid_gid >> 32;
	p->ns_pid = up.nr;
	p->pidns_inum = BPF_CORE_READ(up.ns, ns.inum);
	p->mntns_inum = task_mntns(t);
	p->_pad = 0;
	p->cgroup_id = 0;
	bpf_get_current_comm(p->comm, sizeof(p->comm));
}

/*
 * The cgroup that names the container: the v2 one when the process is placed in the unified
 * hierarchy, else the memory (or pids) controller's v1 one, as on hosts that mount v1
 * hierarchies with an unused v2 beside them.
 */
static __always_inline struct kernfs_node *task_cgroup_kn(struct task_struct *t, __u32 *flags)
{
	struct kernfs_node *kn = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn);
	struct css_set *cs;
	struct cgroup_subsys_state *css = NULL;
	int id = -1;

	if (kn && kn_parent(kn))
		return kn;
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	else if (bpf_core_enum_value_exists(enum cgroup_subsys_id, pids_cgrp_id))
		id = bpf_core_enum_value(enum cgroup_subsys_id, pids_cgrp_id);
	if (id < 0 || id >= 16)
		return kn;
	cs = BPF_CORE_READ(t, cgroups);
	bpf_core_read(&css, sizeof(css), &cs->subsys[id]);
	if (!css)
		return kn;
	*flags |= KH_NODE_F_CGRP_V1;
	return BPF_CORE_READ(css, cgroup, kn);
}

static __always_inline void fill_cgroup(struct kh_rec_node_exec *r, struct task_struct *t)
{
	struct kernfs_node *kn = task_cgroup_kn(t, &r->flags);
	struct kernfs_node *parent;
	__u32 depth = 0;

	r->proc.cgroup_id = kn ? BPF_CORE_READ(kn, id) : 0;
	for (int i = 0; i < KH_NODE_CGRP_DEPTH; i++) {
		if (!kn)
			break;
		parent = kn_parent(kn);
		if (!parent) /* the hierarchy's root has no name of its own */
			break;
		bpf_probe_read_kernel_str(r->cgrp[i], KH_NODE_CGRP_NAME_MAX,
					  BPF_CORE_READ(kn, name));
		depth++;
		kn = parent;
	}
	if (kn && kn_parent(kn))
		r->flags |= KH_NODE_F_CGRP_TRUNC;
	r->cgrp_depth = depth;
}

static __always_inline void fill_args(struct kh_rec_node_exec *r, struct task_struct *t)
{
	unsigned long start = BPF_CORE_READ(t, mm, arg_start);
	unsigned long end = BPF_CORE_READ(t, mm, arg_end);
	__u64 len = end > start ? end - start : 0;

	if (len > KH_NODE_ARGS_MAX) {
		len = KH_NODE_ARGS_MAX;
		r->flags |= KH_NODE_F_ARGS_TRUNC;
	}
	if (bpf_probe_read_user(r->args, len, (void *)start))
		len = 0;
	r->args_len = len;
}

static __always_inline bool has_prefix(const char *s, const char *pfx, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] != pfx[i])
			return false;
	return true;
}

/*
 * The audit login uid and session of a task (what `ssh` to the node and `sudo` leave behind),
 * present when the kernel has CONFIG_AUDIT (task_struct::loginuid), else unset.
 */
static __always_inline void task_login(struct task_struct *t, __u32 *loginuid, __u32 *sessionid)
{
	*loginuid = KH_NODE_LOGINUID_UNSET;
	*sessionid = KH_NODE_LOGINUID_UNSET;
	if (bpf_core_field_exists(t->loginuid)) {
		*loginuid = BPF_CORE_READ(t, loginuid.val);
		*sessionid = BPF_CORE_READ(t, sessionid);
	}
}

/* who started the session: its parents up to KH_NODE_ANCESTORS, stopping below pid 1 */
static __always_inline void fill_ancestors(struct kh_rec_node_exec *r, struct task_struct *t)
{
	struct task_struct *p = BPF_CORE_READ(t, real_parent);
	__u32 n = 0;

	task_login(t, &r->loginuid, &r->sessionid);
	for (int i = 0; i < KH_NODE_ANCESTORS; i++) {
		__u32 pid;

		if (!p)
			break;
		pid = BPF_CORE_READ(p, tgid);
		if (!pid)
			break;
		r->anc[i].pid = pid;
		task_login(p, &r->anc[i].loginuid, &r->anc[i].sessionid);
		r->anc[i]._pad = 0;
		BPF_CORE_READ_STR_INTO(&r->anc[i].comm, p, comm);
		n++;
		if (pid == 1)
			break;
		p = BPF_CORE_READ(p, real_parent);
	}
	r->n_ancestors = n;
}

static __always_inline bool is_audit_id_var(const char *s)
{
	return has_prefix(s, "KUBERNETES_EXEC_AUDIT_ID=", 25);
}

/*
 * KEP-6035's KUBERNETES_EXEC_AUDIT_ID in the new process's environment, read at its execve
 * (the kernel has just copied envp to the new stack, so the pages are there). One string read per
 * entry; an entry longer than a chunk is walked in chunks and not matched. Bounded by
 * KH_NODE_ENV_STEPS reads and KH_NODE_ENV_SCAN_MAX bytes; stopping short of env_end is flagged
 * and counted.
 */
static __always_inline void read_audit_id(struct kh_rec_node_exec *r, struct task_struct *t)
{
	unsigned long start = BPF_CORE_READ(t, mm, env_start);
	unsigned long end = BPF_CORE_READ(t, mm, env_end);
	unsigned long at = start;
	bool entry_start = true;
	__u32 zero = 0;
	char *buf = bpf_map_lookup_elem(&env_chunk, &zero);

	if (!buf)
		return;
	for (int i = 0; i < KH_NODE_ENV_STEPS; i++) {
		long n;

		if (at >= end || at - start >= KH_NODE_ENV_SCAN_MAX)
			break;
		n = bpf_probe_read_user_str(buf, KH_NODE_ENV_CHUNK, (void *)at);
		if (n <= 0) {
			at = end; /* unreadable: nothing more to learn */
			break;
		}
		if (entry_start && is_audit_id_var(buf)) {
			long v =
			    bpf_probe_read_kernel_str(r->audit_id, sizeof(r->audit_id), buf + 25);

			r->flags |= KH_NODE_F_AUDIT_ID;
			if (v == sizeof(r->audit_id) || n == KH_NODE_ENV_CHUNK)
				r->flags |= KH_NODE_F_AUDIT_ID_TRUNC;
			at += n;
			r->env_scanned = at - start;
			return;
		}
		/* n == the chunk: the entry may go on; the next read starts at its last byte */
		if (n == KH_NODE_ENV_CHUNK) {
			at += n - 1;
			entry_start = false;
		} else {
			at += n;
			entry_start = true;
		}
	}
	r->env_scanned = at > end ? end - start : at - start;
	if (at < end) {
		r->flags |= KH_NODE_F_ENV_CUT;
		count(KH_EXEC_WATCH_ENV_CUT);
	}
}

/* an exec record's header, process, argv and cgroup; the session-start fields zeroed */
static __always_inline void fill_exec_common(struct kh_rec_node_exec *r, struct task_struct *t,
					     const struct tag *tag, __u32 flags)
{
	r->hdr.type = KH_REC_NODE_EXEC;
	r->hdr.size = sizeof(*r);
	r->hdr.ts_ns = bpf_ktime_get_ns();
	fill_proc(&r->proc, t, tag);
	r->flags = flags;
	r->_pad = 0;
	fill_args(r, t);
	fill_cgroup(r, t);
	r->env_scanned = 0;
	r->n_ancestors = 0;
	r->loginuid = 0;
	r->sessionid = 0;
	r->audit_id[0] = 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(exec_watch_exec, struct task_struct *t, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct kh_rec_node_exec *r;
	struct tag *tag;
	__u32 flags = 0;
	long n;

	if (!n_tags)
		return 0;
	tag = bpf_map_lookup_elem(&tags, &tgid);
	if (!tag)
		return 0;
	if (tag->state == TAG_JOINED || tag->state == TAG_JOINED_PID) {
		struct pid *tp = BPF_CORE_READ(t, thread_pid);
		unsigned int level = BPF_CORE_READ(tp, level);
		struct upid up = {};

		/* pid 1 of its namespace is a container's own init, never an exec */
		bpf_probe_read_kernel(&up, sizeof(up), &tp->numbers[level]);
		if (up.nr == 1) {
			if (!bpf_map_delete_elem(&tags, &tgid))
				__sync_fetch_and_add(&n_tags, -1);
			return 0;
		}
		flags = KH_NODE_F_SESSION_START;
		if (tag->state == TAG_JOINED_PID)
			flags |= KH_NODE_F_NEW_CONTAINER;
		tag->session_id = bpf_ktime_get_ns();
		tag->leader = tgid;
		tag->state = TAG_SESSION;
		count(KH_EXEC_WATCH_SESSIONS);
	}

	r = bpf_ringbuf_reserve(&exec_events, sizeof(*r), 0);
	if (!r) {
		count(KH_EXEC_WATCH_LOST_EXEC);
		return 0;
	}
	fill_exec_common(r, t, tag, flags);
	n = bpf_probe_read_kernel_str(r->filename, sizeof(r->filename),
				      BPF_CORE_READ(bprm, filename));
	if (n == sizeof(r->filename))
		r->flags |= KH_NODE_F_PATH_TRUNC;
	if (flags & KH_NODE_F_SESSION_START) {
		fill_ancestors(r, t);
		read_audit_id(r, t);
	}
	bpf_ringbuf_submit(r, 0);
	return 0;
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(exec_watch_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid, ctgid;
	struct tag *tag;

	if (!n_tags)
		return 0;
	ptgid = BPF_CORE_READ(parent, tgid);
	ctgid = BPF_CORE_READ(child, tgid);
	if (ctgid == ptgid) /* a new thread: the process is already tagged or not */
		return 0;
	tag = bpf_map_lookup_elem(&tags, &ptgid);
	if (!tag)
		return 0;
	if (!bpf_map_update_elem(&tags, &ctgid, tag, BPF_NOEXIST)) {
		__sync_fetch_and_add(&n_tags, 1);
	} else if (bpf_map_update_elem(&tags, &ctgid, tag, BPF_EXIST)) {
		/* neither new nor a stale entry of a reused tgid: the table is full */
		count(KH_EXEC_WATCH_TAGS_FULL);
		return 0;
	}
	if (tag->state == TAG_SESSION)
		count(KH_EXEC_WATCH_TAGGED_FORKS);
	return 0;
}

static __always_inline void drop_stdin_inflight(__u32 tid)
{
	if (!bpf_map_delete_elem(&stdin_inflight, &tid))
		__sync_fetch_and_add(&n_stdin_inflight, -1);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(exec_watch_exit, struct task_struct *t)
{
	__u32 tgid;
	struct kh_rec_node_exit *r;
	struct tag *tag;

	if (n_stdin_inflight) /* a thread that left in a read of its stdin (no sys_exit) */
		drop_stdin_inflight(BPF_CORE_READ(t, pid));
	if (!n_tags)
		return 0;
	tgid = BPF_CORE_READ(t, tgid);
	/* the tag belongs to the process: only its last thread out removes it */
	if (BPF_CORE_READ(t, signal, live.counter) != 0)
		return 0;
	tag = bpf_map_lookup_elem(&tags, &tgid);
	if (!tag)
		return 0;
	if (tag->state == TAG_SESSION && tag->leader == tgid) {
		r = bpf_ringbuf_reserve(&exec_events, sizeof(*r), 0);
		if (r) {
			r->hdr.type = KH_REC_NODE_EXIT;
			r->hdr.size = sizeof(*r);
			r->hdr.ts_ns = bpf_ktime_get_ns();
			fill_proc(&r->proc, t, tag);
			r->exit_code = BPF_CORE_READ(t, exit_code);
			r->_pad = 0;
			bpf_ringbuf_submit(r, 0);
		} else {
			count(KH_EXEC_WATCH_LOST_EXIT);
		}
	}
	if (!bpf_map_delete_elem(&tags, &tgid))
		__sync_fetch_and_add(&n_tags, -1);
	return 0;
}

SEC("tp/syscalls/sys_enter_setns")
int exec_watch_setns_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct setns_pending p = {};

	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

	p.mntns_inum = task_mntns(t);
	p.pidns_inum = task_child_pidns(t);
	if (bpf_map_update_elem(&setns_inflight, &tid, &p, BPF_ANY))
		count(KH_EXEC_WATCH_PENDING_FULL);
	return 0;
}

SEC("tp/syscalls/sys_exit_setns")
int exec_watch_setns_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid, tgid = pid_tgid >> 32;
	struct setns_pending *p = bpf_map_lookup_elem(&setns_inflight, &tid);
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct tag joined = {.state = TAG_JOINED};
	struct setns_pending before;
	struct tag *old;
	long err;

	if (!p)
		return 0;
	before = *p;
	bpf_map_delete_elem(&setns_inflight, &tid);
	if (ctx->ret != 0)
		return 0;
	/* the flags argument may be 0 (any type), so compare namespaces, not arguments */
	if (task_mntns(t) == before.mntns_inum) {
		if (task_child_pidns(t) == before.pidns_inum)
			return 0;
		joined.state = TAG_JOINED_PID;
	}
	/* runc joins the pid namespace before the mount namespace: an exec, after all */
	old = joined.state == TAG_JOINED ? bpf_map_lookup_elem(&tags, &tgid) : NULL;
	if (old && old->state == TAG_JOINED_PID) {
		old->state = TAG_JOINED;
		return 0;
	}
	/* a process already in a session stays in it (nsenter from an exec'd shell) */
	err = bpf_map_update_elem(&tags, &tgid, &joined, BPF_NOEXIST);
	if (!err)
		__sync_fetch_and_add(&n_tags, 1);
	else if (err == -E2BIG)
		count(KH_EXEC_WATCH_TAGS_FULL);
	return 0;
}

static __always_inline int open_enter(const char *path, __u32 open_flags, __s32 dfd)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid, tgid = pid_tgid >> 32;
	struct open_pending p;
	struct tag *tag;

	if (!n_tags)
		return 0;
	tag = bpf_map_lookup_elem(&tags, &tgid);
	if (!tag || tag->state != TAG_SESSION)
		return 0;
	p.path = (__u64)path;
	p.open_flags = open_flags;
	p.dfd = dfd;
	/* a leftover of this thread's interrupted open is replaced, not counted twice */
	if (!bpf_map_update_elem(&open_inflight, &tid, &p, BPF_NOEXIST))
		__sync_fetch_and_add(&n_inflight, 1);
	else if (bpf_map_update_elem(&open_inflight, &tid, &p, BPF_EXIST))
		count(KH_EXEC_WATCH_PENDING_FULL);
	return 0;
}

SEC("tp/syscalls/sys_enter_openat")
int exec_watch_openat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return open_enter((const char *)ctx->args[1], (__u32)ctx->args[2], (__s32)ctx->args[0]);
}

SEC("tp/syscalls/sys_enter_openat2")
int exec_watch_openat2_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct open_how how = {};

	bpf_probe_read_user(&how, sizeof(how), (void *)ctx->args[2]);
	return open_enter((const char *)ctx->args[1], (__u32)how.flags, (__s32)ctx->args[0]);
}

/* open(2) exists on x86 but not arm64; the loader drops this program where it is missing */
SEC("tp/syscalls/sys_enter_open")
int exec_watch_open_enter(struct trace_event_raw_sys_enter *ctx)
{
	return open_enter((const char *)ctx->args[0], (__u32)ctx->args[1], -100 /* AT_FDCWD */);
}

/*
 * Does the path name a kubelet secret or projected volume directory? Finds each '~' and checks
 * "kubernetes.io" before it and "secret" or "projected" after it.
 */
static __always_inline bool names_volume(const char *path)
{
	const int nl = 13; /* strlen("kubernetes.io") */

	for (int i = nl; i < KH_NODE_PATH_MAX - 10; i++) {
		if (path[i] == 0)
			return false;
		if (path[i] != '~')
			continue;
		if (!has_prefix(&path[i - nl], "kubernetes.io", nl))
			continue;
		if (has_prefix(&path[i + 1], "secret", 6) ||
		    has_prefix(&path[i + 1], "projected", 9))
			return true;
	}
	return false;
}

static __always_inline __u32 path_match(const char *path)
{
	__u32 m = 0;

	if (has_prefix(path, "/var/run/secrets/", 17) || has_prefix(path, "/run/secrets/", 13))
		m |= KH_NODE_M_SA_PATH;
	if (names_volume(path))
		m |= KH_NODE_M_VOLUME_PATH;
	return m;
}

/*
 * Superblock mount lists: up to 6.15 a superblock chained its mounts in the list_head s_mounts
 * through mount::mnt_instance; 6.16 made s_mounts a singly linked list through
 * mount::mnt_next_for_sb ("fs: use a single linked list for s_mounts").
 */
struct super_block___old {
	struct list_head s_mounts;
} __attribute__((preserve_access_index));

struct mount___old {
	struct list_head mnt_instance;
} __attribute__((preserve_access_index));

/* kubelet volumes: <root>/pods/<uid>/volumes/kubernetes.io~{secret,projected}/<volume> */
static __always_inline __u32 volume_mount_kind(struct mount *m)
{
	struct dentry *dir = BPF_CORE_READ(m, mnt_mountpoint, d_parent);
	char name[32];

	if (bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(dir, d_name.name)) < 0)
		return 0;
	if (has_prefix(name, "kubernetes.io~secret", 21) ||
	    has_prefix(name, "kubernetes.io~projected", 24))
		return KH_NODE_M_VOLUME_DEV;
	return 0;
}

/*
 * Is the file behind a just-opened fd on a filesystem the kubelet mounted as a secret or
 * projected volume? A container sees such a volume through a bind mount at any path it likes,
 * but the superblock still lists the kubelet's own mount, whose mountpoint names the volume kind.
 * Walks at most VOLUME_WALK mounts of the superblock (a volume has one per container using it,
 * plus propagated copies).
 */
#define VOLUME_WALK 32

static __always_inline __u32 fd_volume(long fd, __u32 *dev)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fda = BPF_CORE_READ(fdt, fd);
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	struct super_block *sb;
	struct file *f = NULL;

	if (fd < 0 || fd >= max)
		return 0;
	bpf_core_read(&f, sizeof(f), &fda[fd]);
	if (!f)
		return 0;
	sb = BPF_CORE_READ(f, f_inode, i_sb);
	*dev = BPF_CORE_READ(sb, s_dev);
	if (bpf_core_field_exists(((struct mount *)0)->mnt_next_for_sb)) {
		struct mount *m = BPF_CORE_READ(sb, s_mounts);

		for (int i = 0; i < VOLUME_WALK && m; i++) {
			if (volume_mount_kind(m))
				return KH_NODE_M_VOLUME_DEV;
			m = BPF_CORE_READ(m, mnt_next_for_sb);
		}
	} else {
		struct super_block___old *osb = (void *)sb;
		struct list_head *head = &osb->s_mounts;
		struct list_head *n = BPF_CORE_READ(osb, s_mounts.next);
		__u64 off = bpf_core_field_offset(struct mount___old, mnt_instance);

		for (int i = 0; i < VOLUME_WALK && n && n != head; i++) {
			if (volume_mount_kind((struct mount *)((void *)n - off)))
				return KH_NODE_M_VOLUME_DEV;
			n = BPF_CORE_READ(n, next);
		}
	}
	return 0;
}

static __always_inline int open_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct open_pending *p;
	struct kh_rec_node_open *r;
	struct task_struct *t;
	struct kernfs_node *kn;
	struct tag *tag;
	__u32 dev = 0, match;
	long n;

	if (!n_inflight)
		return 0;
	p = bpf_map_lookup_elem(&open_inflight, &tid);
	if (!p)
		return 0;
	tag = bpf_map_lookup_elem(&tags, &tgid);
	if (!tag)
		goto out;
	r = bpf_ringbuf_reserve(&exec_events, sizeof(*r), 0);
	if (!r) {
		count(KH_EXEC_WATCH_LOST_OPEN);
		goto out;
	}
	n = bpf_probe_read_user_str(r->path, sizeof(r->path), (void *)p->path);
	if (n < 0)
		r->path[0] = 0;
	match = path_match(r->path);
	if (ret >= 0)
		match |= fd_volume(ret, &dev);
	if (!match) {
		bpf_ringbuf_discard(r, 0);
		goto out;
	}
	r->hdr.type = KH_REC_NODE_OPEN;
	r->hdr.size = sizeof(*r);
	r->hdr.ts_ns = bpf_ktime_get_ns();
	t = (struct task_struct *)bpf_get_current_task();
	fill_proc(&r->proc, t, tag);
	r->flags = n == sizeof(r->path) ? KH_NODE_F_PATH_TRUNC : 0;
	kn = task_cgroup_kn(t, &r->flags);
	r->proc.cgroup_id = kn ? BPF_CORE_READ(kn, id) : 0;
	r->match = match;
	r->ret = ret;
	r->open_flags = p->open_flags;
	r->dev = dev;
	r->dfd = p->dfd;
	r->_pad = 0;
	bpf_ringbuf_submit(r, 0);
out:
	if (!bpf_map_delete_elem(&open_inflight, &tid))
		__sync_fetch_and_add(&n_inflight, -1);
	return 0;
}

SEC("tp/syscalls/sys_exit_openat")
int exec_watch_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_openat2")
int exec_watch_openat2_exit(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_open")
int exec_watch_open_exit(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret);
}

/*
 * kubectl attach starts no process: the runtime writes what the user types into the container's
 * stdin (the pipe or terminal its init was started with), and the container's own processes run
 * it. The first read that returns data from that stdin, by a process of the container that is
 * in no session, opens an attach session on the reader (KH_NODE_F_ATTACH): it is tagged like an
 * exec session's first process, so what it then runs and opens is recorded. Only reads of fd 0
 * (read, readv, preadv2: see below) are looked at: the enter hook returns after one compare for any
 * other read, the exit hook after loading one global while no container process waits in such a
 * read.
 */
#define S_IFMT 0170000
#define S_IFIFO 0010000
#define S_IFCHR 0020000
#define TTY_MAJOR 4
#define TTYAUX_MAJOR 5
#define PTS_MAJOR_FIRST 136 /* UNIX98_PTY_SLAVE_MAJOR, and the 7 after it */
#define PTS_MAJOR_LAST 143

static __always_inline struct inode *fd_inode(struct task_struct *t, unsigned int fd)
{
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fda = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;

	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	bpf_core_read(&f, sizeof(f), &fda[fd]);
	return f ? BPF_CORE_READ(f, f_inode) : NULL;
}

/* a pipe, or a terminal (not /dev/null, /dev/zero or another character device) */
static __always_inline bool stdin_kind(struct inode *ino)
{
	umode_t mode = BPF_CORE_READ(ino, i_mode);
	__u32 major;

	if ((mode & S_IFMT) == S_IFIFO)
		return true;
	if ((mode & S_IFMT) != S_IFCHR)
		return false;
	major = BPF_CORE_READ(ino, i_rdev) >> 20;
	return major == TTY_MAJOR || major == TTYAUX_MAJOR ||
	       (major >= PTS_MAJOR_FIRST && major <= PTS_MAJOR_LAST);
}

/*
 * Is fd 0 of @t the container's stdin: in a pid namespace other than the host's, the same pipe
 * or terminal as fd 0 of that namespace's init?
 */
static __always_inline bool reads_container_stdin(struct task_struct *t)
{
	struct pid *tp = BPF_CORE_READ(t, thread_pid);
	unsigned int level = BPF_CORE_READ(tp, level);
	struct task_struct *init;
	struct inode *mine;
	struct upid up = {};

	if (!level)
		return false;
	bpf_probe_read_kernel(&up, sizeof(up), &tp->numbers[level]);
	init = BPF_CORE_READ(up.ns, child_reaper);
	mine = fd_inode(t, 0);
	if (!init || !mine || fd_inode(init, 0) != mine)
		return false;
	return stdin_kind(mine);
}

/* a read of @fd begins: remember it when it may be attach input (fd 0, the container's stdin) */
static __always_inline int stdin_read_enter(__u64 fd)
{
	struct tag *tag;
	__u64 pid_tgid;
	__u32 tid, tgid, one = 1;

	if (fd != 0)
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	tid = (__u32)pid_tgid;
	tgid = pid_tgid >> 32;
	tag = n_tags ? bpf_map_lookup_elem(&tags, &tgid) : NULL;
	/* in a session (or about to open one) already: only an attach's reader is followed */
	if (tag && (!tag->input_ns || tag->leader != tgid))
		return 0;
	if (!tag && !reads_container_stdin((struct task_struct *)bpf_get_current_task()))
		return 0;
	if (!bpf_map_update_elem(&stdin_inflight, &tid, &one, BPF_NOEXIST))
		__sync_fetch_and_add(&n_stdin_inflight, 1);
	else if (bpf_map_update_elem(&stdin_inflight, &tid, &one, BPF_EXIST))
		count(KH_EXEC_WATCH_PENDING_FULL);
	return 0;
}

/* an attach session's first record: the reader, as an exec record without an exec */
static __always_inline void attach_record(struct task_struct *t, const struct tag *tag)
{
	struct kh_rec_node_exec *r;
	struct file *exe;
	long n;

	count(KH_EXEC_WATCH_SESSIONS);
	r = bpf_ringbuf_reserve(&exec_events, sizeof(*r), 0);
	if (!r) {
		count(KH_EXEC_WATCH_LOST_EXEC);
		return;
	}
	fill_exec_common(r, t, tag, KH_NODE_F_SESSION_START | KH_NODE_F_ATTACH);
	/* no execve to give a path: the name of the running program's file */
	exe = BPF_CORE_READ(t, mm, exe_file);
	n = bpf_probe_read_kernel_str(r->filename, sizeof(r->filename),
				      BPF_CORE_READ(exe, f_path.dentry, d_name.name));
	if (n < 0)
		r->filename[0] = 0;
	fill_ancestors(r, t);
	bpf_ringbuf_submit(r, 0);
}

/* input opens an attach session on its reader, in no session yet */
static __always_inline void attach_start(struct task_struct *t, __u32 tgid, __u64 now)
{
	struct tag tag = {.session_id = now, .leader = tgid, .state = TAG_SESSION, .input_ns = now};
	long err;

	err = bpf_map_update_elem(&tags, &tgid, &tag, BPF_NOEXIST);
	if (err) {
		if (err == -E2BIG)
			count(KH_EXEC_WATCH_TAGS_FULL);
		return; /* tagged meanwhile: that session goes on */
	}
	__sync_fetch_and_add(&n_tags, 1);
	attach_record(t, &tag);
}

/*
 * Input to an attach session's reader. Detaching is not seen (the stream closes in the kubelet
 * and the runtime; the container's process reads on), so a session's input after a gap of
 * attach_idle_ns is taken for another attach: a new session on the same reader, which pairs with
 * its own pods/attach request. Its children from before stay in the old session.
 */
static __always_inline void attach_input(struct task_struct *t, struct tag *tag, __u64 now)
{
	if (now - tag->input_ns <= attach_idle_ns) {
		tag->input_ns = now;
		return;
	}
	tag->session_id = now;
	tag->input_ns = now;
	count(KH_EXEC_WATCH_ATTACH_IDLE);
	attach_record(t, tag);
}

/* the read ends: one that returned data from the container's stdin opens an attach session */
static __always_inline int stdin_read_exit(long ret)
{
	struct task_struct *t;
	struct tag *tag;
	__u64 pid_tgid, now;
	__u32 tid, tgid;

	if (!n_stdin_inflight)
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	tid = (__u32)pid_tgid;
	if (!bpf_map_lookup_elem(&stdin_inflight, &tid))
		return 0;
	drop_stdin_inflight(tid);
	if (ret <= 0)
		return 0;
	t = (struct task_struct *)bpf_get_current_task();
	tgid = pid_tgid >> 32;
	now = bpf_ktime_get_ns();
	tag = n_tags ? bpf_map_lookup_elem(&tags, &tgid) : NULL;
	if (!tag)
		attach_start(t, tgid, now);
	else if (tag->input_ns && tag->leader == tgid)
		attach_input(t, tag, now);
	return 0;
}

/*
 * The calls that read a pipe or a terminal at its current position: read(2), readv(2), and
 * preadv2(2) with offset -1 (the current position, as readv; with an offset it fails on a pipe
 * or terminal with ESPIPE, so returns no data and opens nothing).
 * pread64(2) and preadv(2) always take an offset: on the container's stdin (a pipe or a
 * terminal, both opened without FMODE_PREAD) they fail with ESPIPE, so they are not hooked and
 * pread-heavy programs (databases) pay nothing. io_uring reads are done by the kernel
 * (io_uring_enter, or its SQPOLL thread), past these tracepoints: not seen
 * (docs/exec-attribution.md).
 */
SEC("tp/syscalls/sys_enter_read")
int exec_watch_read_enter(struct trace_event_raw_sys_enter *ctx)
{
	return stdin_read_enter(ctx->args[0]);
}

SEC("tp/syscalls/sys_exit_read")
int exec_watch_read_exit(struct trace_event_raw_sys_exit *ctx)
{
	return stdin_read_exit(ctx->ret);
}

SEC("tp/syscalls/sys_enter_readv")
int exec_watch_readv_enter(struct trace_event_raw_sys_enter *ctx)
{
	return stdin_read_enter(ctx->args[0]);
}

SEC("tp/syscalls/sys_exit_readv")
int exec_watch_readv_exit(struct trace_event_raw_sys_exit *ctx)
{
	return stdin_read_exit(ctx->ret);
}

SEC("tp/syscalls/sys_enter_preadv2")
int exec_watch_preadv2_enter(struct trace_event_raw_sys_enter *ctx)
{
	return stdin_read_enter(ctx->args[0]);
}

SEC("tp/syscalls/sys_exit_preadv2")
int exec_watch_preadv2_exit(struct trace_event_raw_sys_exit *ctx)
{
	return stdin_read_exit(ctx->ret);
}
