// SPDX-License-Identifier: Apache-2.0
/*
 * resume: the catch-up after a restart (see keyhole/resume.h).
 *
 * Steps for one log: find the checkpoint's file among the rotated set by identity (inode and
 * head hash: rotation renames, it does not copy); confirm the offset with the auditID of the line
 * that ends there (or find that line by auditID when the offset was an estimate); apply the
 * bounds to what lies ahead; read the rest of that file and every newer one through the
 * pipeline with their positions, so the checkpoint advances as live does.
 *
 * Plain files are read from an offset with stdio; a newer file logrotate already compressed is
 * read whole through line_reader. A last line without its newline is left to the live tap when
 * it is in the live file (the write is still coming), and fed when the file is rotated.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "keyhole/clock.h"
#include "keyhole/audit_parse.h"
#include "keyhole/log.h"
#include "keyhole/pipeline.h"
#include "resume/resume_impl.h"
#include "keyhole/line_reader.h"

#define LOCATE_WINDOW (1u << 20) /* bytes read back to check the line before the offset */

struct kh_resume *resume__new(struct kh_pipeline *p, const struct kh_resume_opts *o)
{
	struct kh_resume *r = calloc(1, sizeof(*r));
	struct kh_checkpoint *cp;

	if (!r)
		return NULL;
	r->p = p;
	r->o = *o;
	if (p && (cp = pipeline__checkpoint(p)) && (r->nloaded = checkpoint__count(cp))) {
		r->loaded = calloc(r->nloaded, sizeof(*r->loaded));
		r->caught_up = calloc(r->nloaded, sizeof(*r->caught_up));
		if (!r->loaded || !r->caught_up) {
			resume__free(r);
			return NULL;
		}
		for (size_t i = 0; i < r->nloaded; i++)
			r->loaded[i] = *checkpoint__entry(cp, i);
	}
	return r;
}

const struct kh_ckpt_entry *resume_pending(const struct kh_resume *r, const char *log)
{
	for (size_t i = 0; i < r->nloaded; i++)
		if (!r->caught_up[i] && !strcmp(r->loaded[i].log, log))
			return &r->loaded[i];
	return NULL;
}

size_t resume__pending_logs(const struct kh_resume *r, const char **out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nloaded && n < cap; i++)
		if (!r->caught_up[i])
			out[n++] = r->loaded[i].log;
	return n;
}

bool early_take(struct live_log *lv, uint64_t key)
{
	for (size_t i = 0; i < lv->nearly; i++)
		if (lv->early[i] == key) {
			lv->early[i] = lv->early[--lv->nearly];
			return true;
		}
	return false;
}

void resume__free(struct kh_resume *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nlv; i++) {
		free(r->lv[i].ring);
		free(r->lv[i].early);
	}
	free(r->loaded);
	free(r->caught_up);
	free(r);
}

const struct kh_resume_stats *resume__stats(const struct kh_resume *r)
{
	return &r->st;
}

/* the line of @buf[0..len) that ends just before @len (the newline at len - 1) */
static const char *last_line(const char *buf, size_t len, size_t *ll)
{
	const char *s;

	if (!len || buf[len - 1] != '\n')
		return NULL;
	s = memrchr(buf, '\n', len - 1);
	s = s ? s + 1 : buf;
	*ll = (size_t)(buf + len - 1 - s);
	return s;
}

static bool line_is(const char *line, size_t len, const struct kh_ckpt_entry *e)
{
	const char *id, *st;
	size_t il, sl;

	if (!e->audit_id[0]) /* a malformed line was the last: the newline is all there is */
		return true;
	return line_field(line, len, "auditID", &id, &il) && il == strlen(e->audit_id) &&
	       !memcmp(id, e->audit_id, il) && line_field(line, len, "stage", &st, &sl) &&
	       sl == strlen(e->stage) && !memcmp(st, e->stage, sl);
}

/* the offset holds when the line ending there is the checkpoint's line */
static bool offset_holds(int fd, const struct kh_ckpt_entry *e, uint64_t size)
{
	size_t want, ll;
	char *buf;
	const char *line;
	bool ok = false;

	if (!e->offset_known || !e->offset || e->offset > size)
		return false;
	want = e->offset < LOCATE_WINDOW ? (size_t)e->offset : LOCATE_WINDOW;
	if (!(buf = malloc(want)))
		return false;
	if (pread(fd, buf, want, (off_t)(e->offset - want)) == (ssize_t)want &&
	    (line = last_line(buf, want, &ll)))
		ok = line_is(line, ll, e);
	free(buf);
	return ok;
}

