// SPDX-License-Identifier: Apache-2.0
/*
 * The correlator's duplicate filter (src/cluster/fact_dedup.c): what counts as the same fact
 * (auditID, stage, event time, requestURI; a node fact's node too), the bounds (event-time
 * horizon, key bound, evictions counted), and the point of it all: the correlator's input path
 * (filter, reorder, the cluster-scope pipeline) fed every fact of the attack and rapid-get logs
 * twice and then all of them again writes the same alerts, with the same counts, as fed once,
 * while the same input without the filter does not (so the comparison can fail).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/fact.h"
#include "cluster/fact_dedup.h"
#include "cluster/node_fact.h"
#include "cluster/reorder.h"
#include "keyhole/audit_parse.h"
#include "keyhole/json_out.h"
#include "keyhole/pipeline.h"
#include "keyhole/rule.h"

#define SEC 1000000000ll

static char *fact(const char *id, const char *stage, int64_t t, const char *uri, const char *node)
{
	char *s;

	cr_assert_gt(asprintf(&s,
			      "{\"khFact\":1,\"khT\":%lld,\"khP\":0,\"khB\":0,\"khNode\":\"%s\","
			      "\"kind\":\"Event\",\"auditID\":\"%s\",\"stage\":\"%s\","
			      "\"requestURI\":\"%s\",\"verb\":\"get\"}",
			      (long long)t, node, id, stage, uri),
		     0);
	return s;
}

static int seen(struct fact_dedup *d, char *line)
{
	struct fact_header h;
	int r;

	cr_assert_eq(fact__header(line, strlen(line), &h), 0);
	r = fact_dedup__seen(d, line, strlen(line), h.t_ns);
	free(line);
	return r;
}

Test(fact_dedup, the_same_fact_is_dropped_a_different_one_is_not)
{
	struct fact_dedup *d = fact_dedup__new(100, 60 * SEC);
	const char *uri = "/api/v1/namespaces/prod/secrets/db";

	cr_assert_not_null(d);
	cr_assert_eq(seen(d, fact("a1", "ResponseComplete", SEC, uri, "cp0")), 0);
	cr_assert_eq(seen(d, fact("a1", "ResponseComplete", SEC, uri, "cp0")), 1, "a copy");
	/* the same request captured by another instance (or a renamed node) is still the same */
	cr_assert_eq(seen(d, fact("a1", "ResponseComplete", SEC, uri, "cp1")), 1);
	cr_assert_eq(seen(d, fact("a1", "RequestReceived", SEC, uri, "cp0")), 0, "another stage");
	/* a client-chosen Audit-ID reused: other requests, other times or objects */
	cr_assert_eq(seen(d, fact("a1", "ResponseComplete", SEC + 1000, uri, "cp0")), 0);
	cr_assert_eq(seen(d, fact("a1", "ResponseComplete", SEC, "/api/v1/secrets", "cp0")), 0);
	/* no auditID: nothing to know it by, never dropped */
	cr_assert_eq(seen(d, fact("", "ResponseComplete", SEC, uri, "cp0")), 0);
	cr_assert_eq(seen(d, fact("", "ResponseComplete", SEC, uri, "cp0")), 0);
	/* an escaped quote inside a value is part of it, not its end */
	cr_assert_eq(seen(d, fact("a2", "ResponseComplete", SEC, "/x\\\"y", "cp0")), 0);
	cr_assert_eq(seen(d, fact("a2", "ResponseComplete", SEC, "/x\\\"z", "cp0")), 0);
	cr_assert_eq(seen(d, fact("a2", "ResponseComplete", SEC, "/x\\\"y", "cp0")), 1);
	cr_assert_eq(fact_dedup__evicted(d), 0);
	fact_dedup__free(d);
}

static char *node_read(const char *node, int64_t t, const char *path)
{
	struct kh_node_secret_read r = {0};
	struct json_out j;
	char *s;

	json_out__init(&j);
	r.pod_namespace = kstr_lit("prod", 4);
	r.pod_name = kstr_lit("api-0", 5);
	r.container = kstr_lit("api", 3);
	r.path = kstr_lit(path, strlen(path));
	r.comm = kstr_lit("cat", 3);
	r.node_id = kstr_lit("exec-session/7", 14);
	r.t_ns = t;
	cr_assert_eq(node_fact__encode(&r, node, &j), 0);
	s = strdup(j.buf);
	json_out__free(&j);
	return s;
}

