// SPDX-License-Identifier: Apache-2.0
/*
 * sigma_set: a loaded rule set, its prefilter index, and the per-event pass.
 *
 * Loading reads every file (a directory: its *.yml and *.yaml files, recursively, in name
 * order), each YAML document one rule; a rule that fails is reported as file:line:column and
 * left out, the rest load. Correlations are linked once all files are in.
 *
 * The per-event pass runs the rules of the event's resource bucket (and those on any resource)
 * that the prefilter of sigma_gate.c lets through; the prefilter only ever widens, so it never
 * changes what matches.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "keyhole/log.h"
#include "keyhole/emit.h"
#include "sigma/sigma_impl.h"

#define SG_SCRATCH (256 * 1024)
#define SG_DIR_DEPTH 8

/* ---- loading ----------------------------------------------------------------------------------
 */

struct loadctx {
	struct kh_sigma *s;
	size_t errors;
	FILE *err; /* sigma__check: errors go here; else kh_log */
};

static void report(struct loadctx *L, const struct sg_err *e)
{
	L->errors++;
	if (L->err)
		fprintf(L->err, "%s:%u:%u: %s\n", e->file, e->line, e->column, e->msg);
	else
		kh_log(KH_LOG_WARN, "%s:%u:%u: %s (rule skipped)", e->file, e->line, e->column,
		       e->msg);
}

/* every YAML document of @f (named @path in errors and alerts) */
static void load_stream(struct loadctx *L, FILE *f, const char *path)
{
	yaml_parser_t parser;
	struct sg_err e = {.file = path};

	if (!yaml_parser_initialize(&parser)) {
		sg_fail(&e, 0, 0, "out of memory");
		report(L, &e);
		return;
	}
	yaml_parser_set_input_file(&parser, f);
	for (;;) {
		yaml_document_t doc;
		int r;

		if (!yaml_parser_load(&parser, &doc)) {
			sg_fail(&e, (unsigned)parser.problem_mark.line + 1,
				(unsigned)parser.problem_mark.column + 1, "YAML: %s%s%s",
				parser.problem ? parser.problem : "syntax error",
				parser.context ? " " : "", parser.context ? parser.context : "");
			report(L, &e);
			break; /* the parser cannot resync: the rest of this file is lost */
		}
		if (!yaml_document_get_root_node(&doc)) {
			yaml_document_delete(&doc);
			break; /* end of stream */
		}
		r = sg_rule_compile(L->s, &doc, path, &e);
		if (r < 0)
			report(L, &e);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
}

static void load_file(struct loadctx *L, const char *path)
{
	FILE *f = fopen(path, "rb");
	struct sg_err e = {.file = path};

	if (!f) {
		sg_fail(&e, 0, 0, "cannot open: %s", strerror(errno));
		report(L, &e);
		return;
	}
	load_stream(L, f, path);
	fclose(f);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_rule_file(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && ((n > 4 && !strcmp(name + n - 4, ".yml")) ||
				  (n > 5 && !strcmp(name + n - 5, ".yaml")));
}

static void load_path(struct loadctx *L, const char *path, int depth)
{
	struct stat st;
	struct sg_err e = {.file = path};
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;

	if (stat(path, &st)) {
		sg_fail(&e, 0, 0, "%s", strerror(errno));
		report(L, &e);
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		load_file(L, path);
		return;
	}
	if (depth > SG_DIR_DEPTH || !(d = opendir(path))) {
		sg_fail(&e, 0, 0, "%s",
			depth > SG_DIR_DEPTH ? "directories nested too deep" : strerror(errno));
		report(L, &e);
		return;
	}
	while ((de = readdir(d))) {
		char *full, **nn;
		struct stat cs;

		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&full, "%s/%s", path, de->d_name) < 0)
			break;
		if (stat(full, &cs) || (!S_ISDIR(cs.st_mode) && !is_rule_file(de->d_name)) ||
		    !(nn = realloc(names, (n + 1) * sizeof(*nn)))) {
			free(full);
			continue;
		}
		names = nn;
		names[n++] = full;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		load_path(L, names[i], depth + 1);
		free(names[i]);
	}
	free(names);
}

