// SPDX-License-Identifier: Apache-2.0
/*
 * tamper: guard records tied to watched audit logs (see tamper.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/tamper.h"
#include "capture/tap.h"

static const char *base_of(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* "/x/y/audit.log" -> "/x/y" into @d; "audit.log" -> "." */
static void dir_of(const char *path, char *d, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(d, size, ".");
	else if (slash == path)
		snprintf(d, size, "/");
	else
		snprintf(d, size, "%.*s", (int)(slash - path), path);
}

static int identity(const char *path, uint64_t *dev, uint64_t *ino)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	*dev = tap__kdev(st.st_dev);
	*ino = st.st_ino;
	return 0;
}

static int join_identity(const char *a, const char *b, uint64_t *dev, uint64_t *ino)
{
	char full[PATH_MAX + 64];

	if (snprintf(full, sizeof(full), "%s/%s", a, b) >= (int)sizeof(full))
		return -ENAMETOOLONG;
	return identity(full, dev, ino);
}

/*
 * The directory @path names, looked up in the live process's own view: its root for an
 * absolute path, its cwd or directory fd otherwise (symbolic links and ".." as it sees them).
 */
static int dir_by_proc(const struct kh_audit_tamper *r, const char *path, uint64_t *dev,
		       uint64_t *ino)
{
	char at[64], d[KH_TAMPER_PATH_MAX + 1];

	if (path[0] == '/')
		snprintf(at, sizeof(at), "/proc/%u/root", r->tgid);
	else if (r->dfd == -100 /* AT_FDCWD */)
		snprintf(at, sizeof(at), "/proc/%u/cwd", r->tgid);
	else
		snprintf(at, sizeof(at), "/proc/%u/fd/%d", r->tgid, r->dfd);
	dir_of(path, d, sizeof(d));
	return join_identity(at, d, dev, ino);
}

/*
 * The process is gone: an absolute path from its root, when that root is one this agent can
 * reach (its own, or a followed apiserver's /proc/PID/root, where the watches are reached).
 */
static int dir_by_root(const struct kh_audit_tamper *r, const char *path,
		       const struct tamper_watch *w, size_t n, uint64_t *dev, uint64_t *ino)
{
	char d[KH_TAMPER_PATH_MAX + 1], root[64];
	uint64_t rd = 0, ri = 0;

	dir_of(path, d, sizeof(d));
	if (!identity("/", &rd, &ri) && rd == r->root_dev && ri == r->root_ino)
		return identity(d, dev, ino);
	/* the node's root, as a DaemonSet with hostPID reaches it */
	if (!identity("/proc/1/root", &rd, &ri) && rd == r->root_dev && ri == r->root_ino)
		return join_identity("/proc/1/root", d, dev, ino);
	for (size_t i = 0; i < n; i++) {
		unsigned int pid;
		int len = 0;

		if (sscanf(w[i].host, "/proc/%u/root/%n", &pid, &len) != 1 || !len)
			continue;
		snprintf(root, sizeof(root), "/proc/%u/root", pid);
		if (!identity(root, &rd, &ri) && rd == r->root_dev && ri == r->root_ino)
			return join_identity(root, d, dev, ino);
	}
	return -ENOENT;
}

/*
 * The process is gone, the path is relative with a '/' ("log/audit.log"): it names watch @w
 * when the watch's directory ends in the path's directory part and what is left of it is the
 * directory the path started from (the cwd or dfd recorded by the kernel).
 */
static bool names_by_base(const struct kh_audit_tamper *r, const char *path,
			  const struct tamper_watch *w)
{
	char d[KH_TAMPER_PATH_MAX + 1], wd[PATH_MAX];
	size_t dl, wl;
	uint64_t dev = 0, ino = 0;

	dir_of(path, d, sizeof(d));
	dir_of(w->host, wd, sizeof(wd));
	dl = strlen(d);
	wl = strlen(wd);
	if (dl >= wl || strcmp(wd + wl - dl, d) != 0 || wd[wl - dl - 1] != '/')
		return false;
	wd[wl - dl - 1] = 0;
	return !identity(wd[0] ? wd : "/", &dev, &ino) && dev == r->base_dev && ino == r->base_ino;
}

/*
 * A path too long for the kernel side to read whole: judged by what the watched log shows now,
 * since nothing else is known of it (gone or another inode after an unlink or rename, fewer
 * bytes than were written to it after a truncate).
 */
static bool shows_effect(uint32_t op, const struct tamper_watch *w)
{
	struct stat st;
	bool same;

	if (stat(w->host, &st)) {
		char d[PATH_MAX];

		if (errno != ENOENT || (op != KH_TAMPER_UNLINK && op != KH_TAMPER_RENAME_FROM))
			return false;
		/* gone from a directory that is still there (not a restarting apiserver's root) */
		dir_of(w->host, d, sizeof(d));
		return stat(d, &st) == 0;
	}
	same = tap__kdev(st.st_dev) == w->cur_dev && st.st_ino == w->cur_ino;
	switch (op) {
	case KH_TAMPER_UNLINK:
	case KH_TAMPER_RENAME_FROM:
	case KH_TAMPER_RENAME_ONTO:
		return w->cur_ino && !same;
	case KH_TAMPER_TRUNCATE:
		return same && (uint64_t)st.st_size < w->min_size;
	}
	return false;
}

