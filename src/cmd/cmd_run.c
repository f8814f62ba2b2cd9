// SPDX-License-Identifier: Apache-2.0
/*
 * keyhole run: live mode. Loads the audit tap, follows every kube-apiserver (found in /proc and
 * by exec), and feeds the lines they write to their audit log through the same pipeline replay
 * uses. SIGINT/SIGTERM stop it after draining the ring and flushing every alert; SIGUSR1 prints
 * the counters; SIGHUP reopens the alert file.
 *
 * Settings come from the command line, else the config file (capture.*, output, node.*,
 * metrics.listen), else the defaults. The exec watch runs beside the tap on the same loop when
 * node.exec_watch is on; if it cannot load, the audit tap runs alone and says so.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyhole/capture.h"
#include "keyhole/privileges.h"
#include "cmd/cmd_common.h"
#include "cmd/cmd_format.h"
#include "cmd/commands.h"
#include "keyhole/alert_output.h"
#include "keyhole/baseline.h"
#include "keyhole/cluster.h"
#include "keyhole/config.h"
#include "keyhole/exec_watch.h"
#include "keyhole/log.h"
#include "keyhole/metrics.h"
#include "keyhole/pipeline.h"
#include "keyhole/sigma.h"
#include "keyhole/node_source.h"
#include "keyhole/resume.h"

enum {
	O_AUDIT_LOG,
	O_OUTPUT,
	O_COMM,
	O_MAX_EVENT,
	O_RING,
	O_METRICS,
	O_NO_EXEC,
	O_NO_GUARD,
	O_NO_BASELINE,
	O_CONFIG,
	O_VERBOSE,
	O_FORMAT,
	O_COLOR,
	O_CATCHUP_BYTES,
	O_CATCHUP_AGE,
	O_TAP,
	O_LATE_UPROBES,
	O_CLUSTER,
	O_CLUSTER_NAME,
	O_CLUSTER_PASSWORD_FILE,
	O_CLUSTER_TLS_CA,
	O_CLUSTER_QUEUE_DIR,
	O_NODE_NAME,
	O_ROLE,
	O_RULES,
};

static const struct opt run_opts[] = {
    {0, "audit-log", "PATH",
     "capture writes to PATH instead of the apiserver's own\n"
     "--audit-log-path (it may not exist yet)",
     O_AUDIT_LOG, OPT_FILE, NULL},
    {'o', "output", "FILE|-|syslog[:FACILITY]",
     "where alerts go (default stdout; a FILE is "
     "appended and\nreopened on SIGHUP)",
     O_OUTPUT, OPT_FILE, NULL},
    CMD_FORMAT_OPTS(O_FORMAT, O_COLOR),
    {0, "comm", "NAME", "name of the apiserver process (default kube-apiserver)", O_COMM, 0, NULL},
    {0, "max-event-bytes", "N",
     "events longer than N keep their head and tail only\n"
     "(default 1048576, at most 8388608; K and M suffixes)",
     O_MAX_EVENT, 0, NULL},
    {0, "ring-bytes", "N", "BPF ring buffer size, a power of two (default 16M)", O_RING, 0, NULL},
    {0, "tap", "auto|uprobe|tracepoint",
     "how writes are captured: a uprobe in the apiserver's own\n"
     "Go write function (costs no other process anything), or\n"
     "the write system call tracepoints (any writer); auto (the\n"
     "default) takes the uprobe where the binary resolves",
     O_TAP, 0, "auto uprobe tracepoint"},
    {0, "late-uprobes", NULL,
     "keep CAP_SYS_ADMIN permitted (effective only around each\n"
     "attach) so an apiserver binary first seen after the start\n"
     "still gets its uprobe on kernels that want CAP_SYS_ADMIN\n"
     "for one (needs CAP_SYS_ADMIN: deploy/*/uprobe-tap)",
     O_LATE_UPROBES, 0, NULL},
    {0, "metrics", "ADDR:PORT", "serve /metrics, /healthz, /readyz (e.g. 127.0.0.1:9464)",
     O_METRICS, 0, NULL},
    {0, "no-exec-watch", NULL, "do not watch container exec sessions", O_NO_EXEC, 0, NULL},
    {0, "no-audit-guard", NULL, "do not watch other processes changing the audit log", O_NO_GUARD,
     0, NULL},
    {0, "no-baseline", NULL,
     "do not learn history from the rotated audit logs first\n"
     "(first start; with a checkpoint in the state file, the\n"
     "run resumes from it instead)",
     O_NO_BASELINE, 0, NULL},
    {0, "catchup-max-bytes", "N",
     "resuming after a restart, read at most N bytes of audit\n"
     "log; the oldest are skipped and reported (default 1G)",
     O_CATCHUP_BYTES, 0, NULL},
    {0, "catchup-max-age", "SECONDS",
     "resuming, skip and report lines older than this\n"
     "(default 86400)",
     O_CATCHUP_AGE, 0, NULL},
    {0, "cluster", "URL",
     "cluster mode: share facts over Redis Streams at URL\n"
     "(redis://[user[:password]@]host[:port][/db], rediss://\n"
     "for TLS); see docs/cluster.md. Without it everything\n"
     "runs here.",
     O_CLUSTER, 0, NULL},
    {0, "cluster-name", "NAME", "prefix of every Redis key (default keyhole)", O_CLUSTER_NAME, 0,
     NULL},
    {0, "cluster-password-file", "FILE", "the Redis password, first line (a mounted Secret)",
     O_CLUSTER_PASSWORD_FILE, OPT_FILE, NULL},
    {0, "cluster-tls-ca", "FILE",
     "rediss://: the CA that signs Redis's certificate (PEM;\n"
     "default: the system store)",
     O_CLUSTER_TLS_CA, OPT_FILE, NULL},
    {0, "cluster-queue-dir", "DIR",
     "keep facts Redis has not acknowledged on disk in DIR\n"
     "(they survive a restart; cluster.queue_dir)",
     O_CLUSTER_QUEUE_DIR, OPT_FILE, NULL},
    {0, "node-name", "NAME", "this instance in the cluster (default: the host name)", O_NODE_NAME,
     0, NULL},
    {0, "role", "auto|control-plane|node",
     "control-plane also correlates; auto: control-plane\n"
     "when an apiserver (or --audit-log) is found",
     O_ROLE, 0, "auto control-plane node"},
    {'c', "config", "FILE", "configuration file (YAML)", O_CONFIG, OPT_FILE, NULL},
    {'r', "rules", "PATH",
     "Sigma rules: a file or a directory (repeatable; adds to\n"
     "the config's rules.paths; read again on SIGHUP)",
     O_RULES, OPT_FILE, NULL},
    {'v', "verbose", NULL, "debug messages, libbpf's included", O_VERBOSE, 0, NULL},
    {0},
};

