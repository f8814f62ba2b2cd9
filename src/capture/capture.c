// SPDX-License-Identifier: Apache-2.0
/*
 * capture: the live capture loop (see capture.h): tap records -> reassembly -> line sink, exec
 * records -> new watches, and the housekeeping that keeps every watch armed.
 *
 * Watches are armed in BPF by (directory, basename) and by the current inode. Re-arming once a
 * second is cheap and covers a directory created after the start (the --audit-log file "may not
 * exist yet") and a directory replaced under us; rotation itself needs no agent help (the BPF
 * side matches the new file by name on its first write).
 *
 * When the log's name is a symlink (someone replaced audit.log by one), the apiserver's next open
 * of that name goes where the link leads: the BPF side sees the target's directory and name, not
 * audit.log's. So re-arming also arms the link's end, by name and inode, with the same file id,
 * and disarms it when the name stops leading there. lumberjack's rotation stat()s the name: a
 * link to an existing file is renamed away and a regular audit.log created (matched as usual);
 * through a dangling link it creates the target, and that first write already matches. A link
 * made less than a second before such a rotation can still miss its first writes.
 *
 * Paths (tap_path.h): each followed process is captured by its uprobe or by the tracepoints,
 * chosen when it is followed (at the scan, and at every exec, so a restart with another binary
 * is resolved afresh). The tracepoint programs are attached only while some process needs them.
 * A write that bypasses the probed function would go unseen, so while any process is on the
 * uprobe path the housekeeping compares each log's size with the bytes captured for it: bytes
 * in the file a second ago that no chunk accounted for are reported (error, counters), and
 * --tap auto moves every process to the tracepoint path for the rest of the run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "keyhole/clock.h"
#include "keyhole/caps.h"
#include "keyhole/capture.h"
#include "capture/guard.h"
#include "capture/proc_scan.h"
#include "capture/tamper.h"
#include "capture/tap.h"
#include "keyhole/tap_path.h"
#include "keyhole/log.h"

#define CAPTURE_MAX_WATCHES 32
/* each watch arms its name, and where the name leads when it is a symlink */
_Static_assert(KH_TAP_MAX_NAMES >= 2 * CAPTURE_MAX_WATCHES, "names map too small");
/* poll interval while records flow, and how long "flowing" lasts after the last record */
#define CAPTURE_ACTIVE_POLL_MS 2
#define CAPTURE_ACTIVE_NS 1000000000LL

struct watch {
	char path[PATH_MAX];	   /* as the apiserver names it */
	char host[PATH_MAX];	   /* where this agent reaches it (/proc/PID/root/...) */
	char origin[PATH_MAX + 8]; /* "live:<path>" */
	uint64_t dir_dev, dir_ino; /* the directory's identity once armed */
	bool armed;
	int last_err; /* last arming error reported, to report each cause once */
	/* for the audit guard: the inode the apiserver writes, and how much it wrote there */
	uint64_t cur_dev, cur_ino;
	uint64_t min_size;
	bool link_armed;	     /* the name is a symlink, and where it leads is armed too */
	struct kh_name_key link_key; /* that end's (directory, basename), to disarm it */
	/* the bypass check: the file as the last housekeeping found it */
	bool seen_valid;
	uint64_t seen_dev, seen_ino, seen_size;
	uint64_t suspect_size; /* the last check found the file longer than captured: its size */
};

/* a followed apiserver process and the path that captures it */
struct followed {
	pid_t pid;		   /* 0: free */
	uint32_t via;		   /* KH_TAP_VIA_* */
	uint64_t exe_dev, exe_ino; /* uprobe path: the binary whose uprobe it holds */
};

struct capture {
	struct capture_opts o;
	struct tap *tap;
	struct guard *guard; /* NULL: tamper detection off */
	struct ring_buffer *rb;
	struct reasm *reasm;
	struct watch w[CAPTURE_MAX_WATCHES];
	unsigned int nw;
	int64_t next_tick_ns;
	int64_t last_data_ns;
	uint64_t lost_proc_seen;
	uint64_t ring_records, proc_events;
	uint64_t lag_ns_last, lag_ns_max;
	uint64_t tamper_reported, tamper_elsewhere, tamper_malformed;
	struct tamper_buf tamper_buf; /* the strings of the guard record being handled */
	unsigned int followed;
	struct followed fp[KH_TAP_MAX_TARGETS];
	bool kernel_uprobes;	 /* the kernel can attach uprobes */
	char no_uprobe_why[256]; /* and if not, why; or why auto gave the uprobe path up */
	bool uprobe_fallback;	 /* auto gave up the uprobe path (bypass seen) */
	uint64_t unseen_events, unseen_bytes;
	uint64_t uprobe_refused; /* processes the kernel refused a uprobe (tracepoint path then) */
	bool admin_at_start;	 /* CAP_SYS_ADMIN was effective when capture__new ran */
	bool started;		 /* capture__new is done: `run` may have dropped privileges */
	bool keep_writes;	 /* auto: the write tracepoints could not be attached again later */
	uint64_t lost_seen;	 /* the tap's lost-writes counter at the last bypass check */
	int sink_err;		 /* first error the line sink returned */
	bool stopped;
};

static int dir_identity(const char *path, uint64_t *dev, uint64_t *ino)
{
	char d[PATH_MAX];
	char *slash;
	struct stat st;

	snprintf(d, sizeof(d), "%s", path);
	slash = strrchr(d, '/');
	if (slash == d)
		slash[1] = 0;
	else if (slash)
		*slash = 0;
	else
		strcpy(d, ".");
	if (stat(d, &st))
		return -errno;
	*dev = tap__kdev(st.st_dev);
	*ino = st.st_ino;
	return 0;
}

