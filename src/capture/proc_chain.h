/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proc_chain: the parent chain of a session's first process, as the kernel recorded it at the
 * session's start, completed with each ancestor's command line from /proc while it still runs.
 *
 * The kernel's part (pid, comm, audit login uid and session) cannot be changed after the fact;
 * the command line is read later and only kept when /proc/PID/comm still names the process the
 * kernel saw (a reused pid reads as gone).
 */
#ifndef KEYHOLE_CAPTURE_PROC_CHAIN_H
#define KEYHOLE_CAPTURE_PROC_CHAIN_H

#include "keyhole/node_event.h"

/* fill s->anc, s->n_ancestors, s->loginuid and s->sessionid from @r; cmdlines from @proc_dir */
void proc_chain__fill(struct node_session *s, const struct kh_rec_node_exec *r,
		      const char *proc_dir);

#endif /* KEYHOLE_CAPTURE_PROC_CHAIN_H */
