// SPDX-License-Identifier: Apache-2.0
/*
 * line_reader: buffered line splitting over read(2) or zlib inflate.
 *
 * Plain input is read straight into the line buffer (no intermediate copy: replay must run at
 * disk speed). Gzip input is inflated into the same buffer. The buffer grows up to the maximum
 * line length; a longer line is dropped byte by byte until its newline.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "source/line_reader.h"

#define READ_CHUNK (1u << 20)
#define GZ_IN_CHUNK READ_CHUNK /* the sniffed first read is handed over whole */

struct line_reader {
	int fd;
	bool own_fd;
	bool gz;
	bool eof;      /* the underlying input is exhausted */
	bool skipping; /* inside an oversized line: drop until newline */
	bool gz_member_done;
	z_stream zs;
	unsigned char *in; /* compressed input (gzip only) */
	uint64_t gz_in_total; /* compressed bytes consumed, for error offsets */
	char *buf;
	size_t cap, start, end, scan; /* [start,end) unread; scan: where '\n' search resumes */
	size_t max_line;
	uint64_t line_no;
	char err[160];
};

static ssize_t read_full(int fd, void *b, size_t n)
{
	ssize_t r;

	do
		r = read(fd, b, n);
	while (r < 0 && errno == EINTR);
	return r;
}

static int gz_init(struct line_reader *r)
{
	r->in = malloc(GZ_IN_CHUNK);
	if (!r->in)
		return -ENOMEM;
	/* 16 + MAX_WBITS: gzip framing only; anything else is reported as corrupt */
	if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	return 0;
}

struct line_reader *line_reader__open(const char *path, size_t max_line)
{
	struct line_reader *r = calloc(1, sizeof(*r));
	ssize_t n;
	int err;

	if (!r)
		return NULL;
	r->max_line = max_line ? max_line : LINE_READER_DEFAULT_MAX;
	r->cap = READ_CHUNK * 2;
	r->buf = malloc(r->cap);
	if (!r->buf)
		goto err_free;
	if (strcmp(path, "-") == 0) {
		r->fd = STDIN_FILENO;
	} else {
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0)
			goto err_free;
		r->own_fd = true;
	}
	/* sniff the magic bytes; they stay in the buffer for whichever path reads them */
	n = read_full(r->fd, r->buf, READ_CHUNK);
	if (n < 0)
		goto err_close;
	r->end = (size_t)n;
	if (n == 0)
		r->eof = true;
	if (n >= 2 && (unsigned char)r->buf[0] == 0x1f && (unsigned char)r->buf[1] == 0x8b) {
		r->gz = true;
		err = gz_init(r);
		if (err) {
			errno = -err;
			goto err_close;
		}
		/* the sniffed bytes are compressed input, not lines */
		memcpy(r->in, r->buf, (size_t)n);
		r->zs.next_in = r->in;
		r->zs.avail_in = (uInt)n;
		r->end = 0;
	}
	return r;

err_close:
	err = errno;
	if (r->own_fd)
		close(r->fd);
	errno = err;
err_free:
	err = errno;
	free(r->in);
	free(r->buf);
	free(r);
	errno = err;
	return NULL;
}

void line_reader__free(struct line_reader *r)
{
	if (!r)
		return;
	if (r->gz)
		inflateEnd(&r->zs);
	if (r->own_fd)
		close(r->fd);
	free(r->in);
	free(r->buf);
	free(r);
}

