// SPDX-License-Identifier: Apache-2.0
/*
 * tap_path: choosing the tap's capture path (see tap_path.h). Nothing here attaches: capture.c
 * does, and falls back when the attach itself fails.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "capture/proc_scan.h"
#include "keyhole/tap_path.h"

/* libbpf attaches uprobes through this PMU (perf_event_open of type uprobe, Linux 4.17+) */
#define UPROBE_PMU_TYPE "/sys/bus/event_source/devices/uprobe/type"

int tap_mode_parse(const char *s, enum tap_mode *out)
{
	if (!strcmp(s, "auto"))
		*out = TAP_MODE_AUTO;
	else if (!strcmp(s, "tracepoint"))
		*out = TAP_MODE_TRACEPOINT;
	else if (!strcmp(s, "uprobe"))
		*out = TAP_MODE_UPROBE;
	else
		return -EINVAL;
	return 0;
}

const char *tap_mode_name(enum tap_mode m)
{
	return m == TAP_MODE_UPROBE ? "uprobe" : m == TAP_MODE_TRACEPOINT ? "tracepoint" : "auto";
}

bool tap_path_kernel_uprobes(char *why, size_t n)
{
	if (access(UPROBE_PMU_TYPE, R_OK) == 0)
		return true;
	snprintf(why, n,
		 "the kernel has no uprobe PMU (%s: %s; needs CONFIG_UPROBE_EVENTS, "
		 "Linux 4.17+)",
		 UPROBE_PMU_TYPE, strerror(errno));
	return false;
}

bool tap_path_perf_restricted(int *level)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
	int v = 2;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 2;
		fclose(f);
	}
	*level = v;
	return v >= 3;
}

int tap_path_resolve(pid_t pid, struct gosym_func *f, char *exe, size_t exe_len, char *why,
		     size_t why_len)
{
	int err;

	snprintf(exe, exe_len, "/proc/%d/exe", (int)pid);
	if (access(exe, F_OK) && errno == ENOENT) {
		snprintf(why, why_len, "process %d is gone", (int)pid);
		return -ESRCH;
	}
	err = gosym__resolve(exe, GOSYM_WRITE_FUNC, f, why, why_len);
	return err;
}

int tap_path_scan(const char *comm, void (*fn)(void *ctx, pid_t pid), void *ctx)
{
	return proc_scan__comm(comm, fn, ctx);
}

void tap_path_describe(const struct gosym_func *f, char *out, size_t n)
{
	snprintf(out, n, "%s at file offset %#llx, probed at %#llx (%s, %s, pclntab %d, %s)",
		 GOSYM_WRITE_FUNC, (unsigned long long)f->file_offset,
		 (unsigned long long)f->probe_offset, f->go_version[0] ? f->go_version : "Go",
		 f->arch == GOSYM_ARCH_ARM64 ? "arm64" : "amd64", f->pcln_version,
		 f->stripped ? "stripped: found through .gopclntab" : "with symbols");
}
