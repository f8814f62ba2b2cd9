/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pipeline: the one path every audit line takes, whatever its source.
 *
 * Replay, file follow and live BPF capture all hand complete lines to pipeline__feed_line();
 * from there parse -> rules -> correlate -> alerts is identical, which is what makes "live gives
 * the same alerts as replay" true by construction.
 */
#ifndef KEYHOLE_PIPELINE_H
#define KEYHOLE_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "keyhole/audit_event.h"
#include "keyhole/checkpoint.h"

/* where a line came from, for error messages */
struct kh_origin {
	const char *source; /* file name, "-" for stdin, "live:<path>" for capture */
	uint64_t line_no;   /* 1-based line number within the source (0 if unknown) */
	uint32_t flags;	    /* KH_EV_* flags to set on the event (e.g. truncated by capture) */
	/*
	 * 0 when the line is whole. For a line the capture cut (head and tail kept, middle lost):
	 * the head's length, i.e. the offset in the line where the tail starts. The line is then
	 * read with audit_parse__cut(), which keeps the fields on both sides of the hole.
	 */
	uint32_t cut;
	/*
	 * A line the source cut because it was longer than the source's maximum (replay's line
	 * reader): its length before the cut and its byte offset in the input, for the message;
	 * 0 otherwise. Such a line counts as oversized and truncated, never malformed.
	 */
	uint64_t full_len;
	uint64_t byte_offset;
	/*
	 * The line's place in its audit log, when the source knows it (NULL otherwise): once the
	 * line is processed it becomes the log's checkpoint (keyhole/checkpoint.h).
	 */
	const struct kh_file_pos *pos;
};

/* Counters a pipeline keeps; monotonically increasing. */
/* Sigma rule ids counted apart, since start (a reload that brings new ids adds to them) */
#define KH_SIGMA_SERIES 256

struct kh_counters {
	uint64_t lines;	    /* lines fed in (events in) */
	uint64_t parsed;    /* lines parsed as audit Events */
	uint64_t malformed; /* lines rejected by the parser (incl. valid JSON that is not an Event)
			     */
	uint64_t empty;	    /* blank lines skipped silently */
	uint64_t oversized; /* lines longer than the source's maximum: head and tail kept (also
			     * truncated), or skipped where a source cannot keep them (malformed) */
	uint64_t truncated; /* lines flagged truncated by their source */
	uint64_t alerts;    /* alert lines written */
	uint64_t dedup_suppressed;   /* alerts not written: same rule and auditID already alerted */
	uint64_t output_errors;	     /* alert lines the output failed to take */
	uint64_t dedup_evictions;    /* alerted requests forgotten early (bounded dedupe memory) */
	uint64_t held_written_early; /* RequestReceived alerts written before their request ended */
	uint64_t state_evictions; /* rule state entries (users, windows) evicted by their bound */
	uint64_t fields_cut; /* alert fields cut by their bound (user.extra keys, values, bytes) */
	uint64_t warmup_alerts;	  /* alerts a resume warm-up re-derived and did not write */
	uint64_t already_written; /* alerts not written: the output file's tail holds them */
	/*
	 * indexed like kh_rule_table; then the correlator's slot, the slot of Sigma rules past
	 * KH_SIGMA_SERIES, then one per Sigma rule id (pipeline__sigma_slot)
	 */
	uint64_t *alerts_by_rule;
	/* the Sigma rule ids with a slot of their own, in the order first loaded (reloads add) */
	char *sigma_ids[KH_SIGMA_SERIES];
	size_t n_sigma_ids;
	bool sigma_overflow; /* some id found no slot: counted together, as rule "sigma" */
};

/* the slots of alerts_by_rule: the built-in rules, the correlator, the Sigma rules */
size_t pipeline__alert_slots(void);
/* Sigma id @k's slot in alerts_by_rule */
size_t pipeline__sigma_slot(size_t k);
/*
 * The Sigma rules that alerted between @before (a copy of alerts_by_rule, or NULL for zeros)
 * and @now, as " (id N, id N)" in @buf ("" when none).
 */
void pipeline__sigma_summary(const struct kh_counters *now, const uint64_t *before, char *buf,
			     size_t len);

struct kh_config;
struct kh_pipeline;
struct kh_node_secret_read;

/*
 * Which detections a pipeline runs. Single-node mode runs them all. Cluster mode splits them:
 * the capturing instance keeps the per-event rules and hands every parsed event to fact_fn (the
 * cluster publisher); the correlator's pipelines run only the cluster-scope rules (rapid-get,
 * unusual decision/UA) and the escalate-then-loot correlator, fed with facts.
 */
enum kh_pipeline_scope { KH_SCOPE_ALL = 0, KH_SCOPE_LOCAL, KH_SCOPE_CLUSTER };