const struct cmd_spec run_spec = {
    .name = "run",
    .summary = "capture the apiserver's audit writes live (BPF) and alert",
    .synopsis = "[OPTIONS]",
    .description =
	"Capture the audit events the kube-apiserver writes to its audit log, live, with "
	"BPF, and\nprint alerts as JSON lines. Running apiservers are found in /proc (their "
	"--audit-log-path,\nthrough /proc/PID/root), restarted ones by exec; log rotation is "
	"followed. Needs root (or\nCAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE) and a kernel with "
	"BTF: `keyhole probe` tells.",
    .epilog =
	"Signals: INT/TERM stop (after draining and flushing), USR1 prints the counters, "
	"HUP\nreopens the alert file and reloads the Sigma rules.\nExit status: 0 stopped cleanly, 1 capture or output "
	"failure, 2 usage error.",
    .opts = run_opts,
};

struct run_args {
	const char *audit_log;
	const char *output;
	const char *comm;
	const char *config;
	uint64_t max_event_bytes;
	uint32_t ring_bytes;
	const char *metrics;
	int verbose;
	int no_exec_watch;
	int no_audit_guard;
	int no_baseline;
	struct cmd_format fmt;
	const char *rules[KH_SIGMA_MAX_PATHS];
	size_t n_rules;
	const char *tap; /* --tap auto|uprobe|tracepoint */
	int late_uprobes;
	const char *cluster;
	const char *cluster_name;
	const char *cluster_password_file;
	const char *cluster_tls_ca;
	const char *cluster_queue_dir;
	const char *node_name;
	const char *role;
	uint64_t catchup_max_bytes;
	int64_t catchup_max_age_ns;
	int catchup_bytes_set, catchup_age_set;
};

static volatile sig_atomic_t stop_requested, stats_requested, reload_requested;

