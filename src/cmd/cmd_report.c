// SPDX-License-Identifier: Apache-2.0
/*
 * keyhole report: a log set (or keyhole's own alert lines) as one incident report a person can
 * read: self-contained HTML, or Markdown. Audit logs go through the same pipeline as `replay`;
 * the report takes the alert lines from the pipeline's output and each event's metadata on the
 * way in. The file is written beside its final name and renamed, so a failed run leaves no half
 * report.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd_common.h"
#include "cmd/commands.h"
#include "cmd/feed.h"
#include "cmd/opts.h"
#include "keyhole/config.h"
#include "keyhole/log.h"
#include "keyhole/pipeline.h"
#include "keyhole/report.h"
#include "keyhole/line_sink.h"
#include "keyhole/line_reader.h"

enum { O_BASELINE, O_ALERTS, O_OUTPUT, O_FORMAT, O_CONFIG, O_QUIET };

static const struct opt report_opts[] = {
    {0, "baseline", "FILE", "learn history from these audit logs first (no alerts from them)",
     O_BASELINE, OPT_LIST, NULL},
    {0, "alerts", NULL,
     "the FILEs are keyhole alert JSON lines (from run or replay), not\n"
     "audit logs",
     O_ALERTS, 0, NULL},
    {'o', "output", "FILE", "write the report to FILE (replaced); - is stdout", O_OUTPUT, OPT_FILE,
     NULL},
    {'f', "format", "FORMAT",
     "html (default): one self-contained file, no external fetch;\n"
     "markdown: the same content for a ticket or pull request",
     O_FORMAT, 0, "html markdown"},
    {'c', "config", "FILE", "configuration file (YAML)", O_CONFIG, OPT_FILE, NULL},
    {'q', "quiet", NULL, "no per-input summary", O_QUIET, 0, NULL},
    {0},
};

const struct cmd_spec report_spec = {
    .name = "report",
    .summary = "write an incident report (HTML or Markdown) of a log set or of alerts",
    .synopsis = "[OPTIONS] -o FILE [--baseline FILE... --] FILE...\n"
		"[OPTIONS] -o FILE --alerts FILE...",
    .description =
	"Read audit log FILEs (as `replay` does) or keyhole alert lines (--alerts) and write "
	"one report:\nthe log set (files, time span, events, principals, rotation gaps), each "
	"incident as a\ntimeline with its latest revision's details, alert counts by rule "
	"and severity over time,\nthe principals, source IPs and user agents behind secret "
	"access, and every alert in a\ntable that sorts and filters. Only metadata is read, "
	"never a request or response body,\nso no secret value can reach the report.",
    .operand = "FILE",
    .epilog = "Exit status: 0 report written, 1 write failure, 2 usage error or unreadable "
	      "input.",
    .opts = report_opts,
};

struct report_args {
	const char *output, *config;
	int alerts, quiet;
	enum kh_report_format fmt;
	char **baseline;
	int n_baseline;
};

static int set_opt(void *ctx, const struct opt_hit *h)
{
	struct report_args *a = ctx;

	switch (h->o->id) {
	case O_BASELINE:
		a->baseline = h->list;
		a->n_baseline = h->n_list;
		return 0;
	case O_ALERTS:
		a->alerts = 1;
		return 0;
	case O_OUTPUT:
		a->output = h->val;
		return 0;
	case O_CONFIG:
		a->config = h->val;
		return 0;
	case O_QUIET:
		a->quiet = 1;
		return 0;
	default:
		if (!strcmp(h->val, "html"))
			a->fmt = KH_REPORT_HTML;
		else if (!strcmp(h->val, "markdown") || !strcmp(h->val, "md"))
			a->fmt = KH_REPORT_MARKDOWN;
		else
			return cmd__usage_error(NULL, "--format '%s': html or markdown", h->val);
		return 0;
	}
}

static int take_alert(void *ctx, const char *line, size_t len)
{
	report__add_alert(ctx, line, len);
	return 0;
}

static void take_event(void *ctx, const char *line, size_t len, size_t cut)
{
	report__add_event(ctx, line, len, cut);
}

/* audit logs through the pipeline; the alerts come back through a line sink */
static int from_logs(struct kh_report *rep, const struct report_args *a, char **files, int n,
		     const struct kh_config *cfg)
{
	struct kh_pipeline_opts po = {.cfg = cfg, .learn_only = a->n_baseline > 0};
	struct feed f = {.quiet = a->quiet, .on_line = take_event, .ctx = rep};
	int ret = 0, r;

	po.out = line_sink__open(take_alert, NULL, rep);
	f.p = po.out ? pipeline__new(&po) : NULL;
	if (!f.p) {
		kh_log(KH_LOG_ERROR, "cannot start the pipeline: %s", strerror(errno));
		if (po.out)
			fclose(po.out);
		return 1;
	}
	f.prog = progress__new(stderr, "report",
			       feed__total_bytes(a->baseline, a->n_baseline) +
				   feed__total_bytes(files, n),
			       isatty(STDERR_FILENO));
	for (int i = 0; i < a->n_baseline && ret != 1; i++) {
		if (report__begin_file(rep, a->baseline[i], 1))
			ret = 1;
		else if ((r = feed__file(&f, a->baseline[i], 0)) > ret)
			ret = r;
	}
	pipeline__set_learn_only(f.p, 0);
	for (int i = 0; i < n && ret != 1; i++) {
		if (report__begin_file(rep, files[i], 0))
			ret = 1;
		else if ((r = feed__file(&f, files[i], i == n - 1)) > ret)
			ret = r;
	}
	pipeline__flush(f.p);
	feed__finish(&f);
	pipeline__free(f.p);
	fclose(po.out);
	return ret;
}

