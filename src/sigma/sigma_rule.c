// SPDX-License-Identifier: Apache-2.0
/*
 * sigma_rule: one YAML document (a Sigma rule) compiled into struct sg_rule.
 *
 * A detection rule is kept when its logsource is product kubernetes, service audit (category
 * may be anything: SigmaHQ writes "application"); a correlation rule has a `correlation` block
 * instead of `detection` and refers to other rules by name or id (linked once every file is in,
 * sigma_corr.c). Every error carries the line and column of the YAML node it is about.
 *
 * The alert identity comes from the rule's metadata: rule.uuid is the Sigma id, rule.name the
 * title, severity and risk score from the level (Elastic's scores for the same words: low 21,
 * medium 47, high 73, critical 99; informational 0), MITRE technique and tactic ids from the
 * attack.* tags.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "sigma/sigma_impl.h"

/* @raw into @msg with control bytes of a quoted value (a folded YAML scalar holds newlines) as
 * \n, \t or \xNN, so an error stays one file:line:column line; cut where the text no longer fits */
static void escape_controls(char *msg, size_t cap, const char *raw)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)raw; *p; p++) {
		char esc[5];
		int n = 1;

		if (*p == '\n' || *p == '\t')
			n = snprintf(esc, sizeof(esc), "\\%c", *p == '\n' ? 'n' : 't');
		else if (*p < 0x20 || *p == 0x7f)
			n = snprintf(esc, sizeof(esc), "\\x%02x", *p);
		else
			esc[0] = (char)*p;
		if (o + (size_t)n >= cap)
			break;
		memcpy(msg + o, esc, (size_t)n);
		o += (size_t)n;
	}
	msg[o] = '\0';
}

int sg_fail(struct sg_err *e, unsigned line, unsigned column, const char *fmt, ...)
{
	char raw[sizeof(e->msg)];
	va_list ap;

	e->line = line;
	e->column = column;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	escape_controls(e->msg, sizeof(e->msg), raw);
	return -1;
}

/* ---- YAML helpers ---------------------------------------------------------------------------- */

#define LN(n) ((unsigned)(n)->start_mark.line + 1)
#define COL(n) ((unsigned)(n)->start_mark.column + 1)

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* a plain null, ~ or empty value (a quoted 'null' is the string) */
static bool is_null(const yaml_node_t *n)
{
	const char *s = scalar(n);

	return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || !strcmp(s, "null") || !strcmp(s, "~") || !strcmp(s, "Null") ||
		!strcmp(s, "NULL"));
}