/* find the checkpoint's line by auditID and stage: the offset after it, or -1 */
static int64_t search_line(FILE *f, const struct kh_ckpt_entry *e)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int64_t off = 0, found = -1;

	if (!e->audit_id[0])
		return -1;
	rewind(f);
	while ((n = getline(&line, &cap, f)) > 0) {
		off += n;
		if (line[n - 1] == '\n' && line_is(line, (size_t)n - 1, e))
			found = off;
	}
	free(line);
	return found;
}

/* where to start in the checkpoint's file */
static uint64_t locate(const char *path, const struct kh_ckpt_entry *e, uint64_t size)
{
	FILE *f = fopen(path, "re");
	int64_t at;

	if (!f)
		return e->offset <= size ? e->offset : size;
	if (offset_holds(fileno(f), e, size)) {
		fclose(f);
		return e->offset;
	}
	at = search_line(f, e);
	fclose(f);
	if (at >= 0) {
		if (e->offset_known)
			kh_log(KH_LOG_WARN,
			       "catch-up: %s: the line at offset %llu is not the one "
			       "checkpointed; found it at %lld by its auditID",
			       path, (unsigned long long)e->offset, (long long)at);
		return (uint64_t)at;
	}
	kh_log(KH_LOG_WARN, "catch-up: %s: auditID %s (%s) not found; resuming at offset %llu",
	       path, e->audit_id, e->stage,
	       (unsigned long long)(e->offset <= size ? e->offset : size));
	return e->offset <= size ? e->offset : size;
}

static bool is_gzip(const char *path)
{
	unsigned char m[2] = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (read(fd, m, 2) != 2)
		m[0] = 0;
	close(fd);
	return m[0] == 0x1f && m[1] == 0x8b;
}

/* the state of one catch-up over a log's files */
struct pass {
	const char *log;
	struct live_log *lv;
	struct skipped skip;
	uint64_t skip_bytes; /* bytes still to skip for max_bytes */
	int64_t age_cutoff;  /* lines before it are skipped while skipping_age */
	bool skipping_age;
	int64_t last_time;
};

/* one line from disk: skip it (bounds), or feed it with its position */
static void take(struct kh_resume *r, struct pass *ps, const char *path, const struct stat *st,
		 const char *line, size_t len, uint64_t end)
{
	struct kh_file_pos pos = {.log = ps->log,
				  .host_path = path,
				  .dev = st->st_dev,
				  .ino = st->st_ino,
				  .end = end,
				  .end_known = true};
	struct kh_origin o = {.source = path, .pos = &pos};
	int64_t t = line_time_ns(line, len);

	if (ps->skipping_age && t && t < ps->age_cutoff) {
		skipped_add(&ps->skip, "max_age", path, len + 1, ps->last_time);
		return;
	}
	ps->skipping_age = false;
	if (ps->skip.on)
		skipped_report(r, ps->log, &ps->skip, t);
	if (ps->lv && ps->lv->nearly && early_take(ps->lv, line_key(line, len))) {
		r->st.seam_doubles++; /* the tap delivered it before this catch-up began */
		return;
	}
	pipeline__feed_line(r->p, line, len, &o);
	r->st.lines++;
	r->st.bytes += len + 1;
	if (t)
		r->st.last_ns = ps->last_time = t;
	if (ps->lv)
		seam_note(ps->lv, line_key(line, len), st->st_dev, st->st_ino, end);
}

