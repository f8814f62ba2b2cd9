// SPDX-License-Identifier: Apache-2.0
/*
 * pipeline: line -> parse -> rules -> alerts, shared by every source.
 *
 * Bad input never stops the pipeline: a line that does not parse is counted, reported with its
 * source and line number through a rate limiter, and the next line goes on. The only error
 * returned to a source is an output failure, which the caller decides how to handle.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/audit_parse.h"
#include "keyhole/config.h"
#include "keyhole/log.h"
#include "keyhole/node_event.h"
#include "keyhole/pipeline.h"
#include "keyhole/sigma.h"
#include "pipeline/sigma_counts.h"
#include "keyhole/checkpoint.h"
#include "keyhole/correlate.h"
#include "keyhole/state_file.h"
#include "keyhole/emit.h"
#include "keyhole/rules_engine.h"
#include "pipeline/ckpt_gate.h"

struct kh_pipeline {
	struct kh_counters c;
	struct kh_emit *emit;
	struct kh_rules *rules;
	struct kh_correlate *correlate;
	struct kh_ratelimit bad_rl;
	uint64_t output_errors_seen;
	struct kh_state *state;	  /* the rules' history on disk; NULL when no state_file */
	struct kh_checkpoint *cp; /* positions in the audit logs, saved with it */
	int64_t save_interval_ns;
	const struct kh_rule **table; /* the scope's rules (NULL: every rule) */
	void (*fact_fn)(void *ctx, const struct audit_event *ev);
	void *fact_ctx;
	uint64_t (*fact_mark)(void *ctx), (*fact_durable)(void *ctx);
	struct ckpt_gate gate; /* gate.ring NULL: positions go straight to the checkpoint */
	void (*node_fact_fn)(void *ctx, const struct kh_node_secret_read *r);
	struct kh_sigma *sigma; /* Sigma rules from files; NULL when no path was given */
	const char *rule_paths[KH_SIGMA_MAX_PATHS];
	size_t n_rule_paths;
	FILE *out;
	int batch_output;
};

/*
 * The detections that need the whole cluster's events (cluster mode runs them on correlators):
 * the windowed and first-seen rules. The Arc proxy rule is one too: it alerts on the first
 * request of an impersonated user in five days, which one apiserver's share cannot tell.
 */
static bool cluster_scope_rule(const struct kh_rule *r)
{
	static const char *const ids[] = {"k8s-secret-rapid-get", "k8s-unusual-decision-ua",
					  "k8s-secret-configmap-arc-proxy"};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (!strcmp(r->info->id, ids[i]))
			return true;
	return false;
}

/* the rules of @scope, NULL-terminated, or NULL for every rule */
static const struct kh_rule **scope_table(enum kh_pipeline_scope scope)
{
	size_t n = rules__count(), k = 0;
	const struct kh_rule **t;

	if (scope == KH_SCOPE_ALL)
		return NULL;
	t = calloc(n + 1, sizeof(*t));
	if (!t)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (cluster_scope_rule(kh_rule_table[i]) == (scope == KH_SCOPE_CLUSTER))
			t[k++] = kh_rule_table[i];
	return t;
}

/* Sigma alerts: counted in the slot after the correlator's, keyed after the table's rules */
static void attach_sigma(struct kh_pipeline *p)
{
	if (!p->sigma)
		return;
	sigma__attach(p->sigma, p->emit, rules__count() + 1, rules__count() + 1);
	/* each rule id its own alert series (sigma_counts.c) */
	for (size_t i = 0; i < sigma__n(p->sigma); i++)
		sigma__count_as(p->sigma, i,
				sigma_counts__slot(&p->c, sigma__info(p->sigma, i)->id));
}

