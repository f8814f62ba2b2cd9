// SPDX-License-Identifier: Apache-2.0
/*
 * uprobe_cap: which capability this kernel wants for a new uprobe (see tap_path.h).
 *
 * The kernel's own answer, not a version table: the 2025 fix (ba677dbe77af) went into stable
 * series at different points, and distributions carry their own. perf_uprobe_event_init checks
 * the capability before it looks at the file, so one perf_event_open of the uprobe PMU, made as
 * `run` makes it after its start (CAP_PERFMON, CAP_SYS_ADMIN not effective), tells: EACCES means
 * CAP_SYS_ADMIN. The probe goes on a scratch memfd that no process maps, so no code anywhere is
 * patched, and it is closed at once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "keyhole/caps.h"
#include "keyhole/tap_path.h"

#define UPROBE_PMU_TYPE "/sys/bus/event_source/devices/uprobe/type"

static int pmu_type(void)
{
	FILE *f = fopen(UPROBE_PMU_TYPE, "r");
	char line[32], *end;
	long t = -EINVAL;

	if (!f)
		return -errno;
	if (fgets(line, sizeof(line), f)) {
		t = strtol(line, &end, 10);
		if (end == line || t < 0 || t > INT_MAX)
			t = -EINVAL;
	}
	fclose(f);
	return (int)t;
}

/* a uprobe at offset 0 of @path, system-wide on CPU 0 as libbpf attaches one; 0 or -errno */
static int try_uprobe(int type, const char *path)
{
	struct perf_event_attr a;
	long fd;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = (__u32)type;
	a.config1 = (__u64)(unsigned long)path; /* uprobe_path */
	a.config2 = 0;				/* probe_offset */
	a.disabled = 1;
	fd = syscall(SYS_perf_event_open, &a, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	close((int)fd);
	return 0;
}

/*
 * A uprobe on a scratch memfd with CAP_SYS_ADMIN not effective (as `run` is after its start);
 * *@control gets the same with it effective where the thread holds it (1 when it did not, so a
 * refusal is the capability's and not the scratch file's), else 1.
 */
static int ask_kernel(int type, int *control, char *why, size_t n)
{
	static const unsigned char nops[64] = {0x90}; /* content is never executed */
	char path[64];
	bool admin;
	int fd, err;

	fd = memfd_create("keyhole-uprobe-probe", MFD_CLOEXEC);
	if (fd < 0 || write(fd, nops, sizeof(nops)) != (ssize_t)sizeof(nops)) {
		err = -errno;
		snprintf(why, n, "cannot make a scratch file to ask the kernel: %s",
			 strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	admin = caps__has(caps__effective(), KH_CAP_SYS_ADMIN);
	if (admin)
		caps__lower(KH_CAP_SYS_ADMIN);
	err = try_uprobe(type, path);
	if (admin) {
		caps__raise(KH_CAP_SYS_ADMIN);
		*control = try_uprobe(type, path);
	} else {
		*control = 1;
	}
	close(fd);
	return err;
}

int tap_path_uprobe_cap(char *why, size_t n)
{
	uint64_t prm = caps__permitted();
	int type = pmu_type(), level, err, control = 1;

	why[0] = '\0';

	if (type < 0) {
		snprintf(why, n, "cannot tell: no uprobe PMU (%s: %s)", UPROBE_PMU_TYPE,
			 strerror(-type));
		return type;
	}
	if (tap_path_perf_restricted(&level)) {
		snprintf(
		    why, n,
		    "CAP_SYS_ADMIN here whatever the kernel's uprobe rule: perf_event_paranoid "
		    "%d refuses every perf event without it",
		    level);
		return KH_CAP_SYS_ADMIN;
	}
	if (prctl(PR_CAPBSET_READ, KH_CAP_PERFMON, 0, 0, 0) < 0) {
		snprintf(why, n,
			 "this kernel predates CAP_PERFMON (Linux 5.8), so a new uprobe wants "
			 "CAP_SYS_ADMIN");
		return KH_CAP_SYS_ADMIN;
	}
	if (!caps__has(prm, KH_CAP_PERFMON)) {
		snprintf(why, n,
			 "cannot tell: asking the kernel needs CAP_PERFMON, which this process "
			 "does not hold");
		return -EPERM;
	}
	err = ask_kernel(type, &control, why, n);
	if (!err) {
		snprintf(why, n,
			 "CAP_PERFMON is enough on this kernel (a uprobe opened with CAP_SYS_ADMIN "
			 "not effective)");
		return KH_CAP_PERFMON;
	}
	if ((err == -EACCES || err == -EPERM) && control < 0) {
		snprintf(why, n,
			 "cannot tell: a test uprobe failed with CAP_SYS_ADMIN too (%s, then %s)",
			 strerror(-err), strerror(-control));
		return err;
	}
	if (err == -EACCES || err == -EPERM) {
		snprintf(why, n,
			 "this kernel wants CAP_SYS_ADMIN (a uprobe opened with CAP_PERFMON alone: "
			 "%s; upstream ba677dbe77af, 6.16 and the stable series that took it)",
			 strerror(-err));
		return KH_CAP_SYS_ADMIN;
	}
	if (why[0] == '\0') /* else ask_kernel said why */
		snprintf(why, n, "cannot tell: a test uprobe failed: %s", strerror(-err));
	return err;
}