/* read a plain file from @off; returns the offset after the last line fed */
static uint64_t read_plain(struct kh_resume *r, struct pass *ps, const char *path, uint64_t off,
			   bool live)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct stat st;
	bool first = true;

	if (!f || fstat(fileno(f), &st) || fseeko(f, (off_t)off, SEEK_SET)) {
		kh_log(KH_LOG_WARN, "catch-up: cannot read %s: %s", path, strerror(errno));
		skipped_add(&ps->skip, "vanished", path, 0, ps->last_time);
		ps->skip.bytes_unknown = true;
		if (f)
			fclose(f);
		return off;
	}
	r->st.files++;
	while ((n = getline(&line, &cap, f)) > 0) {
		bool whole = line[n - 1] == '\n';
		char before = '\n';

		/* a cut by max_bytes lands mid-line: its rest is skipped with it */
		if (first && off > 0 && pread(fileno(f), &before, 1, (off_t)off - 1) != 1)
			before = '\n';
		if (first && before != '\n') {
			skipped_add(&ps->skip, "max_bytes", path, (uint64_t)n, ps->last_time);
			off += (uint64_t)n;
			first = false;
			continue;
		}
		first = false;
		if (!whole && live)
			break; /* still being written: the tap delivers it */
		off += (uint64_t)n;
		take(r, ps, path, &st, line, (size_t)n - whole, off);
	}
	free(line);
	fclose(f);
	if (ps->lv && live) { /* the live tap continues this file from here */
		ps->lv->dev = st.st_dev;
		ps->lv->ino = st.st_ino;
		ps->lv->off = off;
		ps->lv->known = ps->lv->have_file = true;
	}
	return off;
}

/*
 * A rotated file logrotate compressed, through line_reader, from @from (an offset in its
 * uncompressed text: a replay may have stopped inside it)
 */
static void read_gzip(struct kh_resume *r, struct pass *ps, const char *path, uint64_t from)
{
	struct line_reader *lr = line_reader__open(path, 0);
	const char *line;
	size_t len;
	struct stat st;
	uint64_t off = 0;
	int rc;

	if (!lr || stat(path, &st)) {
		kh_log(KH_LOG_WARN, "catch-up: cannot read %s: %s", path, strerror(errno));
		line_reader__free(lr);
		return;
	}
	r->st.files++;
	while ((rc = line_reader__next(lr, &line, &len)) == LINE_OK || rc == LINE_OVERSIZED) {
		off += len + 1; /* offsets in the uncompressed text */
		if (rc == LINE_OK && off > from)
			take(r, ps, path, &st, line, len, off);
	}
	line_reader__free(lr);
}

/* index of the checkpoint's file in @files, or -1 */
static int find_file(char *const *files, const struct kh_ckpt_entry *e)
{
	int found = -1;

	for (int i = 0; files[i]; i++) {
		struct kh_file_id id;

		if (file_id__of_path(files[i], e->file.head_len, &id) || id.ino != e->file.ino)
			continue;
		if (id.head_len == e->file.head_len && id.head_hash == e->file.head_hash)
			found = i;
	}
	return found;
}

static uint64_t size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_size;
}

/* the event time of a file's first line (0 when it has none): files are compared with the
 * checkpoint in the log's own clock, not by when they were written */
static int64_t first_time_ns(const char *path)
{
	struct line_reader *lr = line_reader__open(path, 0);
	const char *line;
	size_t len;
	int64_t t = 0;

	if (lr && line_reader__next(lr, &line, &len) == LINE_OK)
		t = line_time_ns(line, len);
	line_reader__free(lr);
	return t;
}

/* max_bytes: move the start past the oldest bytes, whole files first */
static void cut_to_bound(struct kh_resume *r, struct pass *ps, char *const *files, int *i,
			 uint64_t *off)
{
	uint64_t total = 0, over;

	if (!r->o.max_bytes)
		return;
	for (int k = *i; files[k]; k++)
		total += size_of(files[k]) - (k == *i ? *off : 0);
	if (total <= r->o.max_bytes)
		return;
	over = total - r->o.max_bytes;
	while (files[*i] && files[*i + 1]) {
		uint64_t rest = size_of(files[*i]) - *off;

		if (rest > over)
			break;
		skipped_add(&ps->skip, "max_bytes", files[*i], rest, ps->last_time);
		over -= rest;
		(*i)++;
		*off = 0;
	}
	skipped_add(&ps->skip, "max_bytes", files[*i], over, ps->last_time);
	*off += over;
}

int resume__read_all(struct kh_resume *r, const char *log, char *const *files)
{
	struct pass ps = {.log = log};

	if (resume__catch_up(r, log, files) != -ENOENT)
		return 0;
	for (int i = 0; files[i]; i++) {
		if (is_gzip(files[i]))
			read_gzip(r, &ps, files[i], 0);
		else
			read_plain(r, &ps, files[i], 0, !files[i + 1]);
	}
	return 0;
}

