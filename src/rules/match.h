/* SPDX-License-Identifier: Apache-2.0 */
/*
 * match: the field tests the rules are written in, with the query languages' semantics.
 *
 * KQL and ES|QL compare keyword fields case-sensitively and KQL wildcards match the whole value,
 * so those rules use match__any_eq/kh_any_glob/kh_any_prefix. Sigma compares case-insensitively by
 * default, which match__eq_nocase gives for the fields a Sigma selection names. Lists are
 * NULL-terminated arrays of C strings, so a rule's tunables are plain static data a config
 * loader can replace. Every test decodes JSON escapes first (through kstr), so writing
 * "secr\u0065ts" for "secrets" changes nothing.
 */
#ifndef KEYHOLE_RULES_MATCH_H
#define KEYHOLE_RULES_MATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "keyhole/audit_event.h"
#include "keyhole/kstr.h"

/* a tunable list: up to KH_LIST_MAX entries and a NULL */
#define KH_LIST_MAX 32
typedef const char *kh_list[KH_LIST_MAX + 1];

bool match__any_eq(struct kstr s, const char *const *list);
bool match__any_prefix(struct kstr s, const char *const *list);
bool match__any_glob(struct kstr s, const char *const *patterns);
/* some entry of @l (e.g. user.groups, KQL's any-value semantics on arrays) globs a pattern */
bool match__strlist_any_glob(const struct kh_strlist *l, const char *const *patterns);

/* ASCII case-insensitive equality of the decoded value (Sigma's default string match) */
bool match__eq_nocase(struct kstr s, const char *lit);
bool match__any_eq_nocase(struct kstr s, const char *const *list);

/* source.ip as the Elastic integration maps it: the first of sourceIPs, absent when none */
struct kstr match__source_ip(const struct audit_event *ev);

/*
 * @s and @ip are the same IP address, compared as addresses the way an Elasticsearch `ip` field
 * does (so "::ffff:127.0.0.1" equals "127.0.0.1"); values that are not IP addresses compare as
 * text.
 */
bool match__ip_eq(struct kstr s, const char *ip);
bool match__any_ip_eq(struct kstr s, const char *const *ips);

/* 64-bit hashing of decoded values, for the bounded sets (never returns 0 from match__hash_final)
 */
#define KH_HASH_INIT 0xcbf29ce484222325ull
uint64_t match__hash_bytes(uint64_t h, const void *p, size_t n);
uint64_t match__hash_kstr(uint64_t h, struct kstr s); /* absent and "" hash differently */
uint64_t match__hash_final(uint64_t h);

#endif /* KEYHOLE_RULES_MATCH_H */