static yaml_node_t *get(yaml_document_t *d, const yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const char *k = scalar(yaml_document_get_node(d, p->key));

		if (k && !strcmp(k, key))
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static const char *kind_name(const yaml_node_t *n)
{
	return n->type == YAML_MAPPING_NODE    ? "a mapping"
	       : n->type == YAML_SEQUENCE_NODE ? "a list"
					       : "a scalar";
}

static int want_scalar(const yaml_node_t *n, const char *what, struct sg_err *e)
{
	if (!n || n->type != YAML_SCALAR_NODE || is_null(n))
		return n ? sg_fail(e, LN(n), COL(n), "%s: expected a value, got %s", what,
				   is_null(n) ? "null" : kind_name(n))
			 : -1;
	return 0;
}

/* ---- metadata -------------------------------------------------------------------------------- */

static const struct {
	const char *name, *id;
} tactics[] = {
    {"reconnaissance", "TA0043"},
    {"resource-development", "TA0042"},
    {"initial-access", "TA0001"},
    {"execution", "TA0002"},
    {"persistence", "TA0003"},
    {"privilege-escalation", "TA0004"},
    {"defense-evasion", "TA0005"},
    {"stealth", "TA0005"},
    {"credential-access", "TA0006"},
    {"discovery", "TA0007"},
    {"lateral-movement", "TA0008"},
    {"collection", "TA0009"},
    {"command-and-control", "TA0011"},
    {"exfiltration", "TA0010"},
    {"impact", "TA0040"},
};

static int add_id(char **arr, const char *id)
{
	size_t i;

	for (i = 0; i < KH_MAX_TECHNIQUES - 1 && arr[i]; i++)
		if (!strcmp(arr[i], id))
			return 0;
	if (i == KH_MAX_TECHNIQUES - 1)
		return 0; /* more than the envelope carries: the first ones stay */
	arr[i] = strdup(id);
	return arr[i] ? 0 : -1;
}

/* attack.t1552.007 -> T1552.007; attack.credential_access -> TA0006 */
static int read_tag(struct sg_rule *r, const char *tag)
{
	char buf[64];
	size_t n;

	if (strncasecmp(tag, "attack.", 7))
		return 0;
	tag += 7;
	n = strlen(tag);
	if (n >= sizeof(buf))
		return 0;
	for (size_t i = 0; i <= n; i++)
		buf[i] = tag[i] == '_' ? '-' : (char)tolower((unsigned char)tag[i]);
	if (buf[0] == 't' && isdigit((unsigned char)buf[1])) {
		buf[0] = 'T';
		return add_id(r->techniques, buf);
	}
	for (size_t i = 0; i < sizeof(tactics) / sizeof(tactics[0]); i++)
		if (!strcmp(tactics[i].name, buf))
			return add_id(r->tactics, tactics[i].id);
	return 0;
}

static int read_level(struct sg_rule *r, const yaml_node_t *n, struct sg_err *e)
{
	static const struct {
		const char *level;
		int risk;
	} levels[] = {
	    {"informational", 0}, {"low", 21}, {"medium", 47}, {"high", 73}, {"critical", 99}};
	const char *s = scalar(n);

	if (!n) {
		r->level = strdup("medium"); /* the spec leaves it optional; the middle */
		r->info.risk_score = 47;
		return r->level ? 0 : -1;
	}
	for (size_t i = 0; s && i < sizeof(levels) / sizeof(levels[0]); i++)
		if (!strcmp(s, levels[i].level)) {
			r->level = strdup(s);
			r->info.risk_score = levels[i].risk;
			return r->level ? 0 : -1;
		}
	return sg_fail(e, LN(n), COL(n),
		       "level: expected informational, low, medium, high or critical");
}

static int read_meta(struct sg_rule *r, yaml_document_t *d, const yaml_node_t *root,
		     const char *file, struct sg_err *e)
{
	yaml_node_t *title = get(d, root, "title"), *id = get(d, root, "id"),
		    *name = get(d, root, "name"), *tags = get(d, root, "tags");

	if (!title)
		return sg_fail(e, LN(root), COL(root), "a rule needs a title");
	if (want_scalar(title, "title", e))
		return -1;
	if (id && want_scalar(id, "id", e))
		return -1;
	if (name && want_scalar(name, "name", e))
		return -1;
	r->title = strdup(scalar(title));
	r->id = strdup(id ? scalar(id) : name ? scalar(name) : scalar(title));
	r->name = name ? strdup(scalar(name)) : NULL;
	r->file = strdup(file);
	if (!r->title || !r->id || !r->file || (name && !r->name))
		return sg_fail(e, LN(root), COL(root), "out of memory");
	if (read_level(r, get(d, root, "level"), e))
		return -1;
	if (tags && tags->type == YAML_SEQUENCE_NODE)
		for (yaml_node_item_t *it = tags->data.sequence.items.start;
		     it < tags->data.sequence.items.top; it++) {
			const char *t = scalar(yaml_document_get_node(d, *it));

			if (t && read_tag(r, t))
				return sg_fail(e, LN(tags), COL(tags), "out of memory");
		}
	r->info.id = r->id;
	r->info.uuid = r->id;
	r->info.name = r->title;
	r->info.severity = r->level;
	r->info.ruleset = "sigma";
	r->info.reference = r->file;
	r->info.source = r->file;
	for (size_t i = 0; i < KH_MAX_TECHNIQUES; i++) {
		r->info.techniques[i] = r->techniques[i];
		r->info.tactics[i] = r->tactics[i];
	}
	r->line = LN(root);
	r->column = COL(root);
	return 0;
}

/* ---- detection ------------------------------------------------------------------------------- */

static int add_value(struct kh_sigma *s, struct sg_item *it, const yaml_node_t *v,
		     const struct sg_mods *mods, struct sg_err *e)
{
	struct sg_match tmp[3];
	struct sg_match *nm;
	const char *text = scalar(v);
	int n;

	if (!text)
		return sg_fail(e, LN(v), COL(v), "expected a value, got %s", kind_name(v));
	n = sg_match_compile(s, text, v->data.scalar.length, is_null(v), mods, tmp, e, LN(v),
			     COL(v));
	if (n < 0)
		return -1;
	nm = realloc(it->m, (it->n + (size_t)n) * sizeof(*nm));
	if (!nm) {
		for (int i = 0; i < n; i++)
			sg_match_free(&tmp[i]);
		return sg_fail(e, LN(v), COL(v), "out of memory");
	}
	it->m = nm;
	memcpy(it->m + it->n, tmp, (size_t)n * sizeof(*tmp));
	it->n += (uint32_t)n;
	return 0;
}

/* `field|mods: value` or `field|mods: [values]`; field "" means keywords */
static int compile_item(struct kh_sigma *s, yaml_document_t *d, const yaml_node_t *kn,
			const yaml_node_t *vn, struct sg_item *it, struct sg_err *e)
{
	const char *key = scalar(kn), *bar;
	char field[256];
	struct sg_mods mods;
	size_t flen;

	*it = (struct sg_item){.field = -1};
	if (!key)
		return sg_fail(e, LN(kn), COL(kn), "a field name must be a scalar");
	bar = strchr(key, '|');
	flen = bar ? (size_t)(bar - key) : strlen(key);
	if (flen >= sizeof(field))
		return sg_fail(e, LN(kn), COL(kn), "field name too long");
	memcpy(field, key, flen);
	field[flen] = 0;
	if (sg_mods_parse(bar ? bar + 1 : "", &mods, e, LN(kn), COL(kn)))
		return -1;
	if (flen && (it->field = sg_field_intern(s, field, e, LN(kn), COL(kn))) < 0)
		return -1;
	if (!flen && !mods.contains && !mods.startswith && !mods.endswith && !mods.re)
		mods.contains = true; /* keywords match anywhere */
	it->all = mods.all;
	if (vn->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *i = vn->data.sequence.items.start;
		     i < vn->data.sequence.items.top; i++)
			if (add_value(s, it, yaml_document_get_node(d, *i), &mods, e))
				return -1;
		if (!it->n)
			return sg_fail(e, LN(vn), COL(vn),
				       "an empty list of values matches nothing");
		return 0;
	}
	return add_value(s, it, vn, &mods, e);
}

