/* SPDX-License-Identifier: Apache-2.0 */
/*
 * caps: the calling thread's capability sets, and raising one that is permitted but not effective
 * around a single privileged call.
 *
 * Capabilities are per thread (capget/capset with pid 0). `run --late-uprobes` keeps
 * CAP_SYS_ADMIN permitted after its start (privileges.h); the tap makes it effective only around
 * the attach of a new uprobe (or, at perf_event_paranoid 3, of the write tracepoints), so between
 * attaches /proc/PID/status shows it in CapPrm and not in CapEff. Base stage: the metrics thread
 * (output) narrows itself with it too.
 */
#ifndef KEYHOLE_CAPS_H
#define KEYHOLE_CAPS_H

#include <stdbool.h>
#include <stdint.h>

/* linux/capability.h numbers; CAP_PERFMON and CAP_BPF are missing from pre-5.8 headers */
#define KH_CAP_SYS_ADMIN 21
#define KH_CAP_SYS_PTRACE 19
#define KH_CAP_PERFMON 38
#define KH_CAP_BPF 39

/* bit N: capability N; 0 when capget fails */
uint64_t caps__effective(void);
uint64_t caps__permitted(void);

static inline bool caps__has(uint64_t set, int cap)
{
	return (set >> cap) & 1;
}

/*
 * Make @cap effective where it is permitted but not effective. Returns true when it raised it:
 * then call caps__lower(@cap) right after the privileged call. False when it was effective
 * already, is not permitted, or capset failed: the call goes ahead with what the thread has.
 */
bool caps__raise(int cap);
void caps__lower(int cap);

/* shrink the calling thread's permitted set to its effective set: for a thread that never needs
 * what the main thread keeps only permitted (the metrics server) */
void caps__narrow_thread(void);

/* give up every capability of the calling thread (effective, permitted, inheritable): for the
 * threads that only talk to the network and to files the process owns (cluster mode's
 * publisher, correlator, node feed and TLS relays), which may be started before the main
 * thread drops to the run set and would otherwise keep all the start-up capabilities */
void caps__drop_thread(void);

#endif /* KEYHOLE_CAPS_H */
