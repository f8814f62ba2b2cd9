// SPDX-License-Identifier: Apache-2.0
/*
 * engine: every rule sees every event, in table order (see engine.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "keyhole/config.h"
#include "keyhole/emit.h"
#include "keyhole/rules_engine.h"

struct kh_rules {
	struct kh_emit *e;
	const struct kh_rule *const *table;
	size_t n;
	void **state; /* per rule; NULL for stateless rules */
	bool *off;    /* per rule: disabled in the config (`enabled: false`) */
	size_t *gidx; /* per rule: its index in kh_rule_table (alerts_by_rule), else its own */
	size_t n_idx; /* 1 + the largest of gidx */
};

static size_t table_len(const struct kh_rule *const *table)
{
	size_t n = 0;

	while (table[n])
		n++;
	return n;
}

size_t rules__count(void)
{
	return table_len(kh_rule_table);
}

struct kh_rules *rules__new_table(const struct kh_rule *const *table, const struct kh_config *cfg,
				  struct kh_emit *e)
{
	struct kh_rules *r = calloc(1, sizeof(*r));
	int err = ENOMEM;

	if (!r)
		return NULL;
	r->e = e;
	r->table = table;
	r->n = table_len(table);
	r->state = calloc(r->n ? r->n : 1, sizeof(*r->state));
	r->off = calloc(r->n ? r->n : 1, sizeof(*r->off));
	r->gidx = calloc(r->n ? r->n : 1, sizeof(*r->gidx));
	if (!r->state || !r->off || !r->gidx)
		goto err_free;
	/* a subset of kh_rule_table (cluster mode's halves) counts its alerts under the full index
	 */
	for (size_t i = 0; i < r->n; i++) {
		r->gidx[i] = i;
		for (size_t k = 0; table != kh_rule_table && kh_rule_table[k]; k++)
			if (kh_rule_table[k] == table[i])
				r->gidx[i] = k;
		if (r->gidx[i] + 1 > r->n_idx)
			r->n_idx = r->gidx[i] + 1;
	}
	for (size_t i = 0; i < r->n; i++) {
		r->off[i] = !config__rule_enabled(cfg, table[i]->info->id);
		if (r->off[i] || !table[i]->state_new)
			continue;
		errno = 0;
		r->state[i] = table[i]->state_new(cfg);
		if (!r->state[i]) {
			err = errno ? errno : ENOMEM;
			goto err_free;
		}
	}
	return r;

err_free:
	rules__free(r);
	errno = err;
	return NULL;
}

struct kh_rules *rules__new(const struct kh_config *cfg, struct kh_emit *e)
{
	return rules__new_table(kh_rule_table, cfg, e);
}

void rules__free(struct kh_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->state && i < r->n; i++)
		if (r->state[i] && r->table[i]->state_free)
			r->table[i]->state_free(r->state[i]);
	free(r->state);
	free(r->off);
	free(r->gidx);
	free(r);
}

void rules__on_event(struct kh_rules *r, const struct audit_event *ev)
{
	emit__event_begin(r->e, ev);
	for (size_t i = 0; i < r->n; i++) {
		if (r->off[i] || !r->table[i]->on_event)
			continue;
		emit__set_rule(r->e, r->gidx[i]);
		r->table[i]->on_event(r->state[i], ev, r->e);
	}
	emit__event_end(r->e, ev, r->n_idx);
}

void rules__on_remote_event(struct kh_rules *r, const struct audit_event *ev)
{
	emit__event_begin(r->e, ev);
	for (size_t i = 0; i < r->n; i++) {
		if (r->off[i] || !r->table[i]->on_event || !r->table[i]->on_node_event)
			continue;
		emit__set_rule(r->e, r->gidx[i]);
		r->table[i]->on_event(r->state[i], ev, r->e);
	}
	emit__event_end(r->e, ev, r->n_idx);
}

void rules__on_node_event(struct kh_rules *r, const struct node_event *ev)
{
	for (size_t i = 0; i < r->n; i++) {
		if (r->off[i] || !r->table[i]->on_node_event)
			continue;
		emit__set_rule(r->e, r->gidx[i]);
		r->table[i]->on_node_event(r->state[i], ev, r->e);
	}
}

void rules__flush(struct kh_rules *r)
{
	for (size_t i = 0; i < r->n; i++) {
		if (r->off[i] || !r->table[i]->flush)
			continue;
		emit__set_rule(r->e, r->gidx[i]);
		r->table[i]->flush(r->state[i], r->e);
	}
	emit__flush(r->e);
}

int64_t rules__window_ns(const struct kh_rules *r)
{
	int64_t w = KH_EMIT_HOLD_NS; /* a held alert waits this long for its request's next stage */

	for (size_t i = 0; i < r->n; i++) {
		int64_t x;

		if (r->off[i] || !r->table[i]->window_ns || !r->state[i])
			continue;
		if ((x = r->table[i]->window_ns(r->state[i])) > w)
			w = x;
	}
	return w;
}

size_t rules__n(const struct kh_rules *r)
{
	return r->n;
}

const struct kh_rule *rules__rule(const struct kh_rules *r, size_t i)
{
	return i < r->n ? r->table[i] : NULL;
}

const struct kh_rule_counter *rules__counters(const struct kh_rules *r, size_t i, size_t *n)
{
	*n = 0;
	if (i >= r->n || r->off[i] || !r->table[i]->counters || !r->state[i])
		return NULL;
	return r->table[i]->counters(r->state[i], n);
}

struct kh_history *rules__history(const struct kh_rules *r, size_t i)
{
	if (i >= r->n || r->off[i] || !r->table[i]->history || !r->state[i])
		return NULL;
	return r->table[i]->history(r->state[i]);
}
