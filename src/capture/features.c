// SPDX-License-Identifier: Apache-2.0
/*
 * features: one probe_*() per capability the BPF side needs (see features.h). Probes never print;
 * each fills a finding the caller prints or turns into an error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "keyhole/features.h"

#define TRACEFS "/sys/kernel/tracing"
#define DEBUGFS_TRACING "/sys/kernel/debug/tracing"
#define BPF_FS_MAGIC_ 0xcafe4a11
#define TRACEFS_MAGIC_ 0x74726163

/* bits of the effective capability set (linux/capability.h numbers) */
#define CAP_SYS_ADMIN_ 21
#define CAP_PERFMON_ 38
#define CAP_BPF_ 39

const struct kh_tracepoint kh_tap_tracepoints[] = {
    {"syscalls", "sys_enter_write", true},
    {"syscalls", "sys_exit_write", true},
    {"syscalls", "sys_enter_pwrite64", false},
    {"syscalls", "sys_exit_pwrite64", false},
    {"syscalls", "sys_enter_writev", false},
    {"syscalls", "sys_exit_writev", false},
    {"syscalls", "sys_enter_pwritev", false},
    {"syscalls", "sys_exit_pwritev", false},
    {"sched", "sched_process_exec", true},
    {"sched", "sched_process_exit", true},
    {NULL, NULL, false},
};

