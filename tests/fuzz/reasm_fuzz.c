// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the reassembly of captured chunks (src/capture/reasm.c).
 *
 * Two modes, by the first byte:
 *  - records: the rest is cut into records (2-byte length, then the bytes) handed to
 *    reasm__chunk() or reasm__abort() as the ring would hand them, whatever they hold. Nothing
 *    may crash, leak or read out of bounds, and every line delivered must lie inside the data.
 *  - writes: the rest describes writes of up to four threads to two files (bytes, chunk size,
 *    whether a chunk is lost or the tap gives up), turned into the chunk records the tap would
 *    send and interleaved across threads as the fuzzer says. Reassembly must give, per file,
 *    exactly the lines of the writes that arrived whole, in the order their last chunk came,
 *    cut at '\n', the unterminated rest at flush; a write missing a chunk or aborted must
 *    contribute nothing. The line maximum is small (from the first byte), so lines spread over
 *    several writes often outgrow it: such a line must come out as line_reader's head-and-tail
 *    mode cuts it (the first max - tail bytes, then the last tail bytes), flagged truncated,
 *    with its true size.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/audit_event.h"
#include "keyhole/reasm.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

#define THREADS 4
#define FILES 2
#define MAX_WRITES 64
#define MAX_STREAM (1u << 16)

struct input {
	const uint8_t *p;
	size_t n;
};

static int next(struct input *in)
{
	if (!in->n)
		return -1;
	in->n--;
	return *in->p++;
}

/* ---- records mode ---- */

static size_t delivered_bytes;

static void count_line(void *ctx, const struct reasm_line *l)
{
	(void)ctx;
	CHECK(l->len <= (64u << 20));
	if (l->len)
		CHECK(l->data[0] == l->data[0] && l->data[l->len - 1] == l->data[l->len - 1]);
	delivered_bytes += l->len;
}

static void records_mode(struct input *in)
{
	struct reasm_opts o = {.fn = count_line};
	struct reasm *r = reasm__new(&o);
	uint8_t *buf = malloc(KH_AUDIT_CHUNK_HDR_SIZE + KH_AUDIT_CHUNK_MAX + 64);

	CHECK(r && buf);
	while (in->n >= 3) {
		size_t len = (size_t)next(in) | (size_t)next(in) << 8;
		int kind = next(in);

		if (len > in->n)
			len = in->n;
		if (len > KH_AUDIT_CHUNK_HDR_SIZE + KH_AUDIT_CHUNK_MAX + 64)
			len = KH_AUDIT_CHUNK_HDR_SIZE + KH_AUDIT_CHUNK_MAX + 64;
		/* an exact copy, so that ASan sees reads past the record's end */
		uint8_t *rec = malloc(len ? len : 1);

		CHECK(rec);
		memcpy(rec, in->p, len);
		in->p += len;
		in->n -= len;
		if (kind & 1)
			reasm__abort(r, (const void *)rec, len);
		else
			reasm__chunk(r, (const void *)rec, len);
		free(rec);
	}
	reasm__flush(r);
	reasm__free(r);
	free(buf);
}

/* ---- writes mode ---- */

struct wr {
	uint32_t tid, file, len, chunk, nchunks, sent, lost; /* lost: seq of a chunk never sent */
	bool abort, done, whole;
	uint64_t id;
	uint8_t data[256];
};

struct stream {
	char *p;
	size_t len, cap;
};

static struct stream want[FILES], got[FILES], cut[FILES];
static size_t max_line, keep_tail;

