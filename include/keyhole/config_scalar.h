/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_scalar: the typed scalars of the config file (booleans, whole numbers, durations, IP
 * addresses and CIDR prefixes), parsed strictly so that a typo is an error, not a surprise.
 */
#ifndef KEYHOLE_CONFIG_SCALAR_H
#define KEYHOLE_CONFIG_SCALAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "true"/"True"/"TRUE" and the same for false (YAML 1.2 core schema); 0 or -EINVAL */
int config_scalar__parse_bool(const char *s, bool *out);
/* decimal digits only, no sign; 0, -EINVAL or -ERANGE (overflow) */
int config_scalar__parse_uint(const char *s, uint64_t *out);
/* one or more <digits><unit> with unit s, m, h or d ("1h30m"), or "0"; seconds in *out */
int config_scalar__parse_duration(const char *s, uint64_t *out_s);

/* an IPv4/IPv6 address or prefix ("10.0.0.0/8", "fd00::/8"); IPv4-mapped IPv6 is IPv4 */
struct cfg_ip {
	uint8_t addr[16];
	uint8_t family; /* 4 or 6 */
	uint8_t bits;	/* prefix length; 32 or 128 for an address */
};
int config_scalar__parse_ip(const char *s, size_t len, bool allow_prefix, struct cfg_ip *out);
bool config_scalar__ip_contains(const struct cfg_ip *net, const struct cfg_ip *ip);

#endif /* KEYHOLE_CONFIG_SCALAR_H */
