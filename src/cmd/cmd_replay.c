// SPDX-License-Identifier: Apache-2.0
/*
 * keyhole replay: run audit log files (plain or gzip, or stdin) through the same pipeline live
 * capture uses, printing alerts as JSON lines.
 *
 * A rotated set is read in the order given, through one pipeline, so windows and dedupe span
 * the rotation exactly as they do live. Exit 0 whether or not alerts fired; 2 when the command
 * line is wrong or an input could not be read (the others are still processed).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd_common.h"
#include "keyhole/correlate.h"
#include "keyhole/config.h"
#include "keyhole/log.h"
#include "keyhole/pipeline.h"
#include "keyhole/resume.h"
#include "keyhole/ring_abi.h"
#include "keyhole/rule.h"
#include "keyhole/rules_engine.h"
#include "keyhole/line_reader.h"

static const char replay_usage[] =
	"Usage: keyhole replay [OPTIONS] FILE...\n"
	"       keyhole replay [OPTIONS] --baseline FILE... -- FILE...\n"
	"\n"
	"Read audit.k8s.io Event lines from FILEs (plain or gzip, detected by content; '-' is\n"
	"stdin), apply every rule, and print alerts as JSON lines. Give a rotated set oldest first.\n"
	"A one-line summary per input goes to stderr.\n"
	"\n"
	"Options:\n"
	"  --baseline FILE... --  learn history from these files first, without alerting\n"
	"  -c, --config FILE      configuration file (YAML)\n"
	"  -o, --output FILE|-    write alerts to FILE (appended) instead of stdout\n"
	"  -q, --quiet            no per-input summary\n"
	"  --resume STATE         continue a previous replay of a growing set of files from the\n"
	"                         checkpoint in the state file STATE (created if missing), and\n"
	"                         save it there: each line is replayed once over all the runs\n"
	"  -h, --help             this help\n"
	"\n"
	"Exit status: 0 success (alerts or not), 2 usage error or unreadable input.\n";

struct replay_args {
	const char *config;
	const char *output;
	const char *resume;
	int quiet;
	char **baseline;
	int n_baseline;
	char **files;
	int n_files;
};

static int parse_args(int argc, char **argv, struct replay_args *a)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-' && argv[i][1] != '\0') {
		const char *o = argv[i];

		if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			fputs(replay_usage, stdout);
			return 1;
		} else if (!strcmp(o, "-q") || !strcmp(o, "--quiet")) {
			a->quiet = 1;
			i++;
		} else if (!strcmp(o, "-c") || !strcmp(o, "--config") || !strcmp(o, "-o") ||
			   !strcmp(o, "--output") || !strcmp(o, "--resume")) {
			if (i + 1 >= argc)
				return cmd_usage_error(replay_usage, "%s needs an argument", o);
			if (!strcmp(o, "--resume"))
				a->resume = argv[i + 1];
			else if (o[1] == 'c' || o[2] == 'c')
				a->config = argv[i + 1];
			else
				a->output = argv[i + 1];
			i += 2;
		} else if (!strcmp(o, "--baseline")) {
			int j = ++i;

			while (j < argc && strcmp(argv[j], "--") != 0)
				j++;
			if (j >= argc)
				return cmd_usage_error(replay_usage,
						       "--baseline FILE... must end with --");
			a->baseline = argv + i;
			a->n_baseline = j - i;
			i = j + 1;
			break;
		} else if (!strcmp(o, "--")) {
			i++;
			break;
		} else {
			return cmd_usage_error(replay_usage, "unknown option '%s'", o);
		}
	}
	a->files = argv + i;
	a->n_files = argc - i;
	if (a->n_files == 0)
		return cmd_usage_error(replay_usage, "no input file (use '-' for stdin)");
	return 0;
}

static void print_summary(const char *name, const struct kh_counters *now,
			  const struct kh_counters *before, const uint64_t *alerts_before)
{
	char rules[1024] = "";
	size_t off = 0;

	for (size_t i = 0; i <= rules__count() && i < 64; i++) {
		/* the slot after the table counts the correlator's incident lines */
		const char *id = kh_rule_table[i] ? kh_rule_table[i]->info->id
						  : kh_rule_escalate_then_loot.id;
		uint64_t n = now->alerts_by_rule[i] - alerts_before[i];

		if (n && off < sizeof(rules))
			off += (size_t)snprintf(rules + off, sizeof(rules) - off, "%s%s %llu",
						off ? ", " : " (", id, (unsigned long long)n);
	}
	if (off && off < sizeof(rules) - 1)
		strcat(rules, ")");
	kh_log(KH_LOG_INFO, "replay %s: %llu events, %llu malformed, %llu alerts%s", name,
	       (unsigned long long)(now->lines - before->lines),
	       (unsigned long long)(now->malformed - before->malformed),
	       (unsigned long long)(now->alerts - before->alerts), rules);
}

