/* SPDX-License-Identifier: GPL-2.0 */
/*
 * counters: per-CPU event and loss counters. A domain declares KH_COUNTER_MAP(name, nr): a
 * BPF_MAP_TYPE_PERCPU_ARRAY with ONE entry holding all nr __u64 counters, so a program that bumps
 * several counters pays one map lookup (kh_counters_get), and per-CPU slots need no atomics.
 * Userspace reads the one entry (nr values per CPU) and sums the CPUs. Indexes come from the
 * domain's counter enum in ring_abi.h.
 */
#ifndef KEYHOLE_COUNTERS_BPF_H
#define KEYHOLE_COUNTERS_BPF_H

#define KH_COUNTER_MAP(name_, nr_)                                                                 \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                                           \
		__uint(max_entries, 1);                                                            \
		__type(key, __u32);                                                                \
		__type(value, __u64[nr_]);                                                         \
	} name_ SEC(".maps")

/* this CPU's counters of @map, or NULL (never, for an array) */
static __always_inline __u64 *kh_counters_get(void *map)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(map, &zero);
}

/* add @n to counter @idx; @nr bounds the index for the verifier */
#define kh_count_add(map_, idx_, n_, nr_)                                                          \
	({                                                                                         \
		__u64 *c_ = kh_counters_get(map_);                                                 \
		__u32 i_ = (idx_);                                                                 \
		if (c_ && i_ < (nr_))                                                              \
			c_[i_] += (n_);                                                            \
	})

#endif /* KEYHOLE_COUNTERS_BPF_H */
