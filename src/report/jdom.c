// SPDX-License-Identifier: Apache-2.0
/*
 * jdom: recursive-descent JSON into an array of nodes, strings decoded in place in a private
 * copy of the line (a decoded string is never longer than its escaped form plus quotes, so it
 * fits where it was and can end with a NUL where its closing quote stood). Strings are read and
 * decoded by json_in (keyhole/json_in.h), the one JSON reader; the tree and its bounds are jdom's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/json_in.h"
#include "report/jdom.h"

struct jp {
	struct jdoc *d;
	char *p, *end;
	int depth;
};

static void ws(struct jp *j)
{
	j->p = (char *)json_in__ws_at(j->p, j->end);
}

static int new_node(struct jp *j, enum jtype t)
{
	struct jdoc *d = j->d;

	if (d->n >= JDOM_MAX_NODES)
		return -EINVAL;
	if (d->n == d->cap) {
		int cap = d->cap ? d->cap * 2 : 64;
		struct jnode *nn = realloc(d->nodes, (size_t)cap * sizeof(*nn));

		if (!nn)
			return -ENOMEM;
		d->nodes = nn;
		d->cap = cap;
	}
	d->nodes[d->n] = (struct jnode){.type = t, .first = -1, .next = -1};
	return d->n++;
}

/* at the opening quote; decodes in place, returns the string start or NULL */
static char *string(struct jp *j)
{
	struct json_in r = {j->p, j->end, true}; /* strict: a control byte is not JSON */
	struct kstr k;
	long n;

	if (!json_in__str(&r, &k))
		return NULL;
	j->p = (char *)r.p;
	n = json_in__decode(k.p, k.len, (char *)k.p, k.len, JSON_IN_NUL_FFFD);
	if (n < 0)
		return NULL;
	((char *)k.p)[n] = '\0'; /* never past the closing quote: decoding only shrinks */
	return (char *)k.p;
}

static int value(struct jp *j);

static int container(struct jp *j, int idx, char close)
{
	int prev = -1, is_obj = close == '}';

	j->p++;
	ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return idx;
	}
	for (;;) {
		char *key = NULL;
		int c;

		ws(j);
		if (is_obj) {
			if (j->p >= j->end || *j->p != '"' || !(key = string(j)))
				return -EINVAL;
			ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return -EINVAL;
		}
		c = value(j);
		if (c < 0)
			return c;
		j->d->nodes[c].key = key;
		if (prev < 0)
			j->d->nodes[idx].first = c;
		else
			j->d->nodes[prev].next = c;
		prev = c;
		j->d->nodes[idx].n++;
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			return idx;
		}
		return -EINVAL;
	}
}

static int scalar(struct jp *j, int idx)
{
	char *s = j->p;

	/* *j->p first: strchr finds a NUL byte in any string, and a NUL is never JSON */
	while (j->p < j->end && *j->p && strchr("+-.0123456789eEtruefalsn", *j->p))
		j->p++;
	if (j->p == s)
		return -EINVAL;
	/* keep the text: copy it behind a NUL only when it has room (it always does unless at end)
	 */
	j->d->nodes[idx].s = s;
	return idx;
}

static int value(struct jp *j)
{
	int idx, r;
	char c;

	ws(j);
	if (j->p >= j->end || ++j->depth > JDOM_MAX_DEPTH)
		return -EINVAL;
	c = *j->p;
	idx = new_node(j, c == '{'		 ? J_OBJ
			  : c == '['		 ? J_ARR
			  : c == '"'		 ? J_STR
			  : c == 't' || c == 'f' ? J_BOOL
			  : c == 'n'		 ? J_NULL
						 : J_NUM);
	if (idx < 0)
		return idx;
	if (c == '{' || c == '[') {
		r = container(j, idx, c == '{' ? '}' : ']');
	} else if (c == '"') {
		char *s = string(j);

		j->d->nodes[idx].s = s;
		r = s ? idx : -EINVAL;
	} else {
		r = scalar(j, idx);
	}
	j->depth--;
	return r;
}

/* number and literal texts end where the next token starts: terminate them afterwards */
static void terminate_scalars(struct jdoc *d)
{
	for (int i = 0; i < d->n; i++) {
		struct jnode *n = &d->nodes[i];

		if (n->type == J_NUM || n->type == J_BOOL || n->type == J_NULL) {
			char *s = (char *)n->s;
			size_t k = strspn(s, "+-.0123456789eEtruefalsn");

			s[k] = '\0';
		}
	}
}

int jdoc_parse(struct jdoc *d, const char *line, size_t len)
{
	struct jp j = {.d = d};
	int r;

	memset(d, 0, sizeof(*d));
	d->text = malloc(len + 2);
	if (!d->text)
		return -ENOMEM;
	memcpy(d->text, line, len);
	d->text[len] = ' ';
	d->text[len + 1] = '\0';
	j.p = d->text;
	j.end = d->text + len;
	r = value(&j);
	ws(&j);
	if (r >= 0 && j.p != j.end)
		r = -EINVAL;
	if (r < 0) {
		jdoc_free(d);
		return r;
	}
	terminate_scalars(d);
	return 0;
}

void jdoc_free(struct jdoc *d)
{
	free(d->text);
	free(d->nodes);
	memset(d, 0, sizeof(*d));
}

const struct jnode *jdoc_root(const struct jdoc *d)
{
	return d->n ? &d->nodes[0] : NULL;
}

const struct jnode *jfirst(const struct jdoc *d, const struct jnode *n)
{
	return n && n->first >= 0 ? &d->nodes[n->first] : NULL;
}

const struct jnode *jnext(const struct jdoc *d, const struct jnode *n)
{
	return n && n->next >= 0 ? &d->nodes[n->next] : NULL;
}

const struct jnode *jget(const struct jdoc *d, const struct jnode *from, const char *path)
{
	const struct jnode *n = from ? from : jdoc_root(d);

	while (n && *path) {
		size_t k = strcspn(path, ".");
		const struct jnode *c;

		if (n->type != J_OBJ)
			return NULL;
		for (c = jfirst(d, n); c; c = jnext(d, c))
			if (strlen(c->key) == k && !memcmp(c->key, path, k))
				break;
		n = c;
		path += k + (path[k] == '.');
	}
	return n;
}

const char *jstr(const struct jdoc *d, const struct jnode *from, const char *path, const char *dflt)
{
	const struct jnode *n = jget(d, from, path);

	return n && n->s && n->type != J_NULL ? n->s : dflt;
}

long long jint(const struct jdoc *d, const struct jnode *from, const char *path, long long dflt)
{
	const struct jnode *n = jget(d, from, path);

	return n && n->type == J_NUM ? strtoll(n->s, NULL, 10) : dflt;
}
