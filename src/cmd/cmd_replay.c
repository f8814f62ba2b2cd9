// SPDX-License-Identifier: Apache-2.0
/*
 * keyhole replay: run audit log files (plain or gzip, or stdin) through the same pipeline live
 * capture uses, printing alerts as JSON lines (or text lines for a person).
 *
 * A rotated set is read in the order given, through one pipeline, so windows and dedupe span
 * the rotation exactly as they do live. Every input is checked before any is read. Exit 0
 * whether or not alerts fired; 2 when the command line is wrong or an input could not be read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd_common.h"
#include "cmd/cmd_format.h"
#include "cmd/commands.h"
#include "cmd/feed.h"
#include "cmd/opts.h"
#include "keyhole/config.h"
#include "keyhole/log.h"
#include "keyhole/pipeline.h"
#include "keyhole/report.h"
#include "keyhole/resume.h"
#include "keyhole/sigma.h"

enum { O_BASELINE, O_CONFIG, O_OUTPUT, O_FORMAT, O_COLOR, O_QUIET, O_RESUME, O_RULES };

static const struct opt replay_opts[] = {
    {0, "baseline", "FILE", "learn history from these files first, without alerting", O_BASELINE,
     OPT_LIST, NULL},
    {'c', "config", "FILE", "configuration file (YAML)", O_CONFIG, OPT_FILE, NULL},
    {'o', "output", "FILE", "write alerts to FILE (appended) instead of stdout; - is stdout",
     O_OUTPUT, OPT_FILE, NULL},
    CMD_FORMAT_OPTS(O_FORMAT, O_COLOR),
    {'r', "rules", "PATH",
     "Sigma rules: a file or a directory (repeatable; adds to the\n"
     "config's rules.paths)",
     O_RULES, OPT_FILE, NULL},
    {'q', "quiet", NULL, "no per-input summary", O_QUIET, 0, NULL},
    {0, "resume", "STATE",
     "continue a previous replay of a growing set of files from the\n"
     "checkpoint in the state file STATE (created if missing), and\n"
     "save it there: each line is replayed once over all the runs",
     O_RESUME, OPT_FILE, NULL},
    {0},
};

const struct cmd_spec replay_spec = {
    .name = "replay",
    .summary = "apply the rules to audit log files (plain, gzip, or stdin)",
    .synopsis = "[OPTIONS] FILE...\n[OPTIONS] --baseline FILE... -- FILE...\n"
		"[OPTIONS] --resume STATE FILE...",
    .description =
	"Read audit.k8s.io Event lines from FILEs (plain or gzip, detected by content; '-' "
	"is\nstdin), apply every rule, and print alerts as JSON lines. Give a rotated set "
	"oldest first.\nA one-line summary per input goes to stderr, and a progress line "
	"when stderr is a terminal.\nEvery input is checked before any is read.",
    .operand = "FILE",
    .epilog = "Exit status: 0 success (alerts or not), 2 usage error or unreadable input.",
    .opts = replay_opts,
};

struct replay_args {
	const char *config;
	const char *output;
	const char *resume;
	int quiet;
	struct cmd_format fmt;
	char **baseline;
	int n_baseline;
	const char *rules[KH_SIGMA_MAX_PATHS];
	size_t n_rules;
};

static int set_opt(void *ctx, const struct opt_hit *h)
{
	struct replay_args *a = ctx;

	switch (h->o->id) {
	case O_BASELINE:
		a->baseline = h->list;
		a->n_baseline = h->n_list;
		return 0;
	case O_CONFIG:
		a->config = h->val;
		return 0;
	case O_OUTPUT:
		a->output = h->val;
		return 0;
	case O_QUIET:
		a->quiet = 1;
		return 0;
	case O_RULES:
		if (a->n_rules == KH_SIGMA_MAX_PATHS)
			return cmd__usage_error(NULL, "at most %d rule paths", KH_SIGMA_MAX_PATHS);
		a->rules[a->n_rules++] = h->val;
		return 0;
	case O_RESUME:
		a->resume = h->val;
		return 0;
	default:
		return cmd_format_opt(h, &a->fmt);
	}
}

/*
 * --resume: the files through the catch-up reader (with their positions), from where the last
 * run stopped; files are taken oldest first by modification time, whatever order the shell
 * globbed them in, as the rotated set beside a live log is.
 */
