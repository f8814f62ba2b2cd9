// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for src/capture/reasm.c: chunk records as the tap sends them -> writes -> lines, with
 * interleaved threads, lines split across writes, lost chunks, truncated writes and aborts.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/reasm.h"
#include "keyhole/audit_event.h"

#define MAX_GOT 64

struct got {
	char *line[MAX_GOT];
	uint32_t flags[MAX_GOT];
	uint32_t file_id[MAX_GOT];
	uint32_t cut[MAX_GOT];
	int n;
};

static void collect(void *ctx, const struct reasm_line *l)
{
	struct got *g = ctx;

	cr_assert(g->n < MAX_GOT);
	g->line[g->n] = strndup(l->data, l->len);
	g->flags[g->n] = l->flags;
	g->file_id[g->n] = l->file_id;
	g->cut[g->n] = l->cut;
	g->n++;
}

static struct got g;
static struct reasm *r;

static void setup(void)
{
	struct reasm_opts o = {.max_line = 1 << 20, .fn = collect, .ctx = &g};

	memset(&g, 0, sizeof(g));
	r = reasm__new(&o);
	cr_assert_not_null(r);
}

static void teardown(void)
{
	for (int i = 0; i < g.n; i++)
		free(g.line[i]);
	reasm__free(r);
}

/* a write's description, from which its chunk records are made */
struct wr {
	uint32_t tid;
	uint64_t write_id;
	uint64_t ino;
	const char *data;	       /* the whole write as the writer made it */
	size_t chunk;		       /* bytes per chunk */
	uint64_t head_end, tail_start; /* truncation (0, 0: none) */
};

/* send chunk @seq of write @w (with truncation applied); returns 0 past the last */
static int send_chunk(const struct wr *w, uint32_t seq)
{
	static struct kh_audit_chunk c;
	uint64_t total = strlen(w->data), off = 0, he = total, ts = total;
	uint32_t s = 0;

	if (w->head_end)
		he = w->head_end, ts = w->tail_start;
	while (off < total) {
		uint64_t lim = off < he ? he : total, n = lim - off;

		if (n > w->chunk)
			n = w->chunk;
		if (s == seq) {
			memset(&c, 0, KH_AUDIT_CHUNK_HDR_SIZE);
			c.hdr.type = KH_REC_AUDIT_CHUNK;
			c.hdr.size = KH_AUDIT_CHUNK_HDR_SIZE + n;
			c.write_id = w->write_id;
			c.dev = 8;
			c.ino = w->ino;
			c.offset = off;
			c.total = total;
			c.head_end = he;
			c.tail_start = ts;
			c.tgid = 100;
			c.tid = w->tid;
			c.seq = seq;
			c.len = n;
			c.file_id = (uint32_t)w->ino;
			c.flags = (w->head_end ? KH_CHUNK_TRUNCATED : 0) |
				  (off + n == total ? KH_CHUNK_LAST : 0);
			memcpy(c.data, w->data + off, n);
			reasm__chunk(r, &c, KH_AUDIT_CHUNK_HDR_SIZE + n);
			return 1;
		}
		off += n;
		if (off == he)
			off = ts;
		s++;
	}
	return 0;
}

static void send_all(const struct wr *w)
{
	for (uint32_t s = 0; send_chunk(w, s); s++)
		;
}

TestSuite(reasm, .init = setup, .fini = teardown);

Test(reasm, one_chunk_several_lines)
{
	struct wr w = {1, 10, 5, "a\nbb\nccc\n", 4096, 0, 0};

	send_all(&w);
	cr_assert_eq(g.n, 3);
	cr_assert_str_eq(g.line[0], "a");
	cr_assert_str_eq(g.line[1], "bb");
	cr_assert_str_eq(g.line[2], "ccc");
	cr_assert_eq(g.file_id[2], 5);
	cr_assert_eq(reasm__stats(r)->writes, 1);
	cr_assert_eq(reasm__stats(r)->lines, 3);
}

Test(reasm, chunks_of_two_threads_interleave)
{
	struct wr a = {1, 10, 5, "first line of thread one\n", 5, 0, 0};
	struct wr b = {2, 11, 5, "thread two writes this\n", 4, 0, 0};
	uint32_t sa = 0, sb = 0;
	int more_a = 1, more_b = 1;

	while (more_a || more_b) {
		if (more_a)
			more_a = send_chunk(&a, sa++);
		if (more_b)
			more_b = send_chunk(&b, sb++);
	}
	cr_assert_eq(g.n, 2);
	/* b has more, shorter chunks but finishes first or second; both must be whole */
	cr_assert(!strcmp(g.line[0], "first line of thread one") ||
		  !strcmp(g.line[1], "first line of thread one"));
	cr_assert(!strcmp(g.line[0], "thread two writes this") ||
		  !strcmp(g.line[1], "thread two writes this"));
	cr_assert_eq(reasm__stats(r)->gap_writes, 0);
}

