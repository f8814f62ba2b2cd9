/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report: keyhole's output for people rather than SIEMs.
 *  - the text format: one scannable line per alert (`run`/`replay --format text`);
 *  - the progress line on a terminal during long reads;
 *  - the incident report (`keyhole report`): a log set and its alerts, gathered here and
 *    written as one self-contained HTML file or as Markdown.
 * It reads audit Event metadata and alert lines only, never request or response bodies, so no
 * secret value can reach a report.
 */
#ifndef KEYHOLE_REPORT_H
#define KEYHOLE_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- the text format ------------------------------------------------------------------------ */

/* one alert JSON line as one text line on @out (a non-alert line is written back, made safe) */
void alert_text__format(const char *line, size_t len, int colour, FILE *out);

/*
 * A FILE * taking alert JSON lines and writing text lines to @under (colour when @colour).
 * fclose() it before @under; @under stays open. NULL with errno on failure.
 */
FILE *alert_text__open(FILE *under, int colour);

/* ---- progress ---------------------------------------------------------------------------------
 */

struct kh_progress;

/*
 * A progress line on @tty (stderr) for work over @total_bytes (0: unknown), redrawn at most four
 * times a second. NULL (every call a no-op) unless @enabled; callers pass isatty(2).
 */
struct kh_progress *progress__new(FILE *tty, const char *what, uint64_t total_bytes, int enabled);
void progress__update(struct kh_progress *p, uint64_t bytes, uint64_t events, uint64_t alerts);
/* erase the line (before another message goes to the terminal); it comes back at the next update */
void progress__clear(struct kh_progress *p);
/* the final totals on their own line, then free */
void progress__finish(struct kh_progress *p, uint64_t bytes, uint64_t events, uint64_t alerts);

/* ---- the incident report ----------------------------------------------------------------------
 */

struct kh_report;

enum kh_report_format { KH_REPORT_HTML, KH_REPORT_MARKDOWN };

struct kh_report *report__new(void);
void report__free(struct kh_report *r);

/* a log file about to be read; @baseline when it only teaches history. Returns 0 or -ENOMEM. */
int report__begin_file(struct kh_report *r, const char *name, int baseline);
/*
 * one audit Event line of the current file (metadata only is read); malformed lines count. @cut:
 * 0, or where the middle of an over-long line was dropped (as struct kh_origin's cut)
 */
void report__add_event(struct kh_report *r, const char *line, size_t len, size_t cut);
/* one alert JSON line (from the pipeline, or from an --alerts file); 0, or -EINVAL if not one */
int report__add_alert(struct kh_report *r, const char *line, size_t len);

/* write it; returns 0 or a negative errno (the write failed) */
int report__write(const struct kh_report *r, enum kh_report_format fmt, FILE *out);

#endif /* KEYHOLE_REPORT_H */