/*
 * Watch @i's name may be a symlink: arm where it leads as well (the names map has room for two
 * keys per watch), and disarm where it led before once it leads elsewhere or is no longer a link.
 * When the end's directory does not exist, no open can create a file there: nothing to arm.
 */
static void watch_arm_link(struct capture *c, unsigned int i)
{
	struct watch *w = &c->w[i];
	struct kh_name_key k;
	char to[PATH_MAX];
	int r = proc_scan__follow_link(w->host, to, sizeof(to));
	bool armed;

	memset(&k, 0, sizeof(k));
	armed = r > 0 && tap__watch_path(c->tap, to, i + 1, &k) == 0;
	if (w->link_armed && (!armed || memcmp(&k, &w->link_key, sizeof(k)))) {
		tap__unwatch_name(c->tap, &w->link_key);
		w->link_armed = false;
		if (r <= 0)
			kh_log(KH_LOG_INFO, "%s is no longer a symlink", w->path);
	}
	if (armed && !w->link_armed) {
		kh_log(KH_LOG_WARN,
		       "%s is a symlink to %s: capturing the apiserver's writes there "
		       "too",
		       w->path, to);
		w->link_key = k;
		w->link_armed = true;
	}
}

/* (re-)arm watch @i in BPF; reports a failure once per distinct cause */
static void watch_arm(struct capture *c, unsigned int i)
{
	struct watch *w = &c->w[i];
	int err = tap__watch_path(c->tap, w->host, i + 1, NULL);

	watch_arm_link(c, i);
	if (!err) {
		struct stat st;

		if (!w->armed)
			kh_log(KH_LOG_INFO, "capturing writes to %s (reached as %s)", w->path,
			       w->host);
		dir_identity(w->host, &w->dir_dev, &w->dir_ino);
		if (!w->cur_ino && stat(w->host, &st) == 0) {
			w->cur_dev = tap__kdev(st.st_dev);
			w->cur_ino = st.st_ino;
			w->min_size = (uint64_t)st.st_size;
		}
		if (c->guard)
			guard__watch(c->guard, w->path, w->dir_dev, w->dir_ino, i + 1);
		w->armed = true;
		w->last_err = 0;
		return;
	}
	if (err == w->last_err)
		return;
	w->last_err = err;
	if (err == -ENOENT && !w->armed)
		kh_log(KH_LOG_WARN,
		       "the directory of %s does not exist yet; capture starts when it "
		       "does (checked every second)",
		       w->path);
	else if (err == -ENAMETOOLONG)
		kh_log(KH_LOG_ERROR, "%s: file names of %d bytes or more cannot be matched in BPF",
		       w->path, KH_AUDIT_NAME_MAX);
	else if (!w->armed || err != -ENOENT)
		kh_log(KH_LOG_WARN, "cannot watch %s: %s", w->path, strerror(-err));
}

/* add a watch unless the same file (directory and name) is already watched */
static int watch_add(struct capture *c, const char *path, const char *host)
{
	uint64_t dev, ino;
	bool have_id = dir_identity(host, &dev, &ino) == 0;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct watch *w;

	for (unsigned int i = 0; i < c->nw; i++) {
		const char *b =
		    strrchr(c->w[i].path, '/') ? strrchr(c->w[i].path, '/') + 1 : c->w[i].path;
		bool same =
		    have_id && c->w[i].armed
			? c->w[i].dir_dev == dev && c->w[i].dir_ino == ino && !strcmp(b, base)
			: !strcmp(c->w[i].host, host);

		if (same) {
			/* the newest process's view stays reachable while it lives */
			snprintf(c->w[i].host, sizeof(c->w[i].host), "%s", host);
			return 0;
		}
	}
	if (c->nw == CAPTURE_MAX_WATCHES) {
		kh_log(KH_LOG_ERROR, "too many audit log files (%d); not capturing %s",
		       CAPTURE_MAX_WATCHES, path);
		return -E2BIG;
	}
	w = &c->w[c->nw];
	memset(w, 0, sizeof(*w));
	snprintf(w->path, sizeof(w->path), "%s", path);
	snprintf(w->host, sizeof(w->host), "%s", host);
	snprintf(w->origin, sizeof(w->origin), "live:%s", path);
	watch_arm(c, c->nw++);
	return 0;
}

/* drop what entry @f holds (its uprobe reference) and free it */
static void path_drop(struct capture *c, struct followed *f)
{
	if (f->exe_ino)
		tap__uprobe_release(c->tap, f->exe_dev, f->exe_ino);
	*f = (struct followed){0};
}

/* @pid is captured by @via, holding the uprobe on binary (@dev, @ino) when @ino */
static void path_remember(struct capture *c, pid_t pid, uint32_t via, uint64_t dev, uint64_t ino)
{
	struct followed *slot = NULL;

	for (int i = 0; i < KH_TAP_MAX_TARGETS; i++) {
		if (c->fp[i].pid == pid)
			path_drop(c, &c->fp[i]); /* a new image (exec): its old binary's reference
						  */
		if (!c->fp[i].pid && !slot)
			slot = &c->fp[i];
	}
	if (slot)
		*slot = (struct followed){.pid = pid, .via = via, .exe_dev = dev, .exe_ino = ino};
	else if (ino)
		tap__uprobe_release(c->tap, dev, ino);
}

