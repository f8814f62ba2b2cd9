// SPDX-License-Identifier: Apache-2.0
/*
 * cmd_config: loading the configuration for a subcommand. Until the YAML loader lands (issue 7)
 * every setting is the seed documents' default and a --config file is refused rather than
 * silently ignored: a user who tuned an allowlist must not believe it is in force.
 */
#include <stddef.h>

#include "cmd/cmd_common.h"
#include "keyhole/log.h"

int cmd_load_config(const char *path, const struct kh_config **cfg)
{
	*cfg = NULL;
	if (!path)
		return 0;
	kh_log(KH_LOG_ERROR, "%s: configuration files are not supported by this build yet", path);
	return 1;
}

void cmd_free_config(const struct kh_config *cfg)
{
	(void)cfg;
}
