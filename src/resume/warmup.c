// SPDX-License-Identifier: Apache-2.0
/*
 * warmup: rebuild, before a catch-up, the state the last run held at its checkpoint (issue 19).
 *
 * Windowed rules (k8s-secret-rapid-get), open escalate-then-loot incidents, held RequestReceived
 * alerts and the per-request dedupe all live in memory and reach back a bounded span of event
 * time. The lines of that span before the checkpoint are still on disk: they are fed again with
 * the pipeline in warm-up mode (every alert derived as live, none written), so a burst or an
 * attack that spans the restart is seen whole, and a request alerted before the stop is not
 * alerted again from its later stage.
 *
 * The span is pipeline__warmup_span_ns() (the longest window of what is enabled). Where it
 * starts is found by walking back over the rotated files (a file whose first line is older
 * than the span start is the last one needed), bounded in bytes: what the bound (or a
 * compressed file, which cannot be entered from its end) keeps from being read is counted and
 * reported when the first line read is still inside the span.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyhole/line_reader.h"
#include "keyhole/log.h"
#include "keyhole/pipeline.h"
#include "resume/resume_impl.h"

static uint64_t size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_size;
}

static int64_t first_time(const char *path)
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

static bool gzip_file(const char *path)
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

/* where the warm-up starts: file index and offset; *cut: bytes before it that were not read */
static int find_start(char *const *files, int i, uint64_t off, int64_t cutoff, uint64_t budget,
		      uint64_t *start, uint64_t *cut)
{
	int k = i;
	bool bounded = budget != 0;

	*cut = 0;
	for (;;) {
		uint64_t avail = k == i ? off : size_of(files[k]);
		int64_t t0;

		if (bounded && avail > budget) {
			*start = avail - budget;
			break;
		}
		budget -= bounded ? avail : 0;
		*start = 0;
		t0 = first_time(files[k]);
		if ((t0 && t0 <= cutoff) || k == 0)
			return k;
		if (gzip_file(files[k - 1]))
			break; /* cannot be entered from its end */
		k--;
	}
	*cut = *start;
	for (int j = k - 1; j >= 0; j--)
		*cut += size_of(files[j]); /* gzip: its compressed size, an estimate */
	return k;
}

/* feed @path from @from to @to (lines of the span only); the event time of the first fed */
static int64_t feed(struct kh_resume *r, const char *path, uint64_t from, uint64_t to,
		    int64_t cutoff)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, before = '\n';
	size_t cap = 0;
	ssize_t n;
	uint64_t off = from;
	int64_t first = 0;
	struct kh_origin o = {.source = path};

	if (!f || fseeko(f, (off_t)from, SEEK_SET)) {
		kh_log(KH_LOG_WARN, "warm-up: cannot read %s", path);
		if (f)
			fclose(f);
		return 0;
	}
	if (from && pread(fileno(f), &before, 1, (off_t)from - 1) != 1)
		before = '\n';
	while (off < to && (n = getline(&line, &cap, f)) > 0) {
		bool whole = line[n - 1] == '\n';
		int64_t t;

		off += (uint64_t)n;
		if (before != '\n' || !whole || off > to) { /* the cut's partial line */
			before = '\n';
			continue;
		}
		t = line_time_ns(line, (size_t)n - 1);
		if (t && t < cutoff)
			continue;
		if (!first)
			first = t ? t : 1;
		pipeline__feed_line(r->p, line, (size_t)n - 1, &o);
		r->st.warmup_lines++;
		r->st.warmup_bytes += (uint64_t)n;
	}
	free(line);
	fclose(f);
	return first;
}

void resume_warm_up(struct kh_resume *r, const char *log, char *const *files, int i, uint64_t off,
		    int64_t t_ckpt)
{
	int64_t span = pipeline__warmup_span_ns(r->p), cutoff, first = 0;
	uint64_t start, cut;
	int k;

	if (!t_ckpt || span <= 0 || !files[i] || gzip_file(files[i]))
		return;
	cutoff = t_ckpt - span;
	r->st.warmup_span_ns = span;
	k = find_start(files, i, off, cutoff, r->o.warmup_max_bytes, &start, &cut);
	pipeline__set_warmup(r->p, 1);
	for (int j = k; j <= i; j++) {
		int64_t t =
		    feed(r, files[j], j == k ? start : 0, j == i ? off : UINT64_MAX, cutoff);

		if (!first)
			first = t;
	}
	pipeline__set_warmup(r->p, 0);
	if (cut && first > cutoff) { /* the first line read is inside the span: some was lost */
		r->st.warmup_cut_bytes += cut;
		r->st.warmup_cuts++;
		kh_log(KH_LOG_WARN,
		       "warm-up of %s cut: up to %llu bytes before %s offset %llu not read "
		       "(capture.catchup_warmup_max_bytes, or a compressed file); windows and "
		       "incidents begin %.1f s after the span start",
		       log, (unsigned long long)cut, files[k], (unsigned long long)start,
		       (first - cutoff) / 1e9);
	}
	kh_log(KH_LOG_INFO,
	       "warm-up of %s: %llu lines (%llu bytes) of the %.0f s before the checkpoint", log,
	       (unsigned long long)r->st.warmup_lines, (unsigned long long)r->st.warmup_bytes,
	       span / 1e9);
}
