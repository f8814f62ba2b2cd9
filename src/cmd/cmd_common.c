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
	int fd;

	if (!path || !strcmp(path, "-")) {
		*out = stdout;
		/* buffered like a file; live mode flushes after every ring-buffer drain */
		if (!isatty(STDOUT_FILENO))
			setvbuf(stdout, NULL, _IOFBF, 1 << 16);
		return 0;
	}
	/* alerts may name users and objects: not world-readable */
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0 || !(*out = fdopen(fd, "a"))) {
		kh_log(KH_LOG_ERROR, "cannot open output %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	setvbuf(*out, NULL, _IOFBF, 1 << 16);
	return 0;
}