static void push(struct stream *s, const void *p, size_t n)
{
	if (s->len + n + 1 > s->cap) {
		s->cap = (s->len + n + 1) * 2;
		s->p = realloc(s->p, s->cap);
		CHECK(s->p);
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
}

static void collect_line(void *ctx, const struct reasm_line *l)
{
	(void)ctx;
	CHECK(l->file_id >= 1 && l->file_id <= FILES);
	CHECK(l->len <= max_line);
	/* cut exactly when the line was longer than the maximum; then flagged, with its size */
	CHECK(!!l->full_len == !!(l->flags & KH_EV_TRUNCATED));
	CHECK(!l->full_len ||
	      (l->full_len > max_line && l->len == max_line && l->cut == max_line - keep_tail));
	push(&got[l->file_id - 1], l->data, l->len);
	push(&got[l->file_id - 1], "\n", 1);
}

static void send_chunk(struct reasm *r, struct wr *w)
{
	uint32_t off = w->sent * w->chunk, n = w->len - off < w->chunk ? w->len - off : w->chunk;
	size_t size = KH_AUDIT_CHUNK_HDR_SIZE + n;
	struct kh_audit_chunk *c = calloc(1, size);

	CHECK(c);
	c->hdr.type = KH_REC_AUDIT_CHUNK;
	c->hdr.size = (uint32_t)size;
	c->write_id = w->id;
	c->dev = 8;
	c->ino = 100 + w->file;
	c->offset = off;
	c->total = w->len;
	c->head_end = c->tail_start = w->len;
	c->tgid = 1000;
	c->tid = 1000 + w->tid;
	c->seq = w->sent;
	c->len = n;
	c->file_id = w->file + 1;
	c->flags = w->sent + 1 == w->nchunks ? KH_CHUNK_LAST : 0;
	memcpy(c->data, w->data + off, n);
	if (w->sent != w->lost)
		reasm__chunk(r, c, size);
	free(c);
	w->sent++;
}

static void send_abort(struct reasm *r, const struct wr *w)
{
	struct kh_audit_write_end e = {0};

	e.hdr.type = KH_REC_AUDIT_WRITE_END;
	e.hdr.size = sizeof(e);
	e.write_id = w->id;
	e.total = w->len;
	e.captured = (uint64_t)w->sent * w->chunk;
	e.tgid = 1000;
	e.tid = 1000 + w->tid;
	e.chunks = w->sent;
	reasm__abort(r, &e, sizeof(e));
}

/* read the writes the input describes; returns how many */
static int read_writes(struct input *in, struct wr *ws)
{
	int n = 0, b;

	while (n < MAX_WRITES && (b = next(in)) >= 0) {
		struct wr *w = &ws[n];
		int len = next(in), cs = next(in), fate = next(in);

		if (len < 0 || cs < 0 || fate < 0)
			break;
		memset(w, 0, sizeof(*w));
		w->tid = b & 3;
		w->file = (b >> 2) & 1;
		w->len = (uint32_t)len + 1;
		w->chunk = (uint32_t)cs % 48 + 1;
		w->nchunks = (w->len + w->chunk - 1) / w->chunk;
		w->id = 1 + (uint64_t)n;
		w->lost = fate % 8 == 0 ? (uint32_t)(fate / 8) % w->nchunks : UINT32_MAX;
		w->abort = fate % 8 == 1 && w->nchunks > 1;
		for (uint32_t i = 0; i < w->len; i++) {
			int v = next(in);

			/* few distinct bytes: lines are short and newlines common */
			w->data[i] = v < 0 ? 'x' : (v % 5 == 0 ? '\n' : 'a' + v % 7);
		}
		n++;
	}
	return n;
}

/* the reference: @s's lines, each longer than max_line cut as line_reader cuts it, into @out */
static void cut_lines(const struct stream *s, struct stream *out)
{
	size_t off = 0;

	out->len = 0;
	while (off < s->len) {
		const char *nl = memchr(s->p + off, '\n', s->len - off);
		size_t n = (size_t)(nl - (s->p + off)); /* the stream ends with '\n' */

		if (n > max_line) {
			push(out, s->p + off, max_line - keep_tail);
			push(out, s->p + off + n - keep_tail, keep_tail);
		} else {
			push(out, s->p + off, n);
		}
		push(out, "\n", 1);
		off += n + 1;
	}
}

static void writes_mode(struct input *in, int mode)
{
	struct reasm_opts o = {.fn = collect_line};
	struct wr ws[MAX_WRITES];
	int cur[THREADS], n, q[THREADS][MAX_WRITES], qn[THREADS] = {0}, qi[THREADS] = {0};
	struct reasm *r;
	uint8_t order[256];
	size_t norder;

	norder = in->n < sizeof(order) ? in->n / 2 : sizeof(order);
	memcpy(order, in->p, norder);
	in->p += norder;
	in->n -= norder;
	n = read_writes(in, ws);
	for (int i = 0; i < n; i++)
		q[ws[i].tid][qn[ws[i].tid]++] = i;
	max_line = 2 + (size_t)(mode >> 1) % 48;
	keep_tail = 1 + (size_t)(mode >> 3) % (max_line / 2);
	o.max_line = max_line;
	o.keep_tail = keep_tail;
	r = reasm__new(&o);
	CHECK(r);
	/* one thread's writes go out in order; the threads' chunks interleave as the input says */
	for (size_t step = 0;; step++) {
		int t = -1;

		for (int k = 0; k < THREADS && t < 0; k++) {
			int c = (int)((step < norder ? order[step] : step) + k) % THREADS;

			if (qi[c] < qn[c])
				t = c;
		}
		if (t < 0)
			break;
		cur[t] = q[t][qi[t]];
		struct wr *w = &ws[cur[t]];

		if (w->abort && w->sent == 1) {
			send_abort(r, w);
			qi[t]++;
			continue;
		}
		send_chunk(r, w);
		if (w->sent == w->nchunks) {
			w->whole = w->lost == UINT32_MAX;
			if (w->whole) /* delivered at its last chunk: file order is arrival order */
				push(&want[w->file], w->data, w->len);
			qi[t]++;
		}
	}
	reasm__flush(r);
	for (int f = 0; f < FILES; f++) {
		/* the unterminated rest comes out at flush as a line of its own */
		if (want[f].len && want[f].p[want[f].len - 1] != '\n')
			push(&want[f], "\n", 1);
		cut_lines(&want[f], &cut[f]);
		CHECK(cut[f].len == got[f].len);
		CHECK(!cut[f].len || !memcmp(cut[f].p, got[f].p, cut[f].len));
	}
	reasm__free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	int mode = next(&in);

	if (mode < 0)
		return 0;
	for (int f = 0; f < FILES; f++)
		want[f].len = got[f].len = 0;
	if (mode & 1)
		records_mode(&in);
	else
		writes_mode(&in, mode);
	return 0;
}
