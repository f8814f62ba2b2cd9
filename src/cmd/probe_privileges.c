// SPDX-License-Identifier: Apache-2.0
/*
 * probe_privileges: privileges and perf_event_paranoid, and the tap path they give an apiserver
 * started now and one started later (see probe_privileges.h).
 *
 * `run` attaches what it finds at the start with this process's capabilities, then drops to
 * CAP_SYS_PTRACE and CAP_PERFMON (privileges.h); an apiserver whose binary it first sees after
 * that needs a new uprobe with what is left, unless --late-uprobes kept CAP_SYS_ADMIN permitted.
 * The kernel's rule for a new uprobe is asked of the kernel (tap_path_uprobe_cap), so the answer
 * holds for backports a version table would miss.
 */
#include <stdio.h>
#include <string.h>

#include "keyhole/caps.h"
#include "keyhole/json_out.h"
#include "cmd/probe_privileges.h"

#define GRANT "deploy/kubernetes/uprobe-tap, deploy/systemd/uprobe-tap.conf"

struct facts {
	bool admin, perfmon, bpf;
	int paranoid;
	bool restricted; /* paranoid >= 3 */
	int need;	 /* KH_CAP_SYS_ADMIN, KH_CAP_PERFMON, or < 0: unknown */
	char need_why[256];
	bool uprobes; /* the uprobe PMU is there */
	char kernel_why[256];
};

struct answer {
	const char *path; /* "uprobe", "tracepoint" or "none" */
	char why[400];
};

static const char *paranoid_meaning(const struct facts *x)
{
	if (x->restricted)
		return "Debian's and Ubuntu's restriction: no perf event at all without "
		       "CAP_SYS_ADMIN; `run --tap auto` keeps the write tracepoints attached for the "
		       "whole run, unless --late-uprobes kept CAP_SYS_ADMIN to attach them again";
	if (x->paranoid >= 2)
		return "system-wide perf events (the tap's tracepoints and uprobes) need "
		       "CAP_PERFMON, which `run` keeps: auto detaches the write tracepoints while "
		       "every apiserver is on its uprobe, and attaches them again when one needs them";
	return "perf events are open to more than CAP_PERFMON here; the tap works as at 2";
}

/* the path when the binary resolves and the kernel takes the uprobe, else @fallback's */
static void set(struct answer *a, enum tap_mode m, bool uprobe, const char *why)
{
	if (uprobe)
		a->path = "uprobe";
	else
		a->path = m == TAP_MODE_UPROBE ? "none" : "tracepoint";
	snprintf(a->why, sizeof(a->why), "%s", why);
}

static void started_now(const struct facts *x, enum tap_mode m, struct answer *a)
{
	if (m == TAP_MODE_TRACEPOINT)
		set(a, m, false, "--tap tracepoint");
	else if (!x->uprobes)
		set(a, m, false, x->kernel_why);
	else if (x->restricted && !x->admin)
		set(a, m, false,
		    "perf_event_paranoid 3 refuses every perf event (a uprobe is one) without "
		    "CAP_SYS_ADMIN, and this process does not hold it");
	else if (x->admin)
		set(a, m, true,
		    "where its binary resolves (a Go apiserver): CAP_SYS_ADMIN is effective while "
		    "`run` attaches at its start");
	else if (x->need == KH_CAP_PERFMON && x->perfmon)
		set(a, m, true,
		    "where its binary resolves (a Go apiserver): CAP_PERFMON is enough on this kernel");
	else if (x->need == KH_CAP_SYS_ADMIN)
		set(a, m, false,
		    "this kernel wants CAP_SYS_ADMIN for a new uprobe, and this process does not "
		    "hold it (the shipped DaemonSet and systemd unit grant none; " GRANT " do)");
	else
		set(a, m, false, x->need_why);
}

