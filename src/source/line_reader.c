// SPDX-License-Identifier: Apache-2.0
/*
 * line_reader: buffered line splitting over read(2) or zlib inflate.
 *
 * Plain input is read straight into the line buffer (no intermediate copy: replay must run at
 * disk speed). Gzip input is inflated into the same buffer. The buffer grows up to the maximum
 * line length; a longer line is dropped byte by byte until its newline, or, in head-and-tail
 * mode, keeps its head at the start of the buffer and slides a window of its last bytes behind
 * it (each read appends, then all but the window's bytes are dropped), so the line comes out as
 * head + tail in one contiguous span without ever holding more than the maximum.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "keyhole/line_reader.h"

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
	unsigned char *in;    /* compressed input (gzip only) */
	uint64_t gz_in_total; /* compressed bytes consumed, for error offsets */
	char *buf;
	size_t cap, start, end, scan; /* [start,end) unread; scan: where '\n' search resumes */
	size_t max_line;
	size_t keep_tail; /* head-and-tail mode: tail bytes kept of an oversized line (0: off) */
	bool cutting; /* inside an oversized line in head-and-tail mode: buf[0, cut) is its head */
	size_t cut;   /* head length of the line being (or last) cut */
	uint64_t dropped;  /* bytes of the current line dropped so far (skipped or cut out) */
	uint64_t next_off; /* input offset of the next line's first byte */
	uint64_t last_off, last_size; /* of the last line returned */
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

/* account the line just returned: @kept bytes in hand, plus what was dropped, plus @nl newline */
static void line_done(struct line_reader *r, size_t kept, bool nl)
{
	r->line_no++;
	r->last_off = r->next_off;
	r->last_size = r->dropped + kept;
	r->next_off += r->last_size + (nl ? 1 : 0);
	r->dropped = 0;
}

/* head-and-tail mode: keep buf[cut, end) down to its last keep_tail bytes (no newline in them) */
static void cut_slide(struct line_reader *r)
{
	size_t n = r->end - r->cut;

	if (n > r->keep_tail) {
		memmove(r->buf + r->cut, r->buf + r->end - r->keep_tail, r->keep_tail);
		r->dropped += n - r->keep_tail;
		r->end = r->cut + r->keep_tail;
	}
	r->scan = r->end;
}

/* the line being held from buf[0] grew past the maximum: keep its head from now on */
static void cut_begin(struct line_reader *r)
{
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	r->cutting = true;
	r->cut = r->max_line - r->keep_tail;
	cut_slide(r);
}

/*
 * The line [s, e) is longer than the maximum (and lies whole in the buffer, cut or not): move
 * its last keep_tail bytes right behind its head and return head + tail.
 */
static int cut_line(struct line_reader *r, size_t s, size_t e, bool nl, const char **line,
		    size_t *len)
{
	size_t head = r->cutting ? r->cut : r->max_line - r->keep_tail;
	size_t after = e - (s + head); /* bytes held after the head */
	size_t tail = after < r->keep_tail ? after : r->keep_tail;

	memmove(r->buf + s + head, r->buf + e - tail, tail);
	r->dropped += after - tail;
	r->cutting = false;
	r->cut = head;
	*line = r->buf + s;
	*len = head + tail;
	line_done(r, *len, nl);
	return LINE_CUT;
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
			if (r->skipping) {
				r->skipping = false;
				line_done(r, l, true);
				return LINE_OVERSIZED;
			}
			if (r->cutting || (l > r->max_line && r->keep_tail))
				return cut_line(r, s, s + l, true, line, len);
			line_done(r, l, true);
			if (l > r->max_line)
				return LINE_OVERSIZED;
			*line = r->buf + s;
			*len = l;
			return LINE_OK;
		}
		r->scan = r->end;
		if (r->eof) {
			size_t s = r->start, l = r->end - r->start;

			if (l == 0 && !r->skipping && !r->cutting)
				return LINE_EOF;
			/* last line without a newline, or the end of an oversized one */
			r->start = r->scan = r->end;
			if (r->cutting || (l > r->max_line && r->keep_tail))
				return cut_line(r, s, s + l, false, line, len);
			*line = r->buf + s;
			*len = l;
			line_done(r, l, false);
			if (r->skipping || l > r->max_line) {
				r->skipping = false;
				return LINE_OVERSIZED;
			}
			return LINE_OK;
		}
		if (r->cutting) {
			cut_slide(r);
		} else if (r->end - r->start > r->max_line) {
			if (r->keep_tail) {
				cut_begin(r);
			} else {
				/* drop what we hold of the oversized line, keep reading to its end
				 */
				r->dropped += r->end - r->start;
				r->skipping = true;
				r->start = r->scan = r->end = 0;
			}
		}
		err = make_room(r);
		if (err == -E2BIG && r->keep_tail && !r->cutting) {
			cut_begin(r);
			err = make_room(r);
		}
		if (err == -E2BIG && !r->cutting) {
			r->dropped += r->end - r->start;
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

void line_reader__keep_head_tail(struct line_reader *r, size_t tail)
{
	r->keep_tail = tail < r->max_line / 2 ? tail : r->max_line / 2;
}

uint64_t line_reader__line_size(const struct line_reader *r)
{
	return r->last_size;
}

uint64_t line_reader__line_offset(const struct line_reader *r)
{
	return r->last_off;
}

size_t line_reader__cut(const struct line_reader *r)
{
	return r->cut;
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
