/* SPDX-License-Identifier: Apache-2.0 */
/*
 * feed: audit log files through a pipeline, one after another, for `replay` and `report`: the
 * read loop, per-input summary, progress line and read errors in one place.
 */
#ifndef KEYHOLE_CMD_FEED_H
#define KEYHOLE_CMD_FEED_H

#include <stddef.h>
#include <stdint.h>

struct kh_pipeline;
struct kh_progress;

struct feed {
	struct kh_pipeline *p;
	int quiet;		  /* no per-input summary */
	struct kh_progress *prog; /* NULL: no progress line */
	/*
	 * called with every line before the pipeline sees it (the report's log set), or NULL; @cut
	 * as in struct kh_origin (0: the line is whole)
	 */
	void (*on_line)(void *ctx, const char *line, size_t len, size_t cut);
	void *ctx;
	uint64_t bytes_done; /* whole files finished, for progress */
};

/* the sum of the regular files' sizes (0 for stdin and pipes), for progress */
uint64_t feed__total_bytes(char *const *files, int n);

/* feed one input; returns 0, 1 when the output failed (stop), 2 when it could not be read */
int feed__file(struct feed *f, const char *name, int last);

/* the progress line's closing totals */
void feed__finish(struct feed *f);

#endif /* KEYHOLE_CMD_FEED_H */