static unsigned int path_count(const struct capture *c, uint32_t via)
{
	unsigned int n = 0;

	for (int i = 0; i < KH_TAP_MAX_TARGETS; i++)
		n += c->fp[i].pid && c->fp[i].via == via;
	return n;
}

/*
 * Attach or detach the write tracepoints as the followed processes need them: always with
 * --tap tracepoint, never with --tap uprobe; with auto, while a process is on the tracepoint
 * path or none is followed yet (an apiserver that execs is then captured from its first write,
 * whatever its binary, until it is moved to its uprobe).
 */
static void paths_update(struct capture *c)
{
	bool want, have = tap__writes_attached(c->tap);
	int err;

	if (c->o.tap_mode == TAP_MODE_AUTO)
		want = c->keep_writes || path_count(c, KH_TAP_VIA_TRACEPOINT) ||
		       !path_count(c, KH_TAP_VIA_UPROBE);
	else
		want = c->o.tap_mode == TAP_MODE_TRACEPOINT;
	if (want == have)
		return;
	if (!want) {
		tap__writes_detach(c->tap);
		kh_log(KH_LOG_INFO, "every apiserver is on the uprobe path: write tracepoints "
				    "detached");
		return;
	}
	err = tap__writes_attach(c->tap);
	if (err)
		kh_log(KH_LOG_ERROR,
		       "the write tracepoints did not attach (%s): writes of "
		       "apiservers on the tracepoint path are NOT captured",
		       strerror(-err));
}

static uint32_t via_tracepoint(struct capture *c, pid_t pid, const char *why)
{
	if (why)
		kh_log(KH_LOG_INFO, "%s pid %d: tracepoint path: %s", c->o.comm, (int)pid, why);
	path_remember(c, pid, KH_TAP_VIA_TRACEPOINT, 0, 0);
	return KH_TAP_VIA_TRACEPOINT;
}

/*
 * The kernel refused a new uprobe for lack of privilege. A new uprobe is a perf event of the
 * uprobe PMU, which took CAP_PERFMON from Linux 5.8 until the 2025 fix (upstream ba677dbe77af,
 * taken into the stable series) made it CAP_SYS_ADMIN again: a uprobe rewrites the text of every
 * process mapping the file, and one placed mid-instruction (or on arm64, on data in the text)
 * corrupts them. `run` gives CAP_SYS_ADMIN up once attached (a DaemonSet never has it), so a
 * binary first seen later (an apiserver upgraded or replaced in place: a new inode) gets the
 * tracepoint path under auto; the log says why and keyhole_capture_uprobe_refused_total counts
 * it. A restart of a binary probed at the start needs no new uprobe (tap.c).
 */
static void uprobe_refused(struct capture *c, const char *exe, const struct stat *st, int err,
			   char *why, size_t n)
{
	const char *whose;

	c->uprobe_refused++;
	if (!c->admin_at_start)
		whose = "was not given it (the shipped DaemonSet and systemd unit grant none; the "
			"uprobe-tap overlay and drop-in do, with --late-uprobes)";
	else if (!c->o.late_uprobes)
		whose = "gave it up after the start (an apiserver upgraded or replaced since, "
			"a new inode, cannot get one; --late-uprobes keeps it for this)";
	else
		whose = "kept it permitted (--late-uprobes) but the kernel refused it even so";
	snprintf(why, n,
		 "the kernel refused a uprobe on its binary %s (inode %llu): %s; this kernel wants "
		 "CAP_SYS_ADMIN for a new uprobe, and keyhole %s",
		 exe, (unsigned long long)st->st_ino, strerror(-err), whose);
}

/* the path that captures process @pid: its uprobe when it resolves and attaches (see above) */
static uint32_t choose_path(struct capture *c, pid_t pid)
{
	char exe[64], why[320], desc[256];
	struct gosym_func f;
	struct stat st;
	int err;

	if (c->o.tap_mode == TAP_MODE_TRACEPOINT)
		return via_tracepoint(c, pid, NULL);
	if (!c->kernel_uprobes || c->uprobe_fallback) {
		snprintf(why, sizeof(why), "%s", c->no_uprobe_why);
		err = -EOPNOTSUPP;
	} else {
		err = tap_path_resolve(pid, &f, exe, sizeof(exe), why, sizeof(why));
	}
	if (!err && stat(exe, &st)) {
		err = -errno;
		snprintf(why, sizeof(why), "%s: %s", exe, strerror(errno));
	}
	if (!err) {
		err = tap__uprobe_attach(c->tap, tap__kdev(st.st_dev), st.st_ino, exe,
					 f.probe_offset);
		if (err == -EACCES || err == -EPERM)
			uprobe_refused(c, exe, &st, err, why, sizeof(why));
		else if (err)
			snprintf(why, sizeof(why), "the kernel refused the uprobe on %s: %s", exe,
				 strerror(-err));
	}
	if (!err) {
		tap_path_describe(&f, desc, sizeof(desc));
		kh_log(KH_LOG_INFO, "%s pid %d: uprobe path: %s", c->o.comm, (int)pid, desc);
		path_remember(c, pid, KH_TAP_VIA_UPROBE, tap__kdev(st.st_dev), st.st_ino);
		return KH_TAP_VIA_UPROBE;
	}
	if (err == -ESRCH)
		return KH_TAP_VIA_TRACEPOINT; /* gone: its successor will exec */
	if (c->o.tap_mode == TAP_MODE_UPROBE) {
		kh_log(KH_LOG_ERROR,
		       "%s pid %d: --tap uprobe cannot follow it: %s; its audit "
		       "writes are NOT captured (--tap auto would use the tracepoints)",
		       c->o.comm, (int)pid, why);
		path_remember(c, pid, KH_TAP_VIA_UPROBE, 0, 0);
		return KH_TAP_VIA_UPROBE;
	}
	return via_tracepoint(c, pid, why);
}

