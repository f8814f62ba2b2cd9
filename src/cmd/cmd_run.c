// SPDX-License-Identifier: Apache-2.0
/*
 * keyhole run: live mode. Loads the audit tap, follows every kube-apiserver (found in /proc and
 * by exec), and feeds the lines they write to their audit log through the same pipeline replay
 * uses. SIGINT/SIGTERM stop it after draining the ring and flushing every alert; SIGUSR1 prints
 * the counters.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "cmd/cmd_common.h"
#include "cmd/commands.h"
#include "keyhole/log.h"
#include "keyhole/pipeline.h"

static const char run_usage[] =
	"Usage: keyhole run [OPTIONS]\n"
	"\n"
	"Capture the audit events the kube-apiserver writes to its audit log, live, with BPF, and\n"
	"print alerts as JSON lines. Running apiservers are found in /proc (their --audit-log-path,\n"
	"through /proc/PID/root), restarted ones by exec; log rotation is followed. Needs root (or\n"
	"CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE) and a kernel with BTF: `keyhole probe` tells.\n"
	"\n"
	"Options:\n"
	"  --audit-log PATH          capture writes to PATH instead of the apiserver's own\n"
	"                            --audit-log-path (it may not exist yet)\n"
	"  -o, --output FILE|-       write alerts to FILE (appended) instead of stdout\n"
	"  --comm NAME               name of the apiserver process (default kube-apiserver)\n"
	"  --max-event-bytes N       events longer than N keep their head and tail only\n"
	"                            (default 1048576, at most 8388608; K and M suffixes)\n"
	"  --ring-bytes N            BPF ring buffer size, a power of two (default 16M)\n"
	"  -c, --config FILE         configuration file (YAML)\n"
	"  -v, --verbose             show libbpf's messages\n"
	"  -h, --help                this help\n"
	"\n"
	"Signals: INT/TERM stop (after draining and flushing), USR1 prints the counters.\n"
	"Exit status: 0 stopped cleanly, 1 capture or output failure, 2 usage error.\n";

struct run_args {
	const char *audit_log;
	const char *output;
	const char *comm;
	const char *config;
	uint64_t max_event_bytes;
	uint32_t ring_bytes;
	int verbose;
};

static volatile sig_atomic_t stop_requested, stats_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	stats_requested = 1;
}

/* "1048576", "1024K", "16M" */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t n;

		if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			fputs(run_usage, stdout);
			return 1;
		} else if (!strcmp(o, "-v") || !strcmp(o, "--verbose")) {
			a->verbose = 1;
			continue;
		}
		if (!v)
			return cmd_usage_error(run_usage, "unknown option '%s' or missing argument", o);
		i++;
		if (!strcmp(o, "--audit-log")) {
			a->audit_log = v;
		} else if (!strcmp(o, "-o") || !strcmp(o, "--output")) {
			a->output = v;
		} else if (!strcmp(o, "--comm")) {
			a->comm = v;
		} else if (!strcmp(o, "-c") || !strcmp(o, "--config")) {
			a->config = v;
		} else if (!strcmp(o, "--max-event-bytes")) {
			if (parse_size(v, &a->max_event_bytes))
				return cmd_usage_error(run_usage, "--max-event-bytes '%s': not a size",
						       v);
		} else if (!strcmp(o, "--ring-bytes")) {
			if (parse_size(v, &n) || n > (1u << 30))
				return cmd_usage_error(run_usage, "--ring-bytes '%s': not a size", v);
			a->ring_bytes = (uint32_t)n;
		} else {
			return cmd_usage_error(run_usage, "unknown option '%s'", o);
		}
	}
	return 0;
}

struct sink {
	struct kh_pipeline *p;
};

static int feed(void *ctx, const struct capture_line *l)
{
	struct sink *s = ctx;
	struct kh_origin o = {.source = l->origin, .line_no = l->line_no, .flags = l->flags};

	return pipeline__feed_line(s->p, l->data, l->len, &o);
}

static void print_counters(const struct capture *c, const struct kh_pipeline *p)
{
	const struct kh_counters *k = pipeline__counters(p);

	capture__print_stats(c, stderr);
	fprintf(stderr,
		"keyhole: pipeline: %llu lines, %llu parsed, %llu malformed (%llu oversized), "
		"%llu truncated, %llu alerts\n",
		(unsigned long long)k->lines, (unsigned long long)k->parsed,
		(unsigned long long)k->malformed, (unsigned long long)k->oversized,
		(unsigned long long)k->truncated, (unsigned long long)k->alerts);
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	/* no SA_RESTART: a signal must interrupt the ring's epoll wait */
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
}

/* the loop: poll, flush alerts after each batch, counters on SIGUSR1 */
static int run_loop(struct capture *c, struct kh_pipeline *p, FILE *out)
{
	while (!stop_requested) {
		int n = capture__poll(c, 100);

		if (n < 0) {
			kh_log(KH_LOG_ERROR, "capture stopped: %s", strerror(-n));
			return 1;
		}
		if (n > 0 && fflush(out)) {
			kh_log(KH_LOG_ERROR, "writing alerts failed: %s", strerror(errno));
			return 1;
		}
		if (stats_requested) {
			stats_requested = 0;
			print_counters(c, p);
		}
	}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct run_args a = {0};
	struct kh_pipeline_opts po = {0};
	struct capture_opts co = {0};
	struct sink sink = {0};
	struct capture *c;
	int ret, r;

	r = parse_args(argc, argv, &a);
	if (r)
		return r == 1 ? 0 : 2;
	if (cmd_open_output(a.output, &po.out))
		return 2;
	if (cmd_load_config(a.config, &po.cfg))
		return 2;
	sink.p = pipeline__new(&po);
	if (!sink.p) {
		kh_log(KH_LOG_ERROR, "cannot start the pipeline: %s", strerror(errno));
		return 1;
	}
	install_signals();
	co.comm = a.comm;
	co.audit_log = a.audit_log;
	co.max_event_bytes = a.max_event_bytes;
	co.ring_bytes = a.ring_bytes;
	co.verbose = a.verbose;
	co.line_fn = feed;
	co.line_ctx = &sink;
	if (capture__new(&co, &c)) {
		pipeline__free(sink.p);
		cmd_free_config(po.cfg);
		return 1;
	}
	kh_log(KH_LOG_INFO, "ready: capturing live (INT/TERM stop, USR1 prints counters)");
	ret = run_loop(c, sink.p, po.out);
	capture__stop(c);
	pipeline__flush(sink.p);
	if (fflush(po.out) || ferror(po.out)) {
		kh_log(KH_LOG_ERROR, "writing alerts to %s failed: %s", a.output ? a.output : "stdout",
		       strerror(errno));
		ret = 1;
	}
	print_counters(c, sink.p);
	capture__free(c);
	pipeline__free(sink.p);
	cmd_free_config(po.cfg);
	if (po.out != stdout)
		fclose(po.out);
	return ret;
}
