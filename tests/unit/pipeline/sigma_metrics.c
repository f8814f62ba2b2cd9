// SPDX-License-Identifier: Apache-2.0
/*
 * One alert series per Sigma rule id (src/pipeline/sigma_counts.c, metrics_pipeline.c): each
 * loaded rule has keyhole_alerts_total{rule="<id>"} from the start, its alerts count there and in
 * the summary, a reload adds the new ids and keeps the old series, and the number of series is
 * bounded (ids past the bound count together under rule "sigma").
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyhole/metrics.h"
#include "keyhole/pipeline.h"

static char dir[] = "/tmp/kh-sigma-metrics.XXXXXX";

static void put_rule(const char *file, const char *id, const char *resource)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(
	    f,
	    "title: %s\nid: %s\nlevel: high\nlogsource:\n  product: kubernetes\n  service: audit\n"
	    "detection:\n  sel:\n    verb: delete\n    objectRef.resource: %s\n  condition: sel\n",
	    id, id, resource);
	fclose(f);
}

static void drop_rule(const char *file)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	unlink(path);
}

static char *render(struct kh_metrics *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(metrics__render(m, f), 0);
	fclose(f);
	return buf;
}

/* the value of @series in @text, or -1 when absent */
static long long sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; (p = strstr(p, series)); p += n)
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return atoll(p + n + 1);
	return -1;
}

static void feed_delete(struct kh_pipeline *p, const char *resource, int n)
{
	char line[1024];
	struct kh_origin o = {.source = "test", .line_no = (uint64_t)n};

	snprintf(line, sizeof(line),
		 "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
		 "\"auditID\":\"a-%d\",\"stage\":\"ResponseComplete\",\"requestURI\":\"/x\","
		 "\"verb\":\"delete\",\"user\":{\"username\":\"eve\"},\"sourceIPs\":[\"10.0.0.1\"],"
		 "\"objectRef\":{\"resource\":\"%s\",\"namespace\":\"d\"},"
		 "\"responseStatus\":{\"code\":200},"
		 "\"requestReceivedTimestamp\":\"2026-11-20T10:00:0%d.000000Z\","
		 "\"stageTimestamp\":\"2026-11-20T10:00:0%d.000100Z\"}",
		 n, resource, n, n);
	cr_assert_eq(pipeline__feed_line(p, line, strlen(line), &o), 0);
}

Test(sigma_metrics, one_series_per_rule_id_across_reloads)
{
	const char *paths[] = {dir};
	FILE *devnull = fopen("/dev/null", "w");
	struct kh_pipeline *p;
	struct kh_metrics *m = metrics__new();
	char *text, sum[512];

	cr_assert_not_null(mkdtemp(dir));
	put_rule("a.yml", "rule-a", "events");
	put_rule("b.yml", "rule-b", "secrets");
	p = pipeline__new(
	    &(struct kh_pipeline_opts){.out = devnull, .rule_paths = paths, .n_rule_paths = 1});
	cr_assert_not_null(p);
	cr_assert_eq(metrics__add_pipeline(m, pipeline__counters(p)), 0);
	text = render(m);
	cr_expect_eq(sample(text, "keyhole_alerts_total{rule=\"rule-a\"}"), 0, "%s", text);
	cr_expect_eq(sample(text, "keyhole_alerts_total{rule=\"rule-b\"}"), 0);
	cr_expect_eq(sample(text, "keyhole_alerts_total{rule=\"sigma\"}"), -1);
	free(text);

	feed_delete(p, "events", 1);
	pipeline__flush(p);
	text = render(m);
	cr_expect_eq(sample(text, "keyhole_alerts_total{rule=\"rule-a\"}"), 1, "%s", text);
	cr_expect_eq(sample(text, "keyhole_alerts_total{rule=\"rule-b\"}"), 0);
	free(text);
	pipeline__sigma_summary(pipeline__counters(p), NULL, sum, sizeof(sum));
	cr_expect_str_eq(sum, " (rule-a 1)");

	/* rule-a goes, rule-c comes: the old series stays at its value, the new one appears */
	drop_rule("a.yml");
	put_rule("c.yml", "rule-c", "configmaps");
	cr_assert_eq(pipeline__reload_rules(p), 0);
	cr_assert_eq(metrics__add_sigma(m, pipeline__counters(p)), 0);
	feed_delete(p, "configmaps", 2);
	feed_delete(p, "configmaps", 3);
	feed_delete(p, "events", 4);
	pipeline__flush(p);
	text = render(m);
	cr_expect_eq(sample(text, "keyhole_alerts_total{rule=\"rule-a\"}"), 1, "%s", text);
	cr_expect_eq(sample(text, "keyhole_alerts_total{rule=\"rule-c\"}"), 2, "%s", text);
	free(text);
	pipeline__sigma_summary(pipeline__counters(p), NULL, sum, sizeof(sum));
	cr_expect_str_eq(sum, " (rule-a 1, rule-c 2)");

	drop_rule("b.yml");
	drop_rule("c.yml");
	rmdir(dir);
	metrics__free(m);
	pipeline__free(p);
	fclose(devnull);
}

Test(sigma_metrics, series_are_bounded)
{
	const char *paths[] = {dir};
	FILE *devnull = fopen("/dev/null", "w");
	struct kh_pipeline *p;
	struct kh_metrics *m = metrics__new();
	char *text, name[64], id[64];

	cr_assert_not_null(mkdtemp(dir));
	for (int i = 0; i < KH_SIGMA_SERIES + 4; i++) {
		snprintf(name, sizeof(name), "r%03d.yml", i);
		snprintf(id, sizeof(id), "id-%03d", i);
		put_rule(name, id, i == KH_SIGMA_SERIES + 3 ? "events" : "secrets");
	}
	p = pipeline__new(
	    &(struct kh_pipeline_opts){.out = devnull, .rule_paths = paths, .n_rule_paths = 1});
	cr_assert_not_null(p);
	cr_expect_eq(pipeline__counters(p)->n_sigma_ids, KH_SIGMA_SERIES);
	cr_assert_eq(metrics__add_pipeline(m, pipeline__counters(p)), 0);
	feed_delete(p, "events", 1);
	pipeline__flush(p);
	text = render(m);
	cr_expect_eq(sample(text, "keyhole_alerts_total{rule=\"id-000\"}"), 0, "%s", text);
	snprintf(id, sizeof(id), "keyhole_alerts_total{rule=\"id-%03d\"}", KH_SIGMA_SERIES - 1);
	cr_expect_eq(sample(text, id), 0);
	snprintf(id, sizeof(id), "keyhole_alerts_total{rule=\"id-%03d\"}", KH_SIGMA_SERIES + 3);
	cr_expect_eq(sample(text, id), -1);
	/* the rule past the bound counts with the others past it */
	cr_expect_eq(sample(text, "keyhole_alerts_total{rule=\"sigma\"}"), 1, "%s", text);
	free(text);
	for (int i = 0; i < KH_SIGMA_SERIES + 4; i++) {
		snprintf(name, sizeof(name), "r%03d.yml", i);
		drop_rule(name);
	}
	rmdir(dir);
	metrics__free(m);
	pipeline__free(p);
	fclose(devnull);
}
