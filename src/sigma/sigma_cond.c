// SPDX-License-Identifier: Apache-2.0
/*
 * sigma_cond: the condition of a detection, parsed into a tree over the rule's selections.
 *
 *   expr   := and ('or' and)*
 *   and    := unary ('and' unary)*
 *   unary  := 'not' unary | '(' expr ')' | quant | NAME
 *   quant  := ('1' | 'any' | 'all') 'of' (PATTERN | 'them')
 *
 * `not` binds tighter than `and`, which binds tighter than `or` (Sigma_specification.md,
 * "Condition"). A pattern's `*` matches any run of characters in a selection name; `them` is every
 * selection whose name does not start with an underscore. A pattern that names no selection, a
 * name that is not one, and the old aggregation pipe (`| count() > 5`, replaced by correlation
 * rules) are errors, reported with their column in the file.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sigma/sigma_impl.h"

struct cparse {
	const char *text, *p;
	const struct sg_selection *sels;
	size_t n_sels;
	struct sg_err *e;
	unsigned line, col;
	char tok[128];
	size_t tok_at; /* offset of the current token in text */
	int depth;
};

#define COND_MAX_DEPTH 64

static int cfail(struct cparse *c, const char *what)
{
	return sg_fail(c->e, c->line, c->col + (unsigned)c->tok_at, "condition: %s", what);
}

/* read the next token into c->tok; "" at the end */
static int next(struct cparse *c)
{
	size_t n = 0;

	while (*c->p && isspace((unsigned char)*c->p))
		c->p++;
	c->tok_at = (size_t)(c->p - c->text);
	if (*c->p == '(' || *c->p == ')' || *c->p == '|') {
		c->tok[0] = *c->p++;
		c->tok[1] = 0;
		return 0;
	}
	while (*c->p && !isspace((unsigned char)*c->p) && *c->p != '(' && *c->p != ')' &&
	       *c->p != '|') {
		if (n + 1 >= sizeof(c->tok))
			return cfail(c, "name too long");
		c->tok[n++] = *c->p++;
	}
	c->tok[n] = 0;
	return 0;
}

static bool is(const struct cparse *c, const char *word)
{
	return !strcasecmp(c->tok, word);
}

static struct sg_cond *node(uint8_t op)
{
	struct sg_cond *n = calloc(1, sizeof(*n));

	if (n)
		n->op = op;
	return n;
}

static int add_kid(struct sg_cond *n, struct sg_cond *k)
{
	struct sg_cond **nk = realloc(n->kids, (n->n + 1) * sizeof(*nk));

	if (!nk)
		return -1;
	n->kids = nk;
	n->kids[n->n++] = k;
	return 0;
}

void sg_cond_free(struct sg_cond *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; i < c->n; i++)
		sg_cond_free(c->kids[i]);
	free(c->kids);
	free(c);
}

static bool name_match(const char *pat, const char *name)
{
	uint16_t g[128];
	size_t k = 0;

	for (const char *p = pat; *p && k < 128; p++)
		g[k++] = *p == '*' ? SG_GLOB_STAR : (unsigned char)*p;
	return sg_glob_match(g, k, name, strlen(name), true);
}

static struct sg_cond *parse_or(struct cparse *c);

static struct sg_cond *parse_quant(struct cparse *c, bool all)
{
	struct sg_cond *n;
	bool them;

	if (next(c))
		return NULL;
	if (!is(c, "of")) {
		cfail(c, "expected 'of' after '1', 'any' or 'all'");
		return NULL;
	}
	if (next(c))
		return NULL;
	if (!c->tok[0] || c->tok[0] == '(' || c->tok[0] == ')') {
		cfail(c, "expected a selection pattern or 'them' after 'of'");
		return NULL;
	}
	them = is(c, "them");
	n = node(all ? SG_C_AND : SG_C_OR);
	if (!n)
		goto oom;
	for (size_t i = 0; i < c->n_sels; i++) {
		struct sg_cond *k;

		if (them ? c->sels[i].name[0] == '_' : !name_match(c->tok, c->sels[i].name))
			continue;
		k = node(SG_C_SEL);
		if (!k || add_kid(n, k)) {
			free(k);
			goto oom;
		}
		k->sel = (uint32_t)i;
	}
	if (!n->n) {
		sg_cond_free(n);
		cfail(c, them ? "'them' names no selection" : "the pattern names no selection");
		return NULL;
	}
	return next(c) ? (sg_cond_free(n), NULL) : n;
oom:
	sg_cond_free(n);
	cfail(c, "out of memory");
	return NULL;
}

