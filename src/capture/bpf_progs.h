/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpf_progs: the per-program steps the agent's tracepoint objects (audit tap, audit guard,
 * exec watch) share: leave out programs whose tracepoint this kernel lacks, and attach program by
 * program so a failure names its tracepoint.
 */
#ifndef KEYHOLE_CAPTURE_BPF_PROGS_H
#define KEYHOLE_CAPTURE_BPF_PROGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bpf_map;
struct bpf_object;
struct bpf_program;
struct bpf_link;

/* the tracepoint of a "tp/<category>/<name>" program; false for other sections */
bool bpf_progs__tracepoint(const struct bpf_program *p, char cat[64], char name[64]);

/*
 * Before load: turn off autoload of every program whose tracepoint is missing here (open(2)
 * and rename(2) on arm64, openat2 before 5.6), warning "tracepoint X is missing: @lost".
 */
void bpf_progs__drop_missing(struct bpf_object *obj, const char *lost);

/*
 * After load: attach every loaded tracepoint ("tp/", "raw_tp/") program into @links (capacity @max,
 * count in *n). Reports a failure naming the tracepoint of @what ("the audit tap") and returns
 * -errno.
 */
int bpf_progs__attach(struct bpf_object *obj, const char *what, struct bpf_link **links, int max,
		      int *n);

/*
 * Sum a KH_COUNTER_MAP (bpf/counters.bpf.h: one entry, @nr counters per CPU) over @ncpus
 * possible CPUs into out[@nr]. 0, or -errno with out zeroed.
 */
int bpf_progs__sum_counters(const struct bpf_map *map, int ncpus, uint64_t *out, unsigned int nr);

/*
 * Destroy @n links (NULLs skipped) and clear them. Closing a tracepoint's perf event waits for
 * an RCU grace period in the kernel (tens of ms on a loaded machine, per link); closing from
 * several threads at once lets those waits share grace periods, so stopping with 40 links
 * takes about as long as stopping with one.
 */
void bpf_progs__destroy_links(struct bpf_link **links, int n);

#endif /* KEYHOLE_CAPTURE_BPF_PROGS_H */
