// SPDX-License-Identifier: Apache-2.0
/*
 * sigma_gate: the prefilter that decides, per event, which detection rules can possibly match.
 *
 * At load every single-valued field the parser reads (verb, objectRef.resource, the decision,
 * responseStatus.code, user.username...) and the two group lists get a table of the lower-cased
 * values rules compare them with, up to 62 per field. An event is then described per field by a
 * 64-bit word with one bit set: bit 0 when the field has no value, bit 1 for a value no rule
 * names, bit 2 + k for the k-th value of the table (the group lists set one bit per group).
 *
 * From each rule's condition a necessary condition is derived in conjunctive form: clauses that
 * must all hold, each a disjunction of "field F has one of the values of mask M". An EQ item gives
 * the bits of its values; an item whose every matcher needs a value (startswith, re, ...) gives
 * "any value" (every bit but bit 0); AND joins the clauses, OR distributes (a bounded number of
 * clauses is kept), NOT gives nothing. The derivation only ever widens, so it never changes what
 * matches: a clause it cannot express is dropped, a value beyond the table widens to "any value".
 * The clause on objectRef.resource alone becomes the rule's bucket, so an event walks the rules of
 * its resource only; the rest are tested with a few AND and OR per rule before any selection is.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "keyhole/kstr.h"
#include "sigma/sigma_impl.h"

/* clauses kept per rule, and condition depth analysed: beyond either, the rule widens */
#define GATE_MAX_CLAUSES 8
#define GATE_MAX_DEPTH 32
#define GATE_ANY_VALUE (~1ull) /* every bit but "absent" */

/* a clause while deriving: per field the mask of allowed bits, for the fields in @fields */
struct clause {
	uint64_t mask[SG_F_COUNT];
	uint64_t fields; /* bit f: field f is in the clause */
};

struct cnf {
	struct clause c[GATE_MAX_CLAUSES];
	uint32_t n; /* 0: no constraint */
};

bool sg_gate_indexable(int f)
{
	return f > SG_F_RAW && f < SG_F_COUNT && f != SG_F_SOURCEIPS && f != SG_F_EXEC_COMMAND;
}

static bool is_list(int f)
{
	return f == SG_F_GROUPS || f == SG_F_IMP_GROUPS;
}

/* the bit of lower-cased @v in field @f's table, interned when @add; 0 when it cannot be */
static uint64_t value_bit(struct sg_vtab *t, const char *v, size_t n, bool add)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->len[i] == n && !memcmp(t->v[i], v, n))
			return 1ull << (i + 2);
	if (!add || t->n == SG_GATE_VALUES || n > SG_GATE_MAX_LEN)
		return 0;
	t->v[t->n] = malloc(n + 1);
	if (!t->v[t->n])
		return 0;
	for (size_t i = 0; i < n; i++)
		t->v[t->n][i] = (char)sg_lower((unsigned char)v[i]);
	t->v[t->n][n] = 0;
	t->len[t->n] = (uint32_t)n;
	t->lens[n / 64] |= 1ull << (n % 64);
	if (n > t->max_len)
		t->max_len = (uint32_t)n;
	return 1ull << (2 + t->n++);
}

/* the clause an item gives, or false when it gives none */
static bool item_clause(struct kh_sigma *s, const struct sg_item *it, struct clause *out)
{
	int f = it->field >= 0 ? (int)s->fields[it->field].fast : SG_F_RAW;
	bool all_eq = !it->all || it->n == 1;
	uint64_t mask = 0;

	if (!sg_gate_indexable(f) || !it->n)
		return false;
	for (uint32_t k = 0; k < it->n; k++) {
		const struct sg_match *m = &it->m[k];

		if (m->op == SG_EXISTS || m->op == SG_NULL)
			return false; /* true on an absent field */
		all_eq = all_eq && m->op == SG_EQ;
	}
	for (uint32_t k = 0; all_eq && k < it->n; k++) {
		char low[SG_GATE_MAX_LEN + 1];
		const struct sg_match *m = &it->m[k];
		uint64_t b = 0;

		if (m->len <= SG_GATE_MAX_LEN) {
			for (uint32_t i = 0; i < m->len; i++)
				low[i] = (char)sg_lower((unsigned char)m->lit[i]);
			b = value_bit(&s->vtab[f], low, m->len, true);
		}
		if (!b) { /* the table is full: any value will have to do */
			all_eq = false;
			break;
		}
		mask |= b;
	}
	*out = (struct clause){.fields = 1ull << f};
	out->mask[f] = all_eq ? mask : GATE_ANY_VALUE;
	s->vtab[f].used = true;
	return true;
}

