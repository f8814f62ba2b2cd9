/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keyhole.bpf.h: the umbrella every bpf/<domain>.bpf.c includes first, and the only way in to the
 * other bpf/<name>.bpf.h helpers: kernel types (vmlinux.h, CO-RE), libbpf's helper headers, the
 * ring-buffer ABI shared with the agent, the license, counters and debug printing.
 */
#ifndef KEYHOLE_BPF_H
#define KEYHOLE_BPF_H

#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "keyhole/ring_abi.h"

#include "license.bpf.h"
#include "counters.bpf.h"
#include "task.bpf.h"

/* bpf_printk costs a trace_pipe write per call: compiled out unless built with -DKH_BPF_DEBUG */
#ifdef KH_BPF_DEBUG
#define kh_debug(fmt, ...) bpf_printk(fmt, ##__VA_ARGS__)
#else
#define kh_debug(fmt, ...) ((void)0)
#endif

#endif /* KEYHOLE_BPF_H */