/* process @pid is gone: its uprobe goes, and the tracepoints when nobody needs them any more */
static void path_forget(struct capture *c, pid_t pid)
{
	for (int i = 0; i < KH_TAP_MAX_TARGETS; i++)
		if (c->fp[i].pid == pid)
			path_drop(c, &c->fp[i]);
	paths_update(c);
}

int capture__follow_pid(struct capture *c, pid_t pid)
{
	char path[PATH_MAX], host[PATH_MAX + 32];
	uint32_t via;
	int err;

	via = choose_path(c, pid);
	err = tap__add_target(c->tap, pid, via);
	paths_update(c);
	if (err) {
		kh_log(KH_LOG_ERROR, "cannot follow process %d: %s", (int)pid, strerror(-err));
		return err;
	}
	c->followed++;
	if (c->o.audit_log)
		return 0; /* the override names the file */
	err = proc_scan__audit_log_path(pid, path, sizeof(path), host, sizeof(host));
	if (err == -ENOENT)
		kh_log(KH_LOG_WARN,
		       "%s pid %d has no --audit-log-path: auditing is off there, "
		       "nothing to capture (or give --audit-log)",
		       c->o.comm, (int)pid);
	else if (err == -ENOTSUP)
		kh_log(KH_LOG_WARN,
		       "%s pid %d writes its audit log to stdout (--audit-log-path=-): "
		       "there is no file to capture",
		       c->o.comm, (int)pid);
	else if (err == -ESRCH)
		return 0; /* gone already; its successor will exec */
	else if (err)
		kh_log(KH_LOG_WARN, "cannot read %s pid %d's arguments: %s", c->o.comm, (int)pid,
		       strerror(-err));
	if (err)
		return 0;
	return watch_add(c, path, host);
}

static void scan_cb(void *ctx, pid_t pid)
{
	struct capture *c = ctx;

	kh_log(KH_LOG_INFO, "found %s pid %d", c->o.comm, (int)pid);
	capture__follow_pid(c, pid);
}

static void on_proc(struct capture *c, const struct kh_audit_proc *p, size_t size)
{
	if (size < sizeof(*p))
		return;
	c->proc_events++;
	if (p->kind == KH_PROC_EXEC) {
		kh_log(KH_LOG_INFO, "%s pid %u started (exec): following it", c->o.comm, p->tgid);
		capture__follow_pid(c, p->tgid);
	} else if (p->kind == KH_PROC_EXIT) {
		kh_log(KH_LOG_INFO, "%s pid %u exited", c->o.comm, p->tgid);
		path_forget(c, (pid_t)p->tgid);
	}
}

/* the apiserver writes to this inode now, and the file holds at least what it wrote */
static void watch_saw_write(struct capture *c, const struct kh_audit_chunk *ch, size_t size)
{
	struct watch *w;

	if (size < KH_AUDIT_CHUNK_HDR_SIZE || !ch->file_id || ch->file_id > c->nw || ch->seq)
		return;
	w = &c->w[ch->file_id - 1];
	if (w->cur_dev != ch->dev || w->cur_ino != ch->ino) {
		w->cur_dev = ch->dev;
		w->cur_ino = ch->ino;
		w->min_size = 0; /* a new file (rotation): it starts empty */
	}
	w->min_size += ch->total;
}

static int on_tap_record(void *ctx, void *data, size_t size)
{
	struct capture *c = ctx;
	const struct kh_rec_hdr *h = data;

	if (size < sizeof(*h))
		return 0;
	c->ring_records++;
	switch (h->type) {
	case KH_REC_AUDIT_CHUNK:
		watch_saw_write(c, data, size);
		reasm__chunk(c->reasm, data, size);
		break;
	case KH_REC_AUDIT_WRITE_END:
		reasm__abort(c->reasm, data, size);
		break;
	case KH_REC_PROC_EVENT:
		on_proc(c, data, size);
		break;
	}
	/* a failing sink stops the loop: ring_buffer__poll returns the callback's error */
	return c->sink_err;
}

/* a guard record: tie it to a watched log and hand it on, or count it */
static int on_guard_record(void *ctx, void *data, size_t size)
{
	struct capture *c = ctx;
	const struct kh_audit_tamper *r = data;
	struct tamper_watch tw[CAPTURE_MAX_WATCHES];
	struct node_log_tamper what;
	char comm[KH_COMM_LEN + 1];
	int i, err = 0;

	for (unsigned int k = 0; k < c->nw; k++)
		tw[k] = (struct tamper_watch){
		    .path = c->w[k].path,
		    .host = c->w[k].host,
		    .dir_dev = c->w[k].dir_dev,
		    .dir_ino = c->w[k].dir_ino,
		    .cur_dev = c->w[k].cur_dev,
		    .cur_ino = c->w[k].cur_ino,
		    .min_size = c->w[k].min_size,
		};
	i = tamper__match(data, size, tw, c->nw, &what, &c->tamper_buf);
	if (i == -EINVAL)
		c->tamper_malformed++;
	else if (i < 0)
		c->tamper_elsewhere++;
	if (i >= 0) {
		struct capture_tamper t = {.what = &what,
					   .pid = r->tgid,
					   .tid = r->tid,
					   .ppid = r->ppid,
					   .uid = r->uid,
					   .comm = comm,
					   .ts_ns = r->hdr.ts_ns};

		snprintf(comm, sizeof(comm), "%.*s", KH_COMM_LEN, r->comm);
		c->tamper_reported++;
		if (what.shrunk)
			c->w[i].min_size = what.size; /* what is left is what it holds now */
		if (c->o.tamper_fn && !c->sink_err)
			err = c->o.tamper_fn(c->o.tamper_ctx, &t);
		if (err < 0)
			c->sink_err = err;
	}
	return c->sink_err;
}

