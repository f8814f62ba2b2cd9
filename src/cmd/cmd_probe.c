// SPDX-License-Identifier: Apache-2.0
/*
 * keyhole probe: what this kernel and this process offer the BPF side, one line per capability
 * (as `bpftool feature` prints), and whether `keyhole run` will work here and if not, why.
 * Probing changes nothing: it does not mount tracefs (run does).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/features.h"
#include "keyhole/json_out.h"
#include "keyhole/tap_path.h"
#include "cmd/cmd_common.h"
#include "cmd/commands.h"
#include "cmd/opts.h"
#include "cmd/probe_privileges.h"

enum { O_JSON, O_COMM, O_TAP, O_LATE };

static const struct opt probe_opts[] = {
    {0, "json", NULL, "one JSON object instead of text", O_JSON, 0, NULL},
    {0, "comm", "NAME", "the apiserver's process name (default kube-apiserver)", O_COMM, 0, NULL},
    {0, "tap", "MODE", "the path choice to explain: auto (default), uprobe or tracepoint", O_TAP, 0,
     "auto uprobe tracepoint"},
    {0, "late-uprobes", NULL, "explain `run --late-uprobes` (CAP_SYS_ADMIN kept permitted)", O_LATE,
     0, NULL},
    {0},
};

const struct cmd_spec probe_spec = {
    .name = "probe",
    .summary = "tell what this kernel supports and whether `run` will work",
    .synopsis = "[--json] [--comm NAME] [--tap auto|uprobe|tracepoint]",
    .description = "Tell what this kernel supports for live capture (privileges, BTF, tracefs, "
		   "the\ntracepoints the audit tap uses, the BPF ring buffer, lockdown, bpffs) "
		   "and whether\n`keyhole run` will work here; and for each running apiserver "
		   "(--comm, default\nkube-apiserver), which capture path `keyhole run --tap` "
		   "(default auto) gives it and why;\nwhat perf_event_paranoid and this "
		   "process's CAP_SYS_ADMIN, CAP_PERFMON and CAP_BPF\nmean for the tap, and which "
		   "path an apiserver started now and one started\nafter `run` gave up its "
		   "start-up privileges would get.",
    .epilog = "Exit status: 0 when `run` will work, 1 when it will not, 2 usage error.",
    .opts = probe_opts,
};

static const char *state_name(enum kh_feat_state s)
{
	return s == KH_FEAT_YES ? "yes" : s == KH_FEAT_NO ? "no" : "unknown";
}

/* the one JSON string escaper (json_out's): the details quote kernel and file text */
static void json_string(FILE *f, const char *s)
{
	json_out__write_str(f, s);
}

/* the path `run --tap @mode` would give the running apiservers named @comm */
struct probe_tap {
	enum tap_mode mode;
	const char *comm;
	bool uprobes; /* the kernel takes uprobes */
	char kernel_why[256];
	FILE *f;
	bool json;
	bool late_uprobes;
	int n;
};

struct probe_args {
	bool json;
	bool late;
	struct probe_tap *pt;
};

static int set_opt(void *ctx, const struct opt_hit *h)
{
	struct probe_args *a = ctx;

	if (h->o->id == O_JSON)
		a->json = true;
	else if (h->o->id == O_LATE)
		a->late = true;
	else if (h->o->id == O_COMM)
		a->pt->comm = h->val;
	else if (tap_mode_parse(h->val, &a->pt->mode))
		return cmd__usage_error(NULL, "--tap '%s': auto, uprobe or tracepoint", h->val);
	return 0;
}

static void tap_proc(void *ctx, pid_t pid)
{
	struct probe_tap *pt = ctx;
	char exe[64], why[320], detail[400];
	const char *path = "tracepoint";
	struct gosym_func g;
	int err = -EOPNOTSUPP;

	if (pt->mode == TAP_MODE_TRACEPOINT)
		snprintf(why, sizeof(why), "--tap tracepoint");
	else if (!pt->uprobes)
		snprintf(why, sizeof(why), "%s", pt->kernel_why);
	else
		err = tap_path_resolve(pid, &g, exe, sizeof(exe), why, sizeof(why));
	if (!err) {
		path = "uprobe";
		tap_path_describe(&g, why, sizeof(why));
	} else if (pt->mode == TAP_MODE_UPROBE) {
		path = "none";
	}
	snprintf(detail, sizeof(detail), "%s", why);
	if (pt->json) {
		fprintf(pt->f, "%s{\"pid\":%d,\"path\":\"%s\",\"detail\":", pt->n ? "," : "",
			(int)pid, path);
		json_string(pt->f, detail);
		fputc('}', pt->f);
	} else {
		fprintf(pt->f, "tap: %s pid %d: %s path: %s\n", pt->comm, (int)pid, path, detail);
	}
	pt->n++;
}