static void set(struct kh_feature *f, enum kh_feat_state st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set(struct kh_feature *f, enum kh_feat_state st, const char *fmt, ...)
{
	va_list ap;

	f->state = st;
	va_start(ap, fmt);
	vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
	va_end(ap);
}

static bool is_fs(const char *path, long magic)
{
	struct statfs s;

	return statfs(path, &s) == 0 && (long)s.f_type == magic;
}

const char *features__tracefs(void)
{
	/* libbpf looks at the debugfs path first when it exists; so do we, to agree with it */
	if (access(DEBUGFS_TRACING "/events", F_OK) == 0)
		return DEBUGFS_TRACING;
	if (is_fs(TRACEFS, TRACEFS_MAGIC_))
		return TRACEFS;
	return NULL;
}

bool features__has_tracepoint(const char *category, const char *name)
{
	const char *fs = features__tracefs();
	char path[256];

	if (!fs)
		return false;
	snprintf(path, sizeof(path), "%s/events/%s/%s/id", fs, category, name);
	return access(path, R_OK) == 0;
}

static unsigned long long cap_eff(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long caps = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

static void probe_priv(struct kh_feature *f)
{
	unsigned long long caps = cap_eff();
	bool admin = caps & (1ULL << CAP_SYS_ADMIN_);
	bool bpf_perf = (caps & (1ULL << CAP_BPF_)) && (caps & (1ULL << CAP_PERFMON_));

	if (admin)
		set(f, KH_FEAT_YES, "%s with CAP_SYS_ADMIN", geteuid() == 0 ? "root" : "not root,");
	else if (bpf_perf)
		set(f, KH_FEAT_YES, "CAP_BPF and CAP_PERFMON (tracefs must already be mounted)");
	else
		set(f, KH_FEAT_NO,
		    "not privileged (euid %u, no CAP_SYS_ADMIN, no CAP_BPF+CAP_PERFMON): run as root, "
		    "or grant CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH",
		    (unsigned)geteuid());
}

static void probe_btf(struct kh_feature *f)
{
	struct stat st;

	if (stat("/sys/kernel/btf/vmlinux", &st) == 0 &&
	    access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		set(f, KH_FEAT_YES, "/sys/kernel/btf/vmlinux (%lld bytes)", (long long)st.st_size);
	else if (errno == EACCES)
		set(f, KH_FEAT_NO, "/sys/kernel/btf/vmlinux is not readable: run as root");
	else
		set(f, KH_FEAT_NO,
		    "no /sys/kernel/btf/vmlinux: the kernel was built without "
		    "CONFIG_DEBUG_INFO_BTF, which CO-RE needs (use a distribution kernel "
		    "5.10 or newer)");
}

const char *features__mount_tracefs(void)
{
	const char *fs = features__tracefs();

	if (!fs && mount("nodev", TRACEFS, "tracefs", 0, NULL) == 0)
		fs = features__tracefs();
	return fs;
}

static void probe_tracefs(struct kh_feature *f, bool try_mount)
{
	const char *fs = features__tracefs();

	if (!fs && try_mount) {
		fs = features__mount_tracefs();
		if (fs) {
			set(f, KH_FEAT_YES, "mounted tracefs at %s", fs);
			return;
		}
		set(f, KH_FEAT_NO,
		    "tracefs is not mounted and mounting it failed (%s): run "
		    "`mount -t tracefs nodev " TRACEFS "` as root",
		    strerror(errno));
		return;
	}
	if (fs)
		set(f, KH_FEAT_YES, "%s", fs);
	else
		set(f, KH_FEAT_NO,
		    "tracefs is not mounted: `keyhole run` mounts it as root, or run "
		    "`mount -t tracefs nodev " TRACEFS "`");
}

static void probe_tracepoints(struct kh_feature *f, const struct kh_feature *tracefs)
{
	char missing[200] = "";
	int nmiss = 0, nreq = 0;

	if (tracefs->state != KH_FEAT_YES) {
		set(f, KH_FEAT_UNKNOWN, "cannot tell without tracefs");
		return;
	}
	for (const struct kh_tracepoint *t = kh_tap_tracepoints; t->name; t++) {
		if (features__has_tracepoint(t->category, t->name))
			continue;
		nmiss++;
		nreq += t->required;
		if (strlen(missing) + strlen(t->name) + 3 < sizeof(missing))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
				 "%s%s", nmiss > 1 ? ", " : "", t->name);
	}
	if (!nmiss)
		set(f, KH_FEAT_YES,
		    "syscalls/sys_{enter,exit}_{write,pwrite64,writev,pwritev}, "
		    "sched/sched_process_{exec,exit}");
	else if (!nreq)
		set(f, KH_FEAT_YES, "required ones present; missing optional: %s", missing);
	else
		set(f, KH_FEAT_NO,
		    "missing %s: the kernel needs CONFIG_FTRACE_SYSCALLS "
		    "(syscall tracepoints)",
		    missing);
}

static void probe_ringbuf(struct kh_feature *f, const struct kh_feature *priv)
{
	int r = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);

	if (r == 1)
		set(f, KH_FEAT_YES, "BPF_MAP_TYPE_RINGBUF");
	else if (r == 0)
		set(f, KH_FEAT_NO, "no BPF ring buffer: the kernel is older than 5.8");
	else if (priv->state != KH_FEAT_YES)
		set(f, KH_FEAT_UNKNOWN, "cannot tell without privileges");
	else
		set(f, KH_FEAT_NO,
		    "probing the BPF ring buffer failed: %s (bpf(2) denied: "
		    "seccomp, lockdown, or kernel.unprivileged_bpf_disabled?)",
		    strerror(-r));
}

static void probe_lockdown(struct kh_feature *f)
{
	FILE *fp = fopen("/sys/kernel/security/lockdown", "r");
	char line[128] = "";

	if (!fp) {
		set(f, KH_FEAT_YES, "no lockdown (securityfs file absent)");
		return;
	}
	if (!fgets(line, sizeof(line), fp))
		line[0] = 0;
	fclose(fp);
	line[strcspn(line, "\n")] = 0;
	if (strstr(line, "[confidentiality]"))
		set(f, KH_FEAT_NO,
		    "kernel lockdown is 'confidentiality': BPF may not read kernel "
		    "memory; boot with lockdown=integrity or none");
	else
		set(f, KH_FEAT_YES, "lockdown: %s", line[0] ? line : "none");
}

static void probe_bpffs(struct kh_feature *f)
{
	if (is_fs("/sys/fs/bpf", BPF_FS_MAGIC_))
		set(f, KH_FEAT_YES, "/sys/fs/bpf");
	else
		set(f, KH_FEAT_NO,
		    "not mounted at /sys/fs/bpf (not needed: keyhole pins nothing; "
		    "`mount -t bpf bpf /sys/fs/bpf` for bpftool)");
}

static void probe_bpf_loop(struct kh_feature *f, const struct kh_feature *priv)
{
	int r = libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_loop, NULL);

	if (r == 1)
		set(f, KH_FEAT_YES,
		    "bpf_loop (not used: the tap's copy loop uses tail calls, which "
		    "every kernel of the matrix has)");
	else if (r == 0)
		set(f, KH_FEAT_NO,
		    "no bpf_loop (kernel < 5.17); not needed: the tap uses tail calls");
	else
		set(f, KH_FEAT_UNKNOWN, "%s",
		    priv->state == KH_FEAT_YES ? strerror(-r) : "cannot tell without privileges");
}

