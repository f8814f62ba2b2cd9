// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for the line cut of src/capture/reasm.c: a line longer than the reassembly's maximum,
 * written in many writes of odd sizes, must come out as line_reader's head-and-tail mode cuts
 * the same line read from a file (the reference), flagged truncated, with its true size, never
 * dropped; the lines around it must be untouched.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyhole/audit_event.h"
#include "keyhole/line_reader.h"
#include "keyhole/reasm.h"

#define MAX_GOT 8

struct got {
	char *line[MAX_GOT];
	size_t len[MAX_GOT];
	uint32_t flags[MAX_GOT], cut[MAX_GOT];
	uint64_t full[MAX_GOT];
	int n;
};

static void collect(void *ctx, const struct reasm_line *l)
{
	struct got *g = ctx;

	cr_assert(g->n < MAX_GOT);
	g->line[g->n] = malloc(l->len + 1);
	memcpy(g->line[g->n], l->data, l->len);
	g->len[g->n] = l->len;
	g->flags[g->n] = l->flags;
	g->cut[g->n] = l->cut;
	g->full[g->n] = l->full_len;
	g->n++;
}

/* one write of @n bytes as the tap sends it: chunks of up to KH_AUDIT_CHUNK_MAX */
static void send_write(struct reasm *r, uint64_t id, const char *p, size_t n)
{
	static struct kh_audit_chunk c;
	uint32_t seq = 0;

	for (size_t off = 0; off < n; seq++) {
		size_t k = n - off < KH_AUDIT_CHUNK_MAX ? n - off : KH_AUDIT_CHUNK_MAX;

		memset(&c, 0, KH_AUDIT_CHUNK_HDR_SIZE);
		c.hdr.type = KH_REC_AUDIT_CHUNK;
		c.hdr.size = (uint32_t)(KH_AUDIT_CHUNK_HDR_SIZE + k);
		c.write_id = id;
		c.dev = 8;
		c.ino = 77;
		c.offset = off;
		c.total = n;
		c.head_end = c.tail_start = n;
		c.tgid = c.tid = 4242;
		c.seq = seq;
		c.len = (uint32_t)k;
		c.file_id = 1;
		c.flags = off + k == n ? KH_CHUNK_LAST : 0;
		memcpy(c.data, p + off, k);
		reasm__chunk(r, &c, KH_AUDIT_CHUNK_HDR_SIZE + k);
		off += k;
	}
}

/* text of @n bytes without a newline, different everywhere so a misplaced byte shows */
static char *text(size_t n, unsigned seed)
{
	char *p = malloc(n + 1);

	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (char)('!' + (seed >> 16) % 90);
	}
	return p;
}

/* the reference: @line read back by line_reader in head-and-tail mode */
static void reference(const char *line, size_t n, size_t max, size_t tail, char **out, size_t *len,
		      size_t *cut, uint64_t *size)
{
	char path[] = "/tmp/kh-reasm-cut-XXXXXX";
	int fd = mkstemp(path);
	struct line_reader *lr;
	const char *l;

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, line, n), (ssize_t)n);
	cr_assert_eq(write(fd, "\n", 1), 1);
	close(fd);
	lr = line_reader__open(path, max);
	cr_assert_not_null(lr);
	line_reader__keep_head_tail(lr, tail);
	cr_assert_eq(line_reader__next(lr, &l, len), LINE_CUT);
	*out = malloc(*len);
	memcpy(*out, l, *len);
	*cut = line_reader__cut(lr);
	*size = line_reader__line_size(lr);
	line_reader__free(lr);
	unlink(path);
}

/*
 * "before\n" + a line of @n bytes in writes of 1 to @maxw bytes drawn from @seed + "\nafter\n",
 * through a reassembly with line maximum @max and tail @tail: checked against the reference
 */