static void print_tap(struct probe_tap *pt)
{
	struct probe_priv_opts po = {pt->mode, pt->late_uprobes, pt->json, pt->f};

	probe_privileges__print(&po);
	if (pt->json) {
		fprintf(pt->f, ",\"tap\":{\"mode\":\"%s\",\"uprobes\":%s,\"uprobes_detail\":",
			tap_mode_name(pt->mode), pt->uprobes ? "true" : "false");
		json_string(pt->f, pt->uprobes ? "" : pt->kernel_why);
		fprintf(pt->f, ",\"processes\":[");
		tap_path_scan(pt->comm, tap_proc, pt);
		fprintf(pt->f, "]}");
		return;
	}
	fprintf(pt->f, "tap: --tap %s; uprobes: %s\n", tap_mode_name(pt->mode),
		pt->uprobes ? "yes (the uprobe PMU is there)" : pt->kernel_why);
	if (tap_path_scan(pt->comm, tap_proc, pt) <= 0)
		fprintf(pt->f,
			"tap: no %s running: the path is chosen when one starts (uprobe for "
			"a Go binary whose %s resolves, tracepoints otherwise)\n",
			pt->comm, GOSYM_WRITE_FUNC);
}

static void print_json(const struct kh_features *ft, bool ok, const char *why, struct probe_tap *pt)
{
	printf("{\"kernel\":");
	json_string(stdout, ft->kernel);
	printf(",\"features\":{");
	for (int i = 0; i < KH_FEAT__NR; i++) {
		const struct kh_feature *f = &ft->f[i];

		printf("%s\"%s\":{\"state\":\"%s\",\"required\":%s,\"detail\":", i ? "," : "",
		       f->name, state_name(f->state), f->required ? "true" : "false");
		json_string(stdout, f->detail);
		printf("}");
	}
	printf("},\"run_ok\":%s,\"why\":", ok ? "true" : "false");
	json_string(stdout, ok ? "" : why);
	print_tap(pt);
	printf("}\n");
}

static void print_text(const struct kh_features *ft, bool ok, const char *why, struct probe_tap *pt)
{
	printf("kernel: %s\n", ft->kernel);
	for (int i = 0; i < KH_FEAT__NR; i++) {
		const struct kh_feature *f = &ft->f[i];

		printf("%-12s %-7s %s%s\n", f->name, state_name(f->state), f->detail,
		       f->required ? "" : " [optional]");
	}
	if (ok)
		printf("keyhole run: will work here\n");
	else
		printf("keyhole run: will NOT work here: %s\n", why);
	print_tap(pt);
}

int cmd__probe(int argc, char **argv)
{
	struct probe_tap pt = {.comm = "kube-apiserver", .f = stdout};
	struct kh_features ft;
	bool json = false, ok;
	char why[512] = "";
	char **ops;
	int n, r;

	struct probe_args pa = {.pt = &pt};

	r = opts__parse(&probe_spec, argc, argv, set_opt, &pa, &ops, &n);
	if (r)
		return r == 1 ? 0 : 2;
	free(ops);
	json = pa.json;
	features__probe(&ft, false);
	ok = features__run_ok(&ft, why, sizeof(why));
	/* run mounts a missing tracefs itself when privileged: not a reason it would fail */
	if (!ok && ft.f[KH_FEAT_TRACEFS].state != KH_FEAT_YES &&
	    ft.f[KH_FEAT_PRIV].state == KH_FEAT_YES) {
		struct kh_features again = ft;

		again.f[KH_FEAT_TRACEFS].state = KH_FEAT_YES;
		again.f[KH_FEAT_TRACEPOINTS].state = KH_FEAT_YES;
		ok = features__run_ok(&again, why, sizeof(why));
		if (ok)
			snprintf(ft.f[KH_FEAT_TRACEFS].detail, sizeof(ft.f[KH_FEAT_TRACEFS].detail),
				 "not mounted; `keyhole run` mounts it at /sys/kernel/tracing");
	}
	pt.json = json;
	pt.late_uprobes = pa.late;
	pt.uprobes = tap_path_kernel_uprobes(pt.kernel_why, sizeof(pt.kernel_why));
	if (json)
		print_json(&ft, ok, why, &pt);
	else
		print_text(&ft, ok, why, &pt);
	return ok ? 0 : 1;
}
