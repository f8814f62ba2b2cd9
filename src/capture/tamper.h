/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tamper: ties an audit guard record (what a process did to a file named like a watched audit
 * log) to the watched log it concerns, or to none.
 *
 * The kernel ties descriptor operations (by inode and directory) and bare names (by directory
 * and name) itself; node_log_tamper.how is then "inode" or "directory". A path with a '/' is
 * tied by looking its directory up and comparing it with the watched log's directory:
 *  - "process": through the process's own /proc/PID/root, /proc/PID/cwd or /proc/PID/fd/DFD,
 *    while it is still there (its symbolic links and "..", as it saw them);
 *  - "root": the process is gone (a `rm` lives for a millisecond) and the path is absolute:
 *    from its root, when that root (recorded by the kernel) is this agent's or a followed
 *    apiserver's;
 *  - "base": gone, relative: the watched directory ends in the path's directory part and the
 *    rest of it is the directory the path started from (recorded by the kernel);
 *  - "effect": a path longer than the kernel reads: the watched log is gone, another inode, or
 *    holds fewer bytes than were written to it, as the operation would leave it.
 * A lookalike name elsewhere matches none of these and is counted, not reported.
 */
#ifndef KEYHOLE_CAPTURE_TAMPER_H
#define KEYHOLE_CAPTURE_TAMPER_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "keyhole/node_event.h"
#include "keyhole/ring_abi.h"

/* what the agent knows of one watched audit log */
struct tamper_watch {
	const char *path;	   /* as the apiserver names it */
	const char *host;	   /* where this agent reaches it */
	uint64_t dir_dev, dir_ino; /* its directory (kernel dev_t encoding), 0 when not armed */
	uint64_t cur_dev, cur_ino; /* the inode the apiserver writes (0: not known yet) */
	uint64_t min_size;	   /* bytes it holds at least unless truncated */
};

/* the strings a matched record hands out, NUL-terminated copies */
struct tamper_buf {
	char path[KH_TAMPER_PATH_MAX + 1];
	char path2[KH_TAMPER_PATH_MAX + 1];
	char exe[PATH_MAX];
};

/*
 * Tie @r (@size bytes as read from the ring) to one of the @n watches: returns its index and
 * fills @out (strings in @b and the watches), or -1 when it concerns another file, or -EINVAL
 * when the record is malformed.
 */
int tamper__match(const void *r, size_t size, const struct tamper_watch *w, size_t n,
		  struct node_log_tamper *out, struct tamper_buf *b);

#endif /* KEYHOLE_CAPTURE_TAMPER_H */