/* inflate into buf[end..cap); returns bytes produced, 0 at end, negative on corrupt input */
static ssize_t gz_fill(struct line_reader *r, size_t room)
{
	size_t produced = 0;

	while (produced == 0) {
		int zr;

		if (r->zs.avail_in == 0) {
			ssize_t n = read_full(r->fd, r->in, GZ_IN_CHUNK);

			if (n < 0) {
				snprintf(r->err, sizeof(r->err), "read: %s", strerror(errno));
				return -errno;
			}
			if (n == 0) {
				if (!r->gz_member_done) {
					snprintf(r->err, sizeof(r->err),
						 "gzip stream truncated at compressed offset %llu",
						 (unsigned long long)r->gz_in_total);
					return -EIO;
				}
				return 0;
			}
			r->zs.next_in = r->in;
			r->zs.avail_in = (uInt)n;
		}
		if (r->gz_member_done) {
			/* another member follows (concatenated gzip) */
			inflateReset(&r->zs);
			r->gz_member_done = false;
		}
		r->zs.next_out = (Bytef *)r->buf + r->end;
		r->zs.avail_out = (uInt)room;
		{
			uInt before_in = r->zs.avail_in;

			zr = inflate(&r->zs, Z_NO_FLUSH);
			r->gz_in_total += before_in - r->zs.avail_in;
		}
		produced = room - r->zs.avail_out;
		if (zr == Z_STREAM_END) {
			r->gz_member_done = true;
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			snprintf(r->err, sizeof(r->err),
				 "corrupt gzip data at compressed offset %llu: %s",
				 (unsigned long long)r->gz_in_total,
				 r->zs.msg ? r->zs.msg : "inflate failed");
			return -EIO;
		} else if (zr == Z_BUF_ERROR && produced == 0 && r->zs.avail_in != 0) {
			snprintf(r->err, sizeof(r->err), "gzip stream stalled at offset %llu",
				 (unsigned long long)r->gz_in_total);
			return -EIO;
		}
	}
	return (ssize_t)produced;
}

/* make room after end: compact, then grow up to the line maximum */
static int make_room(struct line_reader *r)
{
	size_t need;
	char *nb;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->scan -= r->start;
		r->start = 0;
	}
	if (r->cap - r->end >= READ_CHUNK / 4)
		return 0;
	need = r->cap * 2;
	if (need > r->max_line + READ_CHUNK)
		need = r->max_line + READ_CHUNK;
	if (need <= r->cap)
		return -E2BIG;
	nb = realloc(r->buf, need);
	if (!nb)
		return -ENOMEM;
	r->buf = nb;
	r->cap = need;
	return 0;
}

static ssize_t fill(struct line_reader *r)
{
	size_t room = r->cap - r->end;
	ssize_t n;

	if (room > READ_CHUNK)
		room = READ_CHUNK;
	if (r->gz)
		return gz_fill(r, room);
	n = read_full(r->fd, r->buf + r->end, room);
	if (n < 0) {
		snprintf(r->err, sizeof(r->err), "read: %s", strerror(errno));
		return -errno;
	}
	return n;
}

int line_reader__next(struct line_reader *r, const char **line, size_t *len)
{
	for (;;) {
		char *nl = memchr(r->buf + r->scan, '\n', r->end - r->scan);
		ssize_t n;
		int err;

		if (nl) {
			size_t s = r->start;
			size_t l = (size_t)(nl - (r->buf + s));

			r->start = r->scan = (size_t)(nl - r->buf) + 1;
			r->line_no++;
			if (r->skipping) {
				r->skipping = false;
				return LINE_OVERSIZED;
			}
			if (l > r->max_line)
				return LINE_OVERSIZED;
			*line = r->buf + s;
			*len = l;
			return LINE_OK;
		}
		r->scan = r->end;
		if (r->eof) {
			if (r->start == r->end && !r->skipping)
				return LINE_EOF;
			/* last line without a newline, or the end of an oversized one (dropped) */
			*line = r->buf + r->start;
			*len = r->end - r->start;
			r->start = r->scan = r->end;
			r->line_no++;
			if (r->skipping || *len > r->max_line) {
				r->skipping = false;
				return LINE_OVERSIZED;
			}
			return LINE_OK;
		}
		if (r->end - r->start > r->max_line) {
			/* drop what we hold of the oversized line, keep reading to its end */
			r->skipping = true;
			r->start = r->scan = r->end = 0;
		}
		err = make_room(r);
		if (err == -E2BIG) {
			r->skipping = true;
			r->start = r->scan = r->end = 0;
		} else if (err) {
			snprintf(r->err, sizeof(r->err), "out of memory for a %zu byte line",
				 r->end - r->start);
			return err;
		}
		n = fill(r);
		if (n < 0)
			return (int)n;
		if (n == 0)
			r->eof = true;
		r->end += (size_t)n;
	}
}

uint64_t line_reader__file_offset(const struct line_reader *r)
{
	off_t o = lseek(r->fd, 0, SEEK_CUR);

	return o > 0 ? (uint64_t)o : 0;
}

uint64_t line_reader__line_no(const struct line_reader *r)
{
	return r->line_no;
}

int line_reader__is_gzip(const struct line_reader *r)
{
	return r->gz;
}

const char *line_reader__error(const struct line_reader *r)
{
	return r->err[0] ? r->err : "unknown error";
}
