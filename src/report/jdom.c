// SPDX-License-Identifier: Apache-2.0
/*
 * jdom: recursive-descent JSON into an array of nodes, strings decoded in place in a private
 * copy of the line (a decoded string is never longer than its escaped form plus quotes, so it
 * fits where it was and can end with a NUL where its closing quote stood).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/jdom.h"

struct jp {
	struct jdoc *d;
	char *p, *end;
	int depth;
};

static void ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
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

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static char *put_utf8(char *w, unsigned cp)
{
	if (cp == 0 || (cp >= 0xd800 && cp < 0xe000))
		cp = 0xfffd;
	if (cp < 0x80) {
		*w++ = (char)cp;
	} else if (cp < 0x800) {
		*w++ = (char)(0xc0 | (cp >> 6));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*w++ = (char)(0xe0 | (cp >> 12));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*w++ = (char)(0xf0 | (cp >> 18));
		*w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	}
	return w;
}

/* at the opening quote; decodes in place, returns the string start or NULL */
static char *string(struct jp *j)
{
	char *start = ++j->p, *w = start;

	while (j->p < j->end && *j->p != '"') {
		char c = *j->p++;
		unsigned cp, lo;

		if ((unsigned char)c < 0x20)
			return NULL;
		if (c != '\\') {
			*w++ = c;
			continue;
		}
		if (j->p >= j->end)
			return NULL;
		c = *j->p++;
		switch (c) {
		case 'n':
			*w++ = '\n';
			break;
		case 't':
			*w++ = '\t';
			break;
		case 'r':
			*w++ = '\r';
			break;
		case 'b':
			*w++ = '\b';
			break;
		case 'f':
			*w++ = '\f';
			break;
		case '"':
		case '\\':
		case '/':
			*w++ = c;
			break;
		case 'u':
			if (j->end - j->p < 4 || hex4(j->p, &cp))
				return NULL;
			j->p += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && j->end - j->p >= 6 && j->p[0] == '\\' &&
			    j->p[1] == 'u' && !hex4(j->p + 2, &lo) && lo >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				j->p += 6;
			}
			w = put_utf8(w, cp);
			break;
		default:
			return NULL;
		}
	}
	if (j->p >= j->end)
		return NULL;
	j->p++;
	*w = '\0';
	return start;
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
