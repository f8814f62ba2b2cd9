// SPDX-License-Identifier: Apache-2.0
/*
 * reasm: chunk records -> writes -> lines (see reasm.h for the model).
 *
 * The common case, a one-chunk write of whole lines to a file with no partial line pending, is
 * cut into lines straight from the ring's memory without a copy. Everything else is copied into
 * a per-thread write buffer and, for partial lines, a per-file pending buffer. Both tables are
 * small: in-flight writes are bounded by the writer's threads, files by the rotation history.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/reasm.h"
#include "keyhole/audit_event.h"
#include "keyhole/keytab.h"

#define REASM_MAX_LINE_DEFAULT (64u << 20)
#define REASM_MAX_STREAMS 64
#define NO_GAP SIZE_MAX

struct buf {
	char *p;
	size_t len;
	size_t cap;
};

/* a write being rebuilt, one per writer thread */
struct wbuf {
	uint32_t tid;
	uint32_t tgid;
	uint64_t write_id;
	uint64_t dev, ino;
	uint32_t file_id;
	uint32_t next_seq;
	uint64_t next_off;
	uint64_t drop_id; /* write_id being dropped: its later chunks are ignored, not recounted */
	size_t gap_at;	  /* truncated writes: buffer position of the hole */
	bool active;
	struct buf b;
};

/* the line state of one file: a value of the streams keytab, keyed by (dev, ino) */
struct stream {
	uint64_t dev, ino;
	uint32_t file_id;
	bool pending_trunc; /* the pending partial line spans a truncation hole */
	bool skipping;	    /* out of memory for the pending line: drop until its newline */
	bool cutting;	    /* the pending line grew past max_line: head kept, tail window slides */
	uint32_t pending_cut; /* where in the pending line the hole is (pending_trunc) */
	uint64_t full;	      /* bytes received of the pending line (its true size when cut) */
	uint64_t line_no;
	struct buf pending;
};

struct reasm {
	struct reasm_opts o;
	struct reasm_stats st;
	struct wbuf *w;
	size_t nw, capw;
	/* (dev, ino) -> struct stream, least recently written first; at most REASM_MAX_STREAMS */
	struct keytab *streams;
	struct stream *last; /* the stream of the latest write: nearly every write's */
	struct buf spare;    /* an evicted stream's pending buffer, for the next new stream */
};

/* metadata of the write being cut into lines */
struct wmeta {
	uint64_t dev, ino;
	uint32_t file_id, tgid, tid;
	uint64_t ts_ns;
};

static int buf_append(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;

		while (cap < b->len + n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np)
			return -ENOMEM;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static void stream_drop(void *value, void *arg)
{
	struct stream *s = value;

	(void)arg;
	free(s->pending.p);
}

struct reasm *reasm__new(const struct reasm_opts *opts)
{
	struct reasm *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->streams = keytab__new(sizeof(struct stream), REASM_MAX_STREAMS, stream_drop, NULL);
	if (!r->streams) {
		free(r);
		return NULL;
	}
	r->o = *opts;
	if (!r->o.max_line)
		r->o.max_line = REASM_MAX_LINE_DEFAULT;
	if (!r->o.keep_tail)
		r->o.keep_tail = KH_AUDIT_TAIL_DEFAULT;
	if (r->o.max_line < 2) /* room for a head and a tail */
		r->o.max_line = 2;
	if (r->o.keep_tail > r->o.max_line / 2)
		r->o.keep_tail = r->o.max_line / 2;
	return r;
}

void reasm__free(struct reasm *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nw; i++)
		free(r->w[i].b.p);
	keytab__free(r->streams); /* its drop frees the pending lines */
	free(r->spare.p);
	free(r->w);
	free(r);
}

const struct reasm_stats *reasm__stats(const struct reasm *r)
{
	return &r->st;
}

static struct wbuf *wbuf_get(struct reasm *r, uint32_t tid, bool create)
{
	for (size_t i = 0; i < r->nw; i++)
		if (r->w[i].tid == tid)
			return &r->w[i];
	if (!create)
		return NULL;
	if (r->nw == r->capw) {
		size_t cap = r->capw ? r->capw * 2 : 16;
		struct wbuf *nw = realloc(r->w, cap * sizeof(*nw));

		if (!nw)
			return NULL;
		r->w = nw;
		r->capw = cap;
	}
	memset(&r->w[r->nw], 0, sizeof(r->w[0]));
	r->w[r->nw].tid = tid;
	return &r->w[r->nw++];
}

