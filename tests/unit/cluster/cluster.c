// SPDX-License-Identifier: Apache-2.0
/*
 * cluster: the parts of cluster mode that need no Redis: the URL and password file, the fact
 * (what it keeps, what it never carries, its header, its routing), the event-time reorder, and
 * the pipeline's scope seam (the local and cluster halves together give every alert once).
 * tests/e2e/cluster.sh runs the whole thing over a real redis-server.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/bus.h"
#include "cluster/fact.h"
#include "cluster/reorder.h"
#include "correlate/rbac_json.h"
#include "keyhole/audit_parse.h"
#include "keyhole/pipeline.h"
#include "keyhole/rules_engine.h"

/* ---- URL and password ------------------------------------------------------------------------ */

Test(cluster_url, full_form)
{
	struct bus_url u;
	char err[256];

	cr_assert_eq(bus_url__parse("redis://kh:s3cret@redis.example:6380/2", &u, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_str_eq(u.host, "redis.example");
	cr_assert_eq(u.port, 6380);
	cr_assert_eq(u.db, 2);
	cr_assert_str_eq(u.user, "kh");
	cr_assert_str_eq(u.pass, "s3cret");
	cr_assert_not(u.tls);
	cr_assert_eq(bus_url__parse("rediss://[::1]", &u, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(u.host, "::1");
	cr_assert_eq(u.port, 6379);
	cr_assert(u.tls);
	cr_assert_eq(bus_url__parse("redis://h/", &u, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(u.db, 0);
}

Test(cluster_url, bad_forms_are_named)
{
	static const struct {
		const char *url, *why;
	} bad[] = {
	    {"http://h:6379", "scheme"},     {"redis://", "no host"},
	    {"redis://h:0", "bad port"},     {"redis://h:99999", "bad port"},
	    {"redis://h:12x", "unexpected"}, {"redis://h/db", "bad database"},
	    {"redis://[::1", "unclosed"},
	};
	struct bus_url u;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(bus_url__parse(bad[i].url, &u, err, sizeof(err)), -EINVAL, "%s",
			     bad[i].url);
		cr_assert(strstr(err, bad[i].why), "%s: %s", bad[i].url, err);
		cr_assert(strstr(err, bad[i].url), "the message names the URL: %s", err);
	}
}

Test(cluster_url, password_file)
{
	char path[] = "/tmp/kh-cluster-pw.XXXXXX", err[256];
	int fd = mkstemp(path);
	struct bus_url u = {0};

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "pa ss\nignored\n", 14), 14);
	close(fd);
	cr_assert_eq(bus_url__read_password(&u, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(u.pass, "pa ss");
	unlink(path);
	cr_assert_eq(bus_url__read_password(&u, path, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, path), "%s", err);
}

/* ---- facts ----------------------------------------------------------------------------------- */

static const char secret_get[] =
    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"RequestResponse\","
    "\"auditID\":\"a-1\",\"stage\":\"ResponseComplete\",\"requestURI\":"
    "\"/api/v1/namespaces/prod/secrets/db\",\"verb\":\"get\",\"user\":{\"username\":"
    "\"alice\",\"groups\":[\"devs\",\"system:authenticated\"]},\"sourceIPs\":[\"10.0.0.7\"],"
    "\"userAgent\":\"kubectl/v1.36\",\"objectRef\":{\"resource\":\"secrets\",\"namespace\":"
    "\"prod\",\"name\":\"db\",\"apiVersion\":\"v1\"},\"responseStatus\":{\"code\":200},"
    "\"responseObject\":{\"kind\":\"Secret\",\"data\":{\"password\":\"S0VZSE9MRS1NQVJLRVI=\"}},"
    "\"requestReceivedTimestamp\":\"2026-11-23T09:00:00.000000Z\",\"stageTimestamp\":"
    "\"2026-11-23T09:00:00.010000Z\",\"annotations\":{\"authorization.k8s.io/decision\":"
    "\"allow\",\"authorization.k8s.io/reason\":\"RBAC\"}}";

static const char binding_create[] =
    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Request\","
    "\"auditID\":\"b-1\",\"stage\":\"ResponseComplete\",\"requestURI\":"
    "\"/apis/rbac.authorization.k8s.io/v1/namespaces/prod/rolebindings\",\"verb\":\"create\","
    "\"user\":{\"username\":\"mallory\"},\"objectRef\":{\"resource\":\"rolebindings\","
    "\"namespace\":\"prod\",\"name\":\"rb\",\"apiGroup\":\"rbac.authorization.k8s.io\"},"
    "\"responseStatus\":{\"code\":201},\"requestObject\":{\"kind\":\"RoleBinding\","
    "\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"admin\"},\"subjects\":[{\"kind\":"
    "\"User\",\"name\":\"eve\"}]},\"stageTimestamp\":\"2026-11-23T09:00:01.000000Z\"}";

static void parse(const char *line, struct audit_event *ev)
{
	struct kh_parse_error pe;

	cr_assert_eq(audit_parse(line, strlen(line), ev, &pe), 0, "%s at %zu", pe.reason,
		     pe.offset);
}

Test(cluster_fact, keeps_what_detections_read_and_no_body)
{
	struct audit_event ev, back;
	struct fact_header h;
	struct json_out j;

	json_out_init(&j);
	parse(secret_get, &ev);
	cr_assert_eq(fact__encode(&ev, "cp-1", 4, &j), 0);
	cr_assert_null(strstr(j.buf, "S0VZSE9MRS1NQVJLRVI"), "the secret reached the fact");
	cr_assert_null(strstr(j.buf, "Object"), "a body reached the fact: %s", j.buf);
	cr_assert_eq(fact__header(j.buf, j.len, &h), 0, "%s", j.buf);
	cr_assert_eq(h.version, KH_FACT_VERSION);
	cr_assert_eq(h.t_ns, audit_event_time_ns(&ev));
	cr_assert_eq(h.partition, fact__partition(&ev, 4));
	cr_assert_not(h.broadcast);
	parse(j.buf, &back);
	cr_assert(kstr_eq(back.user.username, "alice"));
	cr_assert_eq(back.user.groups.n, 2);
	cr_assert(kstr_eq(back.verb, "get"));
	cr_assert(kstr_eq(back.object_ref.name, "db"));
	cr_assert(kstr_eq(back.decision, "allow"));
	cr_assert(kstr_eq(back.user_agent, "kubectl/v1.36"));
	cr_assert_eq(back.response_code, 200);
	cr_assert_eq(back.stage_ns, ev.stage_ns);
	cr_assert_eq(back.request_received_ns, ev.request_received_ns);
	json_out_free(&j);
}

Test(cluster_fact, rbac_writes_keep_what_the_correlator_reads_and_go_everywhere)
{
	struct audit_event ev, back;
	struct fact_header h;
	struct json_out j;

	json_out_init(&j);
	parse(binding_create, &ev);
	cr_assert(fact__broadcast(&ev));
	cr_assert_eq(fact__encode(&ev, "cp-2", 4, &j), 0);
	cr_assert_eq(fact__header(j.buf, j.len, &h), 0);
	cr_assert(h.broadcast);
	cr_assert_null(strstr(j.buf, "KHMARK"), "an annotation travelled: %s", j.buf);
	parse(j.buf, &back);
	cr_assert(kstr_present(back.request_object));
	cr_assert(strstr(j.buf, "\"subjects\":[{\"kind\":\"User\",\"name\":\"eve\"}]"));
	{ /* the correlator reads the rewritten body as it reads the original */
		struct kh_rbac_object a, b;

		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		cr_assert_eq(rbac_json_read(ev.request_object, &a), 0);
		cr_assert_eq(rbac_json_read(back.request_object, &b), 0);
		cr_assert_eq(a.flags, b.flags);
		cr_assert_eq(a.total_subjects, b.total_subjects);
		cr_assert(kstr_eq(b.role_name, "admin") && kstr_eq(b.role_kind, "ClusterRole"));
		cr_assert(kstr_eq(b.subjects[0].name, "eve"), "%s", j.buf);
		cr_assert_eq(kstr_present(a.name), kstr_present(b.name));
	}
	json_out_free(&j);
}

Test(cluster_fact, header_refuses_other_lines)
{
	struct fact_header h;
	static const char v2[] = "{\"khFact\":2,\"khT\":1,\"khP\":0,\"khB\":0,\"kind\":\"Event\"}";

	cr_assert_eq(fact__header(secret_get, strlen(secret_get), &h), -EINVAL);
	cr_assert_eq(fact__header("{\"khFact\":1}", 12, &h), -EINVAL);
	cr_assert_eq(fact__header(v2, strlen(v2), &h), -EPROTO);
}

/* ---- reorder --------------------------------------------------------------------------------- */

static void push(struct reorder *r, int64_t t, const char *id, const char *stage)
{
	char *s;

	cr_assert_gt(asprintf(&s, "{\"khFact\":1,\"auditID\":\"%s\",\"stage\":\"%s\"}", id, stage),
		     0);
	cr_assert_eq(reorder__push(r, t, 0, s, strlen(s)), 0);
}

Test(cluster_reorder, event_time_then_audit_id_then_stage_after_the_lag)
{
	struct reorder r;
	struct held_fact f;
	const char *want[] = {"a/RequestReceived", "a/ResponseComplete", "b/RequestReceived",
			      "c/ResponseComplete"};
	char got[64];

	reorder__init(&r, 100);
	/* arrival order differs from event order; a and b share an instant */
	push(&r, 30, "c", "ResponseComplete");
	push(&r, 20, "b", "RequestReceived");
	push(&r, 20, "a", "ResponseComplete");
	push(&r, 20, "a", "RequestReceived");
	cr_assert_eq(reorder__pop_due(&r, 99, 100, 0, &f), 0, "released before the lag");
	for (int i = 0; i < 4; i++) {
		const char *id, *st;

		cr_assert_eq(reorder__pop_due(&r, 100, 100, 0, &f), 1);
		id = strstr(f.line, "auditID\":\"") + 10;
		st = strstr(f.line, "stage\":\"") + 8;
		snprintf(got, sizeof(got), "%c/%.*s", *id, (int)(strchr(st, '"') - st), st);
		cr_assert_str_eq(got, want[i]);
		free(f.line);
	}
	cr_assert_eq(reorder__pop_due(&r, 1000, 100, 1, &f), 0);
	reorder__fini(&r);
}

Test(cluster_reorder, bounded)
{
	struct reorder r;
	struct held_fact f;

	reorder__init(&r, 2);
	for (int i = 0; i < 3; i++)
		push(&r, i, "x", "Panic");
	cr_assert_eq(reorder__pop_due(&r, 0, 1000, 0, &f), 1, "over the bound: released early");
	cr_assert_eq(f.t_ns, 0);
	free(f.line);
	cr_assert_eq(reorder__pop_due(&r, 0, 1000, 0, &f), 0);
	reorder__fini(&r);
}

/* ---- the pipeline's scope seam --------------------------------------------------------------- */

static uint64_t by_rule[3][64];

static char *run_scope(enum kh_pipeline_scope scope, const char *log, size_t *n_lines)
{
	char *buf = NULL, *line = NULL;
	size_t len = 0, cap = 0;
	FILE *out = open_memstream(&buf, &len), *in = fopen(log, "re");
	struct kh_pipeline_opts po = {.out = out, .scope = scope};
	struct kh_pipeline *p;
	ssize_t n;
	uint64_t no = 0;

	cr_assert(out && in);
	p = pipeline__new(&po);
	cr_assert_not_null(p);
	while ((n = getline(&line, &cap, in)) > 0) {
		struct kh_origin o = {.source = log, .line_no = ++no};

		pipeline__feed_line(p, line, (size_t)n - (line[n - 1] == '\n'), &o);
	}
	pipeline__flush(p);
	*n_lines = pipeline__counters(p)->alerts;
	cr_assert_leq(rules__count() + 1, 64);
	memcpy(by_rule[scope], pipeline__counters(p)->alerts_by_rule,
	       (rules__count() + 1) * sizeof(uint64_t));
	pipeline__free(p);
	free(line);
	fclose(in);
	fclose(out);
	return buf;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the lines of @s, sorted, joined */
static char *sorted(char *s)
{
	char **v = NULL, *tok, *save = NULL, *out;
	size_t n = 0, len = strlen(s) + 2, off = 0;

	for (tok = strtok_r(s, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
		v = realloc(v, (n + 1) * sizeof(*v));
		v[n++] = tok;
	}
	qsort(v, n, sizeof(*v), cmp_str);
	out = calloc(1, len);
	for (size_t i = 0; i < n; i++)
		off += (size_t)sprintf(out + off, "%s\n", v[i]);
	free(v);
	return out;
}

Test(cluster_scope, local_and_cluster_halves_make_the_whole)
{
	const char *log = KH_TEST_DATA_DIR "/attack.log";
	size_t n_all, n_local, n_cluster;
	char *all = run_scope(KH_SCOPE_ALL, log, &n_all);
	char *local = run_scope(KH_SCOPE_LOCAL, log, &n_local);
	char *cluster = run_scope(KH_SCOPE_CLUSTER, log, &n_cluster);
	char *both, *a, *b;

	cr_assert_gt(n_local, 0);
	cr_assert_gt(n_cluster, 0);
	cr_assert_eq(n_local + n_cluster, n_all);
	for (size_t k = 0; k <= rules__count(); k++) /* /metrics counts each rule once, as one */
		cr_assert_eq(by_rule[KH_SCOPE_LOCAL][k] + by_rule[KH_SCOPE_CLUSTER][k],
			     by_rule[KH_SCOPE_ALL][k], "rule %zu", k);
	cr_assert_null(strstr(local, "k8s-escalate-then-loot"), "the local half correlates");
	cr_assert_null(strstr(local, "k8s-secret-rapid-get"), "the local half runs rapid-get");
	cr_assert_null(strstr(cluster, "k8s-secret-suspicious-ua"), "the cluster half runs "
								    "a per-event rule");
	cr_assert(strstr(cluster, "k8s-escalate-then-loot"));
	cr_assert_gt(asprintf(&both, "%s%s", local, cluster), 0);
	a = sorted(all);
	b = sorted(both);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	free(both);
	free(all);
	free(local);
	free(cluster);
}
