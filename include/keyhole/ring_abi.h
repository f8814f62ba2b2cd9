/* SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0) */
/*
 * ring_abi: the records the BPF programs put in their ring buffers, as both sides see them.
 *
 * This header is an ABI between bpf/<domain>.bpf.c and the agent: fixed-width fields, explicit
 * padding, limits beside the structs, and _Static_assert guards on sizes and offsets so a change
 * on one side that the other did not follow fails to build. Every record starts with struct
 * kh_rec_hdr.
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
	KH_REC_AUDIT_WRITE_END, /* a write the tap gave up on: lost, counted (audit tap) */
	KH_REC_PROC_EVENT,	/* apiserver exec/exit seen by the tap (follow restarts) */
	KH_REC_AUDIT_TAMPER,	/* another process changed the audit log (audit guard) */
	KH_REC_NODE_EXEC = 16,	/* exec inside a container exec session (exec watch) */
	KH_REC_NODE_OPEN,	/* secret material opened inside an exec session (exec watch) */
	KH_REC_NODE_EXIT,	/* exec-session process exit (exec watch) */
};

struct kh_rec_hdr {
	__u32 type;  /* enum kh_rec_type */
	__u32 size;  /* whole record in bytes, header included */
	__u64 ts_ns; /* bpf_ktime_get_ns() at capture */
};

/* ---- audit tap records (bpf/audit_tap.bpf.c) ---- */

/*
 * Payload bytes per chunk record. A chunk is copied from a per-CPU scratch value with
 * bpf_ringbuf_output(), so a record takes only the bytes it carries; 4 KB keeps one typical audit
 * line (1-3 KB) in one record and a 1 MB RequestResponse event in 256.
 */
#define KH_AUDIT_CHUNK_MAX 4096
/* chunks one program run emits before it tail-calls itself to go on (verifier-bounded loop) */
#define KH_AUDIT_CHUNKS_PER_RUN 64
/* runs per write: the first plus at most 32 tail calls (the kernel allows 33) */
#define KH_AUDIT_RUNS_MAX 33
/* smallest capture cap: a truncated write keeps at least one whole chunk of head and of tail */
#define KH_AUDIT_CAP_MIN (2u * KH_AUDIT_CHUNK_MAX)
/* largest capture cap the chunk budget covers whatever the iovec layout (userspace checks it) */
#define KH_AUDIT_CAP_MAX (8u << 20)
/* default cap: whole writes up to 1 MB; past it the head and KH_AUDIT_TAIL_DEFAULT of tail */
#define KH_AUDIT_CAP_DEFAULT (1u << 20)
#define KH_AUDIT_TAIL_DEFAULT (64u << 10)
/* longest audit-log file name (basename) matched by name in BPF, NUL included */
#define KH_AUDIT_NAME_MAX 64
#define KH_COMM_LEN 16

/* kh_audit_chunk.flags */
#define KH_CHUNK_LAST 0x1u /* final chunk of its write */
#define KH_CHUNK_TRUNCATED                                                                         \
	0x2u		     /* the write exceeded the cap: bytes [head_end, tail_start) skipped */
#define KH_CHUNK_WRITEV 0x4u /* the write came from writev/pwritev */
#define KH_CHUNK_PWRITE 0x8u /* positional write (pwrite64/pwritev): not an append */
#define KH_CHUNK_UPROBE                                                                            \
	0x10u /* caught at the Go write function's entry (uprobe path): total is                   \
	       * the bytes the write asked for, the syscall's result unseen */

/*
 * KH_REC_AUDIT_CHUNK: bytes [offset, offset + len) of one write of a target process to a target
 * file. A write's chunks come in seq order from one CPU; chunks of other writes may interleave.
 */
struct kh_audit_chunk {
	struct kh_rec_hdr hdr;
	__u64 write_id;	  /* bpf_ktime_get_ns() at sys_enter: unique per thread */
	__u64 dev;	  /* file's super block dev_t, kernel encoding (major << 20 | minor) */
	__u64 ino;	  /* file's inode number */
	__u64 offset;	  /* offset of data[0] within the bytes of this write */
	__u64 total;	  /* bytes the write wrote (sys_exit return value) */
	__u64 head_end;	  /* truncated writes: bytes [head_end, tail_start) were not captured */
	__u64 tail_start; /* equal to head_end when nothing was skipped */
	__u32 tgid;	  /* writer process */
	__u32 tid;	  /* writer thread: in-flight writes are keyed by it */
	__u32 seq;	  /* chunk index within this write, from 0 */
	__u32 len;	  /* bytes in data[] */
	__u32 file_id;	  /* cookie userspace gave the target file (names its path) */
	__u32 flags;	  /* KH_CHUNK_* */
	__u8 data[KH_AUDIT_CHUNK_MAX];
};
#define KH_AUDIT_CHUNK_HDR_SIZE 96 /* offsetof(struct kh_audit_chunk, data) */

