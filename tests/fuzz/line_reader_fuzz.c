// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the file source's line reader (src/source/line_reader.c), plain and gzip.
 *
 * The first byte picks the maximum line length (the default, or a few bytes so that oversized
 * lines are common) and whether lines past it keep their head and tail (and how long a tail), the
 * rest is written to a memfd and read through line_reader__open() like any
 * file. Every line is read to the end; the reader must not crash or leak, and must agree with a
 * reference written here: the input (inflated first, member after member, when it starts with
 * the gzip magic) split at '\n', each piece longer than the maximum reported as oversized with
 * its line number (or, in head-and-tail mode, cut to its head and tail with its true size and
 * byte offset), a last piece without newline still a line. Corrupt or cut gzip must end in an
 * error with a message, never in lines that are not in the data or a silent early end.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "keyhole/line_reader.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

/* past this the reference gives up comparing (a small input can inflate to a lot) */
#define REF_MAX (64u << 20)

struct bytes {
	unsigned char *p;
	size_t len, cap;
};

static int append(struct bytes *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = (b->len + n) * 2;
		unsigned char *np;

		if (cap > REF_MAX)
			return -1;
		np = realloc(b->p, cap);
		CHECK(np);
		b->p = np;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

/*
 * The reference gzip reader: members one after the other until the input ends exactly at a
 * member's end. Returns 0, -1 on corrupt or cut data, -2 when the output is too big to compare.
 */
static int ref_gunzip(const uint8_t *in, size_t n, struct bytes *out)
{
	unsigned char chunk[16384];
	z_stream zs = {0};
	int zr = Z_OK, ret = 0;

	CHECK(inflateInit2(&zs, 16 + MAX_WBITS) == Z_OK);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)n;
	for (;;) {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zr = inflate(&zs, Z_NO_FLUSH);
		if (append(out, chunk, sizeof(chunk) - zs.avail_out)) {
			ret = -2;
			break;
		}
		if (zr == Z_STREAM_END) {
			if (zs.avail_in == 0)
				break;
			inflateReset(&zs);
			continue;
		}
		if (zr != Z_OK) { /* corrupt, or Z_BUF_ERROR: out of input mid-member */
			ret = -1;
			break;
		}
		if (zs.avail_in == 0 && zs.avail_out != 0) {
			ret = -1; /* all input taken, the member not finished */
			break;
		}
	}
	inflateEnd(&zs);
	return ret;
}

/* the next reference line of @d from *@pos: returns LINE_OK/LINE_OVERSIZED, or LINE_EOF */
static int ref_next(const struct bytes *d, size_t *pos, size_t max, const unsigned char **l,
		    size_t *len)
{
	const unsigned char *nl;
	size_t n;

	if (*pos >= d->len)
		return LINE_EOF;
	nl = memchr(d->p + *pos, '\n', d->len - *pos);
	n = nl ? (size_t)(nl - (d->p + *pos)) : d->len - *pos;
	*l = d->p + *pos;
	*len = n;
	*pos += n + (nl != NULL);
	return n > max ? LINE_OVERSIZED : LINE_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t maxes[] = {0, 1, 2, 7, 64, 4096};
	struct bytes ref = {0};
	struct line_reader *r;
	const uint8_t *in = data + 1;
	size_t n = size - 1, max, pos = 0, tail, line_start;
	uint64_t lines = 0;
	int fd, gz, ref_rc = 0, st;
	char path[64];

	if (size < 1)
		return 0;
	max = maxes[data[0] % (sizeof(maxes) / sizeof(maxes[0]))];
	/* the high bits choose head-and-tail mode (issue 13) and its tail */
	tail = (size_t[]){0, 0, 1, 3, 64u << 10}[(data[0] >> 5) % 5];
	fd = memfd_create("kh-line-reader-fuzz", MFD_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(write(fd, in, n) == (ssize_t)n);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = line_reader__open(path, max);
	CHECK(r);
	if (!max)
		max = LINE_READER_DEFAULT_MAX;
	line_reader__keep_head_tail(r, tail);
	if (tail > max / 2)
		tail = max / 2;

	gz = n >= 2 && in[0] == 0x1f && in[1] == 0x8b;
	CHECK(line_reader__is_gzip(r) == gz);
	if (gz)
		ref_rc = ref_gunzip(in, n, &ref);
	else
		CHECK(append(&ref, in, n) == 0);

	for (;;) {
		const unsigned char *want;
		const char *l;
		size_t len, want_len;
		int want_st;

		st = line_reader__next(r, &l, &len);
		if (st < 0) {
			/* only gzip input can fail here, and only where the reference failed */
			CHECK(gz && ref_rc != 0);
			CHECK(strlen(line_reader__error(r)) > 0);
			break;
		}
		line_start = pos;
		want_st = ref_rc == -2 ? st : ref_next(&ref, &pos, max, &want, &want_len);
		if (st == LINE_EOF) {
			/* the end of good data is the reference's end too; bad data must fail */
			CHECK(ref_rc != -1 && want_st == LINE_EOF);
			break;
		}
		lines++;
		CHECK(line_reader__line_no(r) == lines);
		if (st == LINE_OK) {
			CHECK(len <= max && !memchr(l, '\n', len));
			if (ref_rc != -2)
				CHECK(want_st == LINE_OK && want_len == len &&
				      !memcmp(l, want, len));
		} else if (tail) {
			size_t head = max - tail;

			/* longer than the maximum: its head then its tail, its true size and offset
			 */
			CHECK(st == LINE_CUT && len == max && line_reader__cut(r) == head);
			if (ref_rc != -2)
				CHECK(want_st == LINE_OVERSIZED &&
				      line_reader__line_size(r) == want_len &&
				      line_reader__line_offset(r) == line_start &&
				      !memcmp(l, want, head) &&
				      !memcmp(l + head, want + want_len - tail, tail));
		} else {
			CHECK(st == LINE_OVERSIZED);
			if (ref_rc != -2)
				CHECK(want_st == LINE_OVERSIZED);
		}
		if (ref_rc != -2 && st == LINE_OK)
			CHECK(line_reader__line_size(r) == len &&
			      line_reader__line_offset(r) == line_start);
	}
	line_reader__free(r);
	close(fd);
	free(ref.p);
	return 0;
}
