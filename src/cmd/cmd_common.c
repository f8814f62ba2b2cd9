// SPDX-License-Identifier: Apache-2.0
/*
 * cmd_common: helpers the subcommands share, so every command reports usage errors and output
 * failures the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd_common.h"
#include "keyhole/alert_output.h"
#include "keyhole/log.h"

int cmd_usage_error(const char *usage, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	(void)usage;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kh_log(KH_LOG_ERROR, "%s (see --help)", msg);
	return 2;
}

int cmd_open_output(const char *path, FILE **out)
{
	/* stdout, a file reopened on SIGHUP, or syslog: see keyhole/alert_output.h */
	return alert_output__open(path, out) ? 1 : 0;
}