/*
 * KH_REC_AUDIT_WRITE_END: a write the tap gave up on (a chunk found the ring full, the writer's
 * buffer could not be read, or the chunk budget ran out). Best effort: it is sent so reassembly
 * can drop the partial write at once; the loss itself is counted in the counters map.
 */
struct kh_audit_write_end {
	struct kh_rec_hdr hdr;
	__u64 write_id;
	__u64 total;	/* bytes the write wrote */
	__u64 captured; /* bytes sent in chunks before the tap gave up */
	__u32 tgid;
	__u32 tid;
	__u32 chunks; /* chunk records sent (seq 0 .. chunks - 1) */
	__u32 reason; /* enum kh_tap_counter naming the cause */
};

/* KH_REC_PROC_EVENT kinds */
#define KH_PROC_EXEC 1 /* a process exec'ed with the target comm: it is now a target */
#define KH_PROC_EXIT 2 /* a target process exited */

/* KH_REC_PROC_EVENT: the target set changed in BPF; userspace reads the process's arguments */
struct kh_audit_proc {
	struct kh_rec_hdr hdr;
	__u32 tgid;
	__u32 kind; /* KH_PROC_* */
	char comm[KH_COMM_LEN];
};

/*
 * Counters in the tap's per-CPU array (map "counters"), indexed by this enum. The loss counters
 * sit next to the failing bpf_ringbuf_output(); userspace sums the CPUs.
 */
enum kh_tap_counter {
	KH_TAP_WRITES,	       /* target-file writes seen at sys_exit with bytes written */
	KH_TAP_BYTES,	       /* bytes those writes wrote */
	KH_TAP_LOST_WRITES,    /* writes that did not reach the ring whole (any cause below) */
	KH_TAP_LOST_CHUNKS,    /* chunk records the ring had no room for */
	KH_TAP_LOST_PROC,      /* exec/exit records the ring had no room for */
	KH_TAP_LOST_INFLIGHT,  /* target writes not tracked: in-flight map update failed */
	KH_TAP_READ_FAULTS,    /* writes whose buffer could not be read at sys_exit */
	KH_TAP_BUDGET,	       /* writes cut short: chunk budget (runs x chunks per run) ran out */
	KH_TAP_TRUNCATED,      /* writes over the cap: head and tail kept, middle skipped */
	KH_TAP_NAME_MATCHES,   /* new inodes learned by directory + name (rotation) */
	KH_TAP_TARGET_EXECS,   /* exec's that made a process a target */
	KH_TAP_UPROBE_HITS,    /* uprobe path: target-process calls of the probed write function */
	KH_TAP_UPROBE_REENTRY, /* of those, not copied: the same call hit again (the function
				* restarting after growing its stack, a signal during the step) */
	KH_TAP__NR
};

/* tap rodata defaults and map sizes */
#define KH_TAP_MAX_TARGETS 64	 /* apiserver processes followed at once */
#define KH_TAP_MAX_FILES 256	 /* audit-log inodes (current and recently rotated) */
#define KH_TAP_MAX_NAMES 64	 /* (directory, basename) pairs watched */
#define KH_TAP_MAX_INFLIGHT 8192 /* threads with a write between sys_enter and sys_exit */

/*
 * Value of the "targets" map: which path captures this process's writes. The exec tracepoint
 * marks a new apiserver VIA_TRACEPOINT; the agent switches it to VIA_UPROBE once its uprobe is
 * attached. Each path's programs take only their own processes, so the two never both copy a
 * write, and processes on either path can run side by side.
 */
#define KH_TAP_VIA_TRACEPOINT 1u
#define KH_TAP_VIA_UPROBE 2u

/* key of the "files" map: a file's identity */
struct kh_file_key {
	__u64 dev; /* kernel dev_t */
	__u64 ino;
};

/* key of the "names" map: a directory's identity and a basename in it, NUL-padded */
struct kh_name_key {
	__u64 dev;
	__u64 ino;
	char name[KH_AUDIT_NAME_MAX];
};

/* ---- audit guard records (bpf/audit_guard.bpf.c) ---- */

/*
 * What another process did to a watched audit log. The apiserver's own opens, renames and
 * deletions (rotation, --audit-log-maxbackup) are its targets' and never reported.
 */
