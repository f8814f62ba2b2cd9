// SPDX-License-Identifier: Apache-2.0
/*
 * allowlist: does an operator's exclusion cover this event? Comparisons go through the match
 * helpers, on decoded values, so an escaped username cannot slip past its entry; source IPs are
 * compared as addresses, so "::1", "0:0:0:0:0:0:0:1" and a "::1/128" prefix are one.
 */
#include <string.h>

#include "keyhole/config_scalar.h"
#include "rules/allowlist.h"

bool config__ip_in_list(const char *const *list, const char *ip, size_t len)
{
	struct cfg_ip addr, net;

	if (!list || !*list || cfg_parse_ip(ip, len, false, &addr))
		return false;
	for (; *list; list++)
		if (!cfg_parse_ip(*list, strlen(*list), true, &net) && cfg_ip_contains(&net, &addr))
			return true;
	return false;
}

bool kh_any_ip_in(struct kstr ip, const char *const *list)
{
	char buf[64];
	long n;

	if (!list || !*list || !kstr_present(ip))
		return false;
	n = kstr_decode(ip, buf, sizeof(buf));
	if (n < 0 || (size_t)n > sizeof(buf))
		return false;
	return config__ip_in_list(list, buf, (size_t)n);
}

bool allowlist__match(const struct kh_allowlist *a, const struct audit_event *ev)
{
	return kh_any_eq(ev->user.username, a->usernames) ||
	       kh_any_prefix(ev->user.username, a->username_prefixes) ||
	       kh_any_eq(ev->object_ref.namespace_, a->namespaces) ||
	       kh_any_prefix(ev->object_ref.name, a->name_prefixes) ||
	       kh_any_ip_in(kh_source_ip(ev), a->source_ips) ||
	       kh_any_glob(ev->user_agent, a->user_agents);
}