/* SIGHUP: reopen the alert file (alert_output) and read the Sigma rules again */
static void on_hup(int sig)
{
	(void)sig;
	alert_output__request_reopen();
	reload_requested = 1;
}

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
	else if (*end == 'G' || *end == 'g')
		v <<= 30, end++;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int set_opt(void *ctx, const struct opt_hit *h)
{
	struct run_args *a = ctx;
	uint64_t n;

	switch (h->o->id) {
	case O_AUDIT_LOG:
		a->audit_log = h->val;
		break;
	case O_OUTPUT:
		a->output = h->val;
		break;
	case O_COMM:
		if (strlen(h->val) >= KH_COMM_LEN)
			return cmd__usage_error(NULL,
						"--comm '%s': process names are at most %d bytes "
						"(the kernel truncates comm)",
						h->val, KH_COMM_LEN - 1);
		a->comm = h->val;
		break;
	case O_METRICS:
		a->metrics = h->val;
		break;
	case O_CONFIG:
		a->config = h->val;
		break;
	case O_VERBOSE:
		a->verbose = 1;
		log__set_level(KH_LOG_DEBUG);
		break;
	case O_NO_EXEC:
		a->no_exec_watch = 1;
		break;
	case O_NO_GUARD:
		a->no_audit_guard = 1;
		break;
	case O_NO_BASELINE:
		a->no_baseline = 1;
		break;
	case O_LATE_UPROBES:
		a->late_uprobes = 1;
		break;
	case O_CLUSTER:
		a->cluster = h->val;
		break;
	case O_CLUSTER_NAME:
		a->cluster_name = h->val;
		break;
	case O_CLUSTER_PASSWORD_FILE:
		a->cluster_password_file = h->val;
		break;
	case O_CLUSTER_TLS_CA:
		a->cluster_tls_ca = h->val;
		break;
	case O_CLUSTER_QUEUE_DIR:
		a->cluster_queue_dir = h->val;
		break;
	case O_NODE_NAME:
		a->node_name = h->val;
		break;
	case O_ROLE:
		if (strcmp(h->val, "auto") && strcmp(h->val, "control-plane") &&
		    strcmp(h->val, "node"))
			return cmd__usage_error(NULL, "--role '%s': auto, control-plane or node",
						h->val);
		a->role = h->val;
		break;
	case O_MAX_EVENT:
		if (parse_size(h->val, &a->max_event_bytes))
			return cmd__usage_error(NULL, "--max-event-bytes '%s': not a size", h->val);
		/* the bounds of capture.max_event_bytes (config.c): the tap's copy budget */
		if (a->max_event_bytes < KH_AUDIT_CAP_MIN || a->max_event_bytes > KH_AUDIT_CAP_MAX)
			return cmd__usage_error(NULL,
						"--max-event-bytes '%s': must be from %u to %u",
						h->val, KH_AUDIT_CAP_MIN, KH_AUDIT_CAP_MAX);
		break;
	case O_CATCHUP_BYTES:
		if (parse_size(h->val, &a->catchup_max_bytes))
			return cmd__usage_error(NULL, "--catchup-max-bytes '%s': not a size",
						h->val);
		a->catchup_bytes_set = 1;
		break;
	case O_CATCHUP_AGE:
		if (parse_size(h->val, &n) || n > 366ull * 86400)
			return cmd__usage_error(
			    NULL, "--catchup-max-age '%s': not a number of seconds", h->val);
		a->catchup_max_age_ns = (int64_t)n * 1000000000;
		a->catchup_age_set = 1;
		break;
	case O_TAP: {
		enum tap_mode m;

		if (tap_mode_parse(h->val, &m))
			return cmd__usage_error(NULL, "--tap '%s': auto, uprobe or tracepoint",
						h->val);
		a->tap = h->val;
		break;
	}
	case O_RULES:
		if (a->n_rules == KH_SIGMA_MAX_PATHS)
			return cmd__usage_error(NULL, "at most %d rule paths", KH_SIGMA_MAX_PATHS);
		a->rules[a->n_rules++] = h->val;
		break;
	case O_RING:
		if (parse_size(h->val, &n) || n > (1u << 30))
			return cmd__usage_error(NULL, "--ring-bytes '%s': not a size", h->val);
		if (n < 4096 || (n & (n - 1)))
			return cmd__usage_error(
			    NULL, "--ring-bytes '%s': must be a power of two from 4096", h->val);
		a->ring_bytes = (uint32_t)n;
		break;
	default:
		return cmd_format_opt(h, &a->fmt);
	}
	return 0;
}

/* everything a run holds, so one function can release it in order */
struct run {
	struct run_args a;
	const struct kh_config *cfg; /* &eff (never NULL) */
	const struct kh_config *loaded;
	struct kh_config eff; /* the file's or the defaults, with the flags rules read */
	FILE *out;
	FILE *file_out; /* under the text format's FILE, when there is one */
	struct kh_pipeline *p;
	struct capture *c;
	struct exec_watch *ew;
	struct node_source *ns;
	struct kh_metrics *m;
	struct kh_cluster *cl;	   /* cluster mode; NULL in single-node mode */
	bool clustered;		   /* --cluster or cluster.url: the pipeline is the local half */
	struct kh_resume *resume;  /* the catch-up after a restart, and the seam */
	unsigned int watches_done; /* followed logs already caught up or learned */
	uint64_t alerts_saved;	   /* alerts written when the state was last saved */
	int64_t last_alert_save_ns;
};

