/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jdom: a small JSON tree for reading keyhole's own alert lines back (the text format, the
 * report). Not on the hot path: one alert line at a time, copied and decoded in place, at most
 * JDOM_MAX_NODES values and JDOM_MAX_DEPTH levels, so a hostile file costs bounded memory.
 */
#ifndef KEYHOLE_REPORT_JDOM_H
#define KEYHOLE_REPORT_JDOM_H

#include <stddef.h>

#define JDOM_MAX_NODES 65536
#define JDOM_MAX_DEPTH 64

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jnode {
	enum jtype type;
	const char *key; /* decoded, NUL-terminated; NULL outside an object */
	const char *s;	 /* J_STR: decoded, NUL-terminated (\u0000 becomes U+FFFD); J_NUM, J_BOOL:
			    text */
	int first;	 /* J_ARR, J_OBJ: index of the first child, -1 if none */
	int next;	 /* next sibling, -1 if last */
	int n;		 /* J_ARR, J_OBJ: number of children */
};

struct jdoc {
	char *text;
	struct jnode *nodes;
	int n, cap;
};

/* Parse one JSON value. Returns 0, or -EINVAL (bad JSON, too big, too deep) / -ENOMEM. */
int jdoc_parse(struct jdoc *d, const char *line, size_t len);
void jdoc_free(struct jdoc *d);

/* the root, or the node at a dotted path of object keys from @from ("rule.id"); NULL if absent */
const struct jnode *jdoc_root(const struct jdoc *d);
const struct jnode *jget(const struct jdoc *d, const struct jnode *from, const char *path);
/* string (or number, bool) text at @path, or @dflt */
const char *jstr(const struct jdoc *d, const struct jnode *from, const char *path,
		 const char *dflt);
long long jint(const struct jdoc *d, const struct jnode *from, const char *path, long long dflt);
/* children: first, then next; NULL at the end */
const struct jnode *jfirst(const struct jdoc *d, const struct jnode *n);
const struct jnode *jnext(const struct jdoc *d, const struct jnode *n);

#endif /* KEYHOLE_REPORT_JDOM_H */