static void cnf_add(struct cnf *a, const struct clause *c)
{
	if (a->n < GATE_MAX_CLAUSES)
		a->c[a->n++] = *c;
}

/* a OR b, distributed: (x1 & x2) | (y1 & y2) is (x1|y1) & (x1|y2) & (x2|y1) & (x2|y2) */
static void cnf_or(struct cnf *a, const struct cnf *b)
{
	struct cnf out = {.n = 0};

	if (!a->n || !b->n) {
		a->n = 0;
		return;
	}
	for (uint32_t i = 0; i < a->n; i++)
		for (uint32_t j = 0; j < b->n; j++) {
			struct clause c = a->c[i];

			c.fields |= b->c[j].fields;
			for (int f = 0; f < SG_F_COUNT; f++)
				c.mask[f] |= b->c[j].mask[f];
			cnf_add(&out, &c);
		}
	*a = out;
}

static void cnf_and(struct cnf *a, const struct cnf *b)
{
	for (uint32_t i = 0; i < b->n; i++)
		cnf_add(a, &b->c[i]);
}

static void sel_cnf(struct kh_sigma *s, const struct sg_selection *sel, struct cnf *out)
{
	out->n = 0;
	for (uint32_t g = 0; g < sel->n; g++) {
		struct cnf gc = {.n = 0};

		for (uint32_t k = 0; k < sel->groups[g].n; k++) {
			struct clause c;

			if (item_clause(s, &sel->groups[g].items[k], &c))
				cnf_add(&gc, &c);
		}
		if (!g)
			*out = gc;
		else
			cnf_or(out, &gc);
		if (!out->n)
			return;
	}
}

static void cond_cnf(struct kh_sigma *s, const struct sg_rule *r, const struct sg_cond *c,
		     struct cnf *out, int depth)
{
	out->n = 0;
	if (depth > GATE_MAX_DEPTH)
		return;
	switch (c->op) {
	case SG_C_SEL:
		sel_cnf(s, &r->sels[c->sel], out);
		return;
	case SG_C_AND:
	case SG_C_OR: {
		struct cnf *kid = malloc(sizeof(*kid));

		if (!kid)
			return;
		for (uint32_t k = 0; k < c->n; k++) {
			cond_cnf(s, r, c->kids[k], k ? kid : out, depth + 1);
			if (!k)
				continue;
			if (c->op == SG_C_AND)
				cnf_and(out, kid);
			else
				cnf_or(out, kid);
		}
		free(kid);
		return;
	}
	default: /* NOT, and the constants: nothing that must hold */
		return;
	}
}

/* a clause that lets every event through (a field allowing all its bits) says nothing */
static bool clause_trivial(const struct clause *c)
{
	for (int f = 0; f < SG_F_COUNT; f++)
		if ((c->fields >> f & 1) && c->mask[f] == ~0ull)
			return true;
	return false;
}

/*
 * The order gates are tested in: fields most events lack or few values pass first (an event
 * rarely has a subresource or an impersonated user), the decision (nearly always allow) last.
 */
static int field_rank(int f)
{
	switch (f) {
	case SG_F_SUBRESOURCE:
		return 0;
	case SG_F_IMP_USERNAME:
	case SG_F_IMP_GROUPS:
		return 1;
	case SG_F_CODE:
		return 2;
	case SG_F_APIGROUP:
	case SG_F_NAMESPACE:
	case SG_F_VERB:
		return 4;
	case SG_F_USERNAME:
	case SG_F_GROUPS:
		return 6;
	case SG_F_DECISION:
	case SG_F_STAGE:
	case SG_F_LEVEL:
		return 8;
	default:
		return 5;
	}
}

static int clause_rank(const struct clause *c)
{
	int r = 0;

	for (int f = 0; f < SG_F_COUNT; f++)
		if ((c->fields >> f & 1) && field_rank(f) > r)
			r = field_rank(f);
	return r;
}

static int clause_cmp(const void *a, const void *b)
{
	return clause_rank(a) - clause_rank(b);
}