static void started_later(const struct facts *x, enum tap_mode m, bool late, struct answer *a)
{
	bool admin_later = late && x->admin; /* kept permitted, raised around the attach */
	char why[400];

	if (m == TAP_MODE_TRACEPOINT || !x->uprobes) {
		started_now(x, m, a);
		return;
	}
	if (admin_later) {
		set(a, m, true,
		    "where its binary resolves: --late-uprobes keeps CAP_SYS_ADMIN permitted and "
		    "raises it to effective around that attach alone");
	} else if (x->restricted) {
		set(a, m, false,
		    "perf_event_paranoid 3 refuses a new uprobe without CAP_SYS_ADMIN, which `run` "
		    "does not keep after its start (the write tracepoints stay attached, so it is "
		    "captured; --late-uprobes with " GRANT " gives it its uprobe)");
	} else if (x->need == KH_CAP_PERFMON && x->perfmon) {
		set(a, m, true,
		    "where its binary resolves: CAP_PERFMON, which `run` keeps, is enough on this "
		    "kernel");
	} else if (x->need == KH_CAP_SYS_ADMIN) {
		snprintf(
		    why, sizeof(why),
		    "this kernel wants CAP_SYS_ADMIN for a new uprobe, and `run` %s (a restart "
		    "of a binary probed at the start keeps its uprobe)",
		    x->admin ? "gives it up after its start (--late-uprobes keeps it permitted: "
			       "run it so, or with " GRANT ")"
			     : "does not hold it (the shipped DaemonSet and systemd unit grant "
			       "none; " GRANT " do)");
		set(a, m, false, why);
	} else {
		set(a, m, false, x->need_why);
	}
}

static void facts_get(struct facts *x)
{
	uint64_t eff = caps__effective();

	memset(x, 0, sizeof(*x));
	x->admin = caps__has(eff, KH_CAP_SYS_ADMIN);
	x->perfmon = caps__has(eff, KH_CAP_PERFMON);
	x->bpf = caps__has(eff, KH_CAP_BPF);
	x->restricted = tap_path_perf_restricted(&x->paranoid);
	x->uprobes = tap_path_kernel_uprobes(x->kernel_why, sizeof(x->kernel_why));
	x->need = tap_path_uprobe_cap(x->need_why, sizeof(x->need_why));
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

static void print_json(const struct probe_priv_opts *o, const struct facts *x,
		       const struct answer *now, const struct answer *later)
{
	FILE *f = o->f;

	fprintf(f,
		",\"privileges\":{\"perf_event_paranoid\":%d,\"cap_sys_admin\":%s,"
		"\"cap_perfmon\":%s,\"cap_bpf\":%s,\"uprobe_needs\":",
		x->paranoid, x->admin ? "true" : "false", x->perfmon ? "true" : "false",
		x->bpf ? "true" : "false");
	json_out__write_str(f, x->need == KH_CAP_SYS_ADMIN ? "CAP_SYS_ADMIN"
			       : x->need == KH_CAP_PERFMON ? "CAP_PERFMON"
							   : "unknown");
	fputs(",\"uprobe_needs_detail\":", f);
	json_out__write_str(f, x->need_why);
	fprintf(f, ",\"late_uprobes\":%s,\"started_now\":{\"path\":\"%s\",\"detail\":",
		o->late_uprobes ? "true" : "false", now->path);
	json_out__write_str(f, now->why);
	fprintf(f, "},\"started_later\":{\"path\":\"%s\",\"detail\":", later->path);
	json_out__write_str(f, later->why);
	fputs("}}", f);
}

void probe_privileges__print(const struct probe_priv_opts *o)
{
	struct answer now, later;
	struct facts x;
	const char *mode = tap_mode_name(o->mode);

	facts_get(&x);
	started_now(&x, o->mode, &now);
	started_later(&x, o->mode, o->late_uprobes, &later);
	if (o->json) {
		print_json(o, &x, &now, &later);
		return;
	}
	fprintf(o->f, "perf_event_paranoid: %d: %s\n", x.paranoid, paranoid_meaning(&x));
	fprintf(o->f, "privileges: CAP_SYS_ADMIN %s, CAP_PERFMON %s, CAP_BPF %s (effective)\n",
		yes_no(x.admin), yes_no(x.perfmon), yes_no(x.bpf));
	fprintf(o->f, "new uprobe: %s\n", x.need_why);
	fprintf(o->f, "tap %s%s: apiserver started now: %s path: %s\n", mode,
		o->late_uprobes ? " --late-uprobes" : "", now.path, now.why);
	fprintf(o->f,
		"tap %s%s: apiserver started later (a binary first seen after the start-up "
		"privilege drop): %s path: %s\n",
		mode, o->late_uprobes ? " --late-uprobes" : "", later.path, later.why);
}