static void on_line(void *ctx, const struct reasm_line *l)
{
	struct capture *c = ctx;
	struct capture_line cl = {
	    .data = l->data,
	    .len = l->len,
	    .origin = l->file_id && l->file_id <= c->nw ? c->w[l->file_id - 1].origin : "live:?",
	    .line_no = l->line_no,
	    .flags = l->flags,
	    .cut = l->cut,
	    .ts_ns = l->ts_ns,
	    .dev = makedev(l->dev >> 20, l->dev & 0xfffff), /* the kernel's dev_t encoding */
	    .ino = l->ino,
	    .full_len = l->full_len,
	};
	int err;

	if (l->file_id && l->file_id <= c->nw) {
		cl.log = c->w[l->file_id - 1].path;
		cl.host = c->w[l->file_id - 1].host;
	}

	if (l->ts_ns) {
		int64_t lag = clock__ns(CLOCK_MONOTONIC) - (int64_t)l->ts_ns;

		c->lag_ns_last = lag > 0 ? (uint64_t)lag : 0;
		if (c->lag_ns_last > c->lag_ns_max)
			c->lag_ns_max = c->lag_ns_last;
	}
	if (!c->o.line_fn || c->sink_err)
		return;
	err = c->o.line_fn(c->o.line_ctx, &cl);
	if (err < 0)
		c->sink_err = err;
}

/* --tap auto after a bypass: every process to the tracepoint path, for the rest of the run */
static void uprobe_fall_back(struct capture *c)
{
	int err = tap__writes_attach(c->tap);

	c->uprobe_fallback = true;
	/* attached before the switch: no write falls between the two paths */
	snprintf(c->no_uprobe_why, sizeof(c->no_uprobe_why),
		 "the uprobe path missed writes "
		 "earlier in this run (see above)");
	if (err) {
		kh_log(KH_LOG_ERROR, "falling back to the tracepoint path failed: %s",
		       strerror(-err));
		return;
	}
	for (int i = 0; i < KH_TAP_MAX_TARGETS; i++) {
		if (!c->fp[i].pid || c->fp[i].via != KH_TAP_VIA_UPROBE)
			continue;
		tap__add_target(c->tap, c->fp[i].pid, KH_TAP_VIA_TRACEPOINT);
		if (c->fp[i].exe_ino)
			tap__uprobe_release(c->tap, c->fp[i].exe_dev, c->fp[i].exe_ino);
		c->fp[i].via = KH_TAP_VIA_TRACEPOINT;
		c->fp[i].exe_ino = 0;
	}
	kh_log(KH_LOG_WARN, "--tap auto: every apiserver is now captured by the tracepoint path");
}

/*
 * The uprobe path's safety net: bytes in a log that no chunk accounted for. The file a second
 * ago is compared with what was captured since: the uprobe fires before the bytes land, so
 * everything in the file then has reached the ring by now, and the ring is drained first so
 * that it has been counted too, however far behind a loaded machine left the agent. A process
 * on the tracepoint path beside it (a replaced binary) sends its bytes after they land, and on a
 * loaded machine it can be preempted for long between the two: while one is followed, a deficit
 * is reported only when the next check finds the file still short of its size at the first.
 * Writes the tap counted lost are reported as losses already: a tick with new losses only
 * resynchronizes. (A size check: bytes appended by another process can be hidden for as long
 * as the apiserver's own later writes outweigh them in each interval; they show once it pauses.)
 */
