/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ckpt_gate: in cluster mode, an audit line's position reaches the checkpoint only once the
 * facts published up to that line are safe (acknowledged by Redis, or synced to the disk queue).
 *
 * Without it the local half would checkpoint a line as soon as its fact was queued in memory, and
 * a crash with facts still queued would lose them: the restart's catch-up starts past their
 * lines. The gate holds each position with the fact mark taken after its line (the number of
 * facts queued so far) and lets positions through, in order, once the durable mark reaches
 * theirs. Bounded: when full, the newest held position of the same log is replaced (the
 * checkpoint then moves in coarser steps), or the new one is not held (it stays behind: a restart
 * reads more again, never less).
 */
#ifndef KEYHOLE_PIPELINE_CKPT_GATE_H
#define KEYHOLE_PIPELINE_CKPT_GATE_H

#include <stdint.h>

#include "keyhole/checkpoint.h"
#include "keyhole/kstr.h"

#define CKPT_GATE_MAX 8192 /* positions held: a second of lines at 8k lines/s */
#define CKPT_GATE_LOGS 64  /* (log, path) pairs named */

struct ckpt_gate_pos;

struct ckpt_gate {
	struct kh_checkpoint *cp;
	char *log[CKPT_GATE_LOGS], *host[CKPT_GATE_LOGS];
	size_t nlogs;
	struct ckpt_gate_pos *ring;
	size_t head, n;
	uint64_t not_held; /* positions not held: the gate or its name table was full */
};

int ckpt_gate__init(struct ckpt_gate *g, struct kh_checkpoint *cp);
void ckpt_gate__fini(struct ckpt_gate *g);

/* the line at @pos was processed; its position waits for the durable mark to reach @need */
void ckpt_gate__push(struct ckpt_gate *g, const struct kh_file_pos *pos, struct kstr audit_id,
		     struct kstr stage, int64_t time_ns, uint64_t need);

/* pass the held positions whose need is at most @durable to the checkpoint, in order */
void ckpt_gate__release(struct ckpt_gate *g, uint64_t durable);

#endif /* KEYHOLE_PIPELINE_CKPT_GATE_H */