Test(reasm, line_split_across_writes_of_one_file)
{
	struct wr w1 = {1, 10, 5, "{\"half\":", 4096, 0, 0};
	struct wr other = {1, 11, 6, "other file\n", 4096, 0, 0};
	struct wr w2 = {2, 12, 5, "\"done\"}\nnext\n", 4096, 0, 0};

	send_all(&w1);
	send_all(&other);
	send_all(&w2);
	cr_assert_eq(g.n, 3);
	cr_assert_str_eq(g.line[0], "other file");
	cr_assert_str_eq(g.line[1], "{\"half\":\"done\"}");
	cr_assert_str_eq(g.line[2], "next");
}

Test(reasm, lost_chunk_drops_the_write_only)
{
	struct wr w = {1, 10, 5, "0123456789abcdef\n", 4, 0, 0};
	struct wr next = {1, 11, 5, "after\n", 4096, 0, 0};

	send_chunk(&w, 0);
	send_chunk(&w, 1);
	send_chunk(&w, 3); /* seq 2 never came */
	send_chunk(&w, 4);
	send_all(&next);
	cr_assert_eq(g.n, 1);
	cr_assert_str_eq(g.line[0], "after");
	cr_assert_eq(reasm__stats(r)->gap_writes, 1);
	cr_assert_eq(reasm__stats(r)->writes, 1);
}

Test(reasm, first_chunk_lost_counts_once)
{
	struct wr w = {1, 10, 5, "0123456789abcdef\n", 4, 0, 0};

	for (uint32_t s = 1; send_chunk(&w, s); s++)
		;
	reasm__flush(r);
	cr_assert_eq(g.n, 0);
	cr_assert_eq(reasm__stats(r)->gap_writes, 1);
}

Test(reasm, end_never_came_is_dropped_by_the_next_write)
{
	struct wr w = {1, 10, 5, "0123456789abcdef\n", 4, 0, 0};
	struct wr next = {1, 11, 5, "x\n", 4096, 0, 0};

	send_chunk(&w, 0);
	send_chunk(&w, 1);
	send_all(&next);
	cr_assert_eq(g.n, 1);
	cr_assert_str_eq(g.line[0], "x");
	cr_assert_eq(reasm__stats(r)->gap_writes, 1);
}

Test(reasm, abort_record_drops_at_once)
{
	struct wr w = {1, 10, 5, "0123456789abcdef\n", 4, 0, 0};
	struct kh_audit_write_end e = {.write_id = 10, .tid = 1, .total = 17, .chunks = 2};

	send_chunk(&w, 0);
	send_chunk(&w, 1);
	e.hdr.type = KH_REC_AUDIT_WRITE_END;
	e.hdr.size = sizeof(e);
	reasm__abort(r, &e, sizeof(e));
	reasm__flush(r);
	cr_assert_eq(g.n, 0);
	cr_assert_eq(reasm__stats(r)->gap_writes, 1);
	cr_assert_eq(reasm__stats(r)->aborts, 1);
}

Test(reasm, truncated_write_keeps_head_and_tail)
{
	/* "HEAD....middle....TAIL\n": head 8 bytes, tail from 30 */
	const char *data = "{\"head\":1,\"mid\":\"xxxxxxxxxxx\",\"decision\":\"allow\"}\n";
	size_t total = strlen(data);
	struct wr w = {1, 10, 5, data, 3, 8, total - 22};
	char want[128];

	send_all(&w);
	cr_assert_eq(g.n, 1);
	snprintf(want, sizeof(want), "%.8s%.*s", data, 21, data + total - 22);
	cr_assert_str_eq(g.line[0], want);
	cr_assert_eq(g.flags[0], KH_EV_TRUNCATED);
	cr_assert_eq(g.cut[0], 8, "the tail starts after the 8-byte head");
	cr_assert_eq(reasm__stats(r)->truncated_writes, 1);
	cr_assert_eq(reasm__stats(r)->truncated_lines, 1);
}

Test(reasm, only_the_line_holding_the_hole_is_truncated)
{
	const char *data = "one\ntwo-with-a-long-middle\nthree\n";
	/* hole inside "two..." : bytes [8, 20) skipped */
	struct wr w = {1, 10, 5, data, 4096, 8, 20};

	send_all(&w);
	cr_assert_eq(g.n, 3);
	cr_assert_str_eq(g.line[0], "one");
	cr_assert_eq(g.flags[0], 0);
	cr_assert_str_eq(g.line[1], "two-middle");
	cr_assert_eq(g.flags[1], KH_EV_TRUNCATED);
	cr_assert_eq(g.cut[1], 4);
	cr_assert_eq(g.cut[0], 0);
	cr_assert_str_eq(g.line[2], "three");
	cr_assert_eq(g.flags[2], 0);
}

Test(reasm, bad_offset_jump_without_truncation_is_a_gap)
{
	static struct kh_audit_chunk c;

	memset(&c, 0, sizeof(c));
	c.hdr.type = KH_REC_AUDIT_CHUNK;
	c.write_id = 1;
	c.tid = 3;
	c.total = 10;
	c.len = 4;
	memcpy(c.data, "abcd", 4);
	reasm__chunk(r, &c, KH_AUDIT_CHUNK_HDR_SIZE + 4);
	c.seq = 1;
	c.offset = 6; /* skips 4..6 without a truncation flag */
	c.flags = KH_CHUNK_LAST;
	reasm__chunk(r, &c, KH_AUDIT_CHUNK_HDR_SIZE + 4);
	cr_assert_eq(g.n, 0);
	cr_assert_eq(reasm__stats(r)->gap_writes, 1);
}