static int compile_group(struct kh_sigma *s, yaml_document_t *d, const yaml_node_t *map,
			 struct sg_group *g, struct sg_err *e)
{
	size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);

	g->items = calloc(n ? n : 1, sizeof(*g->items));
	if (!g->items)
		return sg_fail(e, LN(map), COL(map), "out of memory");
	if (!n)
		return sg_fail(e, LN(map), COL(map), "an empty selection matches nothing");
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		/* counted first, so a half-built item is freed with the rule */
		if (compile_item(s, d, yaml_document_get_node(d, p->key),
				 yaml_document_get_node(d, p->value), &g->items[g->n++], e))
			return -1;
	}
	return 0;
}

static int compile_selection(struct kh_sigma *s, yaml_document_t *d, const char *name,
			     const yaml_node_t *v, struct sg_selection *sel, struct sg_err *e)
{
	bool keywords = false;

	sel->name = strdup(name);
	if (!sel->name)
		return sg_fail(e, LN(v), COL(v), "out of memory");
	if (v->type == YAML_MAPPING_NODE) {
		sel->groups = calloc(1, sizeof(*sel->groups));
		if (!sel->groups)
			return sg_fail(e, LN(v), COL(v), "out of memory");
		sel->n = 1;
		return compile_group(s, d, v, &sel->groups[0], e);
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return sg_fail(e, LN(v), COL(v),
			       "selection '%s': expected a mapping of fields or a list", name);
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++)
		if (yaml_document_get_node(d, *i)->type == YAML_SCALAR_NODE)
			keywords = true;
	if (keywords) { /* a list of keywords: one item over the whole line */
		static const yaml_node_t empty_key = {.type = YAML_SCALAR_NODE,
						      .data.scalar = {.value = (yaml_char_t *)""}};

		sel->groups = calloc(1, sizeof(*sel->groups));
		if (!sel->groups || !(sel->groups[0].items = calloc(1, sizeof(struct sg_item))))
			return sg_fail(e, LN(v), COL(v), "out of memory");
		sel->n = 1;
		sel->groups[0].n = 1;
		return compile_item(s, d, &empty_key, v, &sel->groups[0].items[0], e);
	}
	sel->groups =
	    calloc((size_t)(v->data.sequence.items.top - v->data.sequence.items.start) + 1,
		   sizeof(*sel->groups));
	if (!sel->groups)
		return sg_fail(e, LN(v), COL(v), "out of memory");
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++) {
		yaml_node_t *m = yaml_document_get_node(d, *i);

		if (m->type != YAML_MAPPING_NODE)
			return sg_fail(e, LN(m), COL(m),
				       "selection '%s': expected a mapping, got %s", name,
				       kind_name(m));
		if (compile_group(s, d, m, &sel->groups[sel->n++], e))
			return -1;
	}
	if (!sel->n)
		return sg_fail(e, LN(v), COL(v), "an empty selection matches nothing");
	return 0;
}