static int load_sigma(struct kh_pipeline *p, const struct kh_pipeline_opts *opts)
{
	const struct kh_config *cfg = opts->cfg;
	size_t errors = 0;

	for (size_t i = 0; cfg && cfg->rule_paths[i]; i++)
		if (p->n_rule_paths < KH_SIGMA_MAX_PATHS)
			p->rule_paths[p->n_rule_paths++] = cfg->rule_paths[i];
	for (size_t i = 0; i < opts->n_rule_paths; i++)
		if (p->n_rule_paths < KH_SIGMA_MAX_PATHS)
			p->rule_paths[p->n_rule_paths++] = opts->rule_paths[i];
	if (!p->n_rule_paths)
		return 0;
	p->sigma = sigma__load(p->rule_paths, p->n_rule_paths, &errors);
	if (!p->sigma)
		return -1;
	kh_log(KH_LOG_INFO, "sigma: %zu rules loaded, %zu refused", sigma__n(p->sigma), errors);
	attach_sigma(p);
	return 0;
}

struct kh_pipeline *pipeline__new(const struct kh_pipeline_opts *opts)
{
	struct kh_pipeline *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return NULL;
	/* ten messages at once, then one a second: enough to see the problem, not a flood */
	p->bad_rl = (struct kh_ratelimit)KH_RATELIMIT_INIT(10, 1);
	p->c.alerts_by_rule = calloc(pipeline__alert_slots(), sizeof(uint64_t));
	if (!p->c.alerts_by_rule)
		goto err_free;
	p->emit = emit__new(opts->out, &p->c);
	if (!p->emit)
		goto err_free;
	emit__set_muted(p->emit, opts->learn_only);
	p->out = opts->out;
	p->batch_output = opts->batch_output;
	emit__set_batched(p->emit, opts->batch_output);
	/* Sigma rules run where events are captured: a correlator (cluster scope) has none */
	if (opts->scope != KH_SCOPE_CLUSTER && load_sigma(p, opts))
		goto err_free;
	p->table = scope_table(opts->scope);
	if (opts->scope != KH_SCOPE_ALL && !p->table)
		goto err_free;
	p->rules =
	    p->table ? rules__new_table((const struct kh_rule *const *)p->table, opts->cfg, p->emit)
		     : rules__new(opts->cfg, p->emit);
	if (!p->rules)
		goto err_free;
	p->fact_fn = opts->fact_fn;
	p->fact_ctx = opts->fact_ctx;
	p->node_fact_fn = opts->node_fact_fn;
	/* the local half of cluster mode leaves escalate-then-loot to the correlators */
	if (opts->scope != KH_SCOPE_LOCAL) {
		p->correlate = correlate__new(opts->cfg, p->emit);
		if (!p->correlate)
			goto err_free;
	}
	/* (cluster mode's correlators pass a config without a state file: they rebuild from the
	 * fact streams; the local half keeps its checkpoint, to catch up after a restart) */
	if (opts->cfg && opts->cfg->state_file) {
		p->cp = checkpoint__new();
		if (!p->cp)
			goto err_free;
		p->state = state__open_for_rules(opts->cfg->state_file, p->rules, p->cp);
		if (!p->state)
			goto err_free;
		p->save_interval_ns = opts->cfg->state_save_interval_ns;
		if (opts->fact_mark && opts->fact_durable &&
		    ckpt_gate__init(&p->gate, p->cp) == 0) {
			p->fact_mark = opts->fact_mark;
			p->fact_durable = opts->fact_durable;
		} else if (opts->fact_mark) {
			goto err_free;
		}
	}
	return p;

err_free:
	err = errno;
	pipeline__free(p);
	errno = err ? err : ENOMEM;
	return NULL;
}

void pipeline__free(struct kh_pipeline *p)
{
	if (!p)
		return;
	correlate__free(p->correlate);
	sigma__free(p->sigma);
	state__free(p->state);
	ckpt_gate__fini(&p->gate);
	checkpoint__free(p->cp);
	rules__free(p->rules);
	emit__free(p->emit);
	free(p->table);
	free(p->c.alerts_by_rule);
	sigma_counts__free(&p->c);
	free(p);
}

static void report_bad(struct kh_pipeline *p, const struct kh_origin *o,
		       const struct kh_parse_error *pe, size_t len)
{
	uint64_t dropped = 0;

	if (!log__ratelimit_ok(&p->bad_rl, &dropped))
		return;
	if (dropped)
		kh_log(KH_LOG_WARN, "%llu more malformed lines not shown",
		       (unsigned long long)dropped);
	kh_log(KH_LOG_WARN, "%s:%llu: skipped a malformed audit line (%zu bytes): %s at byte %zu",
	       o->source, (unsigned long long)o->line_no, len, pe->reason, pe->offset);
}