Test(reasm, hole_in_a_line_continued_by_the_next_write)
{
	/* a write ends mid-line after its hole; the next write ends the line */
	struct wr w1 = {1, 10, 5, "prev\nab-HOLE-cd", 4096, 8, 13};
	struct wr w2 = {1, 11, 5, "ef\n", 4096, 0, 0};

	send_all(&w1);
	send_all(&w2);
	cr_assert_eq(g.n, 2);
	cr_assert_str_eq(g.line[1], "ab-cdef");
	cr_assert_eq(g.flags[1], KH_EV_TRUNCATED);
	cr_assert_eq(g.cut[1], 3, "the head ab- is 3 bytes");
}

Test(reasm, flush_delivers_unterminated_line)
{
	struct wr w = {1, 10, 5, "complete\npartial", 4096, 0, 0};

	send_all(&w);
	cr_assert_eq(g.n, 1);
	reasm__flush(r);
	cr_assert_eq(g.n, 2);
	cr_assert_str_eq(g.line[1], "partial");
	cr_assert_eq(reasm__stats(r)->partial_lines, 1);
}

Test(reasm, short_record_is_counted_not_read)
{
	static struct kh_audit_chunk c;

	memset(&c, 0, sizeof(c));
	c.len = 100;
	c.total = 100;
	reasm__chunk(r, &c, KH_AUDIT_CHUNK_HDR_SIZE + 10);
	cr_assert_eq(reasm__stats(r)->bad_records, 1);
	cr_assert_eq(g.n, 0);
}

Test(reasm, oversized_partial_line_keeps_head_and_tail)
{
	struct reasm_opts o = {.max_line = 8, .fn = collect, .ctx = &g}; /* tail: 8 / 2 */
	struct reasm *small = reasm__new(&o);
	struct wr w1 = {1, 10, 5, "0123456789", 4096, 0, 0};
	struct wr w2 = {1, 11, 5, "abc\nok\n", 4096, 0, 0};
	struct reasm *saved = r;

	r = small;
	send_all(&w1);
	send_all(&w2);
	r = saved;
	cr_assert_eq(g.n, 2);
	cr_assert_str_eq(g.line[0], "01239abc");
	cr_assert_eq(g.cut[0], 4);
	cr_assert(g.flags[0] & KH_EV_TRUNCATED);
	cr_assert_str_eq(g.line[1], "ok");
	cr_assert_eq(reasm__stats(small)->oversized_lines, 0);
	cr_assert_eq(reasm__stats(small)->truncated_lines, 1);
	reasm__free(small);
}

/* one whole write of @data to file @ino */
static void put(uint64_t ino, const char *data)
{
	static uint64_t id = 1000;
	struct wr w = {1, ++id, ino, data, 4096, 0, 0};

	send_all(&w);
}

/*
 * 64 files are followed at once. A new file takes the place of the least recently written file
 * without a partial line; only when all 64 hold one is a partial line lost (the oldest's),
 * counted.
 */
Test(reasm, a_new_file_evicts_an_idle_stream_before_a_partial_line)
{
	char buf[32];

	put(1, "idle\n"); /* the oldest stream, and the only one without a partial line */
	for (uint64_t ino = 2; ino <= 64; ino++) {
		snprintf(buf, sizeof(buf), "p%llu-", (unsigned long long)ino);
		put(ino, buf);
	}
	put(65, "new-"); /* the 65th file: file 1's stream goes, nothing is lost */
	cr_expect_eq(reasm__stats(r)->oversized_lines, 0);
	put(2, "end\n");
	cr_assert_eq(g.n, 2);
	cr_expect_str_eq(g.line[1], "p2-end", "file 2's partial line survived");
	/* every stream holds a partial line again (2 ended, 66 is new): the least recently
	 * written partial line, file 3's, is the one lost */
	put(2, "again-");
	put(66, "x-");
	cr_expect_eq(reasm__stats(r)->oversized_lines, 1);
	/* file 3 comes back as a new stream: its head is gone, and file 4's line goes now */
	put(3, "tail\n");
	cr_expect_eq(reasm__stats(r)->oversized_lines, 2);
	/* file 3's stream is idle now: file 4, back, takes its place, and nothing more is lost */
	put(4, "end\n");
	cr_expect_eq(reasm__stats(r)->oversized_lines, 2);
	put(5, "end\n"); /* still followed */
	cr_expect_eq(reasm__stats(r)->oversized_lines, 2);
	cr_assert_eq(g.n, 5);
	cr_expect_str_eq(g.line[2], "tail", "file 3's head went with its stream");
	cr_expect_str_eq(g.line[3], "end", "file 4's head went with its stream");
	cr_expect_str_eq(g.line[4], "p5-end", "file 5 kept its partial line");
}