int sg_gate_rule(struct kh_sigma *s, struct sg_rule *r)
{
	struct cnf *cnf = malloc(sizeof(*cnf));
	uint32_t n_alts = 0, a = 0, g = 0;

	if (!cnf)
		return -1;
	cond_cnf(s, r, r->cond, cnf, 0);
	r->res_mask = ~0ull;
	for (uint32_t i = 0; i < cnf->n; i++) {
		struct clause *c = &cnf->c[i];

		if (clause_trivial(c)) {
			c->fields = 0;
		} else if (c->fields == 1ull << SG_F_RESOURCE) {
			r->res_mask &= c->mask[SG_F_RESOURCE]; /* the bucket tests it */
			c->fields = 0;
		}
		n_alts += (uint32_t)__builtin_popcountll(c->fields);
	}
	qsort(cnf->c, cnf->n, sizeof(cnf->c[0]), clause_cmp);
	r->gates = calloc(cnf->n + 1, sizeof(*r->gates));
	r->alts = calloc(n_alts + 1, sizeof(*r->alts));
	if (!r->gates || !r->alts) {
		free(cnf);
		return -1;
	}
	for (uint32_t i = 0; i < cnf->n; i++) {
		const struct clause *c = &cnf->c[i];

		if (!c->fields)
			continue;
		r->gates[g].first = a;
		for (int f = 0; f < SG_F_COUNT; f++)
			if (c->fields >> f & 1)
				r->alts[a++] = (struct sg_alt){(uint8_t)f, c->mask[f]};
		r->gates[g].n = a - r->gates[g].first;
		g++;
	}
	r->n_gates = g;
	free(cnf);
	return 0;
}

/* ---- per event ------------------------------------------------------------------------------- */

static struct kstr fast_kstr(const struct audit_event *ev, int f)
{
	const struct kh_object_ref *o = &ev->object_ref;

	switch (f) {
	case SG_F_VERB:
		return ev->verb;
	case SG_F_RESOURCE:
		return o->resource;
	case SG_F_SUBRESOURCE:
		return o->subresource;
	case SG_F_NAMESPACE:
		return o->namespace_;
	case SG_F_NAME:
		return o->name;
	case SG_F_APIGROUP:
		return o->api_group;
	case SG_F_APIVERSION:
		return o->api_version;
	case SG_F_USERNAME:
		return ev->user.username;
	case SG_F_UID:
		return ev->user.uid;
	case SG_F_IMP_USERNAME:
		return ev->impersonated_user.username;
	case SG_F_USERAGENT:
		return ev->user_agent;
	case SG_F_REQUESTURI:
		return ev->request_uri;
	case SG_F_STAGE:
		return ev->stage;
	case SG_F_LEVEL:
		return ev->level;
	case SG_F_AUDITID:
		return ev->audit_id;
	case SG_F_DECISION:
		return ev->decision;
	case SG_F_REASON:
		return ev->reason;
	case SG_F_REQ_TS:
		return ev->request_received_timestamp;
	case SG_F_STAGE_TS:
		return ev->stage_timestamp;
	case SG_F_KIND:
		return ev->kind;
	case SG_F_EVENT_APIVERSION:
		return ev->api_version;
	default:
		return (struct kstr){0};
	}
}

/* FNV-1a of the lower-cased bytes */
static uint32_t fold_hash(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ sg_lower((unsigned char)p[i])) * 16777619u;
	return h;
}

/* the bit of one string value, as the matchers will see it (decoded, folded) */
static uint64_t str_bit(const struct sg_vtab *t, struct kstr k)
{
	char buf[SG_GATE_MAX_LEN + 1];
	const char *p = k.p;
	long n = k.len;
	uint32_t h;

	if (!t->n)
		return 2;
	if (k.flags & KSTR_ESCAPED) {
		n = kstr__decode(k, buf, sizeof(buf));
		if (n < 0) /* the matchers keep the raw bytes of a bad escape: so does this */
			n = k.len;
		else
			p = buf;
	}
	if ((size_t)n > t->max_len || !(t->lens[n / 64] >> (n % 64) & 1))
		return 2; /* no value of that length */
	h = fold_hash(p, (size_t)n);
	for (uint32_t i = h & (SG_GATE_SLOTS - 1);; i = (i + 1) & (SG_GATE_SLOTS - 1)) {
		uint32_t v = t->slot[i];

		if (!v)
			return 2;
		v--;
		if (t->hash[v] == h && t->len[v] == n && !strncasecmp(t->v[v], p, (size_t)n))
			return 1ull << (v + 2);
	}
}