static void check_bypass(struct capture *c, const uint64_t cnt[KH_TAP__NR])
{
	bool lost = cnt[KH_TAP_LOST_WRITES] != c->lost_seen, mixed;

	c->lost_seen = cnt[KH_TAP_LOST_WRITES];
	mixed = path_count(c, KH_TAP_VIA_TRACEPOINT) > 0;
	if (path_count(c, KH_TAP_VIA_UPROBE) && ring_buffer__consume(c->rb) < 0)
		return; /* the line sink failed: the loop stops on its error */
	for (unsigned int i = 0; i < c->nw; i++) {
		struct watch *w = &c->w[i];
		uint64_t dev, ino, captured;
		bool short_now;
		struct stat st;

		if (!path_count(c, KH_TAP_VIA_UPROBE) || !w->armed || stat(w->host, &st)) {
			w->seen_valid = false;
			w->suspect_size = 0;
			continue;
		}
		dev = tap__kdev(st.st_dev);
		ino = st.st_ino;
		captured = dev == w->cur_dev && ino == w->cur_ino ? w->min_size : 0;
		short_now = w->seen_valid && !lost && dev == w->seen_dev && ino == w->seen_ino &&
			    captured < w->seen_size;
		if (short_now && !mixed)
			w->suspect_size = w->seen_size;
		if (short_now && w->suspect_size && captured < w->suspect_size) {
			c->unseen_events++;
			c->unseen_bytes += w->suspect_size - captured;
			kh_log(KH_LOG_ERROR,
			       "%llu bytes reached %s that the uprobe path did not see: "
			       "something writes it without going through %s (a Go "
			       "version that writes otherwise, a non-Go writer, or "
			       "another process)",
			       (unsigned long long)(w->suspect_size - captured), w->path,
			       GOSYM_WRITE_FUNC);
			if (c->o.tap_mode == TAP_MODE_AUTO && !c->uprobe_fallback)
				uprobe_fall_back(c);
			w->suspect_size = 0;
		} else {
			/* short for the first time: the next check decides */
			w->suspect_size = short_now ? w->seen_size : 0;
			short_now = false;
		}
		if (lost || short_now) {
			/* reported, or lost: accounted for, the next check starts from here */
			w->cur_dev = dev;
			w->cur_ino = ino;
			w->min_size = (uint64_t)st.st_size;
		}
		w->seen_valid = true;
		w->seen_dev = dev;
		w->seen_ino = ino;
		w->seen_size = (uint64_t)st.st_size;
	}
}

static void housekeeping(struct capture *c)
{
	uint64_t cnt[KH_TAP__NR];

	for (unsigned int i = 0; i < c->nw; i++)
		watch_arm(c, i);
	if (!tap__counters(c->tap, cnt))
		check_bypass(c, cnt);
	/* an exec record was lost: an apiserver may have started unseen, look for it */
	if (!tap__counters(c->tap, cnt) && cnt[KH_TAP_LOST_PROC] != c->lost_proc_seen) {
		c->lost_proc_seen = cnt[KH_TAP_LOST_PROC];
		kh_log(KH_LOG_WARN, "exec/exit records were lost (ring full): rescanning /proc");
		proc_scan__comm(c->o.comm, scan_cb, c);
	}
}

/* the audit guard on the same loop; without it capture goes on, and says so */
static void start_guard(struct capture *c)
{
	if (guard__new(c->tap, c->o.verbose, &c->guard)) {
		kh_log(KH_LOG_WARN, "the audit guard did not load (above): tampering with the "
				    "audit log by other processes is not detected");
		c->guard = NULL;
		return;
	}
	if (ring_buffer__add(c->rb, guard__ring_fd(c->guard), on_guard_record, c)) {
		kh_log(KH_LOG_WARN,
		       "cannot serve the audit guard's ring: %s; tampering with the "
		       "audit log is not detected",
		       strerror(errno));
		guard__free(c->guard);
		c->guard = NULL;
	}
}

/*
 * --late-uprobes: the caller keeps CAP_SYS_ADMIN permitted after the start-up drop and the tap
 * raises it around each later attach, so a binary first seen after the start gets its uprobe and,
 * at perf_event_paranoid 3, the write tracepoints can be detached and attached again. Without
 * CAP_SYS_ADMIN now there is nothing to keep: the option is dropped, and said so.
 */
static void late_uprobes_check(struct capture *c)
{
	int level;

	if (!c->o.late_uprobes)
		return;
	if (c->o.tap_mode == TAP_MODE_TRACEPOINT) {
		c->o.late_uprobes = false; /* nothing attached later needs it */
		return;
	}
	if (!c->admin_at_start) {
		c->o.late_uprobes = false;
		kh_log(
		    KH_LOG_WARN,
		    "--late-uprobes: keyhole does not hold CAP_SYS_ADMIN (grant it: "
		    "deploy/kubernetes/uprobe-tap, deploy/systemd/uprobe-tap.conf); an apiserver "
		    "binary first seen after the start gets the tracepoint path where the kernel "
		    "wants CAP_SYS_ADMIN for a new uprobe");
		return;
	}
	kh_log(KH_LOG_INFO,
	       "--late-uprobes: CAP_SYS_ADMIN stays permitted, effective only around the attach of "
	       "a new uprobe%s",
	       tap_path_perf_restricted(&level) ? " and of the write tracepoints "
						  "(perf_event_paranoid 3)"
						: "");
}