/* feed one input; returns 0, or 2 when it could not be read (whole or in part) */
static int replay_one(struct kh_pipeline *p, const char *name, int quiet, int last)
{
	const struct kh_counters *c = pipeline__counters(p);
	struct kh_counters before = *c;
	uint64_t alerts_before[64] = {0};
	struct line_reader *r;
	struct kh_origin o = {.source = name};
	const char *line;
	size_t len;
	int st, ret = 0;

	for (size_t i = 0; i <= rules__count() && i < 64; i++)
		alerts_before[i] = c->alerts_by_rule[i];
	r = line_reader__open(name, 0);
	if (!r) {
		kh_log(KH_LOG_ERROR, "cannot read %s: %s", strcmp(name, "-") ? name : "stdin",
		       strerror(errno));
		return 2;
	}
	line_reader__keep_head_tail(r, KH_AUDIT_TAIL_DEFAULT);
	while ((st = line_reader__next(r, &line, &len)) != LINE_EOF) {
		o.line_no = line_reader__line_no(r);
		o.cut = 0;
		o.flags = 0;
		o.full_len = o.byte_offset = 0;
		if (st == LINE_CUT) {
			/* longer than the maximum: head and tail, as the live tap keeps them */
			o.cut = (uint32_t)line_reader__cut(r);
			o.flags = KH_EV_TRUNCATED;
			o.full_len = line_reader__line_size(r);
			o.byte_offset = line_reader__line_offset(r);
			st = LINE_OK;
		}
		if (st == LINE_OK) {
			if (pipeline__feed_line(p, line, len, &o) < 0) {
				kh_log(KH_LOG_ERROR,
				       "writing alerts failed at %s:%llu: %s; stopping (alerts after "
				       "this point were not delivered)",
				       name, (unsigned long long)o.line_no, strerror(errno));
				ret = 1;
				break;
			}
		} else if (st == LINE_OVERSIZED) {
			pipeline__feed_oversized(p, &o);
		} else {
			kh_log(KH_LOG_ERROR, "%s: %s (after line %llu); the rest of it is skipped",
			       name, line_reader__error(r), (unsigned long long)o.line_no);
			ret = 2;
			break;
		}
	}
	line_reader__free(r);
	/* what rules still hold (alerts waiting for a later stage, windows) belongs to the last input */
	if (last)
		pipeline__flush(p);
	if (!quiet)
		print_summary(name, c, &before, alerts_before);
	return ret;
}

/*
 * --resume: the files through the catch-up reader (with their positions), from where the last
 * run stopped; files are taken oldest first by modification time, whatever order the shell
 * globbed them in, as the rotated set beside a live log is.
 */
static int replay_resume(struct kh_pipeline *p, struct replay_args *a, FILE *out)
{
	struct kh_resume_opts ro = {.out = out};
	struct kh_resume *r = resume__new(p, &ro);
	const struct kh_resume_stats *st;

	if (!r) {
		kh_log(KH_LOG_ERROR, "cannot start the replay: %s", strerror(errno));
		return 1;
	}
	for (int i = 0; i < a->n_files; i++)
		if (!strcmp(a->files[i], "-")) {
			kh_log(KH_LOG_ERROR, "--resume: stdin has no position to resume from");
			resume__free(r);
			return 2;
		}
	cmd_sort_by_mtime(a->files, a->n_files);
	resume__read_all(r, "replay", a->files);
	pipeline__flush(p);
	st = resume__stats(r);
	if (!a->quiet)
		kh_log(KH_LOG_INFO, "replay --resume: %llu lines from %llu file(s), %llu alerts",
		       (unsigned long long)st->lines, (unsigned long long)st->files,
		       (unsigned long long)pipeline__counters(p)->alerts);
	resume__free(r);
	return 0;
}

int cmd_replay(int argc, char **argv)
{
	struct replay_args a = {0};
	struct kh_pipeline_opts po = {0};
	struct kh_pipeline *p;
	const struct kh_config *cfg_loaded = NULL;
	int ret = 0, r;

	r = parse_args(argc, argv, &a);
	if (r)
		return r == 1 ? 0 : 2;
	struct kh_config with_state;

	if (cmd_load_config(a.config, &po.cfg))
		return 2;
	if (a.resume) {
		const struct kh_config *loaded = po.cfg;

		with_state = loaded ? *loaded : *config__defaults();
		with_state.state_file = a.resume;
		po.cfg = &with_state;
		cfg_loaded = loaded;
	}
	/* --output wins over the config's output, as in `run` */
	if (!a.output && po.cfg)
		a.output = po.cfg->output;
	if (!a.resume)
		cfg_loaded = po.cfg;
	if (cmd_open_output(a.output, &po.out)) {
		cmd_free_config(cfg_loaded);
		return 2;
	}
	po.learn_only = a.n_baseline > 0;
	p = pipeline__new(&po);
	if (!p) {
		kh_log(KH_LOG_ERROR, "cannot start the pipeline: %s", strerror(errno));
		return 1;
	}
	for (int i = 0; i < a.n_baseline; i++)
		if ((r = replay_one(p, a.baseline[i], a.quiet, 0)) > ret)
			ret = r;
	pipeline__set_learn_only(p, 0);
	for (int i = 0; i < a.n_files && ret != 1 && !a.resume; i++)
		if ((r = replay_one(p, a.files[i], a.quiet, i == a.n_files - 1)) > ret)
			ret = r;
	if (a.resume && ret != 1 && (r = replay_resume(p, &a, po.out)) > ret)
		ret = r;
	pipeline__flush(p); /* again: a no-op unless the last input could not be read */
	if ((fflush(po.out) != 0 || ferror(po.out)) && ret != 1) {
		kh_log(KH_LOG_ERROR, "writing alerts to %s failed: %s", a.output ? a.output : "stdout",
		       strerror(errno));
		ret = 1;
	}
	pipeline__free(p);
	cmd_free_config(cfg_loaded);
	if (po.out != stdout)
		fclose(po.out);
	return ret;
}
