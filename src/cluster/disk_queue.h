/* SPDX-License-Identifier: Apache-2.0 */
/*
 * disk_queue: the facts Redis has not acknowledged yet, on disk (cluster.queue_dir), so that a
 * crashed or restarted keyhole publishes them after its restart, once, instead of losing them.
 *
 * The queue is a directory of segment files appended to in order, and a cursor file naming the
 * first fact not acknowledged. Every fact is written (one write(2), so a process crash never
 * leaves half of one unless the machine itself stops) before the capturing thread goes on; the
 * publisher reads the facts back from the cursor, sends them, and moves the cursor past what
 * Redis acknowledged. Segments wholly before the cursor are deleted.
 *
 * Format (little-endian), designed to be checked, not trusted:
 *
 *   segment <16 hex digits>.kq:  "KHFQ" u32 version (1),
 *                                then records: u32 len, i32 partition, u32 crc32, len bytes
 *                                (crc32 of the len and partition bytes, then of the fact)
 *   cursor:                      "KHQC" u32 version, u64 segment, u64 offset, u32 crc32 of
 *                                the 24 bytes before it; rewritten in place
 *
 * At open every segment from the cursor on is walked: the first record that fails a check
 * (a torn write at the tail after a crash, a flipped bit) ends its segment; it is counted, the
 * segment is cut there (ftruncate) and nothing before it is lost. A cursor that fails its check
 * sends the reader back to the oldest segment (facts may then be published twice, which the
 * correlator's duplicate filter absorbs). Appends go to a new segment at each start.
 */
#ifndef KEYHOLE_CLUSTER_DISK_QUEUE_H
#define KEYHOLE_CLUSTER_DISK_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DQ_VERSION 1
#define DQ_REC_HEAD 12		  /* len, partition, crc */
#define DQ_REC_MAX (1024u * 1024) /* a longer length is corruption (facts are <= 256 KiB) */
#define DQ_SEG_MIN (64ull * 1024) /* segment size bounds: a quarter of the queue, within */
#define DQ_SEG_MAX (64ull << 20)

struct dq_stats {
	uint64_t pending;      /* facts written, not acknowledged yet */
	uint64_t bytes;	       /* their bytes on disk (records with their headers) */
	uint64_t recovered;    /* facts found on disk at open (a previous run's) */
	uint64_t corrupt;      /* records that failed a check (each cut its segment there) */
	uint64_t cut_bytes;    /* bytes cut away behind them */
	uint64_t full;	       /* appends refused: the queue was at its byte bound */
	uint64_t write_errors; /* appends the disk refused (ENOSPC, EIO): counted, not queued */
};

/* one fact read back */
struct dq_rec {
	char *line; /* malloc'd, NUL-terminated; the caller frees */
	uint32_t len;
	int32_t partition;
};

struct disk_queue;

/*
 * Open (creating) the queue in @dir, bounded to @max_bytes of facts not acknowledged. Another
 * keyhole holding the same directory is refused (-EBUSY). Returns 0 or a negative errno, reported
 * here with the path.
 */
int dq__open(const char *dir, uint64_t max_bytes, struct disk_queue **out);
void dq__close(struct disk_queue *q);

/* Append one fact. -ENOSPC when the bound is reached, -EIO (or the write's errno) when the disk
 * refused it; both counted. Thread-safe against the reader. */
int dq__append(struct disk_queue *q, const char *line, uint32_t len, int32_t partition);

/* Read up to @max facts from the cursor (the cursor does not move). Returns how many. */
size_t dq__peek(struct disk_queue *q, struct dq_rec *recs, size_t max);
/* The first @n facts of the last peek were acknowledged: move the cursor past them. */
int dq__ack(struct disk_queue *q, size_t n);

/* fdatasync what was appended; returns how many appends it covers in all (since open) */
uint64_t dq__sync(struct disk_queue *q);
/* appends since open (the sequence dq__sync() reports against) */
uint64_t dq__appended(struct disk_queue *q);

void dq__stats(struct disk_queue *q, struct dq_stats *s);

/* encode a record header for @line into @head (DQ_REC_HEAD bytes); for tests */
void dq__rec_head(uint8_t *head, const char *line, uint32_t len, int32_t partition);

#endif /* KEYHOLE_CLUSTER_DISK_QUEUE_H */