int capture__new(const struct capture_opts *opts, struct capture **out)
{
	struct tap_opts to = {0};
	struct reasm_opts ro = {0};
	struct capture *c;
	int err, n, level;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->o = *opts;
	if (!c->o.comm)
		c->o.comm = "kube-apiserver";
	to.comm = c->o.comm;
	to.cap_bytes = c->o.max_event_bytes;
	to.ring_bytes = c->o.ring_bytes;
	to.verbose = c->o.verbose;
	/* the tracepoint path is attached when a process needs it (choose_path) */
	to.no_write_tracepoints = c->o.tap_mode == TAP_MODE_UPROBE;
	c->kernel_uprobes = tap_path_kernel_uprobes(c->no_uprobe_why, sizeof(c->no_uprobe_why));
	c->admin_at_start = caps__has(caps__effective(), KH_CAP_SYS_ADMIN);
	late_uprobes_check(c);
	if (c->o.tap_mode == TAP_MODE_AUTO && tap_path_perf_restricted(&level) &&
	    !c->o.late_uprobes) {
		/*
		 * Detached, they could not come back after the privilege drop: a process that needs
		 * them later (a replaced binary, a bypass) would go uncaptured. Correct first.
		 */
		c->keep_writes = true;
		kh_log(KH_LOG_INFO,
		       "perf_event_paranoid is %d (Debian's and Ubuntu's restriction: only "
		       "CAP_SYS_ADMIN opens perf events), so the write tracepoints stay attached: "
		       "once keyhole gives its privileges up it could not attach them again for an "
		       "apiserver that needs them later (--tap uprobe leaves them off)",
		       level);
	}
	if (!c->kernel_uprobes && c->o.tap_mode == TAP_MODE_UPROBE) {
		kh_log(KH_LOG_ERROR, "--tap uprobe: %s", c->no_uprobe_why);
		err = -EOPNOTSUPP;
		goto err_free;
	}
	ro.fn = on_line;
	ro.ctx = c;
	c->reasm = reasm__new(&ro);
	if (!c->reasm) {
		err = -ENOMEM;
		goto err_free;
	}
	err = tap__new(&to, &c->tap);
	if (err)
		goto err_free;
	c->rb = ring_buffer__new(tap__ring_fd(c->tap), on_tap_record, c, NULL);
	if (!c->rb) {
		err = -errno;
		kh_log(KH_LOG_ERROR, "cannot map the audit tap's ring buffer: %s", strerror(-err));
		goto err_free;
	}
	if (c->o.tamper_fn)
		start_guard(c);
	if (c->o.audit_log)
		watch_add(c, c->o.audit_log, c->o.audit_log);
	/* attached before the scan: an apiserver starting now is seen by one or the other */
	n = proc_scan__comm(c->o.comm, scan_cb, c);
	if (n == 0)
		kh_log(KH_LOG_INFO, "no %s running yet: waiting for one to start", c->o.comm);
	else if (n < 0)
		kh_log(KH_LOG_WARN, "cannot scan /proc: %s", strerror(-n));
	c->next_tick_ns = clock__ns(CLOCK_MONOTONIC) + 1000000000;
	c->started = true;
	*out = c;
	return 0;
err_free:
	capture__free(c);
	return err;
}

void capture__free(struct capture *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	guard__free(c->guard); /* before the tap: it uses the tap's maps */
	tap__free(c->tap);
	reasm__free(c->reasm);
	free(c);
}

int capture__add_ring(struct capture *c, int map_fd, capture_ring_fn fn, void *ctx)
{
	if (ring_buffer__add(c->rb, map_fd, fn, ctx))
		return -errno;
	return 0;
}

int capture__poll(struct capture *c, int timeout_ms)
{
	int64_t now = clock__ns(CLOCK_MONOTONIC);
	int n;

	/*
	 * The tap wakes us at most once a millisecond (audit_tap.bpf.c): while records flow, poll
	 * on our own every CAPTURE_ACTIVE_POLL_MS so none waits longer; when quiet, the next record
	 * wakes us.
	 */
	if (now - c->last_data_ns < CAPTURE_ACTIVE_NS && timeout_ms > CAPTURE_ACTIVE_POLL_MS)
		timeout_ms = CAPTURE_ACTIVE_POLL_MS;
	n = ring_buffer__poll(c->rb, timeout_ms);
	/*
	 * epoll reports only woken rings: records sent without a wakeup are taken here, also when
	 * another ring woke us. (Taken only on a timeout, the tap's records sent between its
	 * wakeups waited for as long as the exec watch's or the guard's ring kept waking us: on a
	 * busy node, seconds, which delayed lines and made the bypass check see bytes unseen.)
	 */
	if (n >= 0 || n == -EINTR) {
		int m = ring_buffer__consume(c->rb);

		n = m < 0 ? m : (n > 0 ? n : 0) + m;
	}
	if (n > 0)
		c->last_data_ns = clock__ns(CLOCK_MONOTONIC);

	if (c->sink_err)
		return c->sink_err;
	if (n == -EINTR)
		n = 0;
	if (n < 0)
		return n;
	if (clock__ns(CLOCK_MONOTONIC) >= c->next_tick_ns) {
		housekeeping(c);
		c->next_tick_ns = clock__ns(CLOCK_MONOTONIC) + 1000000000;
	}
	return n;
}

void capture__stop(struct capture *c)
{
	if (c->stopped)
		return;
	c->stopped = true;
	tap__detach(c->tap);
	if (c->guard)
		guard__detach(c->guard);
	/* everything committed before the detach is in the rings: take it all */
	while (ring_buffer__consume(c->rb) > 0)
		;
	reasm__flush(c->reasm);
}

void capture__stats(const struct capture *c, struct capture_stats *s)
{
	memset(s, 0, sizeof(*s));
	tap__counters(c->tap, s->tap);
	s->reasm = *reasm__stats(c->reasm);
	s->ring_records = c->ring_records;
	s->proc_events = c->proc_events;
	s->watches = c->nw;
	s->followed = c->followed;
	s->lag_ns_last = c->lag_ns_last;
	s->lag_ns_max = c->lag_ns_max;
	s->guard = c->guard != NULL;
	if (c->guard)
		guard__counters(c->guard, s->guard_c);
	s->tamper_reported = c->tamper_reported;
	s->tamper_elsewhere = c->tamper_elsewhere;
	s->tamper_malformed = c->tamper_malformed;
	s->via_uprobe = path_count(c, KH_TAP_VIA_UPROBE);
	s->via_tracepoint = path_count(c, KH_TAP_VIA_TRACEPOINT);
	s->write_tracepoints = tap__writes_attached(c->tap);
	s->unseen_events = c->unseen_events;
	s->unseen_bytes = c->unseen_bytes;
	s->uprobe_fallback = c->uprobe_fallback;
	s->uprobe_refused = c->uprobe_refused;
}