/* drop the write @w holds: some of its chunks never came */
static void wbuf_drop(struct reasm *r, struct wbuf *w)
{
	if (!w->active)
		return;
	r->st.gap_writes++;
	r->st.gap_bytes += w->b.len;
	w->drop_id = w->write_id;
	w->active = false;
	w->b.len = 0;
}

/*
 * Room for a new stream in a full table: the least recently written stream without a partial
 * line goes, or, when all 64 hold one, the least recently written (its partial line is lost,
 * counted). Only a new file gets here (rotation), so the walk is rare.
 */
static void stream_evict(struct reasm *r)
{
	struct stream *victim = keytab__oldest(r->streams);

	for (struct stream *s = victim; s; s = keytab__newer(r->streams, s))
		if (!s->pending.len) {
			victim = s;
			break;
		}
	if (victim->pending.len)
		r->st.oversized_lines++;
	if (r->last == victim)
		r->last = NULL;
	if (!r->spare.p) { /* its buffer serves the stream that takes its place */
		r->spare = victim->pending;
		victim->pending = (struct buf){0};
	}
	keytab__remove(r->streams, victim);
}

/* the stream of file (dev, ino), created on first use (NULL when out of memory) */
static struct stream *stream_get(struct reasm *r, uint64_t dev, uint64_t ino, uint32_t file_id)
{
	const uint64_t key[2] = {dev, ino};
	struct stream *s = r->last;
	bool created;

	if (s && s->dev == dev && s->ino == ino) {
		/* already the most recent: every stream handed out is touched and becomes last */
	} else if ((s = keytab__find(r->streams, key, sizeof(key)))) {
		keytab__touch(r->streams, s);
	} else {
		if (keytab__full(r->streams))
			stream_evict(r);
		s = keytab__upsert(r->streams, key, sizeof(key), &created);
		if (!s)
			return NULL;
		s->dev = dev;
		s->ino = ino;
		s->pending = r->spare;
		s->pending.len = 0;
		r->spare = (struct buf){0};
	}
	s->file_id = file_id;
	r->last = s;
	return s;
}

static void emit(struct reasm *r, struct stream *s, const struct wmeta *m, const char *p, size_t n,
		 bool trunc, size_t cut, uint64_t full)
{
	struct reasm_line l = {
	    .data = p,
	    .len = n,
	    .file_id = m->file_id,
	    .flags = trunc ? KH_EV_TRUNCATED : 0,
	    .cut = trunc ? (uint32_t)cut : 0,
	    .tgid = m->tgid,
	    .tid = m->tid,
	    .ts_ns = m->ts_ns,
	    .line_no = ++s->line_no,
	    .dev = m->dev,
	    .ino = m->ino,
	    .full_len = full > n ? full : 0,
	};

	r->st.lines++;
	if (trunc)
		r->st.truncated_lines++;
	if (r->o.fn)
		r->o.fn(r->o.ctx, &l);
}

/* the pending line is over: start the next one */
static void pending_reset(struct stream *s)
{
	s->pending.len = 0;
	s->pending_trunc = false;
	s->cutting = false;
	s->full = 0;
}

/* cutting: slide the tail window held behind the head to the last keep_tail bytes of it + @p */
static int window_add(struct reasm *r, struct stream *s, const char *p, size_t n)
{
	size_t head = s->pending_cut, held = s->pending.len - head, keep = 0;

	if (n < r->o.keep_tail) {
		keep = r->o.keep_tail - n < held ? r->o.keep_tail - n : held;
		memmove(s->pending.p + head, s->pending.p + s->pending.len - keep, keep);
	} else {
		p += n - r->o.keep_tail;
		n = r->o.keep_tail;
	}
	s->pending.len = head + keep;
	return buf_append(&s->pending, p, n);
}

