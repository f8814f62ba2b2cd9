/* SPDX-License-Identifier: (GPL-2.0 OR Apache-2.0) */
/*
 * ring_abi: the records the BPF programs put in their ring buffers, as both sides see them.
 *
 * This header is an ABI between bpf/*.bpf.c and the agent: fixed-width fields, explicit padding,
 * limits beside the structs, and _Static_assert guards on sizes and offsets so a change on one
 * side that the other did not follow fails to build. Every record starts with struct kh_rec_hdr.
 */
#ifndef KEYHOLE_RING_ABI_H
#define KEYHOLE_RING_ABI_H

#ifdef __bpf__
/* BPF side: types come from vmlinux.h */
#else
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

#ifndef __bpf__
_Static_assert(sizeof(struct kh_rec_hdr) == 16, "kh_rec_hdr is ABI");
#endif

#endif /* KEYHOLE_RING_ABI_H */