static int feed(void *ctx, const struct capture_line *l)
{
	struct run *r = ctx;
	struct kh_origin o = {.source = l->origin,
			      .line_no = l->line_no,
			      .flags = l->flags,
			      .cut = l->cut,
			      .full_len = l->full_len};
	struct kh_live_line ll = {.log = l->log,
				  .host = l->host,
				  .dev = l->dev,
				  .ino = l->ino,
				  .data = l->data,
				  .len = l->len,
				  .cut = l->cut != 0};
	struct kh_file_pos pos;

	if (r->resume) {
		if (resume__live_line(r->resume, &ll, &pos))
			return 0; /* the catch-up fed it already */
		o.pos = &pos;
	}
	return pipeline__feed_line(r->p, l->data, l->len, &o);
}

/* tamper events are not exec sessions': they point at this empty one */
static const struct node_session no_session;

static int feed_tamper(void *ctx, const struct capture_tamper *t)
{
	struct run *r = ctx;
	struct node_event ev = {
	    .kind = NODE_EV_LOG_TAMPER, .session = &no_session, .tamper = t->what};

	if (!node_decode__wall_ns(t->ts_ns, &ev.time_ns))
		return 0; /* a stamp from the future: a corrupt record */
	ev.proc.pid = t->pid;
	ev.proc.tid = t->tid;
	ev.proc.ppid = t->ppid;
	ev.proc.uid = t->uid;
	snprintf(ev.proc.comm, sizeof(ev.proc.comm), "%s", t->comm);
	return pipeline__feed_node_event(r->p, &ev);
}

static void print_counters(const struct run *r)
{
	const struct kh_counters *k = pipeline__counters(r->p);

	capture__print_stats(r->c, stderr);
	if (r->cl)
		cluster__print_stats(r->cl, stderr);
	if (r->ns) {
		const struct node_decode_stats *n = node_source__stats(r->ns);
		uint64_t ec[KH_EXEC_WATCH__NR] = {0};

		exec_watch__counters(r->ew, ec);
		fprintf(
		    stderr,
		    "keyhole: exec watch: %llu records, %llu sessions, lost %llu records "
		    "(ring full: %llu exec, %llu open, %llu exit), %llu processes untracked "
		    "(tables full: %llu untagged, %llu syscalls not followed), %llu environment "
		    "scans cut\n",
		    (unsigned long long)n->records, (unsigned long long)n->sessions,
		    (unsigned long long)(ec[KH_EXEC_WATCH_LOST_EXEC] + ec[KH_EXEC_WATCH_LOST_OPEN] +
					 ec[KH_EXEC_WATCH_LOST_EXIT]),
		    (unsigned long long)ec[KH_EXEC_WATCH_LOST_EXEC],
		    (unsigned long long)ec[KH_EXEC_WATCH_LOST_OPEN],
		    (unsigned long long)ec[KH_EXEC_WATCH_LOST_EXIT],
		    (unsigned long long)(ec[KH_EXEC_WATCH_TAGS_FULL] +
					 ec[KH_EXEC_WATCH_PENDING_FULL]),
		    (unsigned long long)ec[KH_EXEC_WATCH_TAGS_FULL],
		    (unsigned long long)ec[KH_EXEC_WATCH_PENDING_FULL],
		    (unsigned long long)ec[KH_EXEC_WATCH_ENV_CUT]);
	}
	fprintf(stderr,
		"keyhole: pipeline: %llu lines, %llu parsed, %llu malformed (%llu oversized), "
		"%llu truncated, %llu alerts\n",
		(unsigned long long)k->lines, (unsigned long long)k->parsed,
		(unsigned long long)k->malformed, (unsigned long long)k->oversized,
		(unsigned long long)k->truncated, (unsigned long long)k->alerts);
	char sigma[2048];

	pipeline__sigma_summary(k, NULL, sigma, sizeof(sigma));
	if (*sigma)
		fprintf(stderr, "keyhole: Sigma alerts by rule:%s\n", sigma);
	if (r->resume && resume__stats(r->resume)->logs) {
		const struct kh_resume_stats *cs = resume__stats(r->resume);

		fprintf(stderr,
			"keyhole: catch-up: %llu lines (%llu bytes) from %llu file(s), "
			"%.1f s behind at start, %llu range(s) skipped (%llu bytes), %llu "
			"file(s) vanished, %llu doubles dropped at the seam\n",
			(unsigned long long)cs->lines, (unsigned long long)cs->bytes,
			(unsigned long long)cs->files, cs->behind_ns / 1e9,
			(unsigned long long)cs->skipped_ranges,
			(unsigned long long)cs->skipped_bytes, (unsigned long long)cs->vanished,
			(unsigned long long)cs->seam_doubles);
		fprintf(stderr,
			"keyhole: warm-up: %llu lines (%llu bytes) of the %.0f s before the "
			"checkpoint re-read, %llu alerts re-derived unwritten, %llu cut (%llu "
			"bytes); %llu alert lines read back, %llu not written again\n",
			(unsigned long long)cs->warmup_lines, (unsigned long long)cs->warmup_bytes,
			cs->warmup_span_ns / 1e9, (unsigned long long)k->warmup_alerts,
			(unsigned long long)cs->warmup_cuts,
			(unsigned long long)cs->warmup_cut_bytes,
			(unsigned long long)cs->written_noted,
			(unsigned long long)k->already_written);
	}
}

