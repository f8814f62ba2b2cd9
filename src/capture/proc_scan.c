// SPDX-License-Identifier: Apache-2.0
/*
 * proc_scan: apiservers and their audit log paths from /proc (see proc_scan.h).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/proc_scan.h"

static ssize_t read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t r;

	if (fd < 0)
		return -errno;
	while (n < cap && (r = read(fd, buf + n, cap - n)) > 0)
		n += r;
	close(fd);
	return n;
}

int proc_scan__comm(const char *comm, void (*fn)(void *ctx, pid_t pid), void *ctx)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char path[300], buf[64];
		ssize_t n;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		n = read_file(path, buf, sizeof(buf) - 1);
		if (n <= 0)
			continue;
		buf[n] = 0;
		buf[strcspn(buf, "\n")] = 0;
		/* the kernel keeps 15 bytes of the name */
		if (strncmp(buf, comm, 15) != 0)
			continue;
		found++;
		fn(ctx, (pid_t)atoi(e->d_name));
	}
	closedir(d);
	return found;
}

/* "--audit-log-path" or "-audit-log-path" (Go flags take one or two dashes) */
static const char *flag_value(const char *arg, const char **next_is_value)
{
	const char *name = "audit-log-path";
	const char *p = arg;

	*next_is_value = NULL;
	if (*p != '-')
		return NULL;
	p++;
	if (*p == '-')
		p++;
	if (strncmp(p, name, strlen(name)) != 0)
		return NULL;
	p += strlen(name);
	if (*p == '=')
		return p + 1;
	if (*p == 0)
		*next_is_value = arg; /* value in the next argument */
	return NULL;
}

const char *proc_scan__find_audit_arg(const char *args, size_t len)
{
	const char *p = args, *end = args + len, *found = NULL;
	int take_next = 0;

	while (p < end) {
		const char *a = p, *nv, *v;
		size_t alen = strnlen(a, end - a);

		if (alen == (size_t)(end - a))
			break; /* unterminated last argument (cmdline cut short) */
		if (take_next) {
			found = a; /* the last occurrence wins, as in Go's flag package */
			take_next = 0;
		} else if (!strcmp(a, "--")) {
			break; /* end of flags */
		} else if ((v = flag_value(a, &nv))) {
			found = v;
		} else if (nv) {
			take_next = 1;
		}
		p += alen + 1;
	}
	return found;
}

int proc_scan__audit_log_path(pid_t pid, char *path, size_t path_len, char *host_path,
			      size_t host_len)
{
	static char args[1 << 16];
	char file[64];
	const char *v;
	ssize_t n;

	snprintf(file, sizeof(file), "/proc/%d/cmdline", (int)pid);
	n = read_file(file, args, sizeof(args));
	if (n < 0)
		return n == -ENOENT ? -ESRCH : (int)n;
	v = proc_scan__find_audit_arg(args, n);
	if (!v || !*v)
		return -ENOENT;
	if (!strcmp(v, "-"))
		return -ENOTSUP;
	if (snprintf(path, path_len, "%s", v) >= (int)path_len)
		return -ENAMETOOLONG;
	/* a relative path is relative to the apiserver's working directory, in its namespace */
	if (snprintf(host_path, host_len, "/proc/%d/%s%s%s", (int)pid, v[0] == '/' ? "root" : "cwd",
		     v[0] == '/' ? "" : "/", v) >= (int)host_len)
		return -ENAMETOOLONG;
	return 0;
}

/* "/proc/PID/root" for a path under /proc/PID/, "" (our own root) otherwise */
static void root_of(const char *host, char *root, size_t n)
{
	const char *p = host + strlen("/proc/");
	size_t digits = 0;

	root[0] = 0;
	if (strncmp(host, "/proc/", strlen("/proc/")) != 0)
		return;
	while (isdigit((unsigned char)p[digits]))
		digits++;
	if (digits && p[digits] == '/')
		snprintf(root, n, "/proc/%.*s/root", (int)digits, p);
}

int proc_scan__follow_link(const char *host, char *out, size_t out_len)
{
	char root[64], cur[PATH_MAX], to[PATH_MAX], next[2 * PATH_MAX];
	int hops;

	root_of(host, root, sizeof(root));
	if (snprintf(cur, sizeof(cur), "%s", host) >= (int)sizeof(cur))
		return -ENAMETOOLONG;
	for (hops = 0; hops <= 40; hops++) {
		ssize_t n = readlink(cur, to, sizeof(to) - 1);
		char *slash;

		if (n < 0)
			break; /* not a link (EINVAL), or nothing there: cur is the end */
		to[n] = 0;
		if (to[0] == '/') {
			snprintf(next, sizeof(next), "%s%s", root, to);
		} else {
			/* relative to the link's own directory */
			slash = strrchr(cur, '/');
			snprintf(next, sizeof(next), "%.*s%s", slash ? (int)(slash - cur + 1) : 0,
				 cur, to);
		}
		if (strlen(next) >= sizeof(cur))
			return -ENAMETOOLONG;
		memcpy(cur, next, strlen(next) + 1);
	}
	if (hops > 40)
		return -ELOOP;
	if (hops == 0)
		return 0;
	if (snprintf(out, out_len, "%s", cur) >= (int)out_len)
		return -ENAMETOOLONG;
	return 1;
}