/* drop rule @i from the set (a correlation that did not link) */
static void drop_rule(struct kh_sigma *s, size_t i)
{
	sg_rule_free(s->rules[i]);
	memmove(&s->rules[i], &s->rules[i + 1], (s->n - i - 1) * sizeof(*s->rules));
	s->n--;
}

static int finish(struct loadctx *L)
{
	struct kh_sigma *s = L->s;

	/* link correlations; one that names a missing rule goes, and the links are redone */
	for (bool again = true; again;) {
		again = false;
		s->n_windowed = 0;
		for (size_t i = 0; i < s->n; i++) {
			s->rules[i]->silent = false;
			s->rules[i]->n_feeds = 0;
			sg_corr_state_free(s->rules[i]->state);
			s->rules[i]->state = NULL;
		}
		for (size_t i = 0; i < s->n && !again; i++) {
			struct sg_err e;

			if (s->rules[i]->kind == SG_DETECTION || !sg_corr_link(s, i, &e))
				continue;
			report(L, &e);
			drop_rule(s, i);
			again = true;
		}
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->rules[i]->kind == SG_DETECTION && sg_gate_rule(s, s->rules[i]))
			return -1;
	if (sg_gate_finish(s))
		return -1;
	if (sg_fields_finish(s))
		return -1;
	s->scratch_cap = SG_SCRATCH;
	s->scratch = malloc(s->scratch_cap);
	for (size_t i = 0; i < s->n; i++)
		if (s->rules[i]->n_sels > s->sel_cache_cap)
			s->sel_cache_cap = s->rules[i]->n_sels;
	s->sel_cache = calloc(s->sel_cache_cap + 1, 1);
	if (!s->scratch || !s->sel_cache)
		return -1;
	return 0;
}

static struct kh_sigma *load(const char *const *paths, size_t n_paths, struct loadctx *L)
{
	L->s = calloc(1, sizeof(*L->s));
	if (!L->s)
		return NULL;
	for (size_t i = 0; i < n_paths; i++)
		load_path(L, paths[i], 0);
	if (finish(L)) {
		sigma__free(L->s);
		errno = ENOMEM;
		return NULL;
	}
	return L->s;
}

struct kh_sigma *sigma__load(const char *const *paths, size_t n_paths, size_t *n_errors)
{
	struct loadctx L = {0};
	struct kh_sigma *s = load(paths, n_paths, &L);

	if (n_errors)
		*n_errors = L.errors;
	return s;
}

struct kh_sigma *sigma__load_mem(const char *buf, size_t len, const char *name, FILE *err,
				 size_t *n_errors)
{
	struct loadctx L = {.err = err};
	FILE *f;

	L.s = calloc(1, sizeof(*L.s));
	if (!L.s)
		return NULL;
	/* fmemopen refuses an empty buffer: an empty file holds no rule */
	if (len && (f = fmemopen((void *)buf, len, "rb"))) {
		load_stream(&L, f, name);
		fclose(f);
	}
	if (finish(&L)) {
		sigma__free(L.s);
		errno = ENOMEM;
		return NULL;
	}
	if (n_errors)
		*n_errors = L.errors;
	return L.s;
}

size_t sigma__check(const char *const *paths, size_t n_paths, FILE *err)
{
	struct loadctx L = {.err = err};
	struct kh_sigma *s = load(paths, n_paths, &L);

	if (!s)
		return L.errors + 1;
	sigma__free(s);
	return L.errors;
}

void sigma__free(struct kh_sigma *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		sg_rule_free(s->rules[i]);
	free(s->rules);
	for (size_t i = 0; i < s->n_fields; i++) {
		free(s->fields[i].name);
		for (uint32_t k = 0; k < s->fields[i].n_paths; k++)
			free(s->fields[i].paths[k]);
	}
	free(s->fields);
	sg_gate_free(s);
	free(s->windowed);
	free(s->field_gen);
	free(s->vals);
	sg_fields_free(s);
	free(s->scratch);
	free(s->sel_cache);
	free(s);
}

size_t sigma__n(const struct kh_sigma *s)
{
	return s ? s->n : 0;
}

const struct kh_rule_info *sigma__info(const struct kh_sigma *s, size_t i)
{
	return i < s->n ? &s->rules[i]->info : NULL;
}

