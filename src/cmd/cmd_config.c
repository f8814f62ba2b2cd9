// SPDX-License-Identifier: Apache-2.0
/*
 * cmd_config: loading the configuration for a subcommand. A file that does not load is an error
 * that stops the command before anything runs, named by file, line, column and key: a user who
 * tuned an allowlist must never run with it silently ignored.
 */
#include <stddef.h>

#include "cmd/cmd_common.h"
#include "keyhole/config.h"
#include "keyhole/log.h"
#include "keyhole/rule.h"

int cmd__load_config(const char *path, const struct kh_config **cfg)
{
	struct kh_config_error err;
	struct kh_config *c;
	char msg[512];

	*cfg = NULL;
	if (!path)
		return 0;
	if (config__load(path, rules__config_schema(), &c, &err)) {
		config__format_error(&err, path, msg, sizeof(msg));
		kh_log(KH_LOG_ERROR, "config %s", msg);
		return 1;
	}
	*cfg = c;
	return 0;
}

void cmd__free_config(const struct kh_config *cfg)
{
	config__free(cfg);
}
