/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resume_impl: what the catch-up (resume.c), the seam (seam.c) and the skipped-range report
 * (skipped.c) share inside the resume stage.
 */
#ifndef KEYHOLE_RESUME_IMPL_H
#define KEYHOLE_RESUME_IMPL_H

#include "keyhole/resume.h"

/* one line the catch-up read, as the seam remembers it */
struct seam_line {
	uint64_t key; /* line_key() */
	uint64_t dev, ino, end;
};

enum seam_state { SEAM_OFF, SEAM_WAIT, SEAM_MATCHING, SEAM_DONE };

/* one audit log's live position and seam */
struct live_log {
	char log[KH_CKPT_LOG_MAX];
	uint64_t dev, ino, off;
	bool known;		/* off is the real offset (else an estimate) */
	bool have_file;		/* dev/ino name a file (a base or a live line set them) */
	struct seam_line *ring; /* the last KH_RESUME_SEAM lines the catch-up read */
	size_t n, head;		/* lines held, next slot */
	size_t cursor;		/* SEAM_MATCHING: ring index of the next expected line */
	enum seam_state seam;
	/* keys of live lines fed before the log's catch-up ran: the catch-up skips them */
	uint64_t *early;
	size_t nearly;
};

/* the range a bound or a vanished file kept from being caught up */
struct skipped {
	bool on;
	const char *reason; /* "max_bytes", "max_age", "vanished" */
	char first[KH_CKPT_LOG_MAX], last[KH_CKPT_LOG_MAX];
	uint32_t files;
	uint64_t bytes;
	bool bytes_unknown; /* a vanished file: its size is gone with it */
	int64_t from_ns, to_ns;
};

#define RESUME_EARLY_MAX 4096 /* live lines of a log fed before its catch-up could start */

struct kh_resume {
	struct kh_pipeline *p;
	struct kh_resume_opts o;
	struct kh_resume_stats st;
	struct live_log lv[KH_CKPT_MAX_LOGS];
	size_t nlv;
	/*
	 * The positions as loaded, each until its log is caught up: a log whose apiserver is found
	 * only after the start (by its exec) is caught up then, from here, while live lines have
	 * already moved the pipeline's checkpoint on.
	 */
	struct kh_ckpt_entry *loaded;
	bool *caught_up;
	size_t nloaded;
};

/* auditID and stage (or the whole line when they are missing): what both sides agree on */
uint64_t line_key(const char *line, size_t len);
/* the top-level string member @name of an audit line, raw (not decoded); false when absent */
bool line_field(const char *line, size_t len, const char *name, const char **v, size_t *vlen);
/* the event time of a line (stageTimestamp, else requestReceivedTimestamp); 0 if none */
int64_t line_time_ns(const char *line, size_t len);

struct live_log *live_log_get(struct kh_resume *r, const char *log);
/* the loaded position of @log while its catch-up is still to run, else NULL */
const struct kh_ckpt_entry *resume_pending(const struct kh_resume *r, const char *log);
/* @key was fed live before the catch-up: true once (and forgotten) */
bool early_take(struct live_log *lv, uint64_t key);
void seam_note(struct live_log *lv, uint64_t key, uint64_t dev, uint64_t ino, uint64_t end);

/*
 * Before the catch-up of @log from @files[@i] at @off: re-feed the lines of the warm-up span
 * before the checkpoint (event time @t_ckpt) with alerting suppressed (warmup.c)
 */
void resume_warm_up(struct kh_resume *r, const char *log, char *const *files, int i, uint64_t off,
		    int64_t t_ckpt);

void skipped_add(struct skipped *s, const char *reason, const char *file, uint64_t bytes,
		 int64_t from_ns);
/* write the keyhole-catchup-skipped alert for @log and reset @s; @to_ns: first line after it */
void skipped_report(struct kh_resume *r, const char *log, struct skipped *s, int64_t to_ns);

#endif /* KEYHOLE_RESUME_IMPL_H */