struct kh_pipeline_opts {
	FILE *out;		     /* alert JSON lines go here */
	const struct kh_config *cfg; /* NULL: every default */
	int learn_only;		     /* baseline mode: update history, emit nothing */
	enum kh_pipeline_scope scope;
	/* KH_SCOPE_LOCAL: called with every parsed event, after the local rules */
	void (*fact_fn)(void *ctx, const struct audit_event *ev);
	void *fact_ctx;
	/*
	 * KH_SCOPE_LOCAL with a state file: the checkpoint gate (cluster__fact_mark/_durable). A
	 * line's position is saved only once the facts queued up to it are durable.
	 */
	uint64_t (*fact_mark)(void *ctx);
	uint64_t (*fact_durable)(void *ctx);
	/* KH_SCOPE_LOCAL: called (with fact_ctx) for every secret-material open of an exec session
	 */
	void (*node_fact_fn)(void *ctx, const struct kh_node_secret_read *r);
	/* Sigma rule files or directories, loaded after the config's rules.paths (keyhole/sigma.h)
	 */
	const char *const *rule_paths;
	size_t n_rule_paths;
	/*
	 * replay: alert lines are written through the stream's buffer and flushed at
	 * pipeline__flush(); otherwise (run) every alert line is flushed as it is written
	 */
	int batch_output;
};

/* Returns NULL with errno set on failure. */
struct kh_pipeline *pipeline__new(const struct kh_pipeline_opts *opts);
void pipeline__free(struct kh_pipeline *p);

/*
 * Feed one line (without its newline). Never fails on bad input: a malformed line is counted
 * and reported (rate-limited) with @o's source and line number. Returns 0, or a negative errno
 * only when the output failed.
 */
int pipeline__feed_line(struct kh_pipeline *p, const char *line, size_t len,
			const struct kh_origin *o);

/*
 * A fact line (cluster mode's correlator): parsed like an audit line; @rules_too 0 feeds it to
 * the correlator only (a grant broadcast to a partition that does not own its principal).
 */
int pipeline__feed_fact(struct kh_pipeline *p, const char *line, size_t len,
			const struct kh_origin *o, int rules_too);

/*
 * A pods/exec (attach, debug, nodes/proxy exec) request another instance captured, as a fact
 * line (cluster mode's node feed): parsed and given to the exec join only, so this node's exec
 * alerts name its user; not counted as a line, not published again. Returns 0, -EINVAL when it
 * does not parse, or -EIO when the output failed.
 */
int pipeline__feed_remote_request(struct kh_pipeline *p, const char *line, size_t len);

/* a node's secret-material open (cluster mode's correlator): to escalate-then-loot only */
void pipeline__feed_node_secret_read(struct kh_pipeline *p, const struct kh_node_secret_read *r);

/*
 * Count and report a line its source could not deliver whole (longer than the line maximum):
 * it is malformed input, and the lines around it go on.
 */
void pipeline__feed_oversized(struct kh_pipeline *p, const struct kh_origin *o);

/*
 * End of input or shutdown: let windowed rules and the correlator emit what they hold, then save
 * the rules' history to the config's state_file (when set) if it changed since the start or the
 * last save.
 */
void pipeline__flush(struct kh_pipeline *p);

/*
 * Save the history to the state file now (0 when there is none). The pipeline also saves on its
 * own every state_save_interval while lines flow, and in pipeline__flush(). Errors are reported
 * here and are never fatal: the history stays in memory and the next save retries.
 */
int pipeline__save_state(struct kh_pipeline *p);

/*
 * Read the Sigma rule paths again (SIGHUP): the new set replaces the old one when it loads;
 * a rule that fails is reported and left out, as at start. Correlation windows start over.
 * Returns the number of rules refused.
 */
size_t pipeline__reload_rules(struct kh_pipeline *p);

/* the loaded Sigma rule set (NULL when no path was given) */
const struct kh_sigma *pipeline__sigma(const struct kh_pipeline *p);

/*
 * The audit logs' positions, saved with the history (NULL when no state_file is configured):
 * what a restart resumes from.
 */
struct kh_checkpoint;
struct kh_checkpoint *pipeline__checkpoint(struct kh_pipeline *p);

/*
 * Resume warm-up (issue 19): lines that precede the checkpoint are fed again so windowed rules,
 * open incidents, held alerts and the per-request dedupe are as they were at the stop. While on,
 * every alert is derived as live and none is written (counted as warmup_alerts). Lines fed then
 * carry no position.
 */
void pipeline__set_warmup(struct kh_pipeline *p, int on);
/* how much event time before a checkpoint the warm-up needs: the longest window of the enabled
 * rules, the correlator and the emit hold */
int64_t pipeline__warmup_span_ns(const struct kh_pipeline *p);
/*
 * An alert line a previous run wrote (the tail of the output file): an alert with the same rule
 * and request (or the same text) is not written again until pipeline__forget_written().
 * Returns 0 or -ENOMEM.
 */
int pipeline__note_written(struct kh_pipeline *p, const char *line, size_t len);
void pipeline__forget_written(struct kh_pipeline *p);

/* switch baseline (learn-only) mode off or on between inputs */
void pipeline__set_learn_only(struct kh_pipeline *p, int on);

const struct kh_counters *pipeline__counters(const struct kh_pipeline *p);
/* the pipeline's rules engine (for metrics__add_rules) */
struct kh_rules;
const struct kh_rules *pipeline__rules(const struct kh_pipeline *p);
/* the correlator's live counters (for metrics__add_correlate); NULL when it has none */
struct kh_correlate_stats;
const struct kh_correlate_stats *pipeline__correlate_stats(const struct kh_pipeline *p);

/*
 * The histories the pipeline's rules keep (new terms): up to @cap, each with its rule id.
 * Returns how many. For cluster mode's correlator, which shares them through Redis.
 */
struct kh_history;
size_t pipeline__histories(struct kh_pipeline *p, const char **ids, struct kh_history **hs,
			   size_t cap);

#endif /* KEYHOLE_PIPELINE_H */
