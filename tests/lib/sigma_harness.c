// SPDX-License-Identifier: Apache-2.0
/*
 * sigma_harness: see sigma_harness.h.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyhole/pipeline.h"
#include "keyhole/rule.h"
#include "keyhole/sigma.h"
#include "sigma_harness.h"

struct sh {
	char dir[64];
	char file[96];
	char *buf;
	size_t len;
	FILE *out;
	struct kh_pipeline *p;
	char *line; /* sh_line's copy */
	json_object *obj;
};

static struct sh *start(const char *const *paths, size_t n)
{
	struct sh *h = calloc(1, sizeof(*h));
	struct kh_pipeline_opts po = {0};

	cr_assert(h);
	h->out = open_memstream(&h->buf, &h->len);
	cr_assert(h->out);
	po.out = h->out;
	po.rule_paths = paths;
	po.n_rule_paths = n;
	h->p = pipeline__new(&po);
	cr_assert(h->p, "pipeline__new failed");
	return h;
}

struct sh *sh_new(const char *yaml)
{
	char dir[] = "/tmp/kh-sigma-XXXXXX", file[96];
	const char *paths[1];
	struct sh *h;
	FILE *f;

	cr_assert(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/rule.yml", dir);
	f = fopen(file, "w");
	cr_assert(f);
	fputs(yaml, f);
	fclose(f);
	paths[0] = file;
	h = start(paths, 1);
	snprintf(h->dir, sizeof(h->dir), "%s", dir);
	snprintf(h->file, sizeof(h->file), "%s", file);
	return h;
}

struct sh *sh_new_paths(const char *const *paths, size_t n)
{
	return start(paths, n);
}

void sh_free(struct sh *h)
{
	if (!h)
		return;
	pipeline__free(h->p);
	fclose(h->out);
	free(h->buf);
	free(h->line);
	if (h->obj)
		json_object_put(h->obj);
	if (h->file[0])
		unlink(h->file);
	if (h->dir[0])
		rmdir(h->dir);
	free(h);
}

void sh_feed(struct sh *h, const char *line)
{
	struct kh_origin o = {.source = "test", .line_no = 1};

	cr_assert_eq(pipeline__feed_line(h->p, line, strlen(line), &o), 0);
	fflush(h->out);
}

void sh_ev(struct sh *h, const struct ev_spec *s)
{
	char *line = ev_line(s);

	sh_feed(h, line);
	free(line);
}

void sh_flush(struct sh *h)
{
	pipeline__flush(h->p);
	fflush(h->out);
}

unsigned long long sh_evictions(struct sh *h)
{
	return (unsigned long long)sigma__evictions(pipeline__sigma(h->p));
}

const char *sh_rule_id(struct sh *h, size_t i)
{
	return sigma__info(pipeline__sigma(h->p), i)->uuid;
}

size_t sh_rules(struct sh *h)
{
	return sigma__n(pipeline__sigma(h->p));
}

static const char *str_at(json_object *o, const char *path)
{
	char key[128];

	while (o) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);

		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		if (!dot)
			return json_object_is_type(o, json_type_string) ? json_object_get_string(o)
									: NULL;
		path = dot + 1;
	}
	return NULL;
}

/* walk the sigma alerts; returns the count, and the n-th parsed in h->obj when @want >= 0 */
static size_t scan(struct sh *h, const char *rule_id, long want)
{
	size_t count = 0;
	char *copy, *save = NULL, *l;

	fflush(h->out);
	if (!h->len)
		return 0;
	copy = strndup(h->buf, h->len);
	cr_assert(copy);
	for (l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(l);
		const char *rs, *id;

		cr_assert(o, "alert line is not JSON: %s", l);
		rs = str_at(o, "rule.ruleset");
		id = str_at(o, "rule.id");
		if (rs && !strcmp(rs, "sigma") && (!rule_id || (id && !strcmp(id, rule_id)))) {
			if ((long)count == want) {
				free(h->line);
				h->line = strdup(l);
				if (h->obj)
					json_object_put(h->obj);
				h->obj = o;
				count++;
				continue;
			}
			count++;
		}
		json_object_put(o);
	}
	free(copy);
	return count;
}

size_t sh_count(struct sh *h, const char *rule_id)
{
	return scan(h, rule_id, -1);
}

const char *sh_line(struct sh *h, const char *rule_id, size_t n)
{
	free(h->line);
	h->line = NULL;
	scan(h, rule_id, (long)n);
	return h->line;
}

const char *sh_str(struct sh *h, const char *rule_id, size_t n, const char *path)
{
	if (!sh_line(h, rule_id, n))
		return NULL;
	return str_at(h->obj, path);
}

size_t sh_hits(const char *yaml, const struct ev_spec *s)
{
	struct sh *h = sh_new(yaml);
	size_t n;

	cr_assert_geq(sh_rules(h), 1, "the rule did not load:\n%s", yaml);
	sh_ev(h, s);
	sh_flush(h);
	n = sh_count(h, NULL);
	sh_free(h);
	return n;
}

size_t sh_check(const char *yaml, char **errs)
{
	char dir[] = "/tmp/kh-sigma-XXXXXX", file[96];
	const char *paths[1] = {file};
	char *buf = NULL;
	size_t len = 0, n;
	FILE *f, *ef;

	cr_assert(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/rule.yml", dir);
	f = fopen(file, "w");
	cr_assert(f);
	fputs(yaml, f);
	fclose(f);
	ef = open_memstream(&buf, &len);
	n = sigma__check(paths, 1, ef);
	fclose(ef);
	unlink(file);
	rmdir(dir);
	if (errs)
		*errs = buf;
	else
		free(buf);
	return n;
}
