/* SPDX-License-Identifier: Apache-2.0 */
/*
 * guard: the audit guard's BPF object (bpf/audit_guard.bpf.c) from the agent's side. It shares
 * the tap's targets, files and names maps, so it must be created after the tap and freed
 * before it; its own maps are the watched basenames, its ring and its counters.
 *
 * The guard is optional: when it cannot load, live capture goes on without tamper detection
 * (the caller says so).
 */
#ifndef KEYHOLE_CAPTURE_GUARD_H
#define KEYHOLE_CAPTURE_GUARD_H

#include <stdint.h>

#include "keyhole/ring_abi.h"

struct tap;
struct guard;

/* open, share @t's maps, load, attach; 0 and *out, or a negative errno after reporting why */
int guard__new(const struct tap *t, int verbose, struct guard **out);
void guard__detach(struct guard *g);
/* attach again after guard__detach() (benchmarks toggle it); 0 or a negative errno */
int guard__attach(struct guard *g);
void guard__free(struct guard *g);

/*
 * Watch the log at @path (file @file_id) in the directory identified by (@dir_dev, @dir_ino),
 * kernel dev_t encoding: path operations on files named like its basename are followed, and
 * descriptor operations on inodes the tap knows count while the file is in that directory.
 */
int guard__watch(struct guard *g, const char *path, uint64_t dir_dev, uint64_t dir_ino,
		 uint32_t file_id);

int guard__ring_fd(const struct guard *g);

/* sum the per-CPU counters into out[KH_GUARD__NR] */
int guard__counters(const struct guard *g, uint64_t out[KH_GUARD__NR]);

#endif /* KEYHOLE_CAPTURE_GUARD_H */
