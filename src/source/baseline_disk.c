// SPDX-License-Identifier: Apache-2.0
/*
 * baseline_disk: find the rotated audit logs next to the live one and feed them, muted, through
 * the pipeline (see keyhole/baseline.h).
 *
 * Order is modification time, not name: the apiserver's own rotation names sort by time, but
 * logrotate's audit.log.1 is newer than audit.log.2, and mtime orders both schemes alike (a
 * rotated file is not written after its rotation). The name breaks ties.
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "keyhole/baseline.h"
#include "keyhole/log.h"
#include "keyhole/pipeline.h"
#include "keyhole/line_reader.h"
#include "keyhole/ring_abi.h"

struct cand {
	char *path;
	struct timespec mtime;
};

/* @name is a rotated sibling of the live file @base ("audit.log") */
static int is_rotated(const char *name, const char *base)
{
	const char *dot = strrchr(base, '.');
	size_t stem = dot ? (size_t)(dot - base) : strlen(base), n = strlen(name);
	const char *ext = dot ? dot : "";
	size_t elen = strlen(ext), blen = strlen(base);

	if (!strcmp(name, base))
		return 0;
	/* logrotate: audit.log.1, audit.log.2.gz */
	if (n > blen + 1 && !strncmp(name, base, blen) && name[blen] == '.' &&
	    name[blen + 1] >= '0' && name[blen + 1] <= '9')
		return 1;
	/* the apiserver (lumberjack): audit-<timestamp>.log[.gz] */
	if (n <= stem + 1 + elen || strncmp(name, base, stem) || name[stem] != '-')
		return 0;
	if (n > 3 && !strcmp(name + n - 3, ".gz"))
		n -= 3;
	return n > stem + 1 + elen && !strncmp(name + n - elen, ext, elen);
}

static int by_age(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->path, y->path);
}

void baseline__free_list(char **list)
{
	for (size_t i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
}

/* append @path (taking it) to the growing array */
static int push(struct cand **v, size_t *n, size_t *cap, char *path, struct timespec mtime)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct cand *nv = realloc(*v, c * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = (struct cand){path, mtime};
	return 0;
}

int baseline__list(const char *live_path, char ***out)
{
	char *dcopy = strdup(live_path), *bcopy = strdup(live_path), *dir, *base;
	struct cand *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	struct stat st;
	DIR *d = NULL;
	int err = 0;

	*out = NULL;
	if (!dcopy || !bcopy) {
		err = -ENOMEM;
		goto out;
	}
	dir = dirname(dcopy);
	base = basename(bcopy);
	if (!(d = opendir(dir))) {
		err = -errno;
		goto out;
	}
	while ((e = readdir(d))) {
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		char *p;

		if (!is_rotated(e->d_name, base))
			continue;
		if (!(p = malloc(len))) {
			err = -ENOMEM;
			goto out;
		}
		snprintf(p, len, "%s/%s", dir, e->d_name);
		if (stat(p, &st) || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		if ((err = push(&v, &n, &cap, p, st.st_mtim))) {
			free(p);
			goto out;
		}
	}
	if (n > 1) /* qsort's base must not be NULL, even for nothing to sort */
		qsort(v, n, sizeof(*v), by_age);
	*out = calloc(n + 2, sizeof(char *));
	if (!*out) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		(*out)[i] = v[i].path;
	/* the live file last: what it holds now happened after every rotated file */
	if (stat(live_path, &st) == 0 && S_ISREG(st.st_mode) && !((*out)[n] = strdup(live_path)))
		err = -ENOMEM;
	n = 0; /* the paths now belong to *out */
out:
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
	if (d)
		closedir(d);
	free(dcopy);
	free(bcopy);
	if (err) {
		baseline__free_list(*out);
		*out = NULL;
	}
	return err;
}

/*
 * Feed one file, at most @limit bytes of it: the live log keeps growing while it is read, and
 * what it gains after the tap was attached arrives through the capture, to be judged live, not
 * learned (a line learned here and then seen live would never alert).
 */
static void learn_file(struct kh_pipeline *p, const char *path, uint64_t limit,
		       struct kh_baseline_stats *st)
{
	uint64_t consumed = 0;
	struct line_reader *r = line_reader__open(path, 0);
	struct kh_origin o = {.source = path};
	const char *line;
	size_t len;
	int rc;

	if (!r) {
		kh_log(KH_LOG_WARN, "baseline: cannot read %s: %s; skipped", path, strerror(errno));
		st->unreadable++;
		return;
	}
	st->files++;
	line_reader__keep_head_tail(r, KH_AUDIT_TAIL_DEFAULT); /* as replay and the tap */
	while (consumed < limit && (rc = line_reader__next(r, &line, &len)) != LINE_EOF) {
		o.line_no = line_reader__line_no(r);
		o.cut = 0;
		o.flags = 0;
		o.full_len = o.byte_offset = 0;
		consumed += line_reader__line_size(r) + 1;
		if (rc == LINE_CUT) {
			o.cut = (uint32_t)line_reader__cut(r);
			o.flags = KH_EV_TRUNCATED;
			o.full_len = line_reader__line_size(r);
			o.byte_offset = line_reader__line_offset(r);
			rc = LINE_OK;
		}
		if (rc == LINE_OK) {
			pipeline__feed_line(p, line, len, &o);
			st->lines++;
		} else if (rc == LINE_OVERSIZED) {
			pipeline__feed_oversized(p, &o);
		} else {
			kh_log(KH_LOG_WARN, "baseline: %s: %s after line %llu; the rest is skipped",
			       path, line_reader__error(r), (unsigned long long)o.line_no);
			st->unreadable++;
			break;
		}
	}
	line_reader__free(r);
}

int baseline__from_disk(struct kh_pipeline *p, const char *live_path, struct kh_baseline_stats *st)
{
	struct kh_baseline_stats scratch = {0};
	struct stat now;
	char **files;
	int err;

	st = st ? st : &scratch;
	memset(st, 0, sizeof(*st));
	/* the caller reports a directory it cannot list, and the summary */
	err = baseline__list(live_path, &files);
	if (err)
		return err;
	/* the live log is read up to its size now: the tap is already capturing what follows */
	if (stat(live_path, &now) || !S_ISREG(now.st_mode))
		now.st_size = 0;
	pipeline__set_learn_only(p, 1);
	for (size_t i = 0; files[i]; i++)
		learn_file(p, files[i],
			   !files[i + 1] && !strcmp(files[i], live_path) ? (uint64_t)now.st_size
									 : UINT64_MAX,
			   st);
	pipeline__set_learn_only(p, 0);
	baseline__free_list(files);
	return 0;
}