/* a line longer than its source's maximum, read from its head and tail (audit_parse__cut) */
static void report_cut(struct kh_pipeline *p, const struct kh_origin *o, size_t kept)
{
	p->c.oversized++;
	kh_log(KH_LOG_WARN,
	       "%s:%llu: audit line of %llu bytes at byte %llu is longer than the line maximum: "
	       "read from its first %u and last %zu bytes",
	       o->source, (unsigned long long)o->line_no, (unsigned long long)o->full_len,
	       (unsigned long long)o->byte_offset, o->cut, kept - o->cut);
}

static int is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

static int feed(struct kh_pipeline *p, const char *line, size_t len, const struct kh_origin *o,
		int rules_too);

/* the line at @pos was processed: its position, now or once its facts are safe (ckpt_gate.h) */
static void advance(struct kh_pipeline *p, const struct kh_file_pos *pos, struct kstr audit_id,
		    struct kstr stage, int64_t time_ns)
{
	if (!p->gate.ring) {
		checkpoint__advance(p->cp, pos, audit_id, stage, time_ns);
		return;
	}
	ckpt_gate__push(&p->gate, pos, audit_id, stage, time_ns, p->fact_mark(p->fact_ctx));
	ckpt_gate__release(&p->gate, p->fact_durable(p->fact_ctx));
}

static void gate_release(struct kh_pipeline *p)
{
	if (p->gate.ring)
		ckpt_gate__release(&p->gate, p->fact_durable(p->fact_ctx));
}

int pipeline__feed_line(struct kh_pipeline *p, const char *line, size_t len,
			const struct kh_origin *o)
{
	return feed(p, line, len, o, 1);
}

int pipeline__feed_fact(struct kh_pipeline *p, const char *line, size_t len,
			const struct kh_origin *o, int rules_too)
{
	return feed(p, line, len, o, rules_too);
}

static int feed(struct kh_pipeline *p, const char *line, size_t len, const struct kh_origin *o,
		int rules_too)
{
	struct kh_parse_error pe = {0, "unknown"};
	struct audit_event ev;

	if (is_blank(line, len)) {
		p->c.empty++;
		return 0;
	}
	p->c.lines++;
	if ((o->flags & KH_EV_TRUNCATED) || o->cut)
		p->c.truncated++;
	if (o->full_len > len)
		report_cut(p, o, len);
	if ((o->cut ? audit_parse__cut(line, len, o->cut, &ev, &pe)
		    : audit_parse__line(line, len, &ev, &pe)) != 0) {
		p->c.malformed++;
		report_bad(p, o, &pe, len);
		if (o->pos && p->cp) /* past it: a restart need not read it again */
			advance(p, o->pos, (struct kstr){0}, (struct kstr){0}, 0);
		return 0;
	}
	ev.flags |= o->flags;
	p->c.parsed++;
	if (rules_too) {
		rules__on_event(p->rules, &ev);
		sigma__on_event(p->sigma, &ev);
	}
	if (p->correlate)
		correlate__on_event(p->correlate, &ev);
	if (p->fact_fn)
		p->fact_fn(p->fact_ctx, &ev);
	if (o->pos && p->cp)
		advance(p, o->pos, ev.audit_id, ev.stage, audit_event_time_ns(&ev));
	/* the clock is cheap (vDSO), the save itself runs once per interval at most */
	if (p->state && (p->c.parsed & 63) == 0)
		state__maybe_save(p->state, p->save_interval_ns);
	if (p->c.output_errors != p->output_errors_seen) {
		p->output_errors_seen = p->c.output_errors;
		return -EIO;
	}
	return 0;
}

void pipeline__feed_oversized(struct kh_pipeline *p, const struct kh_origin *o)
{
	struct kh_parse_error pe = {0, "line longer than the maximum line length"};

	p->c.lines++;
	p->c.malformed++;
	p->c.oversized++;
	report_bad(p, o, &pe, 0);
}

