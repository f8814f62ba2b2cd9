// SPDX-License-Identifier: Apache-2.0
/*
 * proc_chain: a session's parent chain from its start record, with command lines from /proc
 * (see proc_chain.h).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "capture/proc_chain.h"

static void copy_comm(char *dst, size_t dsize, const char *src, size_t ssize)
{
	size_t n = strnlen(src, ssize);

	if (n >= dsize)
		n = dsize - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* read at most @size - 1 bytes of @path into @buf; the count, or -1 */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

/* the command line of @a->pid, if that pid is still the process the kernel saw */
static void read_cmdline(struct node_ancestor *a, const char *proc_dir)
{
	char path[256], comm[64], raw[sizeof(a->cmdline) + 1];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/comm", proc_dir, a->pid);
	if (read_small(path, comm, sizeof(comm)) < 0)
		return;
	comm[strcspn(comm, "\n")] = 0;
	if (strcmp(comm, a->comm)) /* exec'd since, or the pid was reused */
		return;
	snprintf(path, sizeof(path), "%s/%u/cmdline", proc_dir, a->pid);
	n = read_small(path, raw, sizeof(raw));
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(a->cmdline)) {
		n = sizeof(a->cmdline) - 1;
		a->cmdline_truncated = true;
	}
	while (n > 0 && raw[n - 1] == 0)
		n--;
	for (ssize_t i = 0; i < n; i++)
		a->cmdline[i] = raw[i] ? raw[i] : ' ';
	a->cmdline[n] = 0;
}

void proc_chain__fill(struct node_session *s, const struct kh_rec_node_exec *r,
		      const char *proc_dir)
{
	uint32_t n = r->n_ancestors < KH_NODE_ANCESTORS ? r->n_ancestors : KH_NODE_ANCESTORS;

	s->loginuid = r->loginuid;
	s->sessionid = r->sessionid;
	s->n_ancestors = n;
	for (uint32_t i = 0; i < n; i++) {
		struct node_ancestor *a = &s->anc[i];

		memset(a, 0, sizeof(*a));
		a->pid = r->anc[i].pid;
		a->loginuid = r->anc[i].loginuid;
		a->sessionid = r->anc[i].sessionid;
		copy_comm(a->comm, sizeof(a->comm), r->anc[i].comm, sizeof(r->anc[i].comm));
		if (proc_dir)
			read_cmdline(a, proc_dir);
	}
}