/* what bpf/exec_watch.bpf.c attaches to; open(2) is x86-only, openat2 5.6+ */
static void probe_exec_watch(struct kh_feature *f, const struct kh_feature *tracefs)
{
	static const struct kh_tracepoint tps[] = {
	    {"syscalls", "sys_enter_setns", true},    {"syscalls", "sys_exit_setns", true},
	    {"syscalls", "sys_enter_openat", true},   {"syscalls", "sys_exit_openat", true},
	    {"syscalls", "sys_enter_openat2", false}, {"syscalls", "sys_enter_open", false},
	    {"sched", "sched_process_fork", true},    {"sched", "sched_process_exec", true},
	    {"sched", "sched_process_exit", true},    {NULL, NULL, false},
	};
	char missing[160] = "";

	if (tracefs->state != KH_FEAT_YES) {
		set(f, KH_FEAT_UNKNOWN, "cannot tell without tracefs");
		return;
	}
	for (const struct kh_tracepoint *t = tps; t->name; t++) {
		if (!t->required || features__has_tracepoint(t->category, t->name))
			continue;
		snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
			 missing[0] ? ", " : "", t->name);
	}
	if (missing[0])
		set(f, KH_FEAT_NO, "missing %s: `run` goes on without the exec watch", missing);
	else
		set(f, KH_FEAT_YES,
		    "syscalls/sys_{enter,exit}_{setns,openat%s%s}, raw "
		    "sched/sched_process_{exec,fork,exit}",
		    features__has_tracepoint("syscalls", "sys_enter_openat2") ? ",openat2" : "",
		    features__has_tracepoint("syscalls", "sys_enter_open") ? ",open" : "");
}

/* ",NAME" onto @out when syscalls/PREFIXNAME exists */
static void append_if_tracepoint(char *out, size_t size, const char *prefix, const char *name)
{
	char tp[48];

	snprintf(tp, sizeof(tp), "%s%s", prefix, name);
	if (features__has_tracepoint("syscalls", tp))
		snprintf(out + strlen(out), size - strlen(out), ",%s", name);
}

/*
 * what bpf/audit_guard.bpf.c attaches to: the *at forms and ftruncate everywhere, the legacy
 * path calls (unlink, rename, open, creat) where the architecture has them (x86, not arm64)
 */
