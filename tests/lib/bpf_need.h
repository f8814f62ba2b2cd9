/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpf_need: how a BPF test meets a machine that cannot run it. Without root, BPF or a part the
 * test needs (runc, tracefs), it skips loudly, naming why; with KEYHOLE_REQUIRE_BPF=1 (CI) the
 * same condition is a failure, so a BPF test never passes by not running.
 */
#ifndef KEYHOLE_TESTS_BPF_NEED_H
#define KEYHOLE_TESTS_BPF_NEED_H

/* @why NULL: nothing missing, return; else skip @test (or fail it under KEYHOLE_REQUIRE_BPF=1) */
void bpf_need(const char *test, const char *why);

/* what keeps the agent's BPF from running here (root, BTF, tracefs, ...), or NULL */
const char *bpf_need__why_not(void);

#endif /* KEYHOLE_TESTS_BPF_NEED_H */