const char *sigma__kind(const struct kh_sigma *s, size_t i)
{
	static const char *const names[] = {"detection", "event_count", "value_count", "temporal",
					    "temporal_ordered"};

	return i < s->n ? names[s->rules[i]->kind] : NULL;
}

void sigma__attach(struct kh_sigma *s, struct kh_emit *e, size_t count_index, size_t key_base)
{
	s->emit = e;
	s->count_index = count_index;
	s->key_base = key_base;
	for (size_t i = 0; i < s->n; i++)
		s->rules[i]->count_index = count_index;
}

void sigma__count_as(struct kh_sigma *s, size_t i, size_t count_index)
{
	if (s && i < s->n)
		s->rules[i]->count_index = count_index;
}

void sigma__flush(struct kh_sigma *s)
{
	if (s && s->n_windowed)
		sg_corr_advance(s, INT64_MAX, true);
}

uint64_t sigma__evictions(const struct kh_sigma *s)
{
	return s ? s->evictions : 0;
}

/* ---- the per-event pass ------------------------------------------------------------------------
 */

static bool eval_sel(struct kh_sigma *s, const struct sg_rule *r, uint32_t i)
{
	const struct sg_selection *sel = &r->sels[i];

	if (s->sel_cache[i])
		return s->sel_cache[i] == 2;
	for (uint32_t g = 0; g < sel->n; g++) {
		const struct sg_group *gr = &sel->groups[g];
		uint32_t k;

		for (k = 0; k < gr->n && sg_item_eval(s, &gr->items[k]); k++)
			;
		if (k == gr->n) {
			s->sel_cache[i] = 2;
			return true;
		}
	}
	s->sel_cache[i] = 1;
	return false;
}

static bool eval(struct kh_sigma *s, const struct sg_rule *r, const struct sg_cond *c)
{
	switch (c->op) {
	case SG_C_SEL:
		return eval_sel(s, r, c->sel);
	case SG_C_NOT:
		return !eval(s, r, c->kids[0]);
	case SG_C_AND:
		for (uint32_t k = 0; k < c->n; k++)
			if (!eval(s, r, c->kids[k]))
				return false;
		return true;
	case SG_C_OR:
		for (uint32_t k = 0; k < c->n; k++)
			if (eval(s, r, c->kids[k]))
				return true;
		return false;
	case SG_C_TRUE:
		return true;
	default:
		return false;
	}
}

void sg_alert(struct kh_sigma *s, uint32_t i, const struct audit_event *ev)
{
	struct json_out *j;

	emit__set_rule_counted(s->emit, s->key_base + i, s->rules[i]->count_index);
	j = emit__alert_begin(s->emit, &s->rules[i]->info, ev);
	if (j)
		emit__alert_end(s->emit, NULL, 0);
}

static void run_rule(struct kh_sigma *s, uint32_t i, const struct audit_event *ev)
{
	const struct sg_rule *r = s->rules[i];

	if (!sg_gate_pass(s, r))
		return;
	memset(s->sel_cache, 0, r->n_sels);
	if (!eval(s, r, r->cond))
		return;
	if (!r->silent && s->emit)
		sg_alert(s, i, ev);
	for (uint32_t f = 0; f < r->n_feeds; f++)
		sg_corr_feed(s, r->feeds[f], ev, audit_event_time_ns(ev), i, 0);
}

void sigma__on_event(struct kh_sigma *s, const struct audit_event *ev)
{
	const uint32_t *rules;
	uint32_t b, n;

	if (!s || !s->n)
		return;
	if (s->n_windowed) { /* lt/lte/neq windows that ended before this event are decided */
		int64_t t = audit_event_time_ns(ev);

		if (t > s->now_ns)
			s->now_ns = t;
		sg_corr_advance(s, s->now_ns, false);
	}
	sg_fields_begin(s, ev);
	sg_gate_event(s);
	b = sg_gate_bucket(s);
	rules = s->bucket[b];
	n = s->bucket_n[b];
	for (uint32_t k = 0; k < n; k++)
		run_rule(s, rules[k], ev);
	if (s->emit)
		emit__event_end_range(s->emit, ev, s->key_base, s->n);
}