static struct sg_cond *parse_unary(struct cparse *c)
{
	struct sg_cond *n, *k;

	if (++c->depth > COND_MAX_DEPTH) {
		cfail(c, "nested too deeply");
		return NULL;
	}
	if (is(c, "not")) {
		if (next(c) || !(k = parse_unary(c)))
			return NULL;
		if (!(n = node(SG_C_NOT)) || add_kid(n, k)) {
			free(n);
			sg_cond_free(k);
			cfail(c, "out of memory");
			return NULL;
		}
		c->depth--;
		return n;
	}
	if (c->tok[0] == '(') {
		if (next(c) || !(n = parse_or(c)))
			return NULL;
		if (c->tok[0] != ')') {
			sg_cond_free(n);
			cfail(c, "expected ')'");
			return NULL;
		}
		c->depth--;
		return next(c) ? (sg_cond_free(n), NULL) : n;
	}
	if (is(c, "1") || is(c, "any") || is(c, "all")) {
		n = parse_quant(c, is(c, "all"));
		c->depth--;
		return n;
	}
	if (!c->tok[0] || c->tok[0] == ')' || c->tok[0] == '|' || is(c, "and") || is(c, "or")) {
		cfail(c, c->tok[0] == '|'
			     ? "aggregations ('| count() ...') are not Sigma any more: "
			       "write a correlation rule"
			     : "expected a selection name, 'not', '(' or 'N of'");
		return NULL;
	}
	for (size_t i = 0; i < c->n_sels; i++)
		if (!strcmp(c->sels[i].name, c->tok)) {
			if (!(n = node(SG_C_SEL))) {
				cfail(c, "out of memory");
				return NULL;
			}
			n->sel = (uint32_t)i;
			c->depth--;
			return next(c) ? (sg_cond_free(n), NULL) : n;
		}
	{
		char msg[200];

		snprintf(msg, sizeof(msg), "'%s' is not a selection of this rule", c->tok);
		cfail(c, msg);
	}
	return NULL;
}

/* a chain of @word-separated operands at one precedence level */
static struct sg_cond *parse_chain(struct cparse *c, const char *word, uint8_t op,
				   struct sg_cond *(*operand)(struct cparse *))
{
	struct sg_cond *first = operand(c), *n;

	if (!first || !is(c, word))
		return first;
	n = node(op);
	if (!n || add_kid(n, first)) {
		free(n);
		sg_cond_free(first);
		cfail(c, "out of memory");
		return NULL;
	}
	while (is(c, word)) {
		struct sg_cond *k;

		if (next(c) || !(k = operand(c))) {
			sg_cond_free(n);
			return NULL;
		}
		if (add_kid(n, k)) {
			sg_cond_free(k);
			sg_cond_free(n);
			cfail(c, "out of memory");
			return NULL;
		}
	}
	return n;
}

static struct sg_cond *parse_and(struct cparse *c)
{
	return parse_chain(c, "and", SG_C_AND, parse_unary);
}

static struct sg_cond *parse_or(struct cparse *c)
{
	return parse_chain(c, "or", SG_C_OR, parse_and);
}

int sg_cond_parse(const char *text, const struct sg_selection *sels, size_t n_sels,
		  struct sg_cond **out, struct sg_err *e, unsigned line, unsigned col)
{
	struct cparse c = {.text = text,
			   .p = text,
			   .sels = sels,
			   .n_sels = n_sels,
			   .e = e,
			   .line = line,
			   .col = col};
	struct sg_cond *n;

	*out = NULL;
	if (next(&c))
		return -1;
	if (!c.tok[0])
		return cfail(&c, "empty");
	n = parse_or(&c);
	if (!n)
		return -1;
	if (c.tok[0]) {
		sg_cond_free(n);
		return cfail(&c, c.tok[0] == '|'
				     ? "aggregations ('| count() ...') are not Sigma any "
				       "more: write a correlation rule"
				     : "unexpected text after the condition");
	}
	*out = n;
	return 0;
}
