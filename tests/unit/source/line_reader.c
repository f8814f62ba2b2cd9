// SPDX-License-Identifier: Apache-2.0
/* Tests for src/source/line_reader.c: plain and gzip input, oversized lines, corrupt gzip. */
#include <criterion/criterion.h>
#include <errno.h>
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

	strcpy(path, "/tmp/kh-lr-XXXXXX");
	fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert(write(fd, data, len) == (ssize_t)len);
	close(fd);
	return path;
}

/* gzip-compress @len bytes of @data into a new buffer */
static unsigned char *gzip(const char *data, size_t len, size_t *out_len)
{
	z_stream zs = {0};
	size_t cap = compressBound(len) + 64;
	unsigned char *out = malloc(cap);

	cr_assert(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	zs.next_in = (Bytef *)data;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	cr_assert(deflate(&zs, Z_FINISH) == Z_STREAM_END);
	*out_len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static void expect_lines(const char *path, const char *const *want, size_t n)
{
	struct line_reader *r = line_reader__open(path, 0);
	const char *l;
	size_t len, i = 0;
	int st;

	cr_assert_not_null(r);
	while ((st = line_reader__next(r, &l, &len)) == LINE_OK) {
		cr_assert(i < n, "more lines than expected");
		cr_assert_eq(len, strlen(want[i]), "line %zu length", i + 1);
		cr_assert(memcmp(l, want[i], len) == 0, "line %zu content", i + 1);
		cr_assert_eq(line_reader__line_no(r), i + 1);
		i++;
	}
	cr_assert_eq(st, LINE_EOF);
	cr_assert_eq(i, n);
	line_reader__free(r);
}

Test(line_reader, plain_lines_last_without_newline)
{
	const char *want[] = {"one", "", "three"};
	char *p = tmpfile_with("one\n\nthree", 10);

	expect_lines(p, want, 3);
	unlink(p);
}

Test(line_reader, empty_file_is_eof)
{
	char *p = tmpfile_with("", 0);

	expect_lines(p, NULL, 0);
	unlink(p);
}

Test(line_reader, gzip_by_content_and_concatenated_members)
{
	const char *want[] = {"alpha", "beta", "gamma"};
	size_t l1, l2;
	unsigned char *a = gzip("alpha\nbeta\n", 11, &l1);
	unsigned char *b = gzip("gamma\n", 6, &l2);
	unsigned char *both = malloc(l1 + l2);
	char *p;
	struct line_reader *r;

	memcpy(both, a, l1);
	memcpy(both + l1, b, l2);
	p = tmpfile_with(both, l1 + l2); /* named without .gz on purpose */
	r = line_reader__open(p, 0);
	cr_assert(line_reader__is_gzip(r));
	line_reader__free(r);
	expect_lines(p, want, 3);
	unlink(p);
	free(a);
	free(b);
	free(both);
}

Test(line_reader, corrupt_gzip_names_offset)
{
	size_t n;
	char text[4096];
	unsigned char *z;
	struct line_reader *r;
	const char *l;
	size_t len;
	int st;
	char *p;

	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (i % 61 == 60) ? '\n' : (char)('a' + (i * 7) % 26);
	z = gzip(text, sizeof(text), &n);
	memset(z + n / 2, 0xff, 8); /* damage the deflate stream in the middle */
	p = tmpfile_with(z, n);
	r = line_reader__open(p, 0);
	cr_assert_not_null(r);
	while ((st = line_reader__next(r, &l, &len)) == LINE_OK)
		;
	cr_assert(st < 0, "corrupt gzip must be an error, got %d", st);
	cr_assert(strstr(line_reader__error(r), "offset") != NULL, "error: %s",
		  line_reader__error(r));
	line_reader__free(r);
	unlink(p);
	free(z);
}

Test(line_reader, truncated_gzip_is_an_error)
{
	size_t n;
	unsigned char *z = gzip("hello\nworld\n", 12, &n);
	char *p = tmpfile_with(z, n - 6);
	struct line_reader *r = line_reader__open(p, 0);
	const char *l;
	size_t len;
	int st;

	while ((st = line_reader__next(r, &l, &len)) == LINE_OK)
		;
	cr_assert(st < 0);
	cr_assert(strstr(line_reader__error(r), "truncated") != NULL, "%s", line_reader__error(r));
	line_reader__free(r);
	unlink(p);
	free(z);
}

Test(line_reader, oversized_line_skipped_neighbours_kept)
{
	/* max line 1 KB; a 3 MB line between two short ones */
	size_t big = 3u << 20;
	char *data = malloc(big + 32);
	size_t off = 0;
	struct line_reader *r;
	const char *l;
	size_t len;
	char *p;

	off += (size_t)sprintf(data, "before\n");
	memset(data + off, 'x', big);
	off += big;
	off += (size_t)sprintf(data + off, "\nafter\n");
	p = tmpfile_with(data, off);
	r = line_reader__open(p, 1024);
	cr_assert_eq(line_reader__next(r, &l, &len), LINE_OK);
	cr_assert(len == 6 && !memcmp(l, "before", 6));
	cr_assert_eq(line_reader__next(r, &l, &len), LINE_OVERSIZED);
	cr_assert_eq(line_reader__line_no(r), 2);
	cr_assert_eq(line_reader__next(r, &l, &len), LINE_OK);
	cr_assert(len == 5 && !memcmp(l, "after", 5));
	cr_assert_eq(line_reader__line_no(r), 3);
	cr_assert_eq(line_reader__next(r, &l, &len), LINE_EOF);
	line_reader__free(r);
	unlink(p);
	free(data);
}

/* found by tests/fuzz/line_reader_fuzz.c: an oversized last line without a newline vanished */
Test(line_reader, oversized_last_line_without_newline_is_reported)
{
	static const size_t sizes[] = {8, 3u << 20}; /* within one read, and across reads */

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *data = malloc(sizes[i] + 8);
		struct line_reader *r;
		const char *l;
		size_t len, off = (size_t)sprintf(data, "ok\n");
		char *p;

		memset(data + off, 'x', sizes[i]);
		p = tmpfile_with(data, off + sizes[i]);
		r = line_reader__open(p, 4);
		cr_assert_eq(line_reader__next(r, &l, &len), LINE_OK);
		cr_assert_eq(line_reader__next(r, &l, &len), LINE_OVERSIZED, "%zu byte last line",
			     sizes[i]);
		cr_assert_eq(line_reader__line_no(r), 2);
		cr_assert_eq(line_reader__next(r, &l, &len), LINE_EOF);
		line_reader__free(r);
		unlink(p);
		free(data);
	}
}

Test(line_reader, many_lines_across_buffer_boundaries)
{
	/* 200k lines of varying length cross every internal buffer edge */
	size_t cap = 40u << 20, off = 0, n = 200000;
	char *data = malloc(cap);
	struct line_reader *r;
	const char *l;
	size_t len, i = 0;
	char *p;

	for (size_t k = 0; k < n; k++)
		off += (size_t)sprintf(data + off, "%zu:%.*s\n", k, (int)(k % 97),
				       "0123456789012345678901234567890123456789012345678901234567"
				       "890123456789012345678901234567890123456");
	p = tmpfile_with(data, off);
	r = line_reader__open(p, 0);
	while (line_reader__next(r, &l, &len) == LINE_OK) {
		char want[160];
		int wl = sprintf(want, "%zu:%.*s", i, (int)(i % 97),
				 "0123456789012345678901234567890123456789012345678901234567"
				 "890123456789012345678901234567890123456");

		cr_assert_eq(len, (size_t)wl, "line %zu", i);
		cr_assert(!memcmp(l, want, len));
		i++;
	}
	cr_assert_eq(i, n);
	line_reader__free(r);
	unlink(p);
	free(data);
}

Test(line_reader, missing_file_sets_errno)
{
	cr_assert_null(line_reader__open("/nonexistent/keyhole/audit.log", 0));
	cr_assert_eq(errno, ENOENT);
}
