// SPDX-License-Identifier: Apache-2.0
/*
 * ckpt_gate: checkpoint positions held until the facts of their lines are safe (ckpt_gate.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/ckpt_gate.h"

struct ckpt_gate_pos {
	uint32_t name; /* index in log[] / host[] */
	uint64_t dev, ino, end;
	bool end_known;
	int64_t time_ns;
	uint64_t need;
	char audit_id[KH_CKPT_ID_MAX + 1];
	char stage[KH_CKPT_STAGE_MAX + 1];
};

int ckpt_gate__init(struct ckpt_gate *g, struct kh_checkpoint *cp)
{
	memset(g, 0, sizeof(*g));
	g->cp = cp;
	g->ring = calloc(CKPT_GATE_MAX, sizeof(*g->ring));
	return g->ring ? 0 : -ENOMEM;
}

void ckpt_gate__fini(struct ckpt_gate *g)
{
	for (size_t i = 0; i < g->nlogs; i++) {
		free(g->log[i]);
		free(g->host[i]);
	}
	free(g->ring);
	memset(g, 0, sizeof(*g));
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* the index of (@log, @host), added when new; -1 when the table is full */
static int name_of(struct ckpt_gate *g, const char *log, const char *host)
{
	size_t i;

	for (i = 0; i < g->nlogs; i++)
		if (!strcmp(g->log[i], log) && same(g->host[i], host))
			return (int)i;
	if (i == CKPT_GATE_LOGS || !(g->log[i] = strdup(log)))
		return -1;
	g->host[i] = host ? strdup(host) : NULL;
	if (host && !g->host[i]) {
		free(g->log[i]);
		return -1;
	}
	g->nlogs++;
	return (int)i;
}

static void copy(char *dst, size_t cap, struct kstr s)
{
	size_t n = s.len < cap - 1 ? s.len : cap - 1;

	if (n)
		memcpy(dst, s.p, n);
	dst[n] = 0;
}

void ckpt_gate__push(struct ckpt_gate *g, const struct kh_file_pos *pos, struct kstr audit_id,
		     struct kstr stage, int64_t time_ns, uint64_t need)
{
	int name = name_of(g, pos->log, pos->host_path);
	struct ckpt_gate_pos *e;

	if (name < 0) {
		g->not_held++;
		return;
	}
	if (g->n == CKPT_GATE_MAX) {
		e = &g->ring[(g->head + g->n - 1) % CKPT_GATE_MAX];
		if (e->name != (uint32_t)name) {
			g->not_held++;
			return;
		}
	} else {
		e = &g->ring[(g->head + g->n++) % CKPT_GATE_MAX];
	}
	e->name = (uint32_t)name;
	e->dev = pos->dev;
	e->ino = pos->ino;
	e->end = pos->end;
	e->end_known = pos->end_known;
	e->time_ns = time_ns;
	e->need = need;
	copy(e->audit_id, sizeof(e->audit_id), audit_id);
	copy(e->stage, sizeof(e->stage), stage);
}

static struct kstr kstr_of(const char *s)
{
	return s[0] ? (struct kstr){.p = s, .len = (uint32_t)strlen(s)} : (struct kstr){0};
}

void ckpt_gate__release(struct ckpt_gate *g, uint64_t durable)
{
	while (g->n && g->ring[g->head].need <= durable) {
		const struct ckpt_gate_pos *e = &g->ring[g->head];
		struct kh_file_pos pos = {.log = g->log[e->name],
					  .host_path = g->host[e->name],
					  .dev = e->dev,
					  .ino = e->ino,
					  .end = e->end,
					  .end_known = e->end_known};

		checkpoint__advance(g->cp, &pos, kstr_of(e->audit_id), kstr_of(e->stage),
				    e->time_ns);
		g->head = (g->head + 1) % CKPT_GATE_MAX;
		g->n--;
	}
}