/*
 * The pending line would outgrow max_line with @n more bytes: keep its first max_line - keep_tail
 * bytes (fewer when a tap hole comes earlier: that hole becomes the cut) and from now on only its
 * last keep_tail bytes behind them, as line_reader's head-and-tail mode and the tap cut a line.
 * Consumes the bytes of @p that complete the head; returns how many, or SIZE_MAX out of memory.
 */
static size_t cut_begin(struct reasm *r, struct stream *s, const char *p, size_t n)
{
	size_t head = r->o.max_line - r->o.keep_tail, from = head, took = 0;

	if (s->pending_trunc) { /* nothing between a hole and the cut survives */
		head = s->pending_cut < head ? s->pending_cut : head;
		from = s->pending_cut;
	}
	if (s->pending.len < head) { /* fill the head first */
		took = head - s->pending.len < n ? head - s->pending.len : n;
		if (buf_append(&s->pending, p, took))
			return SIZE_MAX;
		from = s->pending.len;
	}
	if (from > s->pending.len)
		from = s->pending.len;
	memmove(s->pending.p + head, s->pending.p + from, s->pending.len - from);
	s->pending.len = head + (s->pending.len - from);
	s->cutting = true;
	s->pending_trunc = true;
	s->pending_cut = (uint32_t)head;
	return took;
}

/* a tap hole in the pending line at its current end (only one hole is kept per line) */
static void pending_hole(struct stream *s)
{
	if (s->cutting || s->pending_trunc)
		s->pending.len = s->pending_cut; /* the bytes between two holes are lost too */
	else
		s->pending_cut = (uint32_t)s->pending.len;
	s->pending_trunc = true;
}

/* append hole-free bytes to the stream's partial line */
static void pending_bytes(struct reasm *r, struct stream *s, const char *p, size_t n)
{
	int err = 0;

	if (!s->cutting && s->pending.len + n > r->o.max_line) {
		size_t took = cut_begin(r, s, p, n);

		if (took == SIZE_MAX)
			err = -ENOMEM;
		else
			p += took, n -= took;
	}
	if (n && !err)
		err = s->cutting ? window_add(r, s, p, n) : buf_append(&s->pending, p, n);
	if (err) { /* out of memory: the line is lost */
		r->st.oversized_lines++;
		pending_reset(s);
		s->skipping = true;
	}
}

/*
 * Append to the stream's partial line; past max_line it is cut (head and tail kept) and counted
 * truncated when delivered. @hole: offset in @p of a truncation hole, or NO_GAP.
 */
static void pending_add(struct reasm *r, struct stream *s, const char *p, size_t n, size_t hole)
{
	if (s->skipping)
		return;
	s->full += n;
	if (hole == NO_GAP) {
		pending_bytes(r, s, p, n);
		return;
	}
	pending_bytes(r, s, p, hole);
	if (s->skipping)
		return;
	pending_hole(s);
	pending_bytes(r, s, p + hole, n - hole);
}

/* cut one whole write (hole at gap_at, or NO_GAP) into lines of its file's stream */
static void deliver(struct reasm *r, const struct wmeta *m, const char *data, size_t len,
		    size_t gap_at)
{
	struct stream *s = stream_get(r, m->dev, m->ino, m->file_id);
	size_t pos = 0;

	r->st.writes++;
	r->st.bytes += len;
	if (gap_at != NO_GAP)
		r->st.truncated_writes++;
	if (!s) { /* out of memory for the stream: its lines are lost, counted as dropped */
		r->st.oversized_lines++;
		return;
	}
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - data) : len;
		/* the line holds bytes [pos, end] (its newline at end): does the hole fall in it?
		 */
		bool trunc = gap_at != NO_GAP && pos <= gap_at && gap_at <= end;
		size_t hole = trunc ? gap_at - pos : NO_GAP;

		if (!nl) {
			pending_add(r, s, data + pos, end - pos, hole);
			break;
		}
		if (s->skipping) {
			s->skipping = false; /* the oversized line ends here */
		} else if (s->pending.len == 0 && !s->pending_trunc && end - pos <= r->o.max_line) {
			emit(r, s, m, data + pos, end - pos, trunc, hole, 0);
		} else {
			pending_add(r, s, data + pos, end - pos, hole);
			if (!s->skipping)
				emit(r, s, m, s->pending.p, s->pending.len, s->pending_trunc,
				     s->pending_cut, s->cutting ? s->full : 0);
			s->skipping = false;
		}
		pending_reset(s);
		pos = end + 1;
	}
}

