// SPDX-License-Identifier: Apache-2.0
/*
 * sigma_corr: Sigma correlation rules (Sigma_meta_rules.md) on event time, with bounded state.
 *
 * A correlation counts the matches of the rules it names, per group (the values of its group-by
 * fields in the matching event; an alias names a different field per rule), inside a sliding
 * window of `timespan` ending at the newest match:
 *  - event_count: matches in the window compared with the condition;
 *  - value_count: distinct values of condition.field in the window;
 *  - temporal: distinct named rules matched in the window (all of them unless the condition
 *    asks fewer);
 *  - temporal_ordered: the named rules matched in the order given, within the window.
 * It fires when the condition becomes true, then the group starts over, so one burst gives one
 * alert. A request is logged once per stage; a match is counted once per auditID within a group.
 * A condition of lower bounds (gt, gte, eq) is tested as matches arrive. One with an upper bound
 * (lt, lte, neq, or a range such as gt and lte) can only be decided once the count can no longer
 * grow: its window is tumbling, opened by a group's first match and closed `timespan` later in
 * event time (or when the input ends), and it fires then if the count meets the condition. A
 * group without matches has no window, so `lt: 3` means one or two matches, never none.
 * A correlation may name another correlation (chaining): its firing is a match of that rule, on
 * the event that completed it. Groups are bounded per rule (oldest evicted first, counted).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/json_out.h"
#include "keyhole/emit.h"
#include "keyhole/keytab.h"
#include "sigma/sigma_impl.h"

/* groups per correlation rule; each costs about 1 KiB plus its window */
#define SG_MAX_GROUPS 4096
/* the largest threshold a count may ask for (its window is kept per group) */
#define SG_MAX_THRESHOLD 10000
/* auditIDs kept per group, for the alert's evidence and to count a request once */
#define SG_IDS 8
#define SG_ID_LEN 64
/* chained correlations followed at most this deep (a loop of references ends here) */
#define SG_MAX_CHAIN 8

struct sg_gstate {
	int64_t *ts;  /* event_count: match times; value_count: time per distinct value */
	uint64_t *vh; /* value_count: value hashes */
	uint32_t n;   /* entries in ts (and vh) */
	int64_t step[SG_MAX_REFS]; /* temporal: last match per rule; ordered: chain start */
	uint64_t id_hash[SG_IDS];
	char ids[SG_IDS][SG_ID_LEN];
	uint32_t n_ids, id_next;
	char key[512]; /* group-by values, NUL-separated, for the alert */
	uint32_t key_len;
	int64_t start; /* the first match: a tumbling window's opening */
};

struct sg_corr_state {
	struct keytab *groups; /* group key -> struct sg_gstate, first in first out */
	uint32_t need;	       /* window capacity */
};

static void gstate_drop(void *value, void *arg)
{
	struct sg_gstate *g = value;

	(void)arg;
	free(g->ts);
	free(g->vh);
}

void sg_corr_state_free(struct sg_corr_state *st)
{
	if (!st)
		return;
	keytab__free(st->groups);
	free(st);
}

static int find_rule(struct kh_sigma *s, const char *ref, size_t self)
{
	for (size_t i = 0; i < s->n; i++)
		if (i != self && ((s->rules[i]->name && !strcmp(s->rules[i]->name, ref)) ||
				  !strcmp(s->rules[i]->id, ref)))
			return (int)i;
	return -1;
}

static int add_feed(struct sg_rule *from, uint32_t corr)
{
	uint32_t *nf = realloc(from->feeds, (from->n_feeds + 1) * sizeof(*nf));

	if (!nf)
		return -1;
	from->feeds = nf;
	from->feeds[from->n_feeds++] = corr;
	return 0;
}