static int from_alerts(struct kh_report *rep, char **files, int n)
{
	struct kh_progress *prog =
	    progress__new(stderr, "report", feed__total_bytes(files, n), isatty(STDERR_FILENO));
	uint64_t done = 0, lines = 0, taken = 0;
	int ret = 0;

	for (int i = 0; i < n; i++) {
		struct line_reader *r = line_reader__open(files[i], 0);
		const char *line;
		size_t len;
		uint64_t bad = 0;
		int st;

		if (!r) {
			kh_log(KH_LOG_ERROR, "cannot read %s: %s", files[i], strerror(errno));
			ret = 2;
			continue;
		}
		while ((st = line_reader__next(r, &line, &len)) == LINE_OK ||
		       st == LINE_OVERSIZED) {
			if (st == LINE_OVERSIZED || (len && report__add_alert(rep, line, len)))
				bad++;
			else
				taken += len > 0;
			if ((++lines & 1023) == 0)
				progress__update(prog, done + line_reader__file_offset(r), lines,
						 taken);
		}
		done += line_reader__file_offset(r);
		progress__clear(prog);
		if (st < 0) {
			kh_log(KH_LOG_ERROR, "%s: %s", files[i], line_reader__error(r));
			ret = 2;
		}
		if (bad)
			kh_log(KH_LOG_WARN, "%s: %llu line(s) are not keyhole alerts; skipped",
			       files[i], (unsigned long long)bad);
		line_reader__free(r);
	}
	progress__finish(prog, done, lines, taken);
	return ret;
}

/* beside the final name, then renamed: a failed run leaves the old report or none */
static int write_report(const struct kh_report *rep, const struct report_args *a)
{
	char tmp[4096];
	FILE *f;
	int err;

	if (!strcmp(a->output, "-"))
		return report__write(rep, a->fmt, stdout) ? 1 : 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", a->output, (int)getpid());
	f = fopen(tmp, "w");
	if (!f) {
		kh_log(KH_LOG_ERROR, "cannot write %s: %s", tmp, strerror(errno));
		return 1;
	}
	err = report__write(rep, a->fmt, f);
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, a->output))
		err = -errno;
	if (err) {
		kh_log(KH_LOG_ERROR, "writing the report to %s failed: %s", a->output,
		       strerror(-err));
		unlink(tmp);
		return 1;
	}
	return 0;
}

int cmd_report(int argc, char **argv)
{
	struct report_args a = {0};
	const struct kh_config *cfg = NULL;
	struct kh_report *rep = NULL;
	char **files;
	int n, ret;

	ret = opts__parse(&report_spec, argc, argv, set_opt, &a, &files, &n);
	if (ret)
		return ret == 1 ? 0 : 2;
	if (n == 0)
		ret = cmd__usage_error(NULL, "no input file (use '-' for stdin)");
	else if (!a.output)
		ret = cmd__usage_error(NULL, "no output: -o report.html (or -o - for stdout)");
	else if (a.alerts && a.n_baseline)
		ret = cmd__usage_error(NULL,
				       "--baseline reads audit logs; it does not go with --alerts");
	if (!ret && (opts__check_inputs(a.baseline, a.n_baseline) || opts__check_inputs(files, n)))
		ret = 2;
	if (!ret && cmd__load_config(a.config, &cfg))
		ret = 2;
	if (!ret && !(rep = report__new())) {
		kh_log(KH_LOG_ERROR, "out of memory");
		ret = 1;
	}
	if (!ret)
		ret = a.alerts ? from_alerts(rep, files, n) : from_logs(rep, &a, files, n, cfg);
	/* an unreadable input is reported above; the report of the rest is still written */
	if (ret != 1 && rep && write_report(rep, &a))
		ret = 1;
	report__free(rep);
	cmd__free_config(cfg);
	free(files);
	return ret;
}