/*
 * After a batch that wrote alerts, save the state (history and checkpoint) soon, so a SIGKILL
 * replays as few alerted lines as possible at the next start (at most 200 ms of them).
 */
static void save_after_alerts(struct run *r)
{
	uint64_t alerts = pipeline__counters(r->p)->alerts;
	struct timespec ts;
	int64_t now;

	if (alerts == r->alerts_saved || !pipeline__checkpoint(r->p))
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	if (now - r->last_alert_save_ns < 200000000)
		return;
	r->alerts_saved = alerts;
	r->last_alert_save_ns = now;
	pipeline__save_state(r->p);
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
	sa.sa_handler = on_hup;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
}

static void catch_up_new_watches(struct run *r);

/* the loop: poll, flush alerts after each batch, counters on SIGUSR1, heartbeat */
/* cluster mode: another instance's pods/exec request, for this node's exec join */
static int feed_remote(void *ctx, const char *line, size_t len)
{
	struct run *r = ctx;

	return pipeline__feed_remote_request(r->p, line, len);
}

static int run_loop(struct run *r)
{
	while (!stop_requested) {
		struct capture_stats s;
		int n = capture__poll(r->c, 100);

		if (n >= 0 && r->cl)
			n += (int)cluster__drain_exec_requests(r->cl, feed_remote, r);

		if (n < 0) {
			kh_log(KH_LOG_ERROR, "capture stopped: %s", strerror(-n));
			return 1;
		}
		if (n > 0 && fflush(r->out)) {
			kh_log(KH_LOG_ERROR, "writing alerts failed: %s", strerror(errno));
			return 1;
		}
		if (reload_requested) {
			reload_requested = 0;
			pipeline__reload_rules(r->p);
			/* a reload may bring Sigma rule ids: their alert series */
			if (metrics__add_sigma(r->m, pipeline__counters(r->p)))
				kh_log(KH_LOG_WARN, "metrics: the new Sigma rules' series failed");
		}
		save_after_alerts(r);
		catch_up_new_watches(r);
		if (stats_requested) {
			stats_requested = 0;
			print_counters(r);
		}
		if (r->m) {
			capture__stats(r->c, &s);
			metrics__heartbeat(r->m);
			metrics__set_apiserver(r->m, s.followed || r->a.audit_log
							 ? KH_APISERVER_FOUND
							 : KH_APISERVER_UNKNOWN);
		}
	}
	return 0;
}

/* the exec watch on the capture's loop; without it the audit tap still runs */
static void start_exec_watch(struct run *r)
{
	struct node_decode_opts no = {.pods_log_dir = r->cfg->node.pods_log_dir};
	struct exec_watch_opts eo = {.verbose = r->a.verbose,
				     .no_attach = !r->cfg->node.attach_watch,
				     .attach_idle_ns = (uint64_t)r->cfg->node.attach_idle_ns};

	if (r->a.no_exec_watch || !r->cfg->node.exec_watch)
		return;
	if (exec_watch__new(&eo, &r->ew)) {
		kh_log(KH_LOG_WARN, "the exec watch did not load (above); running the audit tap "
				    "alone");
		return;
	}
	r->ns = node_source__new(r->p, &no);
	if (!r->ns ||
	    capture__add_ring(r->c, exec_watch__ring_fd(r->ew), node_source__on_record, r->ns)) {
		kh_log(KH_LOG_WARN,
		       "cannot serve the exec watch's ring: %s; running the audit tap "
		       "alone",
		       strerror(errno));
		node_source__free(r->ns);
		exec_watch__free(r->ew);
		r->ns = NULL;
		r->ew = NULL;
	}
}