int sg_corr_link(struct kh_sigma *s, size_t i, struct sg_err *e)
{
	struct sg_rule *r = s->rules[i];

	uint32_t need = 1;

	e->file = r->file;
	if (r->windowed && r->kind == SG_TEMPORAL_ORDERED)
		return sg_fail(
		    e, r->line, r->column,
		    "temporal_ordered: lt, lte and neq do not apply (the order completes "
		    "as matches arrive): use temporal for a count of rules");
	for (uint32_t c = 0; c < r->n_conds; c++) {
		uint64_t v = r->conds[c].v;

		if (v > SG_MAX_THRESHOLD)
			return sg_fail(e, r->line, r->column, "correlation threshold above %d",
				       SG_MAX_THRESHOLD);
		/* the window keeps enough to decide: one past a gt, lte or neq bound */
		v += r->conds[c].cmp == SG_CMP_GT || r->conds[c].cmp == SG_CMP_LTE ||
		     r->conds[c].cmp == SG_CMP_NEQ;
		if (v > need)
			need = (uint32_t)v;
	}
	if ((r->kind == SG_TEMPORAL || r->kind == SG_TEMPORAL_ORDERED) && r->threshold > r->n_refs)
		return sg_fail(e, r->line, r->column,
			       "temporal: the condition asks for more rules "
			       "than are named");
	for (uint32_t k = 0; k < r->n_refs; k++) {
		int j = find_rule(s, r->refs_text[k], i);

		if (j < 0)
			return sg_fail(e, r->line, r->column,
				       "correlation: no rule named '%s' is loaded",
				       r->refs_text[k]);
		r->refs[k] = (uint32_t)j;
		if (s->rules[j]->windowed)
			return sg_fail(
			    e, r->line, r->column,
			    "correlation: '%s' decides at its window's end (lt, lte, neq) "
			    "and cannot be chained",
			    r->refs_text[k]);
		for (uint32_t g = 0; g < r->n_group_by; g++) {
			const char *f =
			    r->alias_text[g][k] ? r->alias_text[g][k] : r->group_by_names[g];

			if ((r->group_by[k][g] = sg_field_intern(s, f, e, r->line, r->column)) < 0)
				return -1;
		}
	}
	r->state = calloc(1, sizeof(*r->state));
	if (!r->state || !(r->state->groups = keytab__new(sizeof(struct sg_gstate), SG_MAX_GROUPS,
							  gstate_drop, NULL)))
		return sg_fail(e, r->line, r->column, "out of memory");
	r->state->need = need;
	if (r->windowed) {
		uint32_t *nw = realloc(s->windowed, (s->n_windowed + 1) * sizeof(*nw));

		if (!nw)
			return sg_fail(e, r->line, r->column, "out of memory");
		s->windowed = nw;
		s->windowed[s->n_windowed++] = (uint32_t)i;
	}
	for (uint32_t k = 0; k < r->n_refs; k++) {
		if (add_feed(s->rules[r->refs[k]], (uint32_t)i))
			return sg_fail(e, r->line, r->column, "out of memory");
		if (!r->generate)
			s->rules[r->refs[k]]->silent = true;
	}
	return 0;
}

/*
 * Hashing of attacker-chosen values (usernames, names): SipHash under a key drawn once, so
 * nobody can make two groups collide on purpose.
 */
static uint8_t hash_key[16];
static bool hash_key_set;

static uint64_t hash_bytes(const void *p, size_t n)
{
	if (!hash_key_set) {
		keytab__random_key(hash_key);
		hash_key_set = true;
	}
	return siphash__24(hash_key, p, n);
}

/* the group of @ev for correlation @r as seen from referenced rule position @k */
static uint64_t group_key(struct kh_sigma *s, const struct sg_rule *r, uint32_t k, char *text,
			  uint32_t *text_len)
{
	char buf[1024]; /* each value with its length before it; longer values hashed cut */
	size_t bl = 0;
	uint32_t tl = 0;

	for (uint32_t g = 0; g < r->n_group_by; g++) {
		const struct sg_fieldvals *fv = sg_field_get(s, r->group_by[k][g]);
		const struct sg_val *v = fv->n ? &fv->v[0] : NULL;
		uint32_t n = v ? v->len : 0, vl = v ? v->len : UINT32_MAX; /* absent != "" */
		size_t take = n < sizeof(buf) - bl - 4 ? n : sizeof(buf) - bl - 4;

		if (bl + 4 <= sizeof(buf)) {
			memcpy(buf + bl, &vl, 4);
			bl += 4;
			if (v && take)
				memcpy(buf + bl, v->p, take);
			bl += v ? take : 0;
		}
		if (tl + n + 1 > 512)
			n = tl + 1 < 512 ? 512 - tl - 1 : 0;
		if (n)
			memcpy(text + tl, v->p, n);
		tl += n;
		if (tl < 512)
			text[tl++] = 0;
	}
	*text_len = tl;
	return hash_bytes(buf, bl);
}

