/* SPDX-License-Identifier: Apache-2.0 */
/*
 * capture: live capture as one object: the audit tap, the rings it and other BPF objects (the
 * exec watch) deliver through, reassembly, and the list of audit log files being followed.
 *
 * One epoll loop serves every ring: capture__add_ring() adds another BPF object's ring buffer
 * with its own callback, and capture__poll() waits on all of them. Apiservers are found by a
 * /proc scan at start and by the tap's exec records afterwards; their --audit-log-path (or the
 * --audit-log override) becomes a watched file.
 */
#ifndef KEYHOLE_CAPTURE_CAPTURE_H
#define KEYHOLE_CAPTURE_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "keyhole/reasm.h"
#include "keyhole/tap_path.h"
#include "keyhole/ring_abi.h"

/* one captured line, as the sink gets it */
struct capture_line {
	const char *data; /* without the newline; valid only during the callback */
	size_t len;
	const char *origin; /* "live:<path>" */
	uint64_t line_no;   /* lines captured from this file since the start, from 1 */
	uint32_t flags;	    /* KH_EV_TRUNCATED */
	uint32_t cut;	    /* truncated lines: where the kept tail starts (kh_origin.cut) */
	uint64_t ts_ns;	    /* capture time, CLOCK_MONOTONIC */
	const char *log;    /* the log's path as the apiserver names it */
	const char *host;   /* and as this agent reaches it (/proc/PID/root/...) */
	uint64_t dev, ino;  /* the file written (st_dev encoding, inode) */
	uint64_t full_len;  /* a line cut for the reassembly's line maximum: its size; else 0 */
};

/* return a negative errno to stop the capture (output failed); 0 otherwise */
typedef int (*capture_line_fn)(void *ctx, const struct capture_line *l);
typedef int (*capture_ring_fn)(void *ctx, void *data, size_t size);

struct node_log_tamper;
/* a process other than the apiserver changed a watched audit log (the audit guard saw it) */
struct capture_tamper {
	const struct node_log_tamper *what; /* valid only during the callback */
	uint32_t pid, tid, ppid, uid;
	const char *comm;
	uint64_t ts_ns; /* when, CLOCK_MONOTONIC */
};
/* return a negative errno to stop the capture (output failed); 0 otherwise */
typedef int (*capture_tamper_fn)(void *ctx, const struct capture_tamper *t);

struct capture_opts {
	const char *comm;	  /* target process name; NULL: "kube-apiserver" */
	const char *audit_log;	  /* the audit log path, overriding discovery; NULL: discover */
	uint64_t max_event_bytes; /* cap per write; 0: 1 MB */
	uint32_t ring_bytes;	  /* 0: 16 MB */
	enum tap_mode tap_mode;	  /* which capture path: auto (default), tracepoint, uprobe */
	bool late_uprobes; /* CAP_SYS_ADMIN stays permitted for later attaches (privileges.h) */
	int verbose;
	capture_line_fn line_fn;
	void *line_ctx;
	capture_tamper_fn tamper_fn; /* NULL: the audit guard is not loaded */
	void *tamper_ctx;
};

struct capture_stats {
	uint64_t tap[KH_TAP__NR];	/* the tap's per-CPU counters, summed */
	struct reasm_stats reasm;	/* reassembly */
	uint64_t ring_records;		/* records taken from the tap's ring */
	uint64_t proc_events;		/* exec/exit records taken */
	unsigned int watches;		/* audit log files followed */
	unsigned int followed;		/* apiserver processes followed since the start */
	uint64_t lag_ns_last;		/* kernel capture -> line delivered, last line */
	uint64_t lag_ns_max;		/* and the largest since the start */
	bool guard;			/* the audit guard is loaded */
	uint64_t guard_c[KH_GUARD__NR]; /* its per-CPU counters, summed */
	uint64_t tamper_reported;	/* guard records tied to a watched log and handed on */
	uint64_t tamper_elsewhere;	/* guard records about a lookalike file elsewhere */
	uint64_t tamper_malformed;	/* guard records that did not decode */
	unsigned int via_uprobe;	/* apiserver processes followed now by the uprobe path */
	unsigned int via_tracepoint;	/* and by the tracepoint path */
	bool write_tracepoints;		/* the tracepoint path's programs are attached */
	uint64_t unseen_events;		/* times a log grew by bytes no path captured */
	uint64_t unseen_bytes;		/* and by how many bytes */
	bool uprobe_fallback;		/* --tap auto gave up the uprobe path after that */
	uint64_t uprobe_refused;	/* processes whose uprobe the kernel refused (privilege) */
};

struct capture;

/* Load and attach the tap, scan /proc, arm the watches. Reports its errors. */
int capture__new(const struct capture_opts *opts, struct capture **out);
void capture__free(struct capture *c);

/* serve another BPF object's ring buffer from the same loop */
int capture__add_ring(struct capture *c, int map_fd, capture_ring_fn fn, void *ctx);

/*
 * Wait up to @timeout_ms for records on any ring and handle them; does the once-a-second
 * housekeeping (re-arming watches). Returns records handled, 0 on timeout or signal, or a
 * negative errno when the capture must stop (the line sink failed).
 */
int capture__poll(struct capture *c, int timeout_ms);

/* Stop: detach the programs, drain every ring, flush reassembly. Idempotent. */
void capture__stop(struct capture *c);

/* follow process @pid's audit log (what an exec record triggers); for tests and the scan */
int capture__follow_pid(struct capture *c, pid_t pid);

void capture__stats(const struct capture *c, struct capture_stats *s);

/* print the counters; the loss line is always there, with every cause when nonzero */
void capture__print_stats(const struct capture *c, FILE *f);

/* the audit log files followed: path as this agent reaches it, NULL past the last */
const char *capture__watch_path(const struct capture *c, unsigned int i);
/* and as the apiserver names it (the key of its checkpoint) */
const char *capture__watch_log(const struct capture *c, unsigned int i);

struct kh_metrics;
/*
 * Register the capture's counters (the tap's per-CPU counters, reassembly, lag) with @m.
 * @c must outlive the registry. Returns 0 or a negative errno.
 */
int capture__add_metrics(struct capture *c, struct kh_metrics *m);

/* total writes lost on the way, any cause (0 means nothing was lost) */
uint64_t capture__stats_lost(const struct capture_stats *s);

#endif /* KEYHOLE_CAPTURE_CAPTURE_H */
