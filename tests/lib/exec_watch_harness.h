/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exec_watch_harness: the exec watch end to end for a test, with one real runc container dressed
 * as a pod: BPF programs -> ring buffer -> node_source (pod identity from the pod's kubelet-style
 * log directories) -> pipeline -> alert JSON lines in a temporary file, read back filtered to the
 * pod's own containers (the exec watch sees the whole machine, and other tests run beside).
 */
#ifndef KH_TEST_EXEC_WATCH_HARNESS_H
#define KH_TEST_EXEC_WATCH_HARNESS_H

#include <stdbool.h>
#include <stdio.h>

#include <bpf/libbpf.h>

#include "alert_lines.h"
#include "keyhole/exec_watch.h"
#include "keyhole/node_source.h"
#include "keyhole/pipeline.h"
#include "runc_pod.h"

struct ew_harness {
	struct exec_watch *w;
	struct ring_buffer *rb;
	struct runc_pod pod;
	struct kh_pipeline *p;
	struct node_source *src;
	FILE *out;
	struct alert_lines al; /* the last read */
};

/*
 * Load the exec watch, start a pipeline and the pod running `sh -c @init_script` (with its stdin
 * a pipe when @attachable), wait for <shared>/@ready. Skips through bpf_need(@test, why) where
 * it cannot run; fails the test on anything else.
 */
void ew_harness__setup(struct ew_harness *h, const char *test, const char *init_script,
		       const char *ready, bool attachable);
/* the same with the exec watch loaded with @o */
void ew_harness__setup_opts(struct ew_harness *h, const char *test, const char *init_script,
			    const char *ready, bool attachable, const struct exec_watch_opts *o);
void ew_harness__teardown(struct ew_harness *h);

/* poll the ring for @ms */
void ew_harness__drain(struct ew_harness *h, int ms);
/* read the alerts written so far about the pod's containers into h->al */
void ew_harness__read_ours(struct ew_harness *h);
/* drain, end every wait for a request (flush), read */
void ew_harness__alerts_final(struct ew_harness *h);
/* feed one audit line (it must parse) */
void ew_harness__feed(struct ew_harness *h, const char *line);
/* the RFC 3339 time now, as the audit log writes it */
void ew_harness__now_ts(char *ts, size_t size);

#endif /* KH_TEST_EXEC_WATCH_HARNESS_H */
