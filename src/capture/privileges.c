// SPDX-License-Identifier: Apache-2.0
/*
 * privileges: drop to the one capability `keyhole run` needs once attached (see privileges.h).
 *
 * Order matters: the bounding set can only shrink while CAP_SETPCAP is still effective, so it
 * goes first; then the ambient set; then capset(2) shrinks effective, permitted and inheritable
 * in one call. no_new_privs makes the result stick even if something were ever exec'd.
 */
#include <errno.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "keyhole/caps.h"
#include "keyhole/privileges.h"
#include "keyhole/log.h"

#define KEEP_CAP CAP_SYS_PTRACE
#define CAP_PERFMON_ 38 /* linux/capability.h of 5.8+; older headers lack it */

static int last_cap(void)
{
	int c = CAP_LAST_CAP;

	/* the running kernel may know more capabilities than our headers: find its last one */
	while (prctl(PR_CAPBSET_READ, c + 1, 0, 0, 0) >= 0)
		c++;
	return c;
}

int privileges__drop_to_run(bool keep_perfmon, bool keep_admin)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2] = {{0}};
	int top = last_cap();

	for (int c = 0; c <= top; c++) {
		if (c == KEEP_CAP || (keep_perfmon && c == CAP_PERFMON_) ||
		    prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0) {
			/* without CAP_SETPCAP the bounding set stays; effective and permitted still
			 * shrink */
			kh_log(KH_LOG_WARN, "cannot shrink the capability bounding set: %s",
			       strerror(errno));
			break;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
		return -errno;
	if (syscall(SYS_capget, &hdr, data) != 0)
		return -errno;
	/* keep CAP_SYS_PTRACE only where the process already had it */
	for (int i = 0; i < 2; i++) {
		__u32 keep = i == KEEP_CAP / 32 ? 1u << (KEEP_CAP % 32) : 0;

		if (keep_perfmon && i == CAP_PERFMON_ / 32)
			keep |= 1u << (CAP_PERFMON_ % 32);

		data[i].effective &= keep;
		/* --late-uprobes: permitted only; the tap raises it around an attach (caps.h) */
		if (keep_admin && i == KH_CAP_SYS_ADMIN / 32)
			keep |= 1u << (KH_CAP_SYS_ADMIN % 32);
		data[i].permitted &= keep;
		data[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &hdr, data) != 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -errno;
	return 0;
}
