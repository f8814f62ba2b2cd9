/* SPDX-License-Identifier: GPL-2.0 */
/*
 * counters: per-CPU event and loss counters. A domain declares a BPF_MAP_TYPE_PERCPU_ARRAY of
 * __u64 indexed by its counter enum (ring_abi.h) and bumps it next to the event or the failing
 * call; per-CPU slots need no atomics, and userspace sums the CPUs when it reads.
 */
#ifndef KEYHOLE_COUNTERS_BPF_H
#define KEYHOLE_COUNTERS_BPF_H

#define KH_COUNTER_MAP(name_, nr_)                                                               \
	struct {                                                                                 \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                                         \
		__uint(max_entries, nr_);                                                        \
		__type(key, __u32);                                                              \
		__type(value, __u64);                                                            \
	} name_ SEC(".maps")

static __always_inline void kh_count_add(void *map, __u32 idx, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(map, &idx);

	if (c)
		*c += n;
}

#define kh_count(map_, idx_) kh_count_add(map_, idx_, 1)

#endif /* KEYHOLE_COUNTERS_BPF_H */
