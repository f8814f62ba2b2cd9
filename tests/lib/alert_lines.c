// SPDX-License-Identifier: Apache-2.0
/*
 * alert_lines: alert JSON lines read back with json-c (see alert_lines.h).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "alert_lines.h"

void alert_lines__read(struct alert_lines *a, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	memset(a, 0, sizeof(*a));
	fflush(f);
	rewind(f);
	while ((n = getline(&line, &cap, f)) > 0) {
		json_object *o = json_tokener_parse(line);

		cr_assert(o && json_object_is_type(o, json_type_object), "not a JSON object: %s",
			  line);
		a->v = realloc(a->v, (a->n + 1) * sizeof(*a->v));
		cr_assert(a->v);
		a->v[a->n++] = o;
	}
	free(line);
}

void alert_lines__free(struct alert_lines *a)
{
	for (size_t i = 0; i < a->n; i++)
		json_object_put(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

json_object *alert_get(json_object *alert, const char *path)
{
	char key[128];
	json_object *cur = alert;

	while (cur && *path) {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = 0;
		/* a number indexes an array: "parents.0.name" */
		if (json_object_is_type(cur, json_type_array) && n &&
		    strspn(key, "0123456789") == n)
			cur = json_object_array_get_idx(cur, (size_t)atol(key));
		else if (!json_object_object_get_ex(cur, key, &cur))
			return NULL;
		path += n + (path[n] == '.');
	}
	return cur;
}

const char *alert_str(json_object *alert, const char *path)
{
	json_object *v = alert_get(alert, path);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

size_t alert_lines__count(const struct alert_lines *a, const char *rule_id)
{
	size_t c = 0;

	for (size_t i = 0; i < a->n; i++) {
		const char *id = alert_str(a->v[i], "rule.id");

		c += id && !strcmp(id, rule_id);
	}
	return c;
}

json_object *alert_lines__nth(const struct alert_lines *a, const char *rule_id, size_t i)
{
	for (size_t k = 0; k < a->n; k++) {
		const char *id = alert_str(a->v[k], "rule.id");

		if (id && !strcmp(id, rule_id) && i-- == 0)
			return a->v[k];
	}
	return NULL;
}
