// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for line_reader's head-and-tail mode (issue 13): a line longer than the maximum comes
 * back as its first max - tail bytes then its last tail bytes, as the audit tap keeps a write over
 * its cap, with its true size and byte offset; the lines around it are untouched. Checked against
 * a reference cut of random inputs (line lengths around every buffer edge), plain and gzip.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "keyhole/line_reader.h"

static char *tmpfile_with(const void *data, size_t len)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/kh-lrc-XXXXXX");
	fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert(write(fd, data, len) == (ssize_t)len);
	close(fd);
	return path;
}

static unsigned char *gzip(const char *data, size_t len, size_t *out_len)
{
	z_stream zs = {0};
	size_t cap = compressBound(len) + 64;
	unsigned char *out = malloc(cap);

	cr_assert(deflateInit2(&zs, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	zs.next_in = (Bytef *)data;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	cr_assert(deflate(&zs, Z_FINISH) == Z_STREAM_END);
	*out_len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(uint64_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state % n;
}

/* a line length near one of the edges that matter for @max */
static size_t pick_len(size_t max)
{
	static const size_t edges[] = {1u << 20, 2u << 20, 3u << 20};
	size_t base;

	switch (rnd(6)) {
	case 0:
		return rnd(100);
	case 1:
		base = max;
		break;
	case 2:
		base = max * 2;
		break;
	case 3:
		base = edges[rnd(3)];
		break;
	case 4:
		return rnd(3 * max + 10);
	default:
		return rnd(40);
	}
	return base - 3 + rnd(7);
}

/* read @data back through the reader and compare each line with the reference cut */
static void check(const char *data, size_t n, size_t max, size_t tail, bool gz)
{
	size_t glen;
	unsigned char *z = gz ? gzip(data, n, &glen) : NULL;
	char *p = gz ? tmpfile_with(z, glen) : tmpfile_with(data, n);
	struct line_reader *r = line_reader__open(p, max);
	size_t off = 0, lines = 0;
	const char *l;
	size_t len;
	int st;

	cr_assert_not_null(r);
	line_reader__keep_head_tail(r, tail);
	if (tail > max / 2)
		tail = max / 2;
	while ((st = line_reader__next(r, &l, &len)) != LINE_EOF) {
		const char *nl = memchr(data + off, '\n', n - off);
		size_t want = nl ? (size_t)(nl - (data + off)) : n - off;

		lines++;
		cr_assert(off < n, "a line past the end");
		cr_assert_eq(line_reader__line_no(r), lines);
		cr_assert_eq(line_reader__line_size(r), want, "line %zu size", lines);
		cr_assert_eq(line_reader__line_offset(r), off, "line %zu offset", lines);
		if (want <= max || !tail) {
			cr_assert_eq(st, want <= max ? LINE_OK : LINE_OVERSIZED, "line %zu", lines);
			if (st == LINE_OK)
				cr_assert(len == want && !memcmp(l, data + off, want), "line %zu",
					  lines);
		} else {
			size_t head = max - tail;

			cr_assert_eq(st, LINE_CUT, "line %zu of %zu bytes (max %zu)", lines, want,
				     max);
			cr_assert_eq(line_reader__cut(r), head);
			cr_assert_eq(len, max);
			cr_assert(!memcmp(l, data + off, head), "line %zu head", lines);
			cr_assert(!memcmp(l + head, data + off + want - tail, tail),
				  "line %zu tail", lines);
		}
		off += want + (nl ? 1 : 0);
	}
	cr_assert_eq(off, n, "lines stop at %zu of %zu", off, n);
	line_reader__free(r);
	unlink(p);
	free(z);
}

static char *make_input(size_t max, size_t nlines, size_t *n, bool last_nl)
{
	size_t cap = 1 << 20, len = 0;
	char *d = malloc(cap);

	for (size_t i = 0; i < nlines; i++) {
		size_t l = pick_len(max);

		while (len + l + 1 > cap)
			d = realloc(d, cap *= 2);
		for (size_t k = 0; k < l; k++)
			d[len + k] = (char)('a' + (i + k * 7) % 26);
		len += l;
		if (i + 1 < nlines || last_nl)
			d[len++] = '\n';
	}
	*n = len;
	return d;
}

Test(line_reader_cut, random_inputs_match_the_reference_cut, .timeout = 120)
{
	static const size_t maxes[] = {4, 1024, 100000, 1u << 20};
	static const size_t tails[] = {64u << 10, 1, 0};

	for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++)
		for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++)
			for (int gz = 0; gz < 2; gz++) {
				size_t n;
				char *d = make_input(maxes[m], 24, &n, (m + t + gz) % 2);

				check(d, n, maxes[m], tails[t], gz);
				free(d);
			}
}

/* the default maximum: a 17 MiB line keeps 16 MiB - 64 KiB of head and 64 KiB of tail */
Test(line_reader_cut, seventeen_mib_line_at_the_default_maximum)
{
	size_t big = 17u << 20, n = 0;
	char *d = malloc(big + 64);

	n += (size_t)sprintf(d, "before\n");
	for (size_t k = 0; k < big; k++)
		d[n + k] = (char)('0' + k % 10);
	n += big;
	n += (size_t)sprintf(d + n, "\nafter\n");
	check(d, n, LINE_READER_DEFAULT_MAX, 64u << 10, false);
	free(d);
}
