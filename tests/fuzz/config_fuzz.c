// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the config loader: each input is a whole YAML file. Beyond "no crash, no
 * leak, no sanitizer report": a refused file always says why (a message, and a line within the
 * input), an accepted one applies to every rule's tunables without touching memory outside them,
 * and an error formats to one line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/config.h"
#include "keyhole/rule.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

/* larger than any rule's tunables; applying must only write inside them */
static uint8_t target[1 << 14];

/* an upper bound on the lines YAML sees: it breaks at \n, \r, NEL, LS and PS */
static unsigned lines_in(const uint8_t *data, size_t size)
{
	unsigned n = 1;

	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n' || data[i] == '\r' || data[i] == 0x85 || data[i] == 0xa8 ||
		     data[i] == 0xa9;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kh_config_error err;
	struct kh_config *cfg = NULL;
	char msg[512];
	int r = config__load_buf((const char *)data, size, "fuzz.yaml", rules__config_schema(),
				 &cfg, &err);

	if (r) {
		CHECK(!cfg);
		CHECK(err.msg[0] != '\0');
		/* libyaml may point one line past a final line without newline */
		CHECK(err.line <= lines_in(data, size) + 1);
		config__format_error(&err, "fuzz.yaml", msg, sizeof(msg));
		CHECK(!strchr(msg, '\n') || strchr(err.msg, '\n') || strchr(err.key, '\n'));
		return 0;
	}
	CHECK(cfg);
	for (size_t i = 0; kh_rule_table[i]; i++) {
		const struct kh_rule *rule = kh_rule_table[i];

		if (!rule->config_keys)
			continue;
		memset(target, 0xa5, sizeof(target));
		config__rule_apply(cfg, rule->info->id, rule->config_keys, target);
		(void)config__rule_enabled(cfg, rule->info->id);
	}
	config__free(cfg);
	return 0;
}