static uint64_t field_bits(const struct kh_sigma *s, const struct audit_event *ev, int f)
{
	const struct sg_vtab *t = &s->vtab[f];

	if (is_list(f)) {
		const struct kh_strlist *l =
		    f == SG_F_GROUPS ? &ev->user.groups : &ev->impersonated_user.groups;
		uint64_t b = 0;

		for (uint32_t i = 0; i < l->n; i++)
			b |= str_bit(t, l->v[i]);
		return b ? b : 1;
	}
	if (f == SG_F_CODE) {
		char num[16], *p = num + sizeof(num);
		unsigned c = (unsigned)ev->response_code;

		/* not kept by the parser: read from the line, or absent at RequestReceived */
		if (ev->response_code < 0)
			return kstr__eq(ev->stage, "RequestReceived") ? 1 : ~0ull;
		do /* the digits sigma_field.c writes ("%d"), without snprintf's cost */
			*--p = (char)('0' + c % 10);
		while (c /= 10);
		return str_bit(t, kstr_lit(p, (size_t)(num + sizeof(num) - p)));
	}
	struct kstr k = fast_kstr(ev, f);

	return kstr_present(k) ? str_bit(t, k) : 1;
}

/* the event's bits of field @f, worked out the first time a gate asks */
static inline uint64_t bits_of(struct kh_sigma *s, int f)
{
	if (s->bits_gen[f] != s->gen) {
		s->bits_gen[f] = s->gen;
		s->ev_bits[f] = field_bits(s, s->ev, f);
	}
	return s->ev_bits[f];
}

void sg_gate_event(struct kh_sigma *s)
{
	(void)bits_of(s, SG_F_RESOURCE);
}

bool sg_gate_pass(struct kh_sigma *s, const struct sg_rule *r)
{
	for (uint32_t g = 0; g < r->n_gates; g++) {
		const struct sg_alt *a = r->alts + r->gates[g].first, *end = a + r->gates[g].n;

		for (; a < end && !(bits_of(s, a->field) & a->mask); a++)
			;
		if (a == end)
			return false;
	}
	return true;
}

/* the resource bucket of the event: its value's bit index, or SG_GATE_VALUES + 2 (unknown) */
uint32_t sg_gate_bucket(const struct kh_sigma *s)
{
	uint64_t b = s->ev_bits[SG_F_RESOURCE];

	return b == ~0ull ? SG_GATE_VALUES + 2 : (uint32_t)__builtin_ctzll(b);
}

int sg_gate_finish(struct kh_sigma *s)
{
	for (int f = 0; f < SG_F_COUNT; f++) { /* the hash tables of the values */
		struct sg_vtab *t = &s->vtab[f];

		for (uint32_t v = 0; v < t->n; v++) {
			uint32_t i =
			    (t->hash[v] = fold_hash(t->v[v], t->len[v])) & (SG_GATE_SLOTS - 1);

			while (t->slot[i])
				i = (i + 1) & (SG_GATE_SLOTS - 1);
			t->slot[i] = (uint8_t)(v + 1);
		}
	}
	/* per resource bit: the rules bucketed on it, then those on any resource, in rule order */
	for (uint32_t b = 0; b < SG_GATE_VALUES + 3; b++) {
		uint32_t *v = calloc(s->n + 1, sizeof(*v));
		uint32_t n = 0;

		if (!v)
			return -1;
		for (int pass = 0; pass < 2; pass++)
			for (size_t i = 0; i < s->n; i++) {
				const struct sg_rule *r = s->rules[i];
				bool any = r->res_mask == ~0ull;

				if (r->kind != SG_DETECTION || any != (pass == 1))
					continue;
				if (any || b == SG_GATE_VALUES + 2 || (r->res_mask >> b & 1))
					v[n++] = (uint32_t)i;
			}
		s->bucket[b] = v;
		s->bucket_n[b] = n;
	}
	return 0;
}

void sg_gate_free(struct kh_sigma *s)
{
	for (int f = 0; f < SG_F_COUNT; f++)
		for (uint32_t i = 0; i < s->vtab[f].n; i++)
			free(s->vtab[f].v[i]);
	for (uint32_t b = 0; b < SG_GATE_VALUES + 3; b++)
		free(s->bucket[b]);
}