enum kh_tamper_op {
	KH_TAMPER_OPEN_WRITE = 1, /* opened for writing (O_WRONLY/O_RDWR, O_TRUNC or not) */
	KH_TAMPER_TRUNCATE,	  /* truncate(2) by path */
	KH_TAMPER_FTRUNCATE,	  /* ftruncate(2) of a descriptor */
	KH_TAMPER_UNLINK,	  /* unlink(2)/unlinkat(2) */
	KH_TAMPER_RENAME_FROM,	  /* rename*(2) moved the log away */
	KH_TAMPER_RENAME_ONTO,	  /* rename*(2) put another file in the log's place */
	KH_TAMPER_OP__NR
};

/* kh_audit_tamper.flags */
#define KH_TAMPER_F_EXACT 0x1u	    /* the kernel matched the file itself (inode, or dir + name) */
#define KH_TAMPER_F_PATH_TRUNC 0x2u /* a path was longer than KH_TAMPER_PATH_MAX */
#define KH_TAMPER_F_ANY_NAME                                                                       \
	0x4u /* truncate(2) of a path not named like the log: judge by effect */
#define KH_TAMPER_F_READ_ONLY                                                                      \
	0x8u /* an open without write access that left the log empty                               \
	      * (O_RDONLY|O_TRUNC truncates too) */

/* paths as the process gave them; a longer one keeps its head (its basename is checked whole) */
#define KH_TAMPER_PATH_MAX 256
/* processes with a path operation between sys_enter and sys_exit on a watched basename */
#define KH_GUARD_MAX_PENDING 1024
/* its own ring: a flood of lookalike operations cannot push audit bytes out of the tap's ring */
#define KH_GUARD_RING_BYTES (256u << 10)

/*
 * KH_REC_AUDIT_TAMPER. Path operations (truncate, unlink, rename) are matched in the kernel by
 * the basename of a watched log; a bare name is resolved there against its directory (F_EXACT,
 * or not reported), and the agent resolves paths with a '/' from the root and base directory
 * identities. Descriptor operations (open for write, ftruncate) are matched by inode.
 */
struct kh_audit_tamper {
	struct kh_rec_hdr hdr;
	__u64 dev; /* the file, when matched by inode (kernel dev_t), else 0 */
	__u64 ino;
	__u64 root_dev; /* path operations: the process's root directory, */
	__u64 root_ino; /* from which an absolute path starts */
	__u64 base_dev; /* and the directory a relative path starts from */
	__u64 base_ino; /* (the cwd, or the dfd's) */
	__u64 size;	/* opens: i_size after the open; (f)truncate: the length asked for */
	__s64 ret;	/* the system call's result (only successes are reported) */
	__u32 op;	/* enum kh_tamper_op */
	__u32 flags;	/* KH_TAMPER_F_* */
	__u32 file_id;	/* the watched file, when matched exactly; else 0 */
	__u32 tgid;	/* who did it */
	__u32 tid;
	__u32 ppid;	  /* real parent's tgid */
	__u32 uid;	  /* real uid (root user namespace) */
	__u32 open_flags; /* opens: the file's f_flags */
	__s32 dfd;	  /* path operations: the directory fd (AT_FDCWD = -100) */
	__u32 _pad;
	char comm[KH_COMM_LEN];
	char path[KH_TAMPER_PATH_MAX];	/* path as given; opens: the file's name in its directory */
	char path2[KH_TAMPER_PATH_MAX]; /* rename: the new path */
};

/* the guard's per-CPU counters (map guard_counters) */
enum kh_guard_counter {
	KH_GUARD_REPORTED,     /* tamper records sent */
	KH_GUARD_LOST,	       /* tamper records the guard's ring had no room for */
	KH_GUARD_PENDING_FULL, /* path operations on a watched name not followed: table full */
	KH_GUARD_NAME_MATCHES, /* path operations whose basename matched (before the result) */
	KH_GUARD__NR
};

/* key of the guard's "basenames" map: a watched log's basename, NUL-padded */
struct kh_base_key {
	char name[KH_AUDIT_NAME_MAX];
};

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
#define KH_NODE_F_AUDIT_ID 0x20u /* session start: KUBERNETES_EXEC_AUDIT_ID found, in audit_id */
#define KH_NODE_F_AUDIT_ID_TRUNC 0x40u /* its value was longer than KH_NODE_AUDIT_ID_MAX - 1 */
#define KH_NODE_F_ENV_CUT 0x80u /* session start: the scan stopped at its bound, env unread */
#define KH_NODE_F_NEW_CONTAINER                                                                    \
	0x100u /* session start: a new container in a running container's                          \
		  namespaces (kubectl debug), not an exec */