static struct sg_gstate *group_get(struct kh_sigma *s, struct sg_rule *r, uint64_t key,
				   const char *text, uint32_t text_len, int64_t t)
{
	struct sg_corr_state *st = r->state;
	struct sg_gstate *g = keytab__find(st->groups, &key, sizeof(key));
	bool created;

	if (g)
		return g; /* found, not touched: the oldest group goes first */
	if (keytab__full(st->groups)) {
		keytab__remove(st->groups, keytab__oldest(st->groups));
		s->evictions++;
	}
	g = keytab__upsert(st->groups, &key, sizeof(key), &created);
	if (!g)
		return NULL;
	if (r->kind == SG_EVENT_COUNT || r->kind == SG_VALUE_COUNT) {
		g->ts = calloc(st->need, sizeof(*g->ts));
		g->vh = r->kind == SG_VALUE_COUNT ? calloc(st->need, sizeof(*g->vh)) : NULL;
		if (!g->ts || (r->kind == SG_VALUE_COUNT && !g->vh)) {
			keytab__remove(st->groups, g); /* its drop frees what was allocated */
			return NULL;
		}
	}
	memcpy(g->key, text, text_len);
	g->key_len = text_len;
	g->start = t;
	return g;
}

static void group_reset(struct sg_rule *r, struct sg_gstate *g)
{
	g->n = 0;
	memset(g->step, 0, sizeof(g->step));
	g->n_ids = g->id_next = 0;
	(void)r;
}

/* remember @ev's auditID in the group; false when the group already counted this request */
static bool note_id(struct sg_gstate *g, const struct audit_event *ev)
{
	uint64_t h = hash_bytes(ev->audit_id.p ? ev->audit_id.p : "", ev->audit_id.len);
	long n;

	for (uint32_t i = 0; i < g->n_ids; i++)
		if (g->id_hash[i] == h)
			return false;
	g->id_hash[g->id_next] = h;
	n = kstr__decode(ev->audit_id, g->ids[g->id_next], SG_ID_LEN - 1);
	g->ids[g->id_next][n < 0 ? 0 : n > SG_ID_LEN - 1 ? SG_ID_LEN - 1 : n] = 0;
	g->id_next = (g->id_next + 1) % SG_IDS;
	if (g->n_ids < SG_IDS)
		g->n_ids++;
	return true;
}

/* event_count: the window holds the newest `need` match times */
static uint64_t count_events(struct sg_rule *r, struct sg_gstate *g, int64_t t)
{
	uint32_t need = r->state->need, kept = 0;

	if (g->n == need) {
		memmove(g->ts, g->ts + 1, (need - 1) * sizeof(*g->ts));
		g->n--;
	}
	g->ts[g->n++] = t;
	for (uint32_t i = 0; i < g->n; i++)
		kept += t - g->ts[i] <= r->timespan_ns;
	return kept;
}

