// SPDX-License-Identifier: Apache-2.0
/*
 * config_scalar: strict parsers for the config file's typed scalars. YAML 1.1 would read "no" as
 * false and "010" as octal; a detection config must not guess, so only the plain forms below are
 * accepted and everything else is reported to the user as the wrong type.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "keyhole/config_scalar.h"

int config_scalar__parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		*out = true;
	else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

/* digits at *sp into *out, advancing *sp; -EINVAL when there are none */
static int take_digits(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*sp = s;
	*out = v;
	return 0;
}

int config_scalar__parse_uint(const char *s, uint64_t *out)
{
	int r = take_digits(&s, out);

	if (r)
		return r;
	return *s ? -EINVAL : 0;
}

int config_scalar__parse_duration(const char *s, uint64_t *out_s)
{
	uint64_t total = 0, v, mul;
	int r;

	if (!strcmp(s, "0")) {
		*out_s = 0;
		return 0;
	}
	if (!*s)
		return -EINVAL;
	while (*s) {
		r = take_digits(&s, &v);
		if (r)
			return r;
		switch (*s++) {
		case 's':
			mul = 1;
			break;
		case 'm':
			mul = 60;
			break;
		case 'h':
			mul = 3600;
			break;
		case 'd':
			mul = 86400;
			break;
		default:
			return -EINVAL;
		}
		/* keep the sum convertible to int64 nanoseconds */
		if (v > (UINT64_MAX / 1000000000ull) / mul ||
		    total + v * mul > INT64_MAX / 1000000000)
			return -ERANGE;
		total += v * mul;
	}
	*out_s = total;
	return 0;
}

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int config_scalar__parse_ip(const char *s, size_t len, bool allow_prefix, struct cfg_ip *out)
{
	char buf[64];
	const char *slash;
	uint64_t bits = 0;
	int max;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash) {
		if (!allow_prefix || config_scalar__parse_uint(slash + 1, &bits))
			return -EINVAL;
		buf[slash - buf] = '\0';
	}
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = 6;
		max = 128;
		if (!memcmp(out->addr, v4mapped, 12)) {
			/* ::ffff:a.b.c.d is the IPv4 client behind a dual-stack socket */
			memmove(out->addr, out->addr + 12, 4);
			memset(out->addr + 4, 0, 12);
			out->family = 4;
			max = 32;
			if (slash && bits >= 96)
				bits -= 96;
			else if (slash)
				return -EINVAL;
		}
	} else {
		return -EINVAL;
	}
	if (slash && bits > (uint64_t)max)
		return -EINVAL;
	out->bits = (uint8_t)(slash ? bits : (uint64_t)max);
	return 0;
}

bool config_scalar__ip_contains(const struct cfg_ip *net, const struct cfg_ip *ip)
{
	unsigned full = net->bits / 8, rest = net->bits % 8;

	if (net->family != ip->family)
		return false;
	if (memcmp(net->addr, ip->addr, full))
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff00u >> rest);

		if ((net->addr[full] & mask) != (ip->addr[full] & mask))
			return false;
	}
	return true;
}