/* the watch @path names, or -1 */
static int match_path(const struct kh_audit_tamper *r, uint32_t op, const char *path,
		      const struct tamper_watch *w, size_t n, const char **how)
{
	bool cut = r->flags & (KH_TAMPER_F_PATH_TRUNC | KH_TAMPER_F_ANY_NAME);
	uint64_t dev = 0, ino = 0;
	int err = -ENOENT;

	if (!cut) {
		*how = "process";
		err = dir_by_proc(r, path, &dev, &ino);
		if (err && path[0] == '/') {
			*how = "root";
			err = dir_by_root(r, path, w, n, &dev, &ino);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!cut && strcmp(base_of(w[i].path), base_of(path)) != 0)
			continue;
		if (!err && w[i].dir_ino && dev == w[i].dir_dev && ino == w[i].dir_ino)
			return (int)i;
		if (err && !cut && path[0] != '/' && names_by_base(r, path, &w[i])) {
			*how = "base";
			return (int)i;
		}
		/* nothing could say which directory the path named: judge by what happened */
		if (err && shows_effect(op, &w[i])) {
			*how = "effect";
			return (int)i;
		}
	}
	return -1;
}

/*
 * @p with /proc/self, /proc/thread-self and /dev/fd spelled out for process @r: resolved by the
 * agent they would name the agent itself
 */
static void spell_self(const struct kh_audit_tamper *r, const char *p, char *out, size_t size)
{
	static const char *const selfs[] = {"/proc/self/", "/proc/thread-self/", "/dev/fd/"};
	char to[64];

	for (int k = 0; k < 3; k++) {
		size_t l = strlen(selfs[k]);

		if (strncmp(p, selfs[k], l) != 0)
			continue;
		if (k == 0)
			snprintf(to, sizeof(to), "/proc/%u/", r->tgid);
		else if (k == 1)
			snprintf(to, sizeof(to), "/proc/%u/task/%u/", r->tgid, r->tid);
		else
			snprintf(to, sizeof(to), "/proc/%u/fd/", r->tgid);
		snprintf(out, size, "%s%s", to, p + l);
		return;
	}
	snprintf(out, size, "%s", p);
}

static int match_watch(const struct kh_audit_tamper *r, struct tamper_buf *b,
		       const struct tamper_watch *w, size_t n, uint32_t *op, const char **how)
{
	char p1[KH_TAMPER_PATH_MAX + 64], p2[KH_TAMPER_PATH_MAX + 64];
	int i;

	if (r->flags & KH_TAMPER_F_EXACT) {
		*how = r->op == KH_TAMPER_OPEN_WRITE || r->op == KH_TAMPER_FTRUNCATE ? "inode"
										     : "directory";
		return r->file_id && r->file_id <= n ? (int)r->file_id - 1 : -1;
	}
	spell_self(r, b->path, p1, sizeof(p1));
	spell_self(r, b->path2, p2, sizeof(p2));
	/* the kernel says which of a rename's paths had a watched name: from, else onto */
	i = p1[0] && *op != KH_TAMPER_RENAME_ONTO ? match_path(r, *op, p1, w, n, how) : -1;
	if (i < 0 && p2[0] && (*op == KH_TAMPER_RENAME_FROM || *op == KH_TAMPER_RENAME_ONTO)) {
		i = match_path(r, KH_TAMPER_RENAME_ONTO, p2, w, n, how);
		if (i >= 0)
			*op = KH_TAMPER_RENAME_ONTO;
	}
	return i;
}

int tamper__match(const void *data, size_t size, const struct tamper_watch *w, size_t n,
		  struct node_log_tamper *out, struct tamper_buf *b)
{
	const struct kh_audit_tamper *r = data;
	char link[64];
	uint32_t op;
	ssize_t len;
	int i;

	if (size < sizeof(*r) || r->op == 0 || r->op >= KH_TAMPER_OP__NR)
		return -EINVAL;
	op = r->op;
	/* kernel strings may lack their NUL: at most the field, terminated */
	snprintf(b->path, sizeof(b->path), "%.*s", (int)sizeof(r->path), r->path);
	snprintf(b->path2, sizeof(b->path2), "%.*s", (int)sizeof(r->path2), r->path2);
	memset(out, 0, sizeof(*out));
	i = match_watch(r, b, w, n, &op, &out->how);
	if (i < 0)
		return -1;
	snprintf(link, sizeof(link), "/proc/%u/exe", r->tgid);
	len = readlink(link, b->exe, sizeof(b->exe) - 1);
	b->exe[len > 0 ? len : 0] = 0;
	if (r->flags & KH_TAMPER_F_READ_ONLY) {
		/* O_RDONLY|O_TRUNC: a truncation, when the log held anything */
		if (r->size >= w[i].min_size)
			return -1;
		op = KH_TAMPER_TRUNCATE;
	}
	out->op = op;
	out->file = w[i].path;
	/* descriptor operations: the file's own name, a rotated backup's when it is one */
	out->path = b->path;
	out->path2 = b->path2;
	out->exe = b->exe;
	out->ret = r->ret;
	out->size = r->size;
	out->open_flags = r->open_flags;
	out->path_truncated = r->flags & KH_TAMPER_F_PATH_TRUNC;
	out->shrunk =
	    (op == KH_TAMPER_OPEN_WRITE || op == KH_TAMPER_FTRUNCATE || op == KH_TAMPER_TRUNCATE) &&
	    r->size < w[i].min_size;
	return i;
}