/* value_count: distinct values, each with the time it was last seen */
static uint64_t count_values(struct kh_sigma *s, struct sg_rule *r, struct sg_gstate *g, int64_t t)
{
	const struct sg_fieldvals *fv = sg_field_get(s, r->count_field);
	uint32_t need = r->state->need, oldest = 0, kept = 0, i;
	uint64_t h;

	if (!fv->n)
		return 0; /* an event without the field adds no value */
	h = hash_bytes(fv->v[0].p, fv->v[0].len);
	for (i = 0; i < g->n && g->vh[i] != h; i++)
		;
	if (i == g->n) {
		if (g->n == need) { /* full: the value seen longest ago leaves */
			for (uint32_t k = 1; k < g->n; k++)
				if (g->ts[k] < g->ts[oldest])
					oldest = k;
			i = oldest;
		} else {
			g->n++;
		}
		g->vh[i] = h;
	}
	g->ts[i] = t;
	for (i = 0; i < g->n; i++)
		kept += t - g->ts[i] <= r->timespan_ns;
	return kept;
}

static uint64_t count_temporal(struct sg_rule *r, struct sg_gstate *g, uint32_t from, int64_t t)
{
	uint64_t kept = 0;

	for (uint32_t k = 0; k < r->n_refs; k++)
		if (r->refs[k] == from)
			g->step[k] = t;
	for (uint32_t k = 0; k < r->n_refs; k++)
		kept += g->step[k] && t - g->step[k] <= r->timespan_ns;
	return kept;
}

/* temporal_ordered: step[k] is the start of the newest chain that reached rule k */
static bool ordered_done(struct sg_rule *r, struct sg_gstate *g, uint32_t from, int64_t t)
{
	for (uint32_t k = r->n_refs; k-- > 0;) {
		if (r->refs[k] != from)
			continue;
		if (k == 0)
			g->step[0] = t;
		else if (g->step[k - 1] && t - g->step[k - 1] <= r->timespan_ns &&
			 g->step[k - 1] > g->step[k])
			g->step[k] = g->step[k - 1];
	}
	return g->step[r->n_refs - 1] && t - g->step[r->n_refs - 1] <= r->timespan_ns;
}

