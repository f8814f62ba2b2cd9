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
#include "cmd/commands.h"
#include "keyhole/alert_output.h"
#include "keyhole/baseline.h"
#include "keyhole/cluster.h"
#include "keyhole/config.h"
#include "keyhole/exec_watch.h"
#include "keyhole/log.h"
#include "keyhole/metrics.h"
#include "keyhole/pipeline.h"
#include "keyhole/node_source.h"
#include "keyhole/resume.h"

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
	"  -o, --output FILE|-|syslog[:FACILITY]\n"
	"                            where alerts go (default stdout; a FILE is appended and\n"
	"                            reopened on SIGHUP)\n"
	"  --comm NAME               name of the apiserver process (default kube-apiserver)\n"
	"  --max-event-bytes N       events longer than N keep their head and tail only\n"
	"                            (default 1048576, at most 8388608; K and M suffixes)\n"
	"  --ring-bytes N            BPF ring buffer size, a power of two (default 16M)\n"
	"  --tap auto|uprobe|tracepoint\n"
	"                            how writes are captured: a uprobe in the apiserver's own\n"
	"                            Go write function (costs no other process anything), or\n"
	"                            the write system call tracepoints (any writer); auto (the\n"
	"                            default) takes the uprobe where the binary resolves\n"
	"  --metrics ADDR:PORT       serve /metrics, /healthz, /readyz (e.g. 127.0.0.1:9464)\n"
	"  --no-exec-watch           do not watch container exec sessions\n"
	"  --no-audit-guard          do not watch other processes changing the audit log\n"
	"  --no-baseline             do not learn history from the rotated audit logs first\n"
	"  --cluster URL             cluster mode: share facts over Redis Streams at URL\n"
	"                            (redis://[user[:password]@]host[:port][/db]); see\n"
	"                            docs/cluster.md. Without it everything runs here.\n"
	"  --cluster-name NAME       prefix of every Redis key (default keyhole)\n"
	"  --cluster-password-file FILE\n"
	"                            the Redis password, first line (a mounted Secret)\n"
	"  --node-name NAME          this instance in the cluster (default: the host name)\n"
	"  --role auto|control-plane|node\n"
	"                            control-plane also correlates; auto: control-plane when\n"
	"                            an apiserver (or --audit-log) is found\n"
	"                            (first start; with a checkpoint in the state file, the\n"
	"                            run resumes from it instead)\n"
	"  --catchup-max-bytes N     resuming after a restart, read at most N bytes of audit\n"
	"                            log; the oldest are skipped and reported (default 1G)\n"
	"  --catchup-max-age SECONDS resuming, skip and report lines older than this (default\n"
	"                            86400)\n"
	"  -c, --config FILE         configuration file (YAML)\n"
	"  -v, --verbose             show libbpf's messages\n"
	"  -h, --help                this help\n"
	"\n"
	"Signals: INT/TERM stop (after draining and flushing), USR1 prints the counters, HUP\n"
	"reopens the alert file.\n"
	"Exit status: 0 stopped cleanly, 1 capture or output failure, 2 usage error.\n";

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
	const char *tap; /* --tap auto|uprobe|tracepoint */
	const char *cluster;
	const char *cluster_name;
	const char *cluster_password_file;
	const char *node_name;
	const char *role;
	uint64_t catchup_max_bytes;
	int64_t catchup_max_age_ns;
	int catchup_bytes_set, catchup_age_set;
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
	else if (*end == 'G' || *end == 'g')
		v <<= 30, end++;
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
		} else if (!strcmp(o, "--no-exec-watch")) {
			a->no_exec_watch = 1;
			continue;
		} else if (!strcmp(o, "--no-audit-guard")) {
			a->no_audit_guard = 1;
			continue;
		} else if (!strcmp(o, "--no-baseline")) {
			a->no_baseline = 1;
			continue;
		}
		if (!v)
			return cmd_usage_error(run_usage, "unknown option '%s' or missing argument", o);
		i++;
		if (!strcmp(o, "--audit-log")) {
			a->audit_log = v;
		} else if (!strcmp(o, "-o") || !strcmp(o, "--output")) {
			a->output = v;
		} else if (!strcmp(o, "--cluster")) {
			a->cluster = v;
		} else if (!strcmp(o, "--cluster-password-file")) {
			a->cluster_password_file = v;
		} else if (!strcmp(o, "--cluster-name")) {
			a->cluster_name = v;
		} else if (!strcmp(o, "--node-name")) {
			a->node_name = v;
		} else if (!strcmp(o, "--role")) {
			if (strcmp(v, "auto") && strcmp(v, "control-plane") && strcmp(v, "node"))
				return cmd_usage_error(run_usage, "--role '%s': auto, control-plane "
						       "or node", v);
			a->role = v;
		} else if (!strcmp(o, "--metrics")) {
			a->metrics = v;
		} else if (!strcmp(o, "--tap")) {
			enum tap_mode m;

			if (tap_mode_parse(v, &m))
				return cmd_usage_error(run_usage, "--tap '%s': auto, uprobe or "
						       "tracepoint", v);
			a->tap = v;
		} else if (!strcmp(o, "--comm")) {
			a->comm = v;
		} else if (!strcmp(o, "-c") || !strcmp(o, "--config")) {
			a->config = v;
		} else if (!strcmp(o, "--max-event-bytes")) {
			if (parse_size(v, &a->max_event_bytes))
				return cmd_usage_error(run_usage, "--max-event-bytes '%s': not a size",
						       v);
		} else if (!strcmp(o, "--catchup-max-bytes")) {
			if (parse_size(v, &a->catchup_max_bytes))
				return cmd_usage_error(run_usage, "--catchup-max-bytes '%s': not a size",
						       v);
			a->catchup_bytes_set = 1;
		} else if (!strcmp(o, "--catchup-max-age")) {
			if (parse_size(v, &n) || n > 366ull * 86400)
				return cmd_usage_error(run_usage,
						       "--catchup-max-age '%s': not a number of seconds",
						       v);
			a->catchup_max_age_ns = (int64_t)n * 1000000000;
			a->catchup_age_set = 1;
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

/* everything a run holds, so one function can release it in order */
struct run {
	struct run_args a;
	const struct kh_config *cfg; /* the file's, or the defaults (never NULL) */
	const struct kh_config *loaded;
	FILE *out;
	struct kh_pipeline *p;
	struct capture *c;
	struct exec_watch *ew;
	struct node_source *ns;
	struct kh_metrics *m;
	struct kh_cluster *cl; /* cluster mode; NULL in single-node mode */
	bool clustered;	       /* --cluster or cluster.url: the pipeline is the local half */
	struct kh_resume *resume; /* the catch-up after a restart, and the seam */
	unsigned int watches_done; /* followed logs already caught up or learned */
	uint64_t alerts_saved;	  /* alerts written when the state was last saved */
	int64_t last_alert_save_ns;
};

static int feed(void *ctx, const struct capture_line *l)
{
	struct run *r = ctx;
	struct kh_origin o = {
		.source = l->origin, .line_no = l->line_no, .flags = l->flags, .cut = l->cut,
		.full_len = l->full_len};
	struct kh_live_line ll = {.log = l->log, .host = l->host, .dev = l->dev, .ino = l->ino,
				  .data = l->data, .len = l->len, .cut = l->cut != 0};
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

	if (!node_wall_ns(t->ts_ns, &ev.time_ns))
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
		uint64_t ec[KH_NODE_C_MAX] = {0};

		exec_watch__counters(r->ew, ec);
		fprintf(stderr, "keyhole: exec watch: %llu records, %llu sessions, lost %llu records "
				"(ring full), %llu processes untracked (tables full)\n",
			(unsigned long long)n->records, (unsigned long long)n->sessions,
			(unsigned long long)(ec[KH_NODE_C_RB_EXEC] + ec[KH_NODE_C_RB_OPEN] +
					     ec[KH_NODE_C_RB_EXIT]),
			(unsigned long long)(ec[KH_NODE_C_TAGS_FULL] + ec[KH_NODE_C_PENDING_FULL]));
	}
	fprintf(stderr,
		"keyhole: pipeline: %llu lines, %llu parsed, %llu malformed (%llu oversized), "
		"%llu truncated, %llu alerts\n",
		(unsigned long long)k->lines, (unsigned long long)k->parsed,
		(unsigned long long)k->malformed, (unsigned long long)k->oversized,
		(unsigned long long)k->truncated, (unsigned long long)k->alerts);
	if (r->resume && resume__stats(r->resume)->logs) {
		const struct kh_resume_stats *cs = resume__stats(r->resume);

		fprintf(stderr, "keyhole: catch-up: %llu lines (%llu bytes) from %llu file(s), "
				"%.1f s behind at start, %llu range(s) skipped (%llu bytes), %llu "
				"file(s) vanished, %llu doubles dropped at the seam\n",
			(unsigned long long)cs->lines, (unsigned long long)cs->bytes,
			(unsigned long long)cs->files, cs->behind_ns / 1e9,
			(unsigned long long)cs->skipped_ranges,
			(unsigned long long)cs->skipped_bytes, (unsigned long long)cs->vanished,
			(unsigned long long)cs->seam_doubles);
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
	alert_output__install_sighup();
}

static void catch_up_new_watches(struct run *r);

/* the loop: poll, flush alerts after each batch, counters on SIGUSR1, heartbeat */
static int run_loop(struct run *r)
{
	while (!stop_requested) {
		struct capture_stats s;
		int n = capture__poll(r->c, 100);

		if (n < 0) {
			kh_log(KH_LOG_ERROR, "capture stopped: %s", strerror(-n));
			return 1;
		}
		if (n > 0 && fflush(r->out)) {
			kh_log(KH_LOG_ERROR, "writing alerts failed: %s", strerror(errno));
			return 1;
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
			metrics__set_apiserver(r->m, s.followed || r->a.audit_log ?
							     KH_APISERVER_FOUND :
							     KH_APISERVER_UNKNOWN);
		}
	}
	return 0;
}

/* the exec watch on the capture's loop; without it the audit tap still runs */
static void start_exec_watch(struct run *r)
{
	struct node_decode_opts no = {.pods_log_dir = r->cfg->node.pods_log_dir};

	if (r->a.no_exec_watch || !r->cfg->node.exec_watch)
		return;
	r->ew = exec_watch__new(NULL);
	if (!r->ew) {
		kh_log(KH_LOG_WARN, "the exec watch did not load (above); running the audit tap "
				    "alone");
		return;
	}
	r->ns = node_source__new(r->p, &no);
	if (!r->ns || capture__add_ring(r->c, exec_watch__ring_fd(r->ew), node_source__on_record,
					r->ns)) {
		kh_log(KH_LOG_WARN, "cannot serve the exec watch's ring: %s; running the audit tap "
				    "alone", strerror(errno));
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
			kh_log(KH_LOG_WARN, "catch-up: %s was being followed, no apiserver writes it "
					    "now and it cannot be listed from here: caught up when its "
					    "apiserver is found", logs[i]);
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
			kh_log(KH_LOG_INFO, "baseline: learned history from %llu events in %llu "
					    "file(s) beside %s",
			       (unsigned long long)st.lines, (unsigned long long)st.files, path);
		if (r->resume)
			resume__anchor(r->resume, log, path);
	}
	r->watches_done = i;
	catch_up_unfollowed(r);
	if (r->resume)
		pipeline__save_state(r->p); /* the position and what the catch-up learned */
}

static int start_resume(struct run *r)
{
	struct kh_resume_opts ro = {.out = r->out, .seam = true};

	if (!pipeline__checkpoint(r->p))
		return 0; /* no state_file: nothing to resume from, nothing to save to */
	ro.max_bytes = r->a.catchup_bytes_set ? r->a.catchup_max_bytes
					      : r->cfg->capture.catchup_max_bytes;
	ro.max_age_ns = r->a.catchup_age_set ? r->a.catchup_max_age_ns
					     : r->cfg->capture.catchup_max_age_ns;
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
	    (r->resume && resume__add_metrics(r->resume, r->m)) ||
	    capture__add_metrics(r->c, r->m) || (r->cl && cluster__add_metrics(r->cl, r->m)) ||
	    metrics__serve(r->m, addr)) {
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

	cluster_opts__from_config(&o, r->loaded);
	o.url = r->a.cluster ? r->a.cluster : o.url;
	o.name = r->a.cluster_name ? r->a.cluster_name : o.name;
	o.node_name = r->a.node_name ? r->a.node_name : o.node_name;
	if (r->a.cluster_password_file)
		o.password_file = r->a.cluster_password_file;
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
	if (err) {
		kh_log(KH_LOG_ERROR, "cluster mode did not start: %s", strerror(-err));
		return 1;
	}
	return 0;
}

static int run_start(struct run *r)
{
	struct kh_pipeline_opts po = {0};
	struct capture_opts co = {0};
	int err;

	if (cmd_load_config(r->a.config, &r->loaded))
		return 2;
	r->cfg = r->loaded ? r->loaded : config__defaults();
	if (cmd_open_output(r->a.output ? r->a.output : r->cfg->output, &r->out))
		return 2;
	po.out = r->out;
	po.cfg = r->loaded;
	r->clustered = r->a.cluster || r->cfg->cluster.url;
	if (r->clustered) {
		po.scope = KH_SCOPE_LOCAL;
		po.fact_fn = publish;
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
	if (tap_mode_parse(r->a.tap ? r->a.tap : r->cfg->capture.tap ? r->cfg->capture.tap : "auto",
			   &co.tap_mode)) {
		kh_log(KH_LOG_ERROR, "%s '%s': the tap is auto, uprobe or tracepoint",
		       r->a.tap ? "--tap" : "capture.tap", r->a.tap ? r->a.tap : r->cfg->capture.tap);
		return 2;
	}
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
	/* attached: from here on, only what following a restarted apiserver needs (before the
	 * metrics thread starts, since capabilities are per thread) */
	if ((err = privileges__drop_to_run(co.tap_mode != TAP_MODE_TRACEPOINT)) != 0)
		kh_log(KH_LOG_WARN, "could not drop capabilities after attaching: %s; running "
		       "with more privilege than needed", strerror(-err));
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
	cmd_free_config(r->loaded);
	if (r->out && r->out != stdout)
		fclose(r->out);
	return ret;
}

int cmd_run(int argc, char **argv)
{
	struct run r = {0};
	int ret;

	ret = parse_args(argc, argv, &r.a);
	if (ret)
		return ret == 1 ? 0 : 2;
	ret = run_start(&r);
	if (!ret) {
		kh_log(KH_LOG_INFO, "ready: capturing live (INT/TERM stop, USR1 prints counters)");
		ret = run_loop(&r);
	}
	return run_finish(&r, ret);
}