static int replay_resume(struct kh_pipeline *p, const struct replay_args *a, char **files, int n,
			 FILE *out)
{
	struct kh_resume_opts ro = {.out = out};
	struct kh_resume *r;
	const struct kh_resume_stats *st;
	char **list = calloc((size_t)n + 1, sizeof(*list));

	for (int i = 0; i < n; i++)
		if (!strcmp(files[i], "-")) {
			kh_log(KH_LOG_ERROR, "--resume: stdin has no position to resume from");
			free(list);
			return 2;
		}
	r = list ? resume__new(p, &ro) : NULL;
	if (!r) {
		kh_log(KH_LOG_ERROR, "cannot start the replay: %s", strerror(errno));
		free(list);
		return 1;
	}
	memcpy(list, files, (size_t)n * sizeof(*list)); /* NULL-terminated, as read_all wants */
	cmd_sort_by_mtime(list, n);
	resume__read_all(r, "replay", list);
	pipeline__flush(p);
	st = resume__stats(r);
	if (!a->quiet)
		kh_log(KH_LOG_INFO, "replay --resume: %llu lines from %llu file(s), %llu alerts",
		       (unsigned long long)st->lines, (unsigned long long)st->files,
		       (unsigned long long)pipeline__counters(p)->alerts);
	resume__free(r);
	free(list);
	return 0;
}

static int replay_all(struct feed *f, const struct replay_args *a, char **files, int n, FILE *out)
{
	int ret = 0, r;

	for (int i = 0; i < a->n_baseline; i++)
		if ((r = feed__file(f, a->baseline[i], 0)) > ret)
			ret = r;
	pipeline__set_learn_only(f->p, 0);
	if (a->resume && ret != 1 && (r = replay_resume(f->p, a, files, n, out)) > ret)
		ret = r;
	for (int i = 0; i < n && ret != 1 && !a->resume; i++)
		if ((r = feed__file(f, files[i], i == n - 1)) > ret)
			ret = r;
	pipeline__flush(f->p); /* again: a no-op unless the last input could not be read */
	feed__finish(f);
	return ret;
}

int cmd__replay(int argc, char **argv)
{
	struct replay_args a = {.fmt = CMD_FORMAT_INIT};
	struct kh_pipeline_opts po = {0};
	const struct kh_config *loaded = NULL;
	struct kh_config with_state;
	struct feed f = {0};
	FILE *file_out;
	char **files;
	int n, ret;

	ret = opts__parse(&replay_spec, argc, argv, set_opt, &a, &files, &n);
	if (ret)
		return ret == 1 ? 0 : 2;
	if (n == 0)
		ret = cmd__usage_error(NULL, "no input file (use '-' for stdin)");
	if (!ret && (opts__check_inputs(a.baseline, a.n_baseline) || opts__check_inputs(files, n)))
		ret = 2;
	if (!ret && cmd__load_config(a.config, &loaded))
		ret = 2;
	po.cfg = loaded;
	if (!ret && a.resume) {
		/* the checkpoint lives in the state file STATE: the config's, with that path */
		with_state = loaded ? *loaded : *config__defaults();
		with_state.state_file = a.resume;
		po.cfg = &with_state;
	}
	/* --output wins over the config's output, as in `run` */
	if (!ret && !a.output && po.cfg)
		a.output = po.cfg->output;
	if (!ret && cmd__open_output(a.output, &file_out))
		ret = 2;
	if (ret) {
		cmd__free_config(loaded);
		free(files);
		return ret;
	}
	po.out = file_out;
	if (cmd_wrap_text(&po.out, &a.fmt))
		ret = 1;
	po.learn_only = a.n_baseline > 0;
	po.rule_paths = a.rules;
	po.n_rule_paths = a.n_rules;
	po.batch_output = 1; /* nothing waits on a replay's alerts: write in blocks */
	f.p = ret ? NULL : pipeline__new(&po);
	if (!ret && !f.p) {
		kh_log(KH_LOG_ERROR, "cannot start the pipeline: %s", strerror(errno));
		ret = 1;
	}
	if (!ret) {
		f.quiet = a.quiet;
		f.prog = progress__new(stderr, "replay",
				       feed__total_bytes(a.baseline, a.n_baseline) +
					   feed__total_bytes(files, n),
				       isatty(STDERR_FILENO));
		ret = replay_all(&f, &a, files, n, po.out);
	}
	pipeline__free(f.p);
	if (po.out != file_out && fclose(po.out) && ret != 1)
		ret = 1;
	if ((fflush(file_out) != 0 || ferror(file_out)) && ret != 1) {
		kh_log(KH_LOG_ERROR, "writing alerts to %s failed: %s",
		       a.output ? a.output : "stdout", strerror(errno));
		ret = 1;
	}
	cmd__free_config(loaded);
	if (file_out != stdout)
		fclose(file_out);
	free(files);
	return ret;
}