#define KH_NODE_F_ATTACH                                                                           \
	0x200u /* session start: a container process read its container's stdin (kubectl           \
		  attach); no exec: filename is the running program's file name */

/*
 * The environment scan at a session's first exec (KEP-6035's KUBERNETES_EXEC_AUDIT_ID): one
 * bpf_probe_read_user_str of at most KH_NODE_ENV_CHUNK bytes per step, at most KH_NODE_ENV_STEPS
 * steps and KH_NODE_ENV_SCAN_MAX bytes, so the work per exec is fixed whatever the environment.
 * An entry longer than a chunk takes several steps. Only session starts pay it (never an exec
 * outside a container exec session). 16 KB holds the environment of a container with some
 * 150 Services' links before the variable the runtime appends.
 */
#define KH_NODE_ENV_CHUNK 128
#define KH_NODE_ENV_STEPS 256
#define KH_NODE_ENV_SCAN_MAX 16384
#define KH_NODE_AUDIT_ID_MAX 64		   /* an auditID is a UUID (36 characters) */
#define KH_NODE_ANCESTORS 6		   /* parents of a session's first process, nearest first */
#define KH_NODE_LOGINUID_UNSET 0xffffffffu /* (uid_t)-1: no login session (a daemon's) */

/* kh_rec_node_open.match: why an open was reported (bits) */
#define KH_NODE_M_SA_PATH 0x1u	   /* path starts /var/run/secrets/ or /run/secrets/ */
#define KH_NODE_M_VOLUME_PATH 0x2u /* path names a kubernetes.io~secret / ~projected directory */
#define KH_NODE_M_VOLUME_DEV 0x4u  /* the file lives on a kubelet secret/projected volume mount */

/* per-CPU loss and state counters (map exec_counters), indexed by this enum */
enum kh_exec_watch_counter {
	KH_EXEC_WATCH_LOST_EXEC = 0, /* exec record lost: ring buffer full */
	KH_EXEC_WATCH_LOST_OPEN,     /* open record lost: ring buffer full */
	KH_EXEC_WATCH_LOST_EXIT,     /* exit record lost: ring buffer full */
	KH_EXEC_WATCH_TAGS_FULL,     /* a process was not tagged: tag table full (bounded map) */
	KH_EXEC_WATCH_PENDING_FULL,  /* an open or setns in flight was not tracked: table full */
	KH_EXEC_WATCH_SESSIONS,	     /* exec sessions started */
	KH_EXEC_WATCH_TAGGED_FORKS,  /* descendants tagged at fork */
	KH_EXEC_WATCH_ENV_CUT,	   /* session starts whose environment scan stopped at its bound */
	KH_EXEC_WATCH_ATTACH_IDLE, /* attach sessions opened on a reader after an input gap */
	KH_EXEC_WATCH__NR,
};

/* who did it: common to exec and open records */
struct kh_node_proc {
	__u64 session_id;     /* ktime of the session's first exec; unique per boot */
	__u64 cgroup_id;      /* kernfs id of the leaf cgroup named in exec records */
	__u32 pid;	      /* tgid, root pid namespace */
	__u32 tid;	      /* thread id, root pid namespace */
	__u32 ppid;	      /* real parent's tgid */
	__u32 uid;	      /* real uid (root user namespace) */
	__u32 gid;	      /* real gid */
	__u32 ns_pid;	      /* tgid as seen in its own pid namespace */
	__u32 pidns_inum;     /* pid namespace inode number */
	__u32 mntns_inum;     /* mount namespace inode number */
	__u32 session_leader; /* tgid of the session's first process */
	__u32 _pad;
	char comm[KH_NODE_COMM_LEN]; /* task comm at the time of the record */
};

/* one ancestor of a session's first process, as the kernel knew it at the session's start */
struct kh_node_ancestor {
	__u32 pid;	 /* tgid, root pid namespace */
	__u32 loginuid;	 /* audit login uid, KH_NODE_LOGINUID_UNSET when none */
	__u32 sessionid; /* audit session id ((u32)-1 when none) */
	__u32 _pad;
	char comm[KH_NODE_COMM_LEN]; /* its comm */
};