int pipeline__feed_node_event(struct kh_pipeline *p, const struct node_event *ev)
{
	rules__on_node_event(p->rules, ev);
	if (ev->kind == NODE_EV_OPEN) { /* secret material read inside an exec session */
		struct kh_node_secret_read r;
		char id[48];

		node_event__secret_read(ev, &r, id, sizeof(id));
		if (p->correlate)
			correlate__on_node_secret_read(p->correlate, &r);
		if (p->node_fact_fn)
			p->node_fact_fn(p->fact_ctx, &r);
	}
	if (p->c.output_errors != p->output_errors_seen) {
		p->output_errors_seen = p->c.output_errors;
		return -EIO;
	}
	return 0;
}

int pipeline__feed_remote_request(struct kh_pipeline *p, const char *line, size_t len)
{
	struct kh_parse_error pe = {0, "unknown"};
	struct audit_event ev;

	if (audit_parse__line(line, len, &ev, &pe) != 0)
		return -EINVAL;
	rules__on_remote_event(p->rules, &ev);
	if (p->c.output_errors != p->output_errors_seen) {
		p->output_errors_seen = p->c.output_errors;
		return -EIO;
	}
	return 0;
}

void pipeline__feed_node_secret_read(struct kh_pipeline *p, const struct kh_node_secret_read *r)
{
	if (p->correlate)
		correlate__on_node_secret_read(p->correlate, r);
}

void pipeline__flush(struct kh_pipeline *p)
{
	rules__flush(p->rules);
	sigma__flush(p->sigma);
	if (p->correlate)
		correlate__flush(p->correlate);
	if (p->batch_output && p->out && fflush(p->out))
		p->c.output_errors++;
	/* flushed twice (replay's last input, then the end), the history is written once */
	gate_release(p);
	if (p->state)
		state__save_changed(p->state);
}

size_t pipeline__histories(struct kh_pipeline *p, const char **ids, struct kh_history **hs,
			   size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < rules__n(p->rules) && n < cap; i++) {
		struct kh_history *h = rules__history(p->rules, i);

		if (h) {
			ids[n] = rules__rule(p->rules, i)->info->id;
			hs[n++] = h;
		}
	}
	return n;
}

struct kh_checkpoint *pipeline__checkpoint(struct kh_pipeline *p)
{
	return p->cp;
}

int pipeline__save_state(struct kh_pipeline *p)
{
	gate_release(p);
	return p->state ? state__save(p->state) : 0;
}

size_t pipeline__reload_rules(struct kh_pipeline *p)
{
	size_t errors = 0;
	struct kh_sigma *s;

	if (!p->n_rule_paths)
		return 0;
	s = sigma__load(p->rule_paths, p->n_rule_paths, &errors);
	if (!s) {
		kh_log(KH_LOG_ERROR, "sigma: reload failed (%s); the rules loaded before stay",
		       strerror(errno));
		return errors + 1;
	}
	sigma__free(p->sigma);
	p->sigma = s;
	attach_sigma(p);
	kh_log(KH_LOG_INFO, "sigma: reloaded, %zu rules loaded, %zu refused", sigma__n(s), errors);
	return errors;
}

const struct kh_sigma *pipeline__sigma(const struct kh_pipeline *p)
{
	return p->sigma;
}

void pipeline__set_warmup(struct kh_pipeline *p, int on)
{
	emit__set_warm(p->emit, on);
}

int64_t pipeline__warmup_span_ns(const struct kh_pipeline *p)
{
	int64_t r = rules__window_ns(p->rules), c = correlate__window_ns(p->correlate);

	return r > c ? r : c;
}

int pipeline__note_written(struct kh_pipeline *p, const char *line, size_t len)
{
	return emit__note_written(p->emit, line, len);
}

void pipeline__forget_written(struct kh_pipeline *p)
{
	emit__forget_written(p->emit);
}

void pipeline__set_learn_only(struct kh_pipeline *p, int on)
{
	emit__set_muted(p->emit, on);
}

const struct kh_counters *pipeline__counters(const struct kh_pipeline *p)
{
	return &p->c;
}

const struct kh_rules *pipeline__rules(const struct kh_pipeline *p)
{
	return p->rules;
}

const struct kh_correlate_stats *pipeline__correlate_stats(const struct kh_pipeline *p)
{
	return p->correlate ? correlate__live_stats(p->correlate) : NULL;
}
