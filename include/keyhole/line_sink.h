/* SPDX-License-Identifier: Apache-2.0 */
/*
 * line_sink: a FILE * that hands each complete line written to it to a callback. The pipeline
 * writes alert JSON lines to a FILE *; this is how the text format and the report take them
 * without the pipeline knowing. Lines longer than LINE_SINK_MAX are dropped and counted.
 */
#ifndef KEYHOLE_LINE_SINK_H
#define KEYHOLE_LINE_SINK_H

#include <stddef.h>
#include <stdio.h>

#define LINE_SINK_MAX (16u << 20)

/* returns 0, or -1 with errno set: the write fails and the FILE's error flag is set */
typedef int (*line_sink_fn)(void *ctx, const char *line, size_t len);

/*
 * fclose() it: a last line without a newline is delivered then, and @done (when non-NULL) is
 * called with @ctx. NULL with errno on failure.
 */
FILE *line_sink__open(line_sink_fn fn, void (*done)(void *ctx), void *ctx);

#endif /* KEYHOLE_LINE_SINK_H */
