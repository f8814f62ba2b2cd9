/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reasm: rebuilds the apiserver's writes from the tap's chunk records, and its lines from the
 * writes.
 *
 * Writes: chunks of one write share (tid, write_id) and come in seq order from one CPU, while
 * chunks of other threads' writes may sit between them, so in-flight writes are keyed by thread
 * id. A write whose chunks do not arrive whole (seq or offset gap, an abort record from the tap)
 * is dropped and counted; a write the tap truncated (head and tail kept) is delivered with the
 * position of its hole.
 *
 * Lines: one stream per file (dev, inode): bytes of complete writes are appended in arrival order
 * and cut at '\n'. A write may end mid-line; the rest waits for the next write to the same file.
 * The apiserver serialises its writes (one write(2) per line under a lock), so arrival order is
 * file order. A line that spans a truncation hole is flagged KH_EV_TRUNCATED.
 *
 * A line longer than max_line (only a writer that splits a line over several writes can make
 * one: the tap caps a single write far below it) is cut as line_reader's head-and-tail mode cuts
 * it: its first max_line - keep_tail bytes, then a window sliding over its last keep_tail bytes,
 * so it never holds more than max_line. It is delivered flagged KH_EV_TRUNCATED with the cut and
 * its true size, never dropped. Only one hole is kept per line: bytes between two holes (a tap
 * hole and the cut, or two tap holes) are dropped with them.
 */
#ifndef KEYHOLE_CAPTURE_REASM_H
#define KEYHOLE_CAPTURE_REASM_H

#include <stddef.h>
#include <stdint.h>

#include "keyhole/ring_abi.h"

struct reasm_line {
	const char *data; /* without the newline; valid only during the callback */
	size_t len;
	uint32_t file_id; /* the tap's cookie for the file */
	uint32_t flags;	  /* KH_EV_TRUNCATED */
	uint32_t cut;	  /* truncated lines: offset in the line where the kept tail starts */
	uint32_t tgid;	  /* writer of the line's last byte */
	uint32_t tid;
	uint64_t ts_ns;	   /* capture time (CLOCK_MONOTONIC) of the line's last chunk */
	uint64_t line_no;  /* lines seen on this file since the agent started, from 1 */
	uint64_t dev, ino; /* the file (kernel dev_t encoding, inode) */
	uint64_t full_len; /* lines cut for exceeding max_line: bytes received of it; 0 otherwise */
};

typedef void (*reasm_line_fn)(void *ctx, const struct reasm_line *line);

struct reasm_opts {
	size_t max_line;  /* longer lines keep head and tail (0: 64 MB) */
	size_t keep_tail; /* of a line cut for max_line: tail bytes kept (0: KH_AUDIT_TAIL_DEFAULT;
			     at most max_line / 2) */
	reasm_line_fn fn;
	void *ctx;
};

struct reasm_stats {
	uint64_t chunks;	   /* chunk records taken */
	uint64_t writes;	   /* writes delivered whole (or head and tail, when truncated) */
	uint64_t bytes;		   /* bytes of those writes */
	uint64_t lines;		   /* lines handed to the callback */
	uint64_t gap_writes;	   /* partly received writes dropped: a chunk never came */
	uint64_t gap_bytes;	   /* bytes received for those writes and dropped with them */
	uint64_t aborts;	   /* abort records (kh_audit_write_end) taken */
	uint64_t truncated_writes; /* writes the tap kept head and tail of */
	uint64_t truncated_lines;  /* lines flagged KH_EV_TRUNCATED */
	uint64_t oversized_lines; /* lines dropped: out of memory, or 64 files had a partial line */
	uint64_t partial_lines;	  /* unterminated lines delivered at flush */
	uint64_t bad_records;	  /* records whose sizes do not add up (never expected) */
};

struct reasm;

/* Returns NULL with errno set. */
struct reasm *reasm__new(const struct reasm_opts *opts);
void reasm__free(struct reasm *r);

/* Take one KH_REC_AUDIT_CHUNK record of @size bytes as the ring delivered it. */
void reasm__chunk(struct reasm *r, const struct kh_audit_chunk *c, size_t size);

/* Take one KH_REC_AUDIT_WRITE_END (the tap gave up on a write). */
void reasm__abort(struct reasm *r, const struct kh_audit_write_end *e, size_t size);

/*
 * End of capture: writes still missing chunks are dropped (counted as gaps); lines without their
 * newline are delivered as they are (the file ends the same way) and counted partial.
 */
void reasm__flush(struct reasm *r);

const struct reasm_stats *reasm__stats(const struct reasm *r);

#endif /* KEYHOLE_CAPTURE_REASM_H */
