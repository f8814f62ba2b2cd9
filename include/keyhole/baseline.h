/* SPDX-License-Identifier: Apache-2.0 */
/*
 * baseline: learn from the audit logs already on disk before going live, so a new install has
 * real history (new-terms memory, windows) instead of alerting on every combination it meets in
 * its first days.
 *
 * The files are the live log's rotated siblings in its directory, as the apiserver's rotation
 * (audit-2026-11-23T10-00-00.000.log, .gz with --audit-log-compress) or logrotate (audit.log.1,
 * audit.log.2.gz) names them, oldest first by modification time (then name), and last the live
 * log itself up to its current end. Gzip is told by content.
 */
#ifndef KEYHOLE_BASELINE_H
#define KEYHOLE_BASELINE_H

#include <stddef.h>
#include <stdint.h>

struct kh_pipeline;

struct kh_baseline_stats {
	uint64_t files;	     /* files read (whole or in part) */
	uint64_t lines;	     /* lines fed */
	uint64_t unreadable; /* files skipped or cut short by a read error (reported) */
};

/*
 * The files to learn from for @live_path, oldest first, the live file last (when it exists).
 * Returns 0 with a NULL-terminated malloc'd list in *@out (free with baseline__free_list), or a
 * negative errno when the directory cannot be listed.
 */
int baseline__list(const char *live_path, char ***out);
void baseline__free_list(char **list);

/*
 * Feed those files through @p with alerts muted (pipeline__set_learn_only), then unmute. Lines
 * go through the same path as live ones, so the history and the windows learn exactly what live
 * capture would have. The live log is read up to its size at the call: call it once the tap is
 * attached, and what the log gains meanwhile arrives live. Returns 0, or a negative errno when the
 * directory cannot be listed, not reported here (the caller goes live anyway: a missing baseline
 * is a warning, not a failure); an unreadable file is reported and skipped.
 */
int baseline__from_disk(struct kh_pipeline *p, const char *live_path, struct kh_baseline_stats *st);

#endif /* KEYHOLE_BASELINE_H */