static int compile_detection(struct kh_sigma *s, struct sg_rule *r, yaml_document_t *d,
			     const yaml_node_t *det, struct sg_err *e)
{
	yaml_node_t *cond = NULL;
	size_t n;

	if (det->type != YAML_MAPPING_NODE)
		return sg_fail(e, LN(det), COL(det), "detection: expected a mapping");
	n = (size_t)(det->data.mapping.pairs.top - det->data.mapping.pairs.start);
	r->sels = calloc(n, sizeof(*r->sels));
	if (!r->sels)
		return sg_fail(e, LN(det), COL(det), "out of memory");
	for (yaml_node_pair_t *p = det->data.mapping.pairs.start; p < det->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(d, p->key);
		yaml_node_t *vn = yaml_document_get_node(d, p->value);
		const char *k = scalar(kn);

		if (!k)
			return sg_fail(e, LN(kn), COL(kn), "detection: keys must be names");
		if (!strcmp(k, "condition")) {
			cond = vn;
			continue;
		}
		if (!strcmp(k, "timeframe"))
			return sg_fail(e, LN(kn), COL(kn),
				       "timeframe belongs to the old aggregations: write a "
				       "correlation rule with a timespan");
		for (uint32_t j = 0; j < r->n_sels; j++)
			if (!strcmp(r->sels[j].name, k))
				return sg_fail(e, LN(kn), COL(kn), "selection '%s' defined twice",
					       k);
		if (compile_selection(s, d, k, vn, &r->sels[r->n_sels++], e))
			return -1;
	}
	if (!cond)
		return sg_fail(e, LN(det), COL(det), "detection: no condition");
	if (cond->type == YAML_SEQUENCE_NODE) { /* a list of conditions: any of them */
		struct sg_cond *any = calloc(1, sizeof(*any));

		if (!any)
			return sg_fail(e, LN(cond), COL(cond), "out of memory");
		any->op = SG_C_OR;
		r->cond = any;
		any->kids = calloc(
		    (size_t)(cond->data.sequence.items.top - cond->data.sequence.items.start) + 1,
		    sizeof(*any->kids));
		if (!any->kids)
			return sg_fail(e, LN(cond), COL(cond), "out of memory");
		for (yaml_node_item_t *i = cond->data.sequence.items.start;
		     i < cond->data.sequence.items.top; i++) {
			yaml_node_t *c = yaml_document_get_node(d, *i);

			if (want_scalar(c, "condition", e) ||
			    sg_cond_parse(scalar(c), r->sels, r->n_sels, &any->kids[any->n], e,
					  LN(c), COL(c)))
				return -1;
			any->n++;
		}
		return 0;
	}
	if (want_scalar(cond, "condition", e))
		return -1;
	/* a plain scalar's column is its first character; quoted ones start one later */
	return sg_cond_parse(scalar(cond), r->sels, r->n_sels, &r->cond, e, LN(cond),
			     COL(cond) + (cond->data.scalar.style != YAML_PLAIN_SCALAR_STYLE));
}

/* ---- correlation ----------------------------------------------------------------------------- */

static int read_list(yaml_document_t *d, const yaml_node_t *n, char **out, size_t cap,
		     uint32_t *count, const char *what, struct sg_err *e)
{
	*count = 0;
	if (n->type == YAML_SCALAR_NODE) {
		if (want_scalar(n, what, e))
			return -1;
		out[(*count)++] = strdup(scalar(n));
		return out[0] ? 0 : sg_fail(e, LN(n), COL(n), "out of memory");
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return sg_fail(e, LN(n), COL(n), "%s: expected a list", what);
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
	     i++) {
		yaml_node_t *v = yaml_document_get_node(d, *i);

		if (*count == cap)
			return sg_fail(e, LN(v), COL(v), "%s: at most %zu entries", what, cap);
		if (want_scalar(v, what, e))
			return -1;
		out[*count] = strdup(scalar(v));
		if (!out[(*count)++])
			return sg_fail(e, LN(v), COL(v), "out of memory");
	}
	if (!*count)
		return sg_fail(e, LN(n), COL(n), "%s: empty", what);
	return 0;
}