static void check(size_t n, size_t max, size_t tail, unsigned seed, size_t maxw)
{
	struct got g = {0};
	struct reasm_opts o = {.max_line = max, .keep_tail = tail, .fn = collect, .ctx = &g};
	struct reasm *r = reasm__new(&o);
	char *line = text(n, seed), *want;
	size_t wlen, wcut, off = 0;
	uint64_t wsize, id = 1;

	cr_assert_not_null(r);
	reference(line, n, max, tail, &want, &wlen, &wcut, &wsize);
	send_write(r, id++, "before\n", 7);
	while (off < n) { /* none ending the line */
		size_t k;

		seed = seed * 1103515245u + 12345u;
		k = 1 + (seed >> 8) % maxw;
		k = k < n - off ? k : n - off;
		send_write(r, id++, line + off, k);
		off += k;
	}
	send_write(r, id++, "\nafter\n", 7);
	reasm__flush(r);

	cr_assert_eq(g.n, 3, "lines: %d", g.n);
	cr_assert(g.len[0] == 6 && !memcmp(g.line[0], "before", 6));
	cr_assert(g.len[2] == 5 && !memcmp(g.line[2], "after", 5));
	cr_assert_eq(g.len[1], wlen, "cut line of %zu bytes: %zu, reference %zu", n, g.len[1],
		     wlen);
	cr_assert(!memcmp(g.line[1], want, wlen), "cut line of %zu bytes differs", n);
	cr_assert_eq(g.cut[1], wcut);
	cr_assert_eq(g.full[1], wsize);
	cr_assert_eq(g.full[1], n);
	cr_assert(g.flags[1] & KH_EV_TRUNCATED);
	cr_assert_eq(g.flags[0] | g.flags[2], 0);
	cr_assert_eq(reasm__stats(r)->truncated_lines, 1);
	cr_assert_eq(reasm__stats(r)->oversized_lines, 0);
	for (int i = 0; i < g.n; i++)
		free(g.line[i]);
	free(line);
	free(want);
	reasm__free(r);
}

Test(reasm_cut, line_over_the_max_in_many_writes_is_cut_as_line_reader_cuts_it)
{
	check(100000, 4096, 512, 1, 3 * 4096);
	check(4097, 4096, 512, 2, 3 * 4096);  /* one byte over */
	check(9000, 4096, 2048, 3, 3 * 4096); /* the largest tail */
	check(50000, 1000, 7, 4, 3000);	      /* writes much longer than the tail */
	check(300000, 64 << 10, 4096, 5, 3 * (64 << 10));
	/* writes shorter than the tail: the window slides within itself */
	check(20000, 1000, 100, 6, 150);
	check(5000, 64, 32, 7, 40);
	check(3000, 1000, 400, 8, 1);
}

Test(reasm_cut, line_of_exactly_the_max_is_whole)
{
	struct got g = {0};
	struct reasm_opts o = {.max_line = 4096, .keep_tail = 512, .fn = collect, .ctx = &g};
	struct reasm *r = reasm__new(&o);
	char *line = text(4096, 9);

	for (int i = 0; i < 4; i++)
		send_write(r, 1 + i, line + i * 1024, 1024);
	send_write(r, 9, "\n", 1);
	cr_assert_eq(g.n, 1);
	cr_assert(g.len[0] == 4096 && !memcmp(g.line[0], line, 4096));
	cr_assert_eq(g.flags[0], 0);
	cr_assert_eq(g.full[0], 0);
	free(g.line[0]);
	free(line);
	reasm__free(r);
}

Test(reasm_cut, unterminated_line_over_the_max_is_cut_at_flush)
{
	struct got g = {0};
	struct reasm_opts o = {.max_line = 1000, .keep_tail = 100, .fn = collect, .ctx = &g};
	struct reasm *r = reasm__new(&o);
	char *line = text(5000, 11);

	for (int i = 0; i < 50; i++)
		send_write(r, 1 + i, line + i * 100, 100);
	cr_assert_eq(g.n, 0);
	reasm__flush(r);
	cr_assert_eq(g.n, 1);
	cr_assert_eq(g.len[0], 1000);
	cr_assert(!memcmp(g.line[0], line, 900) && !memcmp(g.line[0] + 900, line + 4900, 100));
	cr_assert_eq(g.cut[0], 900);
	cr_assert_eq(g.full[0], 5000);
	cr_assert_eq(reasm__stats(r)->partial_lines, 1);
	free(g.line[0]);
	free(line);
	reasm__free(r);
}
