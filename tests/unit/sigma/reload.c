// SPDX-License-Identifier: Apache-2.0
/*
 * pipeline__reload_rules (SIGHUP in `keyhole run`): the paths are read again, the new set
 * replaces the old, a broken rule is reported and left out while the rest load.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyhole/pipeline.h"
#include "keyhole/sigma.h"
#include "rules_harness.h"

static void write_rule(const char *path, const char *id, const char *verb, int broken)
{
	FILE *f = fopen(path, "w");

	cr_assert(f);
	fprintf(f,
		"title: %s\nid: %s\nlogsource:\n  product: kubernetes\n  service: audit\n"
		"detection:\n  sel:\n    verb%s: %s\n  condition: sel\n",
		id, id, broken ? "|bogus" : "", verb);
	fclose(f);
}

static size_t count(char *buf, size_t len, const char *id)
{
	char needle[64];
	size_t n = 0;
	char *copy = strndup(buf, len), *p = copy;

	snprintf(needle, sizeof(needle), "\"id\":\"%s\"", id);
	while ((p = strstr(p, needle))) {
		n++;
		p++;
	}
	free(copy);
	return n;
}

Test(sigma_reload, reload_replaces_the_set)
{
	char dir[] = "/tmp/kh-reload-XXXXXX", a[96], b[96], *out = NULL;
	const char *paths[1] = {dir};
	struct kh_pipeline_opts po = {0};
	struct kh_origin o = {.source = "t"};
	size_t olen = 0;
	char *line;
	struct kh_pipeline *p;

	cr_assert(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/a.yml", dir);
	snprintf(b, sizeof(b), "%s/b.yml", dir);
	write_rule(a, "rule-a", "get", 0);
	po.out = open_memstream(&out, &olen);
	po.rule_paths = paths;
	po.n_rule_paths = 1;
	p = pipeline__new(&po);
	cr_assert(p);
	cr_expect_eq(sigma__n(pipeline__sigma(p)), 1);

	line = ev_line(&(struct ev_spec){.verb = "get"});
	pipeline__feed_line(p, line, strlen(line), &o);
	free(line);
	fflush(po.out);
	cr_expect_eq(count(out, olen, "rule-a"), 1);

	/* a changed file, a new one and a broken one */
	write_rule(a, "rule-a2", "get", 0);
	write_rule(b, "rule-b", "list", 1);
	cr_expect_eq(pipeline__reload_rules(p), 1, "the broken rule is counted");
	cr_expect_eq(sigma__n(pipeline__sigma(p)), 1);
	write_rule(b, "rule-b", "list", 0);
	cr_expect_eq(pipeline__reload_rules(p), 0);
	cr_expect_eq(sigma__n(pipeline__sigma(p)), 2);

	line = ev_line(&(struct ev_spec){.verb = "list"});
	pipeline__feed_line(p, line, strlen(line), &o);
	free(line);
	line = ev_line(&(struct ev_spec){.verb = "get"});
	pipeline__feed_line(p, line, strlen(line), &o);
	free(line);
	pipeline__flush(p);
	fflush(po.out);
	cr_expect_eq(count(out, olen, "rule-a"), 1, "the old rule is gone");
	cr_expect_eq(count(out, olen, "rule-a2"), 1);
	cr_expect_eq(count(out, olen, "rule-b"), 1);
	pipeline__free(p);
	fclose(po.out);
	free(out);
	unlink(a);
	unlink(b);
	rmdir(dir);
}