static int read_condition(struct kh_sigma *s, struct sg_rule *r, yaml_document_t *d,
			  const yaml_node_t *c, struct sg_err *e)
{
	static const char *const ops[] = {"gt", "gte", "lt", "lte", "eq", "neq"};
	int found = 0;

	if (!c) {
		if (r->kind == SG_TEMPORAL || r->kind == SG_TEMPORAL_ORDERED) {
			r->cmp = SG_CMP_GTE; /* every referenced rule */
			r->threshold = r->n_refs;
			r->conds[0].cmp = SG_CMP_GTE;
			r->conds[0].v = r->n_refs;
			r->n_conds = 1;
			return 0;
		}
		return sg_fail(e, r->line, r->column, "correlation: a condition is needed");
	}
	if (c->type != YAML_MAPPING_NODE)
		return sg_fail(e, LN(c), COL(c), "correlation condition: expected a mapping");
	for (yaml_node_pair_t *p = c->data.mapping.pairs.start; p < c->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(d, p->key);
		yaml_node_t *vn = yaml_document_get_node(d, p->value);
		const char *k = scalar(kn);
		size_t i;

		if (k && !strcmp(k, "field")) {
			if (r->kind != SG_VALUE_COUNT)
				return sg_fail(e, LN(kn), COL(kn),
					       "field only goes with value_count");
			if (want_scalar(vn, "field", e) ||
			    (r->count_field = sg_field_intern(s, scalar(vn), e, LN(vn), COL(vn))) <
				0)
				return -1;
			continue;
		}
		for (i = 0; k && i < sizeof(ops) / sizeof(ops[0]); i++)
			if (!strcmp(k, ops[i]))
				break;
		if (!k || i == sizeof(ops) / sizeof(ops[0]))
			return sg_fail(e, LN(kn), COL(kn),
				       "correlation condition: expected gt, gte, lt, lte, eq, neq "
				       "or field");
		/* several comparisons are AND'ed (the spec's range: gt: 100 and lte: 200) */
		for (uint32_t j = 0; j < r->n_conds; j++)
			if (r->conds[j].cmp == i)
				return sg_fail(e, LN(kn), COL(kn),
					       "correlation condition: %s given twice", k);
		if (want_scalar(vn, k, e))
			return -1;
		{
			char *endp;
			const char *sv = scalar(vn);
			unsigned long long v = strtoull(sv, &endp, 10);

			if (*endp || endp == sv || *sv == '-')
				return sg_fail(e, LN(vn), COL(vn), "expected a whole number");
			r->conds[r->n_conds].cmp = (uint8_t)i;
			r->conds[r->n_conds++].v = v;
			found++;
		}
	}
	/* an upper bound is only known when the window ends; the first comparison is the one
	 * error messages and the temporal check speak of */
	for (uint32_t j = 0; j < r->n_conds; j++)
		r->windowed |= r->conds[j].cmp == SG_CMP_LT || r->conds[j].cmp == SG_CMP_LTE ||
			       r->conds[j].cmp == SG_CMP_NEQ;
	if (r->n_conds) {
		r->cmp = (enum sg_cmp)r->conds[0].cmp;
		r->threshold = r->conds[0].v;
	}
	if (!found)
		return sg_fail(e, LN(c), COL(c), "correlation condition: no comparison");
	if (r->kind == SG_VALUE_COUNT && r->count_field < 0)
		return sg_fail(e, LN(c), COL(c), "value_count needs condition.field");
	return 0;
}