struct kh_rec_node_exec {
	struct kh_rec_hdr hdr;
	struct kh_node_proc proc;
	__u32 flags;	  /* KH_NODE_F_* */
	__u32 args_len;	  /* bytes used in args */
	__u32 cgrp_depth; /* entries used in cgrp */
	__u32 _pad;
	char filename[KH_NODE_PATH_MAX];		      /* bprm->filename, NUL-terminated */
	char args[KH_NODE_ARGS_MAX];			      /* argv, each NUL-terminated */
	char cgrp[KH_NODE_CGRP_DEPTH][KH_NODE_CGRP_NAME_MAX]; /* cgroup names, leaf first */
	/* session start only (zero otherwise): */
	__u32 env_scanned;				/* environment bytes scanned */
	__u32 n_ancestors;				/* entries used in anc */
	__u32 loginuid;					/* the process's own audit login uid */
	__u32 sessionid;				/* and audit session id */
	char audit_id[KH_NODE_AUDIT_ID_MAX];		/* KUBERNETES_EXEC_AUDIT_ID's value */
	struct kh_node_ancestor anc[KH_NODE_ANCESTORS]; /* parent first */
};

struct kh_rec_node_open {
	struct kh_rec_hdr hdr;
	struct kh_node_proc proc;
	__u32 flags;	  /* KH_NODE_F_PATH_TRUNC */
	__u32 match;	  /* KH_NODE_M_* */
	__s64 ret;	  /* fd, or -errno: the open is reported either way */
	__u32 open_flags; /* O_* as passed (openat2: how->flags, low 32 bits) */
	__u32 dev;	  /* kernel dev_t (major << 20 | minor) of the file, 0 if failed */
	__s32 dfd;	  /* directory fd the path is relative to (AT_FDCWD = -100) */
	__u32 _pad;
	char path[KH_NODE_PATH_MAX]; /* the path as the process passed it */
};

/* a session's first process exited (the session may live on in its descendants) */
struct kh_rec_node_exit {
	struct kh_rec_hdr hdr;
	struct kh_node_proc proc;
	__s32 exit_code; /* task->exit_code (wait status form) */
	__u32 _pad;
};

#ifndef __bpf__
_Static_assert(sizeof(struct kh_rec_hdr) == 16, "kh_rec_hdr is ABI");
_Static_assert(sizeof(struct kh_node_proc) == 72, "kh_node_proc is ABI");
_Static_assert(offsetof(struct kh_rec_node_exec, filename) == 104, "kh_rec_node_exec is ABI");
_Static_assert(sizeof(struct kh_node_ancestor) == 32, "kh_node_ancestor is ABI");
_Static_assert(offsetof(struct kh_rec_node_exec, env_scanned) ==
		   104 + KH_NODE_PATH_MAX + KH_NODE_ARGS_MAX +
		       KH_NODE_CGRP_DEPTH * KH_NODE_CGRP_NAME_MAX,
	       "kh_rec_node_exec is ABI");
_Static_assert(sizeof(struct kh_rec_node_exec) ==
		   offsetof(struct kh_rec_node_exec, env_scanned) + 16 + KH_NODE_AUDIT_ID_MAX +
		       KH_NODE_ANCESTORS * sizeof(struct kh_node_ancestor),
	       "kh_rec_node_exec is ABI");
_Static_assert(offsetof(struct kh_rec_node_open, path) == 120, "kh_rec_node_open is ABI");
_Static_assert(sizeof(struct kh_rec_node_open) == 120 + KH_NODE_PATH_MAX,
	       "kh_rec_node_open is ABI");
_Static_assert(sizeof(struct kh_rec_node_exit) == 96, "kh_rec_node_exit is ABI");
_Static_assert(__builtin_offsetof(struct kh_audit_chunk, data) == KH_AUDIT_CHUNK_HDR_SIZE,
	       "kh_audit_chunk header is ABI");
_Static_assert(sizeof(struct kh_audit_chunk) == KH_AUDIT_CHUNK_HDR_SIZE + KH_AUDIT_CHUNK_MAX,
	       "kh_audit_chunk is ABI");
_Static_assert(sizeof(struct kh_audit_write_end) == 56, "kh_audit_write_end is ABI");
_Static_assert(sizeof(struct kh_audit_proc) == 40, "kh_audit_proc is ABI");
_Static_assert(sizeof(struct kh_file_key) == 16, "kh_file_key is ABI");
_Static_assert(sizeof(struct kh_name_key) == 16 + KH_AUDIT_NAME_MAX, "kh_name_key is ABI");
_Static_assert(offsetof(struct kh_audit_tamper, comm) == 120, "kh_audit_tamper is ABI");
_Static_assert(sizeof(struct kh_audit_tamper) == 136 + 2 * KH_TAMPER_PATH_MAX,
	       "kh_audit_tamper is ABI");
#endif

#endif /* KEYHOLE_RING_ABI_H */
