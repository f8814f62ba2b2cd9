/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tap: the audit tap's BPF object (bpf/audit_tap.bpf.c) from the agent's side: its split
 * lifecycle (open, configure, load, attach), and the maps the agent writes (targets, files,
 * names) and reads (events ring, counters).
 *
 * Errors are reported here, once, naming what is missing (privileges, BTF, tracefs, a
 * tracepoint, the verifier's verdict) and returned as negative errno.
 */
#ifndef KEYHOLE_CAPTURE_TAP_H
#define KEYHOLE_CAPTURE_TAP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "keyhole/ring_abi.h"

struct tap_opts {
	const char *comm;	   /* target process name (default "kube-apiserver"), <= 15 bytes */
	uint64_t cap_bytes;	   /* writes longer than this keep head and tail (default 1 MB) */
	uint64_t tail_bytes;	   /* tail kept past the cap (default min(64 KB, cap / 4)) */
	uint32_t ring_bytes;	   /* ring buffer size, power of two >= 4096 (default 16 MB) */
	int verbose;		   /* copy libbpf's messages to stderr */
	bool no_write_tracepoints; /* start without the tracepoint path (tap__writes_attach) */
};

struct tap;

/*
 * Probe the kernel, open, configure, load and attach. Returns 0 and *out, or a negative errno
 * after printing why.
 */
int tap__new(const struct tap_opts *opts, struct tap **out);
/* detach (no new records from here on) */
void tap__detach(struct tap *t);
/* attach again after tap__detach() (benchmarks toggle it); 0 or a negative errno */
int tap__attach(struct tap *t);
void tap__free(struct tap *t);

/*
 * Make process @tgid a target captured by path @via (KH_TAP_VIA_TRACEPOINT or _UPROBE): the /proc
 * scan, and the move of an exec'ed process (added by BPF on the tracepoint path) to its uprobe.
 */
int tap__add_target(struct tap *t, pid_t tgid, uint32_t via);
int tap__remove_target(struct tap *t, pid_t tgid);

/*
 * Capture writes to the file at @path (as this process can stat it, e.g. through
 * /proc/PID/root): by its directory and basename (so a file created later, by rotation or
 * first start, is caught on its first write) and by its inode when it exists now. The tap
 * reports its bytes with @file_id. @armed (may be NULL) gets the name key armed, for
 * tap__unwatch_name(). Returns 0, or a negative errno (the directory does not exist: -ENOENT,
 * the name is too long: -ENAMETOOLONG).
 */
int tap__watch_path(struct tap *t, const char *path, uint32_t file_id, struct kh_name_key *armed);

/* stop matching new files by the name key @k (inodes already learned stay); 0 or -errno */
int tap__unwatch_name(struct tap *t, const struct kh_name_key *k);

/* the fd of the tap's map @name ("targets", "files", "names"), for objects that share them */
int tap__map_fd(const struct tap *t, const char *name);

/* the events ring's map fd, for capture__add_ring() */
int tap__ring_fd(const struct tap *t);

/* the tracepoint path's write-syscall programs: attach (idempotent) or detach; 0 or -errno */
int tap__writes_attach(struct tap *t);
void tap__writes_detach(struct tap *t);
bool tap__writes_attached(const struct tap *t);

/*
 * The uprobe path for a process running the binary with identity (@dev, @ino): a uprobe on its
 * write function at file @offset of @binary (the process's /proc/PID/exe), or one more reference
 * to the uprobe already on that file. 0, or a negative errno (libbpf's: the kernel refuses
 * uprobes, or needs CAP_SYS_ADMIN for a new one; -E2BIG: table full).
 */
int tap__uprobe_attach(struct tap *t, uint64_t dev, uint64_t ino, const char *binary,
		       uint64_t offset);
/*
 * Drop one reference to the uprobe on binary (@dev, @ino). The probe itself stays until
 * tap__detach(): the same binary's next start reuses it (a new one would need CAP_SYS_ADMIN).
 */
void tap__uprobe_release(struct tap *t, uint64_t dev, uint64_t ino);

/* sum the per-CPU counters into out[KH_TAP__NR] */
int tap__counters(const struct tap *t, uint64_t out[KH_TAP__NR]);

/* the kernel dev_t encoding BPF sees (major << 20 | minor) of a stat() st_dev */
uint64_t tap__kdev(dev_t dev);

#endif /* KEYHOLE_CAPTURE_TAP_H */
