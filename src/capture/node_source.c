// SPDX-License-Identifier: Apache-2.0
/*
 * node_source: exec-watch ring records -> node events -> pipeline (see node_source.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "keyhole/node_event.h"
#include "keyhole/node_source.h"

struct node_source {
	struct kh_pipeline *p;
	struct node_decoder *d;
};

struct node_source *node_source__new(struct kh_pipeline *p, const struct node_decode_opts *o)
{
	struct node_source *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->p = p;
	s->d = node_decoder__new(o);
	if (!s->d) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

void node_source__free(struct node_source *s)
{
	if (!s)
		return;
	node_decoder__free(s->d);
	free(s);
}

int node_source__on_record(void *ctx, void *data, size_t size)
{
	struct node_source *s = ctx;
	struct node_event ev;

	if (node_decoder__decode(s->d, data, size, &ev) != 1)
		return 0;
	return pipeline__feed_node_event(s->p, &ev);
}

const struct node_decode_stats *node_source__stats(const struct node_source *s)
{
	return node_decoder__stats(s->d);
}