static int compile_correlation(struct kh_sigma *s, struct sg_rule *r, yaml_document_t *d,
			       const yaml_node_t *c, struct sg_err *e)
{
	static const char *const types[] = {"event_count", "value_count", "temporal",
					    "temporal_ordered"};
	yaml_node_t *type = get(d, c, "type"), *rules = get(d, c, "rules"),
		    *gb = get(d, c, "group-by"), *ts = get(d, c, "timespan"),
		    *gen = get(d, c, "generate"), *al = get(d, c, "aliases");
	const char *t;
	size_t i;

	if (c->type != YAML_MAPPING_NODE)
		return sg_fail(e, LN(c), COL(c), "correlation: expected a mapping");
	if (!type || want_scalar(type, "type", e))
		return type ? -1 : sg_fail(e, LN(c), COL(c), "correlation: a type is needed");
	t = scalar(type);
	for (i = 0; i < 4; i++)
		if (!strcmp(t, types[i]))
			break;
	if (i == 4)
		return sg_fail(e, LN(type), COL(type),
			       "correlation type '%s': expected event_count, value_count, temporal "
			       "or temporal_ordered",
			       t);
	r->kind = (enum sg_kind)(SG_EVENT_COUNT + i);
	r->count_field = -1;
	if (!rules)
		return sg_fail(e, LN(c), COL(c), "correlation: rules are needed");
	if (read_list(d, rules, r->refs_text, SG_MAX_REFS, &r->n_refs, "rules", e))
		return -1;
	if (gb &&
	    read_list(d, gb, r->group_by_names, SG_MAX_GROUP_BY, &r->n_group_by, "group-by", e))
		return -1;
	if (!ts || want_scalar(ts, "timespan", e))
		return ts ? -1 : sg_fail(e, LN(c), COL(c), "correlation: a timespan is needed");
	r->timespan_ns = sg_timespan(scalar(ts));
	if (r->timespan_ns <= 0)
		return sg_fail(e, LN(ts), COL(ts),
			       "timespan: expected a number and s, m, h, d or w");
	if (gen) {
		const char *g = scalar(gen);

		if (!g || (strcmp(g, "true") && strcmp(g, "false")))
			return sg_fail(e, LN(gen), COL(gen), "generate: expected true or false");
		r->generate = !strcmp(g, "true");
	}
	if (al) { /* alias: {rule: field, ...}: a group-by name standing for other fields */
		if (al->type != YAML_MAPPING_NODE)
			return sg_fail(e, LN(al), COL(al), "aliases: expected a mapping");
		for (yaml_node_pair_t *p = al->data.mapping.pairs.start;
		     p < al->data.mapping.pairs.top; p++) {
			const char *a = scalar(yaml_document_get_node(d, p->key));
			yaml_node_t *m = yaml_document_get_node(d, p->value);
			uint32_t g;

			for (g = 0; a && g < r->n_group_by; g++)
				if (!strcmp(r->group_by_names[g], a))
					break;
			if (!a || g == r->n_group_by)
				return sg_fail(e, LN(m), COL(m), "alias '%s' is not in group-by",
					       a ? a : "?");
			if (m->type != YAML_MAPPING_NODE)
				return sg_fail(e, LN(m), COL(m), "alias: expected rule: field");
			for (yaml_node_pair_t *q = m->data.mapping.pairs.start;
			     q < m->data.mapping.pairs.top; q++) {
				const char *rn = scalar(yaml_document_get_node(d, q->key));
				yaml_node_t *fv = yaml_document_get_node(d, q->value);
				uint32_t k;

				for (k = 0; rn && k < r->n_refs; k++)
					if (!strcmp(r->refs_text[k], rn))
						break;
				if (!rn || k == r->n_refs)
					return sg_fail(e, LN(fv), COL(fv),
						       "alias: '%s' is not one of the rules",
						       rn ? rn : "?");
				if (want_scalar(fv, "alias field", e))
					return -1;
				r->alias_text[g][k] = strdup(scalar(fv));
				if (!r->alias_text[g][k])
					return sg_fail(e, LN(fv), COL(fv), "out of memory");
			}
		}
	}
	return read_condition(s, r, d, get(d, c, "condition"), e);
}

int64_t sg_timespan(const char *s)
{
	char *endp;
	long long v;
	int64_t unit;

	errno = 0;
	v = strtoll(s, &endp, 10);
	if (errno || endp == s || v <= 0 || endp[0] == 0 || endp[1] != 0)
		return -1;
	switch (*endp) {
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	case 'w':
		unit = 7 * 86400;
		break;
	default:
		return -1;
	}
	if (v > 366LL * 86400 / unit) /* a year bounds every window */
		return -1;
	return v * unit * 1000000000LL;
}

/* ---- the document ---------------------------------------------------------------------------- */