/*
 * Before going live, for each followed audit log: with a checkpoint from the last run, catch
 * up from it (alerting); without one (first start), learn history from the logs already beside
 * it, as before, and take the live file's end as the first checkpoint. The tap is attached
 * first, so lines written meanwhile wait in the ring; the seam drops those the catch-up fed.
 */
/*
 * A log followed only now (its apiserver was found by exec after the start, e.g. restarted
 * while keyhole was down too): catch it up from its checkpoint, if it has one.
 */
static void catch_up_new_watches(struct run *r)
{
	const char *path;
	char **files;

	for (; (path = capture__watch_path(r->c, r->watches_done)); r->watches_done++) {
		if (!r->resume || baseline__list(path, &files))
			continue;
		if (resume__catch_up(r->resume, capture__watch_log(r->c, r->watches_done), files) ==
		    0)
			pipeline__save_state(r->p);
		baseline__free_list(files);
	}
}

/*
 * A checkpointed log no running apiserver names (it is down too, or was moved): when the path
 * is readable from here (keyhole on the host, or the audit directory mounted at the same path),
 * catch it up now; the apiserver's return is followed by exec as usual.
 */
static void catch_up_unfollowed(struct run *r)
{
	const char *logs[KH_CKPT_MAX_LOGS];
	size_t n = r->resume ? resume__pending_logs(r->resume, logs, KH_CKPT_MAX_LOGS) : 0;
	char **files;

	for (size_t i = 0; i < n; i++) {
		if (baseline__list(logs[i], &files)) {
			kh_log(KH_LOG_WARN,
			       "catch-up: %s was being followed, no apiserver writes it "
			       "now and it cannot be listed from here: caught up when its "
			       "apiserver is found",
			       logs[i]);
			continue;
		}
		kh_log(KH_LOG_INFO, "catch-up: no apiserver writes %s now: reading it as it is",
		       logs[i]);
		resume__catch_up(r->resume, logs[i], files);
		baseline__free_list(files);
	}
}

static void catch_up_or_learn(struct run *r)
{
	/* in cluster mode the history lives with the correlators, rebuilt from the streams: no
	 * learning here (it would publish old lines as facts); a catch-up is new lines, it does */
	bool learn = !r->a.no_baseline && r->cfg->capture.baseline_from_disk && !r->clustered;
	const char *path, *log;
	unsigned int i;

	if (r->resume)
		resume__note_written(r->resume, r->a.output ? r->a.output : r->cfg->output);
	for (i = 0; (path = capture__watch_path(r->c, i)); i++) {
		struct kh_baseline_stats st = {0};
		char **files;
		int err;

		log = capture__watch_log(r->c, i);
		if (r->resume && (err = baseline__list(path, &files)) == 0) {
			err = resume__catch_up(r->resume, log, files);
			baseline__free_list(files);
			if (err == 0)
				continue;
		}
		err = learn ? baseline__from_disk(r->p, path, &st) : 0;
		if (err && err != -ENOENT)
			kh_log(KH_LOG_WARN, "baseline: cannot list the logs beside %s: %s", path,
			       strerror(-err));
		else if (st.files)
			kh_log(KH_LOG_INFO,
			       "baseline: learned history from %llu events in %llu "
			       "file(s) beside %s",
			       (unsigned long long)st.lines, (unsigned long long)st.files, path);
		if (r->resume)
			resume__anchor(r->resume, log, path);
	}
	r->watches_done = i;
	catch_up_unfollowed(r);
	if (r->resume) {
		resume__forget_written(r->resume);
		pipeline__save_state(r->p); /* the position and what the catch-up learned */
	}
}

static int start_resume(struct run *r)
{
	struct kh_resume_opts ro = {.out = r->out, .seam = true};

	if (!pipeline__checkpoint(r->p))
		return 0; /* no state_file: nothing to resume from, nothing to save to */
	ro.max_bytes =
	    r->a.catchup_bytes_set ? r->a.catchup_max_bytes : r->cfg->capture.catchup_max_bytes;
	ro.warmup_max_bytes = r->cfg->capture.catchup_warmup_max_bytes;
	ro.max_age_ns =
	    r->a.catchup_age_set ? r->a.catchup_max_age_ns : r->cfg->capture.catchup_max_age_ns;
	r->resume = resume__new(r->p, &ro);
	if (!r->resume) {
		kh_log(KH_LOG_ERROR, "cannot start the catch-up: %s", strerror(errno));
		return 1;
	}
	return 0;
}

