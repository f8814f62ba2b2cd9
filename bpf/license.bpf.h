/* SPDX-License-Identifier: GPL-2.0 */
/*
 * license: the one place the BPF objects declare their license. The kernel reads the "license"
 * section to decide whether a program may call GPL-only helpers (bpf_probe_read_user,
 * bpf_ringbuf_output, bpf_get_current_task), which every keyhole program needs.
 *
 * Each bpf/<domain>.bpf.c is its own object (and skeleton), so each gets this definition once,
 * through keyhole.bpf.h; nothing else may define LICENSE.
 */
#ifndef KEYHOLE_LICENSE_BPF_H
#define KEYHOLE_LICENSE_BPF_H

char LICENSE[] SEC("license") = "GPL";

#endif /* KEYHOLE_LICENSE_BPF_H */
