/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node_event: what the exec watch saw on the node, decoded for the rules.
 *
 * The kernel side (bpf/exec_watch.bpf.c) reports execs, secret opens and session-leader exits of
 * processes in container exec sessions; src/capture/node_decode.c turns those records into these
 * events, with the session's pod identity (cgroup path -> container ID and pod UID, kubelet log
 * directories -> namespace, pod and container name). Rules see them through
 * kh_rule.on_node_event, in the same pipeline and alert format as audit events.
 */
#ifndef KEYHOLE_NODE_EVENT_H
#define KEYHOLE_NODE_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "keyhole/ring_abi.h"

enum node_event_kind {
	NODE_EV_EXEC = 1,   /* a process in a session exec'd (session_start: the session's first) */
	NODE_EV_OPEN,	    /* a process in a session opened secret material */
	NODE_EV_EXIT,	    /* the session's first process exited */
	NODE_EV_LOG_TAMPER, /* a process other than the apiserver changed its audit log (guard) */
};

#define KH_NODE_ARGV_MAX 64 /* argv entries kept; the rest are counted in argc_total */

/* where a session runs; strings are "" when unknown */
struct node_identity {
	char container_id[65];
	char pod_uid[37];
	char pod_namespace[64]; /* DNS label: at most 63 */
	char pod_name[254];	/* DNS subdomain: at most 253 */
	char container_name[64];
	char cgroup_path[KH_NODE_CGRP_DEPTH * (KH_NODE_CGRP_NAME_MAX + 1) + 1];
	bool cgroup_v1; /* the path came from a v1 hierarchy */
};

/* a parent of a session's first process at the session's start (kernel), and its command line */
struct node_ancestor {
	uint32_t pid;
	uint32_t loginuid;  /* KH_NODE_LOGINUID_UNSET when it had no login session */
	uint32_t sessionid; /* audit session id, KH_NODE_LOGINUID_UNSET when none */
	char comm[KH_NODE_COMM_LEN + 1];
	char cmdline[256]; /* /proc/PID/cmdline, spaces between arguments, read by the agent when
			      it decoded the session ("" when the process was already gone) */
	bool cmdline_truncated;
};

/* one exec session: a `kubectl exec` (runc exec) and everything it started */
struct node_session {
	uint64_t id;	     /* kernel session id (ktime of its first exec) */
	int64_t start_ns;    /* wall clock of its first exec, ns since the epoch */
	uint32_t leader_pid; /* host pid of its first process */
	struct node_identity who;
	char leader_exe[KH_NODE_PATH_MAX + 1];
	char leader_args[KH_NODE_ARGS_MAX + 1]; /* NUL-separated, as the kernel read them */
	uint32_t leader_args_len;
	bool leader_args_truncated;
	bool ended; /* the first process exited (descendants may live on) */
	/* read by the kernel at the session's first exec */
	char audit_id[KH_NODE_AUDIT_ID_MAX]; /* KUBERNETES_EXEC_AUDIT_ID (KEP-6035), "" if none */
	bool audit_id_truncated;	     /* longer than the record holds: never matches */
	bool env_cut;			     /* the environment scan stopped at its bound */
	bool new_container; /* a container started in a running one's namespaces (kubectl debug) */
	bool attach;	    /* no exec: a container process read input from its container's stdin
			       (kubectl attach); leader_exe is the running program's file name */
	uint32_t env_scanned;	      /* environment bytes scanned */
	uint32_t loginuid, sessionid; /* the first process's own audit login uid/session */
	uint32_t n_ancestors;
	struct node_ancestor anc[KH_NODE_ANCESTORS]; /* parent first */
};

struct node_process {
	uint32_t pid, tid, ppid, uid, gid;
	uint32_t ns_pid; /* pid inside the container's pid namespace */
	char comm[KH_NODE_COMM_LEN + 1];
};

/* NODE_EV_LOG_TAMPER: what was done to the audit log, as the audit guard and the agent saw it */
struct node_log_tamper {
	uint32_t op;	     /* enum kh_tamper_op */
	const char *file;    /* the watched audit log, as the apiserver names it */
	const char *path;    /* the path the process gave ("" for a descriptor operation) */
	const char *path2;   /* rename: the new path, else "" */
	const char *exe;     /* /proc/PID/exe when it could still be read, else "" */
	const char *how;     /* how the operation was tied to the log: see capture/tamper.h */
	int64_t ret;	     /* the system call's result */
	uint64_t size;	     /* opens: size after the open; (f)truncate: the length asked for */
	uint32_t open_flags; /* opens: O_* of the open file */
	bool path_truncated; /* a path was longer than the kernel side reads */
	bool shrunk;	     /* the log now holds fewer bytes than the apiserver had written */
};

struct node_event {
	enum node_event_kind kind;
	int64_t time_ns;		    /* wall clock, ns since the epoch */
	const struct node_session *session; /* never NULL */
	struct node_process proc;
	/* NODE_EV_EXEC */
	bool session_start;
	const char *exe;			/* path given to execve */
	const char *argv[KH_NODE_ARGV_MAX + 1]; /* NULL-terminated */
	uint32_t argc, argc_total;		/* kept, and in the record */
	bool args_truncated;			/* the kernel's read stopped at its bound */
	/* NODE_EV_OPEN */
	const char *path; /* as the process passed it */
	bool path_truncated;
	int64_t ret; /* fd, or -errno */
	uint32_t open_flags;
	uint32_t match; /* KH_NODE_M_* */
	/* NODE_EV_EXIT */
	int32_t exit_code;
	/* NODE_EV_LOG_TAMPER (session is a placeholder with id 0: not an exec session) */
	const struct node_log_tamper *tamper;
};

struct kh_pipeline;

/*
 * Feed one node event through the rules (kh_rule.on_node_event). Returns 0, or a negative errno
 * when the output failed.
 */
int pipeline__feed_node_event(struct kh_pipeline *p, const struct node_event *ev);

#endif /* KEYHOLE_NODE_EVENT_H */
