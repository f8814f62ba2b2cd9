// SPDX-License-Identifier: Apache-2.0
/*
 * caps: capget/capset on the calling thread (see caps.h). Raw system calls, as privileges.c
 * does: libcap is not a dependency, and the version-3 structures are two 32-bit words per set.
 */
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "keyhole/caps.h"

static int get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};

	return (int)syscall(SYS_capget, &hdr, d);
}

static int set(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};

	return (int)syscall(SYS_capset, &hdr, d);
}

uint64_t caps__effective(void)
{
	struct __user_cap_data_struct d[2] = {{0}};

	if (get(d))
		return 0;
	return (uint64_t)d[1].effective << 32 | d[0].effective;
}

uint64_t caps__permitted(void)
{
	struct __user_cap_data_struct d[2] = {{0}};

	if (get(d))
		return 0;
	return (uint64_t)d[1].permitted << 32 | d[0].permitted;
}

bool caps__raise(int cap)
{
	struct __user_cap_data_struct d[2] = {{0}};
	__u32 bit = 1u << (cap % 32);
	int i = cap / 32;

	if (get(d) || (d[i].effective & bit) || !(d[i].permitted & bit))
		return false;
	d[i].effective |= bit;
	return set(d) == 0;
}

void caps__lower(int cap)
{
	struct __user_cap_data_struct d[2] = {{0}};

	if (get(d))
		return;
	d[cap / 32].effective &= ~(1u << (cap % 32));
	(void)set(d);
}

void caps__narrow_thread(void)
{
	struct __user_cap_data_struct d[2] = {{0}};

	if (get(d))
		return;
	if (d[0].permitted == d[0].effective && d[1].permitted == d[1].effective)
		return;
	for (int i = 0; i < 2; i++) {
		d[i].permitted = d[i].effective;
		d[i].inheritable &= d[i].permitted;
	}
	(void)set(d);
}

void caps__drop_thread(void)
{
	struct __user_cap_data_struct d[2] = {{0}};

	(void)set(d);
}
