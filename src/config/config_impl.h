/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_impl: what a loaded kh_config holds behind its public fields: an arena owning every
 * string and list, and the values set under `rules.<id>`, kept per schema key until each rule
 * applies them to its own tunables.
 */
#ifndef KEYHOLE_CONFIG_IMPL_H
#define KEYHOLE_CONFIG_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "keyhole/config.h"

struct cfg_val {
	bool set; /* the file gave this key */
	bool b;
	uint64_t u;
	int64_t d;
	const char *s;
	const char **items; /* lists: n strings; pairs: 2n */
	size_t n;
};

struct cfg_rule {
	const char *id;
	const struct kh_config_key *keys; /* the rule's table (may be NULL: only `enabled`) */
	struct cfg_val *vals;		  /* one per key of @keys */
	int enabled;			  /* -1: not set; else 0 or 1 */
};

struct kh_config_rules {
	size_t n;
	struct cfg_rule v[]; /* one per rule the loader was handed, same order */
};

struct cfg_blk {
	struct cfg_blk *next;
	max_align_t data[];
};

struct config_impl {
	struct kh_config pub; /* first: a kh_config pointer is a config_impl pointer */
	struct cfg_blk *arena;
};

void *config__alloc(struct config_impl *c, size_t n);
void config__store(const struct kh_config_key *k, void *target, const struct cfg_val *v);

#endif /* KEYHOLE_CONFIG_IMPL_H */