const char *capture__watch_path(const struct capture *c, unsigned int i)
{
	return i < c->nw ? c->w[i].host : NULL;
}

const char *capture__watch_log(const struct capture *c, unsigned int i)
{
	return i < c->nw ? c->w[i].path : NULL;
}

uint64_t capture__stats_lost(const struct capture_stats *s)
{
	/* partial writes reassembly dropped are writes the tap already counted lost */
	uint64_t a = s->tap[KH_TAP_LOST_WRITES], b = s->reasm.gap_writes;

	return a > b ? a : b;
}

void capture__print_stats(const struct capture *c, FILE *f)
{
	struct capture_stats s;
	const uint64_t *t;
	uint64_t lost;

	capture__stats(c, &s);
	t = s.tap;
	lost = capture__stats_lost(&s);
	fprintf(f,
		"keyhole: capture: %llu writes (%llu bytes) seen by the tap, %llu rebuilt, "
		"%llu lines from %u file(s)\n",
		(unsigned long long)t[KH_TAP_WRITES], (unsigned long long)t[KH_TAP_BYTES],
		(unsigned long long)s.reasm.writes, (unsigned long long)s.reasm.lines, s.watches);
	if (!lost)
		fprintf(f, "keyhole: capture: lost 0 writes\n");
	else
		fprintf(
		    f,
		    "keyhole: capture: LOST %llu writes: %llu chunk records found the ring full, "
		    "%llu writes not tracked (in-flight map full), %llu unreadable buffers, "
		    "%llu over the copy budget; %llu partly received writes dropped by "
		    "reassembly (%llu bytes)\n",
		    (unsigned long long)lost, (unsigned long long)t[KH_TAP_LOST_CHUNKS],
		    (unsigned long long)t[KH_TAP_LOST_INFLIGHT],
		    (unsigned long long)t[KH_TAP_READ_FAULTS], (unsigned long long)t[KH_TAP_BUDGET],
		    (unsigned long long)s.reasm.gap_writes, (unsigned long long)s.reasm.gap_bytes);
	if (t[KH_TAP_LOST_PROC])
		fprintf(f,
			"keyhole: capture: LOST %llu exec/exit records (ring full; /proc "
			"rescanned)\n",
			(unsigned long long)t[KH_TAP_LOST_PROC]);
	if (t[KH_TAP_TRUNCATED] || s.reasm.truncated_lines)
		fprintf(f,
			"keyhole: capture: %llu writes over the cap kept head and tail only "
			"(%llu lines marked truncated)\n",
			(unsigned long long)t[KH_TAP_TRUNCATED],
			(unsigned long long)s.reasm.truncated_lines);
	if (s.reasm.oversized_lines || s.reasm.partial_lines || s.reasm.bad_records)
		fprintf(f,
			"keyhole: capture: %llu lines dropped (out of memory, or partial in more "
			"than 64 files), %llu unterminated "
			"lines at stop, %llu malformed records\n",
			(unsigned long long)s.reasm.oversized_lines,
			(unsigned long long)s.reasm.partial_lines,
			(unsigned long long)s.reasm.bad_records);
	if (s.guard)
		fprintf(f,
			"keyhole: audit guard: %llu changes to the audit log by other processes, "
			"%llu lookalike names elsewhere, %s%llu records (ring full), %llu "
			"operations not followed (table full)\n",
			(unsigned long long)s.tamper_reported,
			(unsigned long long)s.tamper_elsewhere,
			s.guard_c[KH_GUARD_LOST] ? "LOST " : "lost ",
			(unsigned long long)s.guard_c[KH_GUARD_LOST],
			(unsigned long long)s.guard_c[KH_GUARD_PENDING_FULL]);
	fprintf(f,
		"keyhole: capture: paths: %u apiserver process(es) by uprobe, %u by tracepoint "
		"(write tracepoints %s)%s; %llu refused a uprobe by the kernel\n",
		s.via_uprobe, s.via_tracepoint, s.write_tracepoints ? "attached" : "not attached",
		s.uprobe_fallback ? "; fell back from the uprobe path" : "",
		(unsigned long long)s.uprobe_refused);
	if (t[KH_TAP_UPROBE_HITS])
		fprintf(f,
			"keyhole: capture: uprobe path: %llu calls of %s, %llu of them the "
			"same call hit again (not copied twice)\n",
			(unsigned long long)t[KH_TAP_UPROBE_HITS], GOSYM_WRITE_FUNC,
			(unsigned long long)t[KH_TAP_UPROBE_REENTRY]);
	if (s.unseen_events)
		fprintf(f,
			"keyhole: capture: UNSEEN %llu bytes in %llu checks: the audit log grew "
			"by bytes the uprobe path did not capture\n",
			(unsigned long long)s.unseen_bytes, (unsigned long long)s.unseen_events);
	if (t[KH_TAP_NAME_MATCHES] || t[KH_TAP_TARGET_EXECS])
		fprintf(f,
			"keyhole: capture: %llu new audit log inodes picked up by name "
			"(rotation), %llu apiserver execs followed\n",
			(unsigned long long)t[KH_TAP_NAME_MATCHES],
			(unsigned long long)t[KH_TAP_TARGET_EXECS]);
	fflush(f);
}
