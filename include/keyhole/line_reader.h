/* SPDX-License-Identifier: Apache-2.0 */
/*
 * line_reader: audit lines out of a file or stdin, plain or gzip (told by content, not name).
 *
 * Rotated audit logs are often compressed by logrotate whatever their name, so the first bytes
 * decide. Concatenated gzip members (logrotate's delaycompress plus appends) are read through.
 * Lines longer than the configured maximum are skipped whole and reported, so one hostile line
 * cannot make the agent hold gigabytes, and the lines around it are not lost. Or, with
 * line_reader__keep_head_tail(), such a line keeps its head and its tail exactly as the live
 * audit tap keeps a write over its cap (the middle is counted, not held), so an oversized audit
 * event is still read: its who/what sits in the head, the apiserver's decision in the tail.
 */
#ifndef KEYHOLE_SOURCE_LINE_READER_H
#define KEYHOLE_SOURCE_LINE_READER_H

#include <stddef.h>
#include <stdint.h>

/* default longest line kept: RequestResponse events run to a few hundred KB, never near this */
#define LINE_READER_DEFAULT_MAX (16u << 20)

struct line_reader;

enum line_status {
	LINE_OK = 1,	    /* line and len hold the next line (no newline) */
	LINE_EOF = 0,	    /* no more lines */
	LINE_OVERSIZED = 2, /* a line longer than the maximum was skipped; see line_no */
	LINE_CUT = 3,	    /* keep_head_tail: line holds the head then the tail of a longer line */
};

/* "-" reads stdin. Returns NULL with errno set (the caller names the file). */
struct line_reader *line_reader__open(const char *path, size_t max_line);
void line_reader__free(struct line_reader *r);

/*
 * Next line. Returns enum line_status, or a negative errno on a read or decompression error,
 * with line_reader__error() describing it (for gzip: the compressed offset and zlib's reason).
 * The returned line is valid until the next call.
 */
int line_reader__next(struct line_reader *r, const char **line, size_t *len);

/*
 * Lines longer than the maximum are returned as LINE_CUT instead of skipped: their first
 * max_line - @tail bytes then their last @tail bytes (@tail is capped at half the maximum), as
 * the audit tap cuts a write over its cap. Memory stays bounded by the maximum.
 */
void line_reader__keep_head_tail(struct line_reader *r, size_t tail);

uint64_t line_reader__line_no(const struct line_reader *r); /* 1-based number of the last line */
/* of the last line: its length in the input (before any cut), and its byte offset there */
uint64_t line_reader__line_size(const struct line_reader *r);
uint64_t line_reader__line_offset(const struct line_reader *r);
/* of the last LINE_CUT line: the head's length (where in the returned line the tail starts) */
size_t line_reader__cut(const struct line_reader *r);
int line_reader__is_gzip(const struct line_reader *r);
const char *line_reader__error(const struct line_reader *r);
/* bytes read from the file so far (compressed bytes for gzip), for progress; 0 on a pipe */
uint64_t line_reader__file_offset(const struct line_reader *r);

#endif /* KEYHOLE_SOURCE_LINE_READER_H */