void sg_rule_free(struct sg_rule *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; i < r->n_sels; i++) {
		struct sg_selection *sel = &r->sels[i];

		for (uint32_t g = 0; sel->groups && g < sel->n; g++) {
			for (uint32_t k = 0; k < sel->groups[g].n; k++) {
				struct sg_item *it = &sel->groups[g].items[k];

				for (uint32_t m = 0; m < it->n; m++)
					sg_match_free(&it->m[m]);
				free(it->m);
			}
			free(sel->groups[g].items);
		}
		free(sel->groups);
		free(sel->name);
	}
	free(r->sels);
	sg_cond_free(r->cond);
	for (uint32_t i = 0; i < SG_MAX_REFS; i++)
		free(r->refs_text[i]);
	for (uint32_t g = 0; g < SG_MAX_GROUP_BY; g++) {
		free(r->group_by_names[g]);
		for (uint32_t k = 0; k < SG_MAX_REFS; k++)
			free(r->alias_text[g][k]);
	}
	for (size_t i = 0; i < KH_MAX_TECHNIQUES; i++) {
		free(r->techniques[i]);
		free(r->tactics[i]);
	}
	free(r->gates);
	free(r->alts);
	free(r->feeds);
	sg_corr_state_free(r->state);
	free(r->id);
	free(r->name);
	free(r->title);
	free(r->file);
	free(r->level);
	free(r);
}

/* logsource product kubernetes, service audit; 1 when it is, 0 when another, -1 on error */
static int logsource_ok(yaml_document_t *d, const yaml_node_t *root, struct sg_err *e)
{
	yaml_node_t *ls = get(d, root, "logsource");
	const char *product, *service;

	if (!ls)
		return sg_fail(e, LN(root), COL(root), "a detection rule needs a logsource");
	if (ls->type != YAML_MAPPING_NODE)
		return sg_fail(e, LN(ls), COL(ls), "logsource: expected a mapping");
	product = scalar(get(d, ls, "product"));
	service = scalar(get(d, ls, "service"));
	return product && service && !strcmp(product, "kubernetes") && !strcmp(service, "audit");
}

/*
 * 0: compiled and added; 1: a rule for another log source, skipped; -1: error in @e. On error the
 * rule is not added and nothing of it stays in @s except interned fields (harmless).
 */
int sg_rule_compile(struct kh_sigma *s, yaml_document_t *d, const char *file, struct sg_err *e)
{
	yaml_node_t *root = yaml_document_get_root_node(d);
	yaml_node_t *det, *corr;
	struct sg_rule *r;
	int ok;

	if (!root)
		return 1; /* an empty document, e.g. after a trailing '---' */
	if (root->type != YAML_MAPPING_NODE)
		return sg_fail(e, LN(root), COL(root), "a rule must be a mapping, got %s",
			       kind_name(root));
	det = get(d, root, "detection");
	corr = get(d, root, "correlation");
	if (!det && !corr)
		return sg_fail(e, LN(root), COL(root), "a rule needs detection or correlation");
	if (det && corr)
		return sg_fail(e, LN(corr), COL(corr),
			       "a rule has detection or correlation, not both");
	if (det && (ok = logsource_ok(d, root, e)) != 1)
		return ok < 0 ? -1 : 1;
	r = calloc(1, sizeof(*r));
	if (!r)
		return sg_fail(e, LN(root), COL(root), "out of memory");
	if (read_meta(r, d, root, file, e) ||
	    (det ? compile_detection(s, r, d, det, e) : compile_correlation(s, r, d, corr, e)))
		goto err;
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->rules[i]->id, r->id) ||
		    (r->name && s->rules[i]->name && !strcmp(s->rules[i]->name, r->name))) {
			sg_fail(e, LN(root), COL(root), "%s '%s' already loaded from %s",
				!strcmp(s->rules[i]->id, r->id) ? "id" : "name",
				!strcmp(s->rules[i]->id, r->id) ? r->id : r->name,
				s->rules[i]->file);
			goto err;
		}
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct sg_rule **nr = realloc(s->rules, cap * sizeof(*nr));

		if (!nr) {
			sg_fail(e, LN(root), COL(root), "out of memory");
			goto err;
		}
		s->rules = nr;
		s->cap = cap;
	}
	s->rules[s->n++] = r;
	return 0;
err:
	sg_rule_free(r);
	return -1;
}
