/* SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0) */
/*
 * ring_abi: the records the BPF programs put in their ring buffers, as both sides see them.
 *
 * This header is an ABI between bpf/<domain>.bpf.c and the agent: fixed-width fields, explicit padding,
 * limits beside the structs, and _Static_assert guards on sizes and offsets so a change on one
 * side that the other did not follow fails to build. Every record starts with struct kh_rec_hdr.
 */
#ifndef KEYHOLE_RING_ABI_H
#define KEYHOLE_RING_ABI_H

#ifdef __bpf__
/* BPF side: types come from vmlinux.h */
#else
#include <stddef.h>
#include <linux/types.h>
#endif

enum kh_rec_type {
	KH_REC_AUDIT_CHUNK = 1, /* bytes the apiserver wrote to its audit log (audit tap) */
	KH_REC_AUDIT_WRITE_END, /* a write's final length as sys_exit saw it (audit tap) */
	KH_REC_PROC_EVENT,	/* apiserver exec/exit seen by the tap (follow restarts) */
	KH_REC_NODE_EXEC = 16,	/* exec inside a container exec session (exec watch) */
	KH_REC_NODE_OPEN,	/* secret material opened inside an exec session (exec watch) */
	KH_REC_NODE_EXIT,	/* exec-session process exit (exec watch) */
};

struct kh_rec_hdr {
	__u32 type; /* enum kh_rec_type */
	__u32 size; /* whole record in bytes, header included */
	__u64 ts_ns; /* bpf_ktime_get_ns() at capture */
};

/* ---- audit tap records (bpf/audit_tap.bpf.c) ---- */

/* ---- exec watch records (bpf/exec_watch.bpf.c) ---- */

/*
 * Sizes: an exec or an open inside an exec session is rare (a person typing in a shell), so the
 * records are generous and fixed-size; nothing here is on a hot path.
 */
#define KH_NODE_COMM_LEN 16	  /* TASK_COMM_LEN */
#define KH_NODE_PATH_MAX 256	  /* execve filename / open path as the process gave it */
#define KH_NODE_ARGS_MAX 512	  /* argv bytes, NUL-separated, from mm->arg_start */
#define KH_NODE_CGRP_DEPTH 6	  /* cgroup path components kept, leaf first */
#define KH_NODE_CGRP_NAME_MAX 128 /* "cri-containerd-<64 hex>.scope" is 85 */

/* kh_rec_node_exec.flags */
#define KH_NODE_F_SESSION_START 0x1u /* this exec opened the session (runc init -> command) */
#define KH_NODE_F_ARGS_TRUNC 0x2u    /* argv longer than KH_NODE_ARGS_MAX */
#define KH_NODE_F_PATH_TRUNC 0x4u    /* filename/path longer than KH_NODE_PATH_MAX */
#define KH_NODE_F_CGRP_TRUNC 0x8u    /* cgroup deeper than KH_NODE_CGRP_DEPTH: root side dropped */
#define KH_NODE_F_CGRP_V1 0x10u	     /* cgroup names from a v1 hierarchy (v2 placed it at root) */

/* kh_rec_node_open.match: why an open was reported (bits) */
#define KH_NODE_M_SA_PATH 0x1u	   /* path starts /var/run/secrets/ or /run/secrets/ */
#define KH_NODE_M_VOLUME_PATH 0x2u /* path names a kubernetes.io~secret / ~projected directory */
#define KH_NODE_M_VOLUME_DEV 0x4u  /* the file lives on a kubelet secret/projected volume mount */

/* per-CPU loss and state counters (map exec_counters), indexed by this enum */
enum kh_node_counter {
	KH_NODE_C_RB_EXEC = 0,	 /* exec record lost: ring buffer full */
	KH_NODE_C_RB_OPEN,	 /* open record lost: ring buffer full */
	KH_NODE_C_RB_EXIT,	 /* exit record lost: ring buffer full */
	KH_NODE_C_TAGS_FULL,	 /* a process was not tagged: tag table full (bounded map) */
	KH_NODE_C_PENDING_FULL,	 /* an open or setns in flight was not tracked: table full */
	KH_NODE_C_SESSIONS,	 /* exec sessions started */
	KH_NODE_C_TAGGED_FORKS, /* descendants tagged at fork */
	KH_NODE_C_MAX,
};