static int start_metrics(struct run *r)
{
	const char *addr = r->a.metrics ? r->a.metrics : r->cfg->metrics.listen;

	if (!addr)
		return 0;
	r->m = metrics__new();
	if (!r->m || metrics__add_pipeline(r->m, pipeline__counters(r->p)) ||
	    metrics__add_rules(r->m, pipeline__rules(r->p)) ||
	    metrics__add_correlate(r->m, pipeline__correlate_stats(r->p)) ||
	    (r->resume && resume__add_metrics(r->resume, r->m)) ||
	    capture__add_metrics(r->c, r->m) || (r->cl && cluster__add_metrics(r->cl, r->m)) ||
	    (r->ew && exec_watch__add_metrics(r->ew, r->m)) || metrics__serve(r->m, addr)) {
		kh_log(KH_LOG_ERROR, "cannot serve metrics on %s", addr);
		return 1;
	}
	metrics__set_attached(r->m, 1);
	return 0;
}

/* the pipeline's fact hook: the cluster starts after the pipeline, the hook is set before */
static void publish(void *ctx, const struct audit_event *ev)
{
	struct run *r = ctx;

	if (r->cl)
		cluster__publish(r->cl, ev);
}

/* the checkpoint gate: a line's position waits for its facts to be safe (0 before the start) */
static uint64_t fact_mark(void *ctx)
{
	return cluster__fact_mark(((struct run *)ctx)->cl);
}

static uint64_t fact_durable(void *ctx)
{
	return cluster__fact_durable(((struct run *)ctx)->cl);
}

static void publish_node_read(void *ctx, const struct kh_node_secret_read *sr)
{
	struct run *r = ctx;

	if (r->cl)
		cluster__publish_node_read(r->cl, sr);
}

static enum kh_cluster_role role_named(const char *s)
{
	if (s && !strcmp(s, "control-plane"))
		return KH_ROLE_CONTROL_PLANE;
	if (s && !strcmp(s, "node"))
		return KH_ROLE_NODE;
	return KH_ROLE_AUTO;
}

/* cluster mode: after the capture, whose finding an apiserver settles the role */
static int start_cluster(struct run *r, const char *audit_log)
{
	struct kh_cluster_opts o;
	struct capture_stats s;
	int err;

	cluster_opts__from_config(&o, r->cfg); /* cluster.node_name: --node-name's already */
	o.url = r->a.cluster ? r->a.cluster : o.url;
	o.name = r->a.cluster_name ? r->a.cluster_name : o.name;
	if (r->a.cluster_password_file)
		o.password_file = r->a.cluster_password_file;
	if (r->a.cluster_tls_ca)
		o.tls_ca_file = r->a.cluster_tls_ca;
	if (r->a.cluster_queue_dir)
		o.queue_dir = r->a.cluster_queue_dir;
	if (r->a.role)
		o.role = role_named(r->a.role);
	else if (r->cfg->cluster.role && strcmp(r->cfg->cluster.role, "auto") &&
		 role_named(r->cfg->cluster.role) == KH_ROLE_AUTO) {
		kh_log(KH_LOG_ERROR, "cluster.role '%s': auto, control-plane or node",
		       r->cfg->cluster.role);
		return 2;
	}
	if (o.role == KH_ROLE_AUTO) {
		capture__stats(r->c, &s);
		o.role = audit_log || s.followed ? KH_ROLE_CONTROL_PLANE : KH_ROLE_NODE;
	}
	o.out = r->out;
	err = cluster__start(&o, &r->cl);
	return err ? 1 : 0; /* cluster__start reported why */
}

