// SPDX-License-Identifier: Apache-2.0
/*
 * cmd_common: helpers the subcommands share, so every command reports usage errors and output
 * failures the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd_common.h"
#include "keyhole/alert_output.h"
#include "keyhole/log.h"

int cmd__usage_error(const char *usage, const char *fmt, ...)
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

int cmd__open_output(const char *path, FILE **out)
{
	/* stdout, a file reopened on SIGHUP, or syslog: see keyhole/alert_output.h */
	return alert_output__open(path, out) ? 1 : 0;
}

struct by_mtime {
	char *path;
	struct timespec mtime;
	int idx;
};

static int cmp_mtime(const void *a, const void *b)
{
	const struct by_mtime *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return x->idx - y->idx; /* the order given breaks ties */
}

void cmd_sort_by_mtime(char **files, int n)
{
	struct by_mtime *v = n > 1 ? calloc((size_t)n, sizeof(*v)) : NULL;
	struct stat st;

	if (!v)
		return; /* one file, or no memory: the order given stands */
	for (int i = 0; i < n; i++) {
		v[i].path = files[i];
		v[i].idx = i;
		if (stat(files[i], &st) == 0)
			v[i].mtime = st.st_mtim;
	}
	qsort(v, (size_t)n, sizeof(*v), cmp_mtime);
	for (int i = 0; i < n; i++)
		files[i] = v[i].path;
	free(v);
}
