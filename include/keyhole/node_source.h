/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node_source: the exec watch as a pipeline source. Its ring callback decodes exec-watch records
 * into node events (node_decode.h) and feeds them to the pipeline; a capture loop registers it
 * on the exec watch's ring buffer, e.g.
 *
 *	capture__add_ring(cap, exec_watch__ring_fd(w), node_source__on_record, src);
 */
#ifndef KEYHOLE_NODE_SOURCE_H
#define KEYHOLE_NODE_SOURCE_H

#include <stddef.h>

#include "keyhole/node_decode.h"

struct kh_pipeline;
struct node_source;

/* NULL with errno set on failure */
struct node_source *node_source__new(struct kh_pipeline *p, const struct node_decode_opts *o);
void node_source__free(struct node_source *s);

/*
 * libbpf ring_buffer_sample_fn: decode one record and feed it. Returns 0 (records of other types
 * are ignored, malformed ones counted), or a negative errno when the pipeline's output failed.
 */
int node_source__on_record(void *ctx, void *data, size_t size);

const struct node_decode_stats *node_source__stats(const struct node_source *s);

#endif /* KEYHOLE_NODE_SOURCE_H */
