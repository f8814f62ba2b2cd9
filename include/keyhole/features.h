/* SPDX-License-Identifier: Apache-2.0 */
/*
 * features: what this machine offers the BPF side, one probe per capability, each with a
 * one-line finding that says what is missing and how to fix it. Used by `keyhole probe` to
 * print, and by `keyhole run` to refuse early with the real cause instead of a libbpf dump.
 */
#ifndef KEYHOLE_CAPTURE_FEATURES_H
#define KEYHOLE_CAPTURE_FEATURES_H

#include <stdbool.h>
#include <stddef.h>

enum kh_feat {
	KH_FEAT_PRIV,	     /* capabilities to load tracing BPF programs */
	KH_FEAT_BTF,	     /* /sys/kernel/btf/vmlinux, for CO-RE */
	KH_FEAT_TRACEFS,     /* tracefs mounted (tracepoint ids) */
	KH_FEAT_TRACEPOINTS, /* the tracepoints the audit tap attaches to */
	KH_FEAT_RINGBUF,     /* BPF_MAP_TYPE_RINGBUF (5.8+) */
	KH_FEAT_LOCKDOWN,    /* kernel lockdown does not forbid reading kernel memory */
	KH_FEAT_BPFFS,	     /* bpffs at /sys/fs/bpf (not needed by run: nothing is pinned) */
	KH_FEAT_BPF_LOOP,    /* bpf_loop helper (5.17+; not needed: the tap uses tail calls) */
	KH_FEAT_EXEC_WATCH,  /* the exec watch's tracepoints (run goes on without it) */
	KH_FEAT_AUDIT_GUARD, /* the audit guard's tracepoints (run goes on without it) */
	KH_FEAT__NR
};

enum kh_feat_state { KH_FEAT_NO = 0, KH_FEAT_YES = 1, KH_FEAT_UNKNOWN = 2 };

struct kh_feature {
	const char *name; /* short key, as in --json */
	bool required;	  /* `run` cannot work without it */
	enum kh_feat_state state;
	char detail[320]; /* what was found, or what is missing and the fix */
};

struct kh_features {
	char kernel[160]; /* uname release and machine */
	struct kh_feature f[KH_FEAT__NR];
};

/* one tracepoint the tap uses, and whether it can do without it */
struct kh_tracepoint {
	const char *category;
	const char *name;
	bool required;
};
extern const struct kh_tracepoint kh_tap_tracepoints[];

/*
 * Probe everything. With @try_mount, a missing tracefs is mounted at /sys/kernel/tracing (as
 * root), which is what `run` needs; `probe` only reports.
 */
void features__probe(struct kh_features *out, bool try_mount);

/* true when `run` can work; otherwise @why gets the first missing requirement's detail */
bool features__run_ok(const struct kh_features *f, char *why, size_t n);

/* the tracefs mount in use ("/sys/kernel/tracing" or the debugfs one), NULL when none */
const char *features__tracefs(void);

/*
 * The tracefs mount in use, mounting tracefs at /sys/kernel/tracing first when none is (as
 * root); NULL with errno set when there is none and the mount failed.
 */
const char *features__mount_tracefs(void);

/* whether tracepoint category/name exists under tracefs */
bool features__has_tracepoint(const char *category, const char *name);

#endif /* KEYHOLE_CAPTURE_FEATURES_H */
