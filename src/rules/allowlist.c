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

	if (!list || !*list || config_scalar__parse_ip(ip, len, false, &addr))
		return false;
	for (; *list; list++)
		if (!config_scalar__parse_ip(*list, strlen(*list), true, &net) &&
		    config_scalar__ip_contains(&net, &addr))
			return true;
	return false;
}

bool allowlist__any_ip_in(struct kstr ip, const char *const *list)
{
	char buf[64];
	long n;

	if (!list || !*list || !kstr_present(ip))
		return false;
	n = kstr__decode(ip, buf, sizeof(buf));
	if (n < 0 || (size_t)n > sizeof(buf))
		return false;
	return config__ip_in_list(list, buf, (size_t)n);
}

bool allowlist__match(const struct kh_allowlist *a, const struct audit_event *ev)
{
	return match__any_eq(ev->user.username, a->usernames) ||
	       match__any_prefix(ev->user.username, a->username_prefixes) ||
	       match__any_eq(ev->object_ref.namespace_, a->namespaces) ||
	       match__any_prefix(ev->object_ref.name, a->name_prefixes) ||
	       allowlist__any_ip_in(match__source_ip(ev), a->source_ips) ||
	       match__any_glob(ev->user_agent, a->user_agents);
}