static void probe_audit_guard(struct kh_feature *f, const struct kh_feature *tracefs)
{
	static const char *const required[] = {
	    "sys_enter_unlinkat",  "sys_exit_unlinkat",
	    "sys_enter_renameat2", "sys_exit_renameat2",
	    "sys_enter_truncate",  "sys_exit_truncate",
	    "sys_enter_ftruncate", "sys_exit_ftruncate",
	    "sys_exit_openat",	   NULL,
	};
	static const char *const paths[] = {"unlink", "rename", "renameat", NULL};
	static const char *const opens[] = {"openat2", "open", "creat", NULL};
	char missing[200] = "", have[48] = "", have_open[48] = "";

	if (tracefs->state != KH_FEAT_YES) {
		set(f, KH_FEAT_UNKNOWN, "cannot tell without tracefs");
		return;
	}
	for (const char *const *t = required; *t; t++)
		if (!features__has_tracepoint("syscalls", *t))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
				 "%s%s", missing[0] ? ", " : "", *t);
	if (missing[0]) {
		set(f, KH_FEAT_NO, "missing %s: `run` goes on without tamper detection", missing);
		return;
	}
	for (const char *const *l = paths; *l; l++)
		append_if_tracepoint(have, sizeof(have), "sys_enter_", *l);
	for (const char *const *l = opens; *l; l++)
		append_if_tracepoint(have_open, sizeof(have_open), "sys_exit_", *l);
	set(f, KH_FEAT_YES,
	    "syscalls/sys_{enter,exit}_{unlinkat,renameat2,truncate,ftruncate%s}, "
	    "sys_exit_{openat%s}",
	    have, have_open);
}

void features__probe(struct kh_features *out, bool try_mount)
{
	static const struct {
		const char *name;
		bool required;
	} meta[KH_FEAT__NR] = {
	    [KH_FEAT_PRIV] = {"privileges", true},
	    [KH_FEAT_BTF] = {"btf", true},
	    [KH_FEAT_TRACEFS] = {"tracefs", true},
	    [KH_FEAT_TRACEPOINTS] = {"tracepoints", true},
	    [KH_FEAT_RINGBUF] = {"ringbuf", true},
	    [KH_FEAT_LOCKDOWN] = {"lockdown", true},
	    [KH_FEAT_BPFFS] = {"bpffs", false},
	    [KH_FEAT_BPF_LOOP] = {"bpf_loop", false},
	    [KH_FEAT_EXEC_WATCH] = {"exec_watch", false},
	    [KH_FEAT_AUDIT_GUARD] = {"audit_guard", false},
	};
	struct utsname u;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < KH_FEAT__NR; i++) {
		out->f[i].name = meta[i].name;
		out->f[i].required = meta[i].required;
	}
	if (uname(&u) == 0)
		snprintf(out->kernel, sizeof(out->kernel), "%s %s", u.release, u.machine);
	probe_priv(&out->f[KH_FEAT_PRIV]);
	probe_btf(&out->f[KH_FEAT_BTF]);
	probe_tracefs(&out->f[KH_FEAT_TRACEFS],
		      try_mount && out->f[KH_FEAT_PRIV].state == KH_FEAT_YES);
	probe_tracepoints(&out->f[KH_FEAT_TRACEPOINTS], &out->f[KH_FEAT_TRACEFS]);
	probe_ringbuf(&out->f[KH_FEAT_RINGBUF], &out->f[KH_FEAT_PRIV]);
	probe_lockdown(&out->f[KH_FEAT_LOCKDOWN]);
	probe_bpffs(&out->f[KH_FEAT_BPFFS]);
	probe_bpf_loop(&out->f[KH_FEAT_BPF_LOOP], &out->f[KH_FEAT_PRIV]);
	probe_exec_watch(&out->f[KH_FEAT_EXEC_WATCH], &out->f[KH_FEAT_TRACEFS]);
	probe_audit_guard(&out->f[KH_FEAT_AUDIT_GUARD], &out->f[KH_FEAT_TRACEFS]);
}

bool features__run_ok(const struct kh_features *f, char *why, size_t n)
{
	for (int i = 0; i < KH_FEAT__NR; i++) {
		if (!f->f[i].required || f->f[i].state == KH_FEAT_YES)
			continue;
		snprintf(why, n, "%s: %s", f->f[i].name, f->f[i].detail);
		return false;
	}
	return true;
}
