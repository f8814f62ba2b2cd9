// SPDX-License-Identifier: Apache-2.0
/*
 * resume_metrics: the catch-up's progress in /metrics, read at scrape time from the counters
 * resume keeps (see keyhole/metrics.h on why plain 64-bit loads are enough).
 */
#include <stddef.h>

#include "keyhole/metrics.h"
#include "resume/resume_impl.h"

static double behind_seconds(void *ctx)
{
	const struct kh_resume *r = ctx;

	return r->st.behind_ns > 0 ? r->st.behind_ns / 1e9 : 0;
}

static double running(void *ctx)
{
	const struct kh_resume *r = ctx;

	return r->st.running;
}

int resume__add_metrics(struct kh_resume *r, struct kh_metrics *m)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} c[] = {
	    {"keyhole_catchup_lines_total", "audit lines caught up from disk after a restart",
	     offsetof(struct kh_resume_stats, lines)},
	    {"keyhole_catchup_bytes_total", "bytes caught up from disk after a restart",
	     offsetof(struct kh_resume_stats, bytes)},
	    {"keyhole_catchup_files_total", "audit log files read by the catch-up",
	     offsetof(struct kh_resume_stats, files)},
	    {"keyhole_catchup_skipped_ranges_total",
	     "ranges not caught up (bound or vanished file), each also a keyhole-catchup-skipped "
	     "alert",
	     offsetof(struct kh_resume_stats, skipped_ranges)},
	    {"keyhole_catchup_skipped_bytes_total", "bytes not caught up (known sizes only)",
	     offsetof(struct kh_resume_stats, skipped_bytes)},
	    {"keyhole_catchup_vanished_files_total",
	     "checkpointed files deleted before the catch-up could read them",
	     offsetof(struct kh_resume_stats, vanished)},
	    {"keyhole_catchup_seam_doubles_total",
	     "live lines dropped because the catch-up had already fed them",
	     offsetof(struct kh_resume_stats, seam_doubles)},
	};
	struct kh_metric g = {.name = "keyhole_catchup_behind_seconds",
			      .help = "how far behind the checkpoint was when the catch-up began",
			      .type = KH_METRIC_GAUGE,
			      .fn = behind_seconds,
			      .ctx = r};
	int err;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if ((err =
			 metrics__add_counter(m, c[i].name, c[i].help,
					      (const uint64_t *)((const char *)&r->st + c[i].off))))
			return err;
	if ((err = metrics__add(m, &g)))
		return err;
	g = (struct kh_metric){.name = "keyhole_catchup_running",
			       .help = "1 while a catch-up is reading the disk",
			       .type = KH_METRIC_GAUGE,
			       .fn = running,
			       .ctx = r};
	return metrics__add(m, &g);
}