static int run_start(struct run *r)
{
	struct kh_pipeline_opts po = {0};
	struct capture_opts co = {0};
	int err;

	if (cmd__load_config(r->a.config, &r->loaded))
		return 2;
	/*
	 * One node name for everything: --node-name goes where the rules read it too
	 * (node-exec-without-audit's default), not only into cluster mode. A shallow copy: the
	 * strings stay the loaded config's (freed with it) or argv's.
	 */
	r->eff = r->loaded ? *r->loaded : *config__defaults();
	if (r->a.node_name)
		r->eff.cluster.node_name = r->a.node_name;
	r->cfg = &r->eff;
	if (cmd__open_output(r->a.output ? r->a.output : r->cfg->output, &r->file_out))
		return 2;
	r->out = r->file_out;
	if (cmd_wrap_text(&r->out, &r->a.fmt))
		return 1;
	po.out = r->out;
	po.cfg = r->cfg;
	po.rule_paths = r->a.rules;
	po.n_rule_paths = r->a.n_rules;
	r->clustered = r->a.cluster || r->cfg->cluster.url;
	if (r->clustered) {
		po.scope = KH_SCOPE_LOCAL;
		po.fact_fn = publish;
		po.fact_mark = fact_mark;
		po.fact_durable = fact_durable;
		po.node_fact_fn = publish_node_read;
		po.fact_ctx = r;
	}
	r->p = pipeline__new(&po);
	if (!r->p) {
		kh_log(KH_LOG_ERROR, "cannot start the pipeline: %s", strerror(errno));
		return 1;
	}
	install_signals();
	if (start_resume(r))
		return 1;
	co.comm = r->a.comm ? r->a.comm : r->cfg->capture.comm;
	co.audit_log = r->a.audit_log ? r->a.audit_log : r->cfg->capture.audit_log;
	co.max_event_bytes =
	    r->a.max_event_bytes ? r->a.max_event_bytes : r->cfg->capture.max_event_bytes;
	co.ring_bytes = r->a.ring_bytes;
	if (tap_mode_parse(r->a.tap		 ? r->a.tap
			   : r->cfg->capture.tap ? r->cfg->capture.tap
						 : "auto",
			   &co.tap_mode)) {
		kh_log(KH_LOG_ERROR, "%s '%s': the tap is auto, uprobe or tracepoint",
		       r->a.tap ? "--tap" : "capture.tap",
		       r->a.tap ? r->a.tap : r->cfg->capture.tap);
		return 2;
	}
	co.late_uprobes = r->a.late_uprobes;
	co.verbose = r->a.verbose;
	co.line_fn = feed;
	co.line_ctx = r;
	if (!r->a.no_audit_guard && r->cfg->capture.audit_guard) {
		co.tamper_fn = feed_tamper;
		co.tamper_ctx = r;
	}
	if (capture__new(&co, &r->c))
		return 1;
	if (r->clustered && (err = start_cluster(r, co.audit_log)) != 0)
		return err;
	start_exec_watch(r);
	if (r->cl && r->ns)
		cluster__start_node_feed(r->cl); /* reported; the exec watch runs on without it */
	/* attached: from here on, only what following a restarted apiserver needs (before the
	 * metrics thread starts, since capabilities are per thread) */
	if ((err = privileges__drop_to_run(co.tap_mode != TAP_MODE_TRACEPOINT,
					   co.late_uprobes &&
					       co.tap_mode != TAP_MODE_TRACEPOINT)) != 0)
		kh_log(KH_LOG_WARN,
		       "could not drop capabilities after attaching: %s; running "
		       "with more privilege than needed",
		       strerror(-err));
	if (start_metrics(r))
		return 1;
	catch_up_or_learn(r);
	return 0;
}

static int run_finish(struct run *r, int ret)
{
	if (r->c) {
		capture__stop(r->c);
		pipeline__flush(r->p);
		cluster__stop(r->cl);
		if (r->cl && pipeline__checkpoint(r->p)) /* the positions the drain made safe */
			pipeline__save_state(r->p);
		if (fflush(r->out) || ferror(r->out)) {
			kh_log(KH_LOG_ERROR, "writing alerts failed: %s", strerror(errno));
			ret = 1;
		}
		print_counters(r);
	}
	metrics__free(r->m);
	cluster__free(r->cl);
	capture__free(r->c);
	resume__free(r->resume);
	node_source__free(r->ns);
	exec_watch__free(r->ew);
	pipeline__free(r->p);
	cmd__free_config(r->loaded);
	if (r->out && r->out != r->file_out && fclose(r->out))
		ret = 1;
	if (r->file_out && r->file_out != stdout)
		fclose(r->file_out);
	return ret;
}

int cmd__run(int argc, char **argv)
{
	struct run r = {.a.fmt = CMD_FORMAT_INIT};
	char **ops;
	int n, ret;

	ret = opts__parse(&run_spec, argc, argv, set_opt, &r.a, &ops, &n);
	if (ret)
		return ret == 1 ? 0 : 2;
	free(ops);
	ret = run_start(&r);
	if (!ret) {
		kh_log(KH_LOG_INFO, "ready: capturing live (INT/TERM stop, USR1 prints counters)");
		ret = run_loop(&r);
	}
	return run_finish(&r, ret);
}
