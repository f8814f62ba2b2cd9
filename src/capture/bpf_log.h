/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpf_log: libbpf's messages, kept instead of printed.
 *
 * libbpf prints a raw dump (and the verifier's whole log) on any failure; keyhole reports
 * failures itself, naming what is missing. The callback installed here keeps the last
 * BPF_LOG_KEEP bytes so the error message can quote the lines that matter (the verifier's
 * verdict), and forwards everything to stderr only at debug verbosity.
 */
#ifndef KEYHOLE_CAPTURE_BPF_LOG_H
#define KEYHOLE_CAPTURE_BPF_LOG_H

#include <stdio.h>

#define BPF_LOG_KEEP (64u << 10)

/* install the callback; @verbose nonzero also copies every message to stderr */
void bpf_log__install(int verbose);

/* forget what was kept (before a step whose failure should quote only its own messages) */
void bpf_log__reset(void);

/* print the last @max_lines kept lines to @f, each prefixed by @indent */
void bpf_log__print_tail(FILE *f, const char *indent, int max_lines);

/* nonzero when the kept log contains @needle (to tell causes apart) */
int bpf_log__contains(const char *needle);

/*
 * a BPF object's load failed with @err: say so once, naming @what ("the audit tap"), with the
 * tail of what libbpf and the verifier said, and the cause when it is the kernel's BTF
 */
void bpf_log__load_failed(const char *what, int err);

#endif /* KEYHOLE_CAPTURE_BPF_LOG_H */