int resume__catch_up(struct kh_resume *r, const char *log, char *const *files)
{
	const struct kh_ckpt_entry *cur = resume_pending(r, log);
	struct kh_ckpt_entry e;
	struct pass ps = {.log = log};
	uint64_t off = 0;
	int i, n = 0;

	if (!cur)
		return -ENOENT;
	e = *cur;
	r->caught_up[cur - r->loaded] = true;
	while (files[n])
		n++;
	r->st.logs++;
	r->st.running = true;
	r->st.behind_ns = e.time_ns ? clock__ns(CLOCK_REALTIME) - e.time_ns : 0;
	ps.last_time = e.time_ns;
	ps.lv = r->o.seam ? live_log_get(r, log) : NULL;
	if (r->o.max_age_ns) {
		ps.age_cutoff = clock__ns(CLOCK_REALTIME) - r->o.max_age_ns;
		ps.skipping_age = true;
	}
	i = find_file(files, &e);
	if (i < 0) {
		/* rotated away and deleted (or compressed: a new inode) before it could be read:
		 * resume with the files written after its last line */
		char what[KH_CKPT_LOG_MAX + 64];

		snprintf(what, sizeof(what), "%s (inode %llu)", log,
			 (unsigned long long)e.file.ino);
		r->st.vanished++;
		skipped_add(&ps.skip, "vanished", what, 0, e.time_ns);
		ps.skip.bytes_unknown = true;
		for (i = 0; files[i] && first_time_ns(files[i]) <= e.time_ns; i++)
			;
	} else if (is_gzip(files[i])) {
		off = e.offset; /* in the uncompressed text: nothing to check it against cheaply */
	} else {
		off = locate(files[i], &e, size_of(files[i]));
	}
	kh_log(KH_LOG_INFO, "catch-up of %s: from %s offset %llu, %d file(s), %.1f s behind", log,
	       files[i] ? files[i] : "(none)", (unsigned long long)off, n - i,
	       r->st.behind_ns / 1e9);
	if (files[i] && !is_gzip(files[i])) {
		resume_warm_up(r, log, files, i, off, e.time_ns);
		cut_to_bound(r, &ps, files, &i, &off);
	}
	for (; files[i]; i++) {
		bool live = !files[i + 1]; /* a partial last line is still being written */

		if (is_gzip(files[i]))
			read_gzip(r, &ps, files[i], off);
		else
			read_plain(r, &ps, files[i], off, live);
		off = 0;
	}
	if (ps.skip.on)
		skipped_report(r, log, &ps.skip, 0);
	r->st.running = false;
	kh_log(KH_LOG_INFO, "catch-up of %s: %llu lines caught up", log,
	       (unsigned long long)r->st.lines);
	return 0;
}

void resume__anchor(struct kh_resume *r, const char *log, const char *path)
{
	struct kh_checkpoint *cp = pipeline__checkpoint(r->p);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct kh_file_pos pos = {.log = log, .host_path = path, .end_known = true};
	struct audit_event ev;
	struct kh_parse_error pe;
	const char *line;
	struct stat st;
	size_t want, ll, window;
	char *buf = NULL;

	if (!cp || checkpoint__find(cp, log) || fd < 0 || fstat(fd, &st) || !st.st_size)
		goto out;
	/* the last whole line: at most the window before the end */
	window = (uint64_t)st.st_size < LOCATE_WINDOW ? (size_t)st.st_size : LOCATE_WINDOW;
	want = window;
	if (!(buf = malloc(window)) ||
	    pread(fd, buf, window, st.st_size - (off_t)window) != (ssize_t)window)
		goto out;
	while (want && buf[want - 1] != '\n') /* a line still being written */
		want--;
	if (!(line = last_line(buf, want, &ll)) || audit_parse__line(line, ll, &ev, &pe))
		goto out;
	pos.dev = st.st_dev;
	pos.ino = st.st_ino;
	pos.end = (uint64_t)st.st_size - window + want;
	checkpoint__advance(cp, &pos, ev.audit_id, ev.stage, audit_event_time_ns(&ev));
out:
	free(buf);
	if (fd >= 0)
		close(fd);
}