Test(fact_dedup, a_node_fact_is_known_by_its_node_session_file_and_time)
{
	struct fact_dedup *d = fact_dedup__new(100, 60 * SEC);
	const char *tok = "/var/run/secrets/kubernetes.io/serviceaccount/token";

	cr_assert_eq(seen(d, node_read("worker-1", SEC, tok)), 0);
	cr_assert_eq(seen(d, node_read("worker-1", SEC, tok)), 1, "a copy");
	/* session ids are per node: another node's session 7 is another session */
	cr_assert_eq(seen(d, node_read("worker-2", SEC, tok)), 0);
	cr_assert_eq(seen(d, node_read("worker-1", SEC, "/etc/ssl/private/key.pem")), 0);
	cr_assert_eq(seen(d, node_read("worker-1", 2 * SEC, tok)), 0, "the file opened again");
	fact_dedup__free(d);
}

Test(fact_dedup, bounded_by_keys_and_by_event_time)
{
	struct fact_dedup *d = fact_dedup__new(3, 10 * SEC);

	for (int i = 0; i < 3; i++) {
		char id[8];

		snprintf(id, sizeof(id), "k%d", i);
		cr_assert_eq(seen(d, fact(id, "ResponseComplete", SEC + i, "/", "cp0")), 0);
	}
	cr_assert_eq(fact_dedup__count(d), 3);
	/* a fourth inside the horizon pushes the first out early: counted */
	cr_assert_eq(seen(d, fact("k3", "ResponseComplete", SEC + 3, "/", "cp0")), 0);
	cr_assert_eq(fact_dedup__count(d), 3);
	cr_assert_eq(fact_dedup__evicted(d), 1);
	cr_assert_eq(seen(d, fact("k0", "ResponseComplete", SEC, "/", "cp0")), 0, "forgotten");
	/* a fact a horizon later: everything before it is let go, not counted as evicted */
	cr_assert_eq(seen(d, fact("k9", "ResponseComplete", 30 * SEC, "/", "cp0")), 0);
	cr_assert_eq(fact_dedup__count(d), 1);
	cr_assert_eq(fact_dedup__evicted(d), 2, "one more pushed out by k0's return only");
	/* event times at the ends of int64 neither wrap nor crash */
	cr_assert_eq(seen(d, fact("lo", "ResponseComplete", INT64_MIN + 1, "/", "cp0")), 0);
	cr_assert_eq(seen(d, fact("hi", "ResponseComplete", INT64_MAX, "/", "cp0")), 0);
	cr_assert_eq(seen(d, fact("hi", "ResponseComplete", INT64_MAX, "/", "cp0")), 1);
	fact_dedup__free(d);
}

/* ---- the correlator's input, fed each fact twice and then all again ------------------------ */

struct facts {
	char **v;
	size_t n;
	struct json_out j;
};

static void keep_fact(void *ctx, const struct audit_event *ev)
{
	struct facts *f = ctx;

	cr_assert_eq(fact__encode(ev, "cp0", 1, &f->j), 0);
	f->v = realloc(f->v, (f->n + 1) * sizeof(*f->v));
	f->v[f->n++] = strdup(f->j.buf);
}

/* the facts an instance tapping @logs publishes (one partition) */
static void publish(struct facts *f, const char *const *logs)
{
	struct kh_pipeline_opts po = {.scope = KH_SCOPE_LOCAL, .fact_fn = keep_fact, .fact_ctx = f};
	struct kh_pipeline *p;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	po.out = fopen("/dev/null", "we");
	cr_assert_not_null(po.out);
	p = pipeline__new(&po);
	cr_assert_not_null(p);
	for (size_t i = 0; logs[i]; i++) {
		FILE *in = fopen(logs[i], "re");
		struct kh_origin o = {.source = logs[i]};

		cr_assert_not_null(in, "%s", logs[i]);
		while ((n = getline(&line, &cap, in)) > 0)
			pipeline__feed_line(p, line, (size_t)n - (line[n - 1] == '\n'), &o);
		fclose(in);
	}
	pipeline__flush(p);
	pipeline__free(p);
	fclose(po.out);
	free(line);
}