static bool chunk_valid(const struct kh_audit_chunk *c, size_t size)
{
	return size >= KH_AUDIT_CHUNK_HDR_SIZE && c->len <= KH_AUDIT_CHUNK_MAX &&
	       KH_AUDIT_CHUNK_HDR_SIZE + (size_t)c->len <= size && c->len > 0 &&
	       c->offset + c->len <= c->total;
}

void reasm__chunk(struct reasm *r, const struct kh_audit_chunk *c, size_t size)
{
	struct wmeta m;
	struct wbuf *w;
	bool last;

	if (!chunk_valid(c, size)) {
		r->st.bad_records++;
		return;
	}
	r->st.chunks++;
	m = (struct wmeta){c->dev, c->ino, c->file_id, c->tgid, c->tid, c->hdr.ts_ns};
	last = c->flags & KH_CHUNK_LAST;
	w = wbuf_get(r, c->tid, c->seq == 0);
	if (c->seq == 0) {
		if (!w) { /* out of memory for the table: the write is lost */
			r->st.gap_writes++;
			r->st.gap_bytes += c->len;
			return;
		}
		wbuf_drop(r, w); /* a write still open on this thread lost its end */
		if (last && c->offset == 0 && c->len == c->total) {
			deliver(r, &m, (const char *)c->data, c->len, NO_GAP);
			return;
		}
		w->active = true;
		w->write_id = c->write_id;
		w->tgid = c->tgid;
		w->dev = c->dev;
		w->ino = c->ino;
		w->file_id = c->file_id;
		w->next_seq = 0;
		w->next_off = 0;
		w->gap_at = NO_GAP;
		w->b.len = 0;
	} else if (!w || !w->active || w->write_id != c->write_id) {
		/* a write whose first chunk never came; count it once */
		if (w && w->drop_id == c->write_id)
			return;
		if (!w)
			w = wbuf_get(r, c->tid, true);
		if (!w)
			return;
		wbuf_drop(r, w);
		r->st.gap_writes++;
		r->st.gap_bytes += c->len;
		w->drop_id = c->write_id;
		return;
	}
	if (c->seq != w->next_seq) {
		wbuf_drop(r, w);
		return;
	}
	if (c->offset != w->next_off) {
		/* the one jump a truncated write makes: from the head's end to the tail's start */
		if (!(c->flags & KH_CHUNK_TRUNCATED) || w->gap_at != NO_GAP ||
		    w->next_off != c->head_end || c->offset != c->tail_start) {
			wbuf_drop(r, w);
			return;
		}
		w->gap_at = w->b.len;
	}
	if (buf_append(&w->b, c->data, c->len)) {
		wbuf_drop(r, w);
		return;
	}
	w->next_seq++;
	w->next_off = c->offset + c->len;
	if (!last)
		return;
	if (w->next_off != c->total) {
		wbuf_drop(r, w);
		return;
	}
	w->active = false;
	deliver(r, &m, w->b.p, w->b.len, w->gap_at);
	w->b.len = 0;
}

void reasm__abort(struct reasm *r, const struct kh_audit_write_end *e, size_t size)
{
	struct wbuf *w;

	if (size < sizeof(*e)) {
		r->st.bad_records++;
		return;
	}
	r->st.aborts++;
	w = wbuf_get(r, e->tid, false);
	if (w && w->active && w->write_id == e->write_id)
		wbuf_drop(r, w);
}

void reasm__flush(struct reasm *r)
{
	for (size_t i = 0; i < r->nw; i++)
		wbuf_drop(r, &r->w[i]);
	for (struct stream *s = keytab__oldest(r->streams); s; s = keytab__newer(r->streams, s)) {
		struct wmeta m = {s->dev, s->ino, s->file_id, 0, 0, 0};

		if (!s->pending.len || s->skipping)
			continue;
		r->st.partial_lines++;
		emit(r, s, &m, s->pending.p, s->pending.len, s->pending_trunc, s->pending_cut,
		     s->cutting ? s->full : 0);
		pending_reset(s);
	}
}