/* who did it: common to exec and open records */
struct kh_node_proc {
	__u64 session_id;	     /* ktime of the session's first exec; unique per boot */
	__u64 cgroup_id;	     /* kernfs id of the leaf cgroup named in exec records */
	__u32 pid;		     /* tgid, root pid namespace */
	__u32 tid;		     /* thread id, root pid namespace */
	__u32 ppid;		     /* real parent's tgid */
	__u32 uid;		     /* real uid (root user namespace) */
	__u32 gid;		     /* real gid */
	__u32 ns_pid;		     /* tgid as seen in its own pid namespace */
	__u32 pidns_inum;	     /* pid namespace inode number */
	__u32 mntns_inum;	     /* mount namespace inode number */
	__u32 session_leader;	     /* tgid of the session's first process */
	__u32 _pad;
	char comm[KH_NODE_COMM_LEN]; /* task comm at the time of the record */
};

struct kh_rec_node_exec {
	struct kh_rec_hdr hdr;
	struct kh_node_proc proc;
	__u32 flags;					   /* KH_NODE_F_* */
	__u32 args_len;					   /* bytes used in args */
	__u32 cgrp_depth;				   /* entries used in cgrp */
	__u32 _pad;
	char filename[KH_NODE_PATH_MAX];		   /* bprm->filename, NUL-terminated */
	char args[KH_NODE_ARGS_MAX];			   /* argv, each NUL-terminated */
	char cgrp[KH_NODE_CGRP_DEPTH][KH_NODE_CGRP_NAME_MAX]; /* cgroup names, leaf first */
};

struct kh_rec_node_open {
	struct kh_rec_hdr hdr;
	struct kh_node_proc proc;
	__u32 flags;		       /* KH_NODE_F_PATH_TRUNC */
	__u32 match;		       /* KH_NODE_M_* */
	__s64 ret;		       /* fd, or -errno: the open is reported either way */
	__u32 open_flags;	       /* O_* as passed (openat2: how->flags, low 32 bits) */
	__u32 dev;		       /* kernel dev_t (major << 20 | minor) of the file, 0 if failed */
	__s32 dfd;		       /* directory fd the path is relative to (AT_FDCWD = -100) */
	__u32 _pad;
	char path[KH_NODE_PATH_MAX];   /* the path as the process passed it */
};

/* a session's first process exited (the session may live on in its descendants) */
struct kh_rec_node_exit {
	struct kh_rec_hdr hdr;
	struct kh_node_proc proc;
	__s32 exit_code;	       /* task->exit_code (wait status form) */
	__u32 _pad;
};

#ifndef __bpf__
_Static_assert(sizeof(struct kh_rec_hdr) == 16, "kh_rec_hdr is ABI");
_Static_assert(sizeof(struct kh_node_proc) == 72, "kh_node_proc is ABI");
_Static_assert(offsetof(struct kh_rec_node_exec, filename) == 104, "kh_rec_node_exec is ABI");
_Static_assert(sizeof(struct kh_rec_node_exec) ==
		       104 + KH_NODE_PATH_MAX + KH_NODE_ARGS_MAX +
			       KH_NODE_CGRP_DEPTH * KH_NODE_CGRP_NAME_MAX,
	       "kh_rec_node_exec is ABI");
_Static_assert(offsetof(struct kh_rec_node_open, path) == 120, "kh_rec_node_open is ABI");
_Static_assert(sizeof(struct kh_rec_node_open) == 120 + KH_NODE_PATH_MAX,
	       "kh_rec_node_open is ABI");
_Static_assert(sizeof(struct kh_rec_node_exit) == 96, "kh_rec_node_exit is ABI");
#endif

#endif /* KEYHOLE_RING_ABI_H */