struct outcome {
	char *alerts;
	uint64_t *by_rule; /* pipeline__alert_slots() */
	uint64_t duplicates;
};

/*
 * What a partition owner does with stream entries @order (indexes into @f): the filter at
 * arrival (when @filter), the reorder buffer, the cluster-scope pipeline; all released at the end.
 */
static void correlate(const struct facts *f, const size_t *order, size_t n, bool filter,
		      struct outcome *o)
{
	struct kh_pipeline_opts po = {.scope = KH_SCOPE_CLUSTER};
	struct fact_dedup *d = fact_dedup__new(1000000, 3600 * SEC);
	struct kh_pipeline *p;
	struct reorder ro;
	struct held_fact h;
	size_t len = 0;
	uint64_t line_no = 0;

	memset(o, 0, sizeof(*o));
	po.out = open_memstream(&o->alerts, &len);
	p = pipeline__new(&po);
	cr_assert(d && p && po.out);
	reorder__init(&ro, 1000000);
	for (size_t i = 0; i < n; i++) {
		const char *line = f->v[order[i]];
		struct fact_header fh;

		cr_assert_eq(fact__header(line, strlen(line), &fh), 0);
		if (filter && fact_dedup__seen(d, line, strlen(line), fh.t_ns)) {
			o->duplicates++;
			continue;
		}
		cr_assert_eq(reorder__push(&ro, fh.t_ns, (int64_t)i, strdup(line), strlen(line)),
			     0);
	}
	while (reorder__pop_due(&ro, 0, 0, 1, &h)) {
		struct kh_origin org = {.source = "cluster:0", .line_no = ++line_no};

		pipeline__feed_fact(p, h.line, h.len, &org, 1);
		free(h.line);
	}
	pipeline__flush(p);
	o->by_rule = calloc(pipeline__alert_slots(), sizeof(uint64_t));
	memcpy(o->by_rule, pipeline__counters(p)->alerts_by_rule,
	       pipeline__alert_slots() * sizeof(uint64_t));
	pipeline__free(p);
	fclose(po.out);
	reorder__fini(&ro);
	fact_dedup__free(d);
}

Test(fact_dedup, facts_delivered_twice_make_the_alerts_and_counts_of_once)
{
	static const char *const logs[] = {KH_TEST_DATA_DIR "/attack.log",
					   KH_TEST_DATA_DIR "/rapid-get.log",
					   KH_TEST_DATA_DIR "/correlate/impersonation.log", NULL};
	struct facts f = {0};
	struct outcome once, twice, blind;
	size_t *o1, *o3, n3 = 0;

	json_out__init(&f.j);
	publish(&f, logs);
	cr_assert_gt(f.n, 100);
	o1 = calloc(f.n, sizeof(*o1));
	o3 = calloc(3 * f.n, sizeof(*o3));
	/* once; then each resent at once (an XADD in flight), then all again (a lost cursor) */
	for (size_t i = 0; i < f.n; i++) {
		o1[i] = i;
		o3[n3++] = i;
		o3[n3++] = i;
	}
	for (size_t i = 0; i < f.n; i++)
		o3[n3++] = i;
	correlate(&f, o1, f.n, true, &once);
	correlate(&f, o3, n3, true, &twice);
	correlate(&f, o3, n3, false, &blind);
	cr_assert(strstr(once.alerts, "k8s-escalate-then-loot"), "no incident:\n%s", once.alerts);
	cr_assert(strstr(once.alerts, "k8s-secret-rapid-get"), "no rapid-get");
	cr_assert_eq(once.duplicates, 0);
	cr_expect_str_eq(twice.alerts, once.alerts);
	cr_expect_arr_eq(twice.by_rule, once.by_rule, pipeline__alert_slots() * sizeof(uint64_t));
	cr_expect_eq(twice.duplicates, 2 * f.n);
	/* the control: unfiltered, the copies change what the detections write */
	cr_assert_str_neq(blind.alerts, once.alerts,
			  "the copies change nothing: the test is blind");
	for (size_t i = 0; i < f.n; i++)
		free(f.v[i]);
	free(f.v);
	free(o1);
	free(o3);
	free(once.alerts);
	free(twice.alerts);
	free(blind.alerts);
	free(once.by_rule);
	free(twice.by_rule);
	free(blind.by_rule);
	json_out__free(&f.j);
}