static bool cmp_ok(const struct sg_rule *r, uint64_t v)
{
	for (uint32_t c = 0; c < r->n_conds; c++) {
		uint64_t t = r->conds[c].v;
		bool ok;

		switch (r->conds[c].cmp) {
		case SG_CMP_GT:
			ok = v > t;
			break;
		case SG_CMP_GTE:
			ok = v >= t;
			break;
		case SG_CMP_LT:
			ok = v < t;
			break;
		case SG_CMP_LTE:
			ok = v <= t;
			break;
		case SG_CMP_EQ:
			ok = v == t;
			break;
		default:
			ok = v != t;
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}

static const char *const kind_names[] = {"detection", "event_count", "value_count", "temporal",
					 "temporal_ordered"};

static void corr_alert(struct kh_sigma *s, struct sg_rule *r, struct sg_gstate *g, int64_t t,
		       uint64_t value)
{
	struct json_out *j;
	const char *ids[SG_IDS];
	uint32_t off = 0;

	if (!s->emit || r->silent)
		return;
	j = emit__incident_begin(s->emit, &r->info, r->count_index, t, kind_names[r->kind]);
	if (!j)
		return;
	json_out__key(j, "sigma");
	json_out__obj_begin(j);
	json_out__key(j, "correlation");
	json_out__obj_begin(j);
	json_out__kv_str(j, "type", kind_names[r->kind]);
	json_out__kv_int(j, "value", (long long)value);
	json_out__kv_int(j, "timespan_s", (long long)(r->timespan_ns / 1000000000LL));
	if (r->n_group_by) {
		json_out__key(j, "group_by");
		json_out__obj_begin(j);
		for (uint32_t k = 0; k < r->n_group_by && off < g->key_len; k++) {
			size_t n = strnlen(g->key + off, g->key_len - off);

			json_out__key(j, r->group_by_names[k]);
			json_out__strn(j, g->key + off, n);
			off += (uint32_t)n + 1;
		}
		json_out__obj_end(j);
	}
	json_out__obj_end(j);
	json_out__obj_end(j);
	/* oldest first */
	for (uint32_t i = 0; i < g->n_ids; i++)
		ids[i] = g->ids[(g->id_next + SG_IDS - g->n_ids + i) % SG_IDS];
	emit__incident_end(s->emit, ids, g->n_ids);
}

/* a match into a tumbling window: its count (saturating at the capacity, enough to decide) */
static void window_add(struct kh_sigma *s, struct sg_rule *r, struct sg_gstate *g,
		       uint32_t from_rule, int64_t t)
{
	uint32_t need = r->state->need, i;
	const struct sg_fieldvals *fv;
	uint64_t h;

	switch (r->kind) {
	case SG_EVENT_COUNT:
		g->n += g->n < need;
		break;
	case SG_VALUE_COUNT:
		fv = sg_field_get(s, r->count_field);
		if (!fv->n)
			break;
		h = hash_bytes(fv->v[0].p, fv->v[0].len);
		for (i = 0; i < g->n && g->vh[i] != h; i++)
			;
		if (i == g->n && g->n < need)
			g->vh[g->n++] = h;
		break;
	case SG_TEMPORAL:
		for (uint32_t k = 0; k < r->n_refs; k++)
			if (r->refs[k] == from_rule)
				g->step[k] = t;
		break;
	default:
		break;
	}
}

static uint64_t window_value(const struct sg_rule *r, const struct sg_gstate *g)
{
	uint64_t n = 0;

	if (r->kind != SG_TEMPORAL)
		return g->n;
	for (uint32_t k = 0; k < r->n_refs; k++)
		n += g->step[k] != 0;
	return n;
}

void sg_corr_advance(struct kh_sigma *s, int64_t now, bool all)
{
	for (uint32_t w = 0; w < s->n_windowed; w++) {
		struct sg_rule *r = s->rules[s->windowed[w]];
		struct sg_corr_state *st = r->state;
		struct sg_gstate *g;

		/* groups open in event-time order, so the oldest window closes first */
		while (st && (g = keytab__oldest(st->groups))) {
			int64_t end = g->start + r->timespan_ns;
			uint64_t value;

			if (!all && now - g->start <= r->timespan_ns)
				break;
			value = window_value(r, g);
			if (cmp_ok(r, value))
				corr_alert(s, r, g, end < s->now_ns ? end : s->now_ns, value);
			keytab__remove(st->groups, g); /* its drop frees the window */
		}
	}
}

void sg_corr_feed(struct kh_sigma *s, uint32_t corr, const struct audit_event *ev, int64_t t,
		  uint32_t from_rule, int depth)
{
	struct sg_rule *r = s->rules[corr];
	char text[512];
	uint32_t text_len, k;
	struct sg_gstate *g;
	uint64_t key, value = 0;
	bool fire;

	if (depth > SG_MAX_CHAIN || !r->state)
		return;
	for (k = 0; k < r->n_refs && r->refs[k] != from_rule; k++)
		;
	if (k == r->n_refs)
		return;
	key = group_key(s, r, k, text, &text_len);
	g = group_get(s, r, key, text, text_len, t);
	if (!g)
		return;
	/* a chained match stands for many requests: it is not one request's stage */
	if (depth == 0 && !note_id(g, ev))
		return;
	if (r->windowed) { /* counted now, decided when the window closes */
		window_add(s, r, g, from_rule, t);
		return;
	}
	switch (r->kind) {
	case SG_EVENT_COUNT:
		value = count_events(r, g, t);
		break;
	case SG_VALUE_COUNT:
		value = count_values(s, r, g, t);
		break;
	case SG_TEMPORAL:
		value = count_temporal(r, g, from_rule, t);
		break;
	case SG_TEMPORAL_ORDERED:
		value = ordered_done(r, g, from_rule, t) ? r->n_refs : 0;
		break;
	default:
		return;
	}
	fire = r->kind == SG_TEMPORAL_ORDERED ? value == r->n_refs : cmp_ok(r, value);
	if (!fire)
		return;
	corr_alert(s, r, g, t, value);
	group_reset(r, g);
	for (uint32_t f = 0; f < r->n_feeds; f++)
		sg_corr_feed(s, r->feeds[f], ev, t, corr, depth + 1);
}
