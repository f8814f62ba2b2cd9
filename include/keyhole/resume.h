/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resume: close the blind window of a restart (issue 19). With a checkpoint (keyhole/checkpoint.h)
 * from the last run, the files an audit log wrote since are read from where that run stopped,
 * through the pipeline, alerting as live would; then the live tap takes over without a gap or a
 * double at the seam.
 *
 * The seam: the tap is attached before the catch-up starts, so lines written meanwhile are both
 * read from disk and waiting in the ring. The apiserver writes one line at a time and the ring
 * keeps that order, so the first live lines are a suffix of the lines the catch-up read last:
 * resume keeps the keys (auditID and stage) of the last KH_RESUME_SEAM lines it read, and drops
 * live lines while they follow that suffix. The same keys give the live lines their file offset.
 *
 * Bounds: a catch-up larger than max_bytes, or lines older than max_age, is cut at its start;
 * what is skipped (files, bytes, time span) is written as a keyhole-catchup-skipped alert and
 * counted, as is a file that vanished before it could be read.
 */
#ifndef KEYHOLE_RESUME_H
#define KEYHOLE_RESUME_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "keyhole/checkpoint.h"

#define KH_RESUME_SEAM 65536 /* lines remembered at the seam: more than a 16 MB ring holds */

struct kh_pipeline;

struct kh_resume_opts {
	uint64_t max_bytes;	   /* catch-up larger than this is cut at its start; 0: no bound */
	int64_t max_age_ns;	   /* lines older than this (event time) are skipped; 0: no bound */
	uint64_t warmup_max_bytes; /* the warm-up re-reads at most this before the checkpoint */
	FILE *out;		   /* where keyhole-catchup-skipped alerts go */
	bool seam;		   /* a live tap follows: remember the seam */
};

struct kh_resume_stats {
	uint64_t logs;		 /* audit logs resumed from a checkpoint */
	uint64_t files;		 /* files read */
	uint64_t lines;		 /* lines caught up (fed through the pipeline) */
	uint64_t bytes;		 /* bytes caught up */
	uint64_t skipped_ranges; /* keyhole-catchup-skipped alerts written */
	uint64_t skipped_bytes;	 /* bytes not caught up: over the bounds, or in vanished files */
	uint64_t vanished;	 /* checkpoint files not found (rotated away and deleted) */
	uint64_t seam_doubles;	 /* live lines dropped: the catch-up had read them */
	int64_t behind_ns;	 /* at start: now minus the checkpoint's event time */
	int64_t last_ns;	 /* event time of the last line caught up */
	bool running;		 /* a catch-up is in progress */
	/* the warm-up: lines before the checkpoint re-fed, alerts suppressed (warmup.c) */
	int64_t warmup_span_ns;	   /* event time it covers before the checkpoint */
	uint64_t warmup_lines;	   /* lines re-fed */
	uint64_t warmup_bytes;	   /* their bytes */
	uint64_t warmup_cut_bytes; /* bytes before its start not read (the bound, a gzip file) */
	uint64_t warmup_cuts;	   /* warm-ups that were cut */
	uint64_t written_noted;	   /* alert lines read back from the output file's tail */
};

/* what the live tap delivered */
struct kh_live_line {
	const char *log;  /* the log's name (the apiserver's) */
	const char *host; /* where this agent reads it */
	uint64_t dev, ino;
	const char *data;
	size_t len;
	bool cut; /* the tap kept head and tail only: len is not its length on disk */
};

struct kh_resume;

/* Returns NULL with errno set. */
struct kh_resume *resume__new(struct kh_pipeline *p, const struct kh_resume_opts *o);
void resume__free(struct kh_resume *r);

/*
 * Catch up @log from its checkpoint over @files (oldest first; the live file last when live).
 * Returns 0, or -ENOENT when the checkpoint has no position for @log (the caller falls back to
 * its first-start behaviour). Everything else is reported and counted here, never fatal.
 */
int resume__catch_up(struct kh_resume *r, const char *log, char *const *files);

/*
 * The logs with a checkpoint not caught up yet (their apiserver is not running: nothing
 * follows them). Fills @out with at most @cap names, valid while @r lives; returns how many.
 */
size_t resume__pending_logs(const struct kh_resume *r, const char **out, size_t cap);

/*
 * `replay --resume`: catch @log up from its checkpoint over @files, or read them all from the
 * start when there is none, with positions, so the next call continues from the end.
 */
int resume__read_all(struct kh_resume *r, const char *log, char *const *files);

/*
 * First start (no position for @log): the files were learned as history. Take the last whole
 * line of the live file @path as the position, so a stop before any live line still resumes
 * from here (and never learns what happened meanwhile as history). Live lines then carry
 * offsets that are estimates until the next rotation; the auditID confirms them at resume.
 */
void resume__anchor(struct kh_resume *r, const char *log, const char *path);

/*
 * A live line: true when it is a double of a line caught up (drop it); otherwise @pos is where
 * it lies in its file (end_known false when that cannot be told).
 */
bool resume__live_line(struct kh_resume *r, const struct kh_live_line *l, struct kh_file_pos *pos);

/*
 * Before the catch-ups: when the output @path (a --output spec) is a regular file, note the alert
 * lines in its last KH_RESUME_TAIL_BYTES so the catch-up does not write them again (the alerts of a
 * run killed before its last save, the held alerts a clean stop wrote). Returns how many were
 * noted. resume__forget_written() once the catch-ups are done.
 */
#define KH_RESUME_TAIL_BYTES (4u << 20)
size_t resume__note_written(struct kh_resume *r, const char *path);
void resume__forget_written(struct kh_resume *r);

const struct kh_resume_stats *resume__stats(const struct kh_resume *r);

struct kh_metrics;
/* catch-up counters in /metrics; @r must outlive @m */
int resume__add_metrics(struct kh_resume *r, struct kh_metrics *m);

#endif /* KEYHOLE_RESUME_H */
