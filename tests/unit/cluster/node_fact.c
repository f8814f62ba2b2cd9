// SPDX-License-Identifier: Apache-2.0
/*
 * node_fact: cluster mode's node side without Redis. A node's secret open travels as a fact the
 * audit parser reads back, and the correlator's half fed with the facts gives the incidents (node
 * step included) single-node mode gives; the exec stream takes exactly the requests an exec join
 * keeps; a request another instance captured reaches only this node's exec join, whose alert then
 * names its Kubernetes user. tests/bpf/cluster_node.c runs it over Redis and a runc container.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_lines.h"
#include "cluster/fact.h"
#include "cluster/node_fact.h"
#include "keyhole/audit_parse.h"
#include "keyhole/json_out.h"
#include "keyhole/node_event.h"
#include "keyhole/pipeline.h"
#include "keyhole/rules_engine.h"

#define TOKEN "/var/run/secrets/kubernetes.io/serviceaccount/token"

static void parse(const char *line, struct audit_event *ev)
{
	struct kh_parse_error pe;

	cr_assert_eq(audit_parse__line(line, strlen(line), ev, &pe), 0, "%s at %zu: %s", pe.reason,
		     pe.offset, line);
}

static struct kh_node_secret_read sread(const char *path, const char *comm)
{
	struct kh_node_secret_read r = {
	    .pod_namespace = kstr_lit("prod", 4),
	    .pod_name = kstr_lit("payments-api-0", 14),
	    .container = kstr_lit("api", 3),
	    .path = kstr_lit(path, strlen(path)),
	    .comm = kstr_lit(comm, strlen(comm)),
	    .node_id = kstr_lit("exec-session/77", 15),
	    .t_ns = 1795443643835936000ll,
	};
	return r;
}

static char *kdup(struct kstr s)
{
	char *b = calloc(1, s.len + 1);
	long n = kstr__decode(s, b, s.len);

	cr_assert_geq(n, 0);
	b[n] = 0;
	return b;
}

Test(node_fact, round_trip_through_the_audit_parser)
{
	const char *path = "/etc/db-creds/pass\"word\\x";
	struct kh_node_secret_read in = sread(path, "c\"at"), out;
	struct fact_header h;
	struct audit_event ev;
	struct json_out j;
	char *s;

	json_out__init(&j);
	cr_assert_eq(node_fact__encode(&in, "worker-1", &j), 0);
	cr_assert_eq(fact__header(j.buf, j.len, &h), 0);
	cr_assert(h.broadcast, "an open names no principal: every partition");
	cr_assert_eq(h.t_ns, in.t_ns);
	cr_assert(node_fact__is(j.buf, j.len));
	parse(j.buf, &ev);
	cr_assert_eq(node_fact__read(&ev, h.t_ns, &out), 0);
	cr_assert_eq(out.t_ns, in.t_ns);
	cr_assert_str_eq((s = kdup(out.path)), path);
	free(s);
	cr_assert_str_eq((s = kdup(out.comm)), "c\"at");
	free(s);
	cr_assert_str_eq((s = kdup(out.pod_name)), "payments-api-0");
	free(s);
	cr_assert_str_eq((s = kdup(out.container)), "api");
	free(s);
	cr_assert_str_eq((s = kdup(out.node_id)), "exec-session/77");
	free(s);
	json_out__free(&j);
}

Test(node_fact, an_audit_fact_is_never_taken_for_one)
{
	const char *line =
	    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
	    "\"auditID\":\"a1\",\"stage\":\"ResponseComplete\",\"requestURI\":\"/api/v1/namespaces/"
	    "prod/secrets/db\",\"verb\":\"get\",\"user\":{\"username\":\"eve\"},\"objectRef\":{"
	    "\"resource\":\"secrets\",\"namespace\":\"prod\",\"name\":\"db\"},\"stageTimestamp\":"
	    "\"2026-11-23T14:20:43.335936Z\"}";
	struct kh_node_secret_read r;
	struct audit_event ev;
	struct json_out j;

	json_out__init(&j);
	parse(line, &ev);
	/* a node name holding the marker's very bytes is escaped inside its string */
	cr_assert_eq(fact__encode(&ev, ",\"khKind\":\"node-secret-read\"", 4, &j), 0);
	cr_assert_not(node_fact__is(j.buf, j.len));
	parse(j.buf, &ev);
	cr_assert_neq(node_fact__read(&ev, 0, &r), 0, "an audit fact read as a node open");
	json_out__free(&j);
}

Test(node_fact, the_exec_stream_takes_what_an_exec_join_keeps)
{
	static const struct {
		const char *verb, *ref, *uri;
		bool want;
	} c[] = {
	    {"get",
	     "\"resource\":\"pods\",\"subresource\":\"exec\",\"namespace\":\"p\",\"name\":\"a\"",
	     "/api/v1/namespaces/p/pods/a/exec?command=sh", true},
	    {"create",
	     "\"resource\":\"pods\",\"subresource\":\"attach\",\"namespace\":\"p\",\"name\":\"a\"",
	     "/api/v1/namespaces/p/pods/a/attach", true},
	    {"patch",
	     "\"resource\":\"pods\",\"subresource\":\"ephemeralcontainers\",\"namespace\":\"p\","
	     "\"name\":\"a\"",
	     "/api/v1/namespaces/p/pods/a/ephemeralcontainers", true},
	    {"create", "\"resource\":\"nodes\",\"subresource\":\"proxy\",\"name\":\"n1\"",
	     "/api/v1/nodes/n1/proxy/exec/p/a/c?command=sh", true},
	    {"get", "\"resource\":\"nodes\",\"subresource\":\"proxy\",\"name\":\"n1\"",
	     "/api/v1/nodes/n1/proxy/metrics", false},
	    {"get",
	     "\"resource\":\"pods\",\"subresource\":\"log\",\"namespace\":\"p\",\"name\":\"a\"",
	     "/api/v1/namespaces/p/pods/a/log", false},
	    {"get", "\"resource\":\"secrets\",\"namespace\":\"p\",\"name\":\"a\"",
	     "/api/v1/namespaces/p/secrets/a", false},
	};
	char line[1024];
	struct audit_event ev;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		snprintf(line, sizeof(line),
			 "{\"kind\":\"Event\",\"auditID\":\"x%zu\",\"stage\":\"ResponseStarted\","
			 "\"verb\":\"%s\",\"requestURI\":\"%s\",\"user\":{\"username\":\"eve\"},"
			 "\"objectRef\":{%s},\"stageTimestamp\":\"2026-11-23T14:20:43Z\"}",
			 i, c[i].verb, c[i].uri, c[i].ref);
		parse(line, &ev);
		cr_assert_eq(rules__is_exec_request(&ev), c[i].want, "%s", c[i].uri);
	}
}

/* ---- a remote request reaches the exec join only -------------------------------------------- */

static int published;

static void count_fact(void *ctx, const struct audit_event *ev)
{
	(void)ctx;
	(void)ev;
	published++;
}

static const char remote_exec[] =
    "{\"khFact\":1,\"khT\":1795443643335936000,\"khP\":1,\"khB\":0,\"khNode\":\"cp2\","
    "\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
    "\"auditID\":\"7e63c6b2-12bb-4ca2-b8c8-dc87b1ee0bb9\",\"stage\":\"ResponseStarted\","
    "\"requestURI\":\"/api/v1/namespaces/prod/pods/payments-api-0/exec?command=cat\\u0026"
    "command=%2Fetc%2Fpasswd\\u0026container=api\\u0026stdout=true\",\"verb\":\"get\","
    "\"user\":{\"username\":\"mallory@example.com\",\"groups\":[\"system:authenticated\"]},"
    "\"sourceIPs\":[\"203.0.113.77\"],\"userAgent\":\"kubectl/v1.30.2\",\"objectRef\":{"
    "\"resource\":\"pods\",\"namespace\":\"prod\",\"name\":\"payments-api-0\",\"subresource\":"
    "\"exec\"},\"responseStatus\":{\"code\":101},\"requestReceivedTimestamp\":"
    "\"2026-11-23T14:20:43.335936Z\",\"stageTimestamp\":\"2026-11-23T14:20:43.339656Z\"}";

/* a suspicious-UA secret read: a per-event rule alerts on it where it was captured */
static const char remote_secret[] =
    "{\"khFact\":1,\"khT\":1795443643335936000,\"khP\":1,\"khB\":0,\"khNode\":\"cp2\","
    "\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
    "\"auditID\":\"11111111-2222-4333-8444-555555555555\",\"stage\":\"ResponseComplete\","
    "\"requestURI\":\"/api/v1/namespaces/prod/secrets/db\",\"verb\":\"get\",\"user\":{"
    "\"username\":\"mallory@example.com\"},\"sourceIPs\":[\"203.0.113.77\"],\"userAgent\":"
    "\"curl/8.5.0\",\"objectRef\":{\"resource\":\"secrets\",\"namespace\":\"prod\",\"name\":"
    "\"db\"},\"responseStatus\":{\"code\":200},\"stageTimestamp\":"
    "\"2026-11-23T14:20:43.339656Z\"}";

Test(node_fact, a_remote_request_names_the_user_of_this_nodes_exec)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct kh_pipeline_opts po = {.out = out, .scope = KH_SCOPE_LOCAL, .fact_fn = count_fact};
	struct kh_pipeline *p = pipeline__new(&po);
	struct node_session s;
	struct node_event ev;
	struct alert_lines al = {0};
	json_object *a;

	cr_assert(p && out);
	published = 0;
	cr_assert_eq(pipeline__feed_remote_request(p, remote_secret, strlen(remote_secret)), 0);
	cr_assert_eq(pipeline__feed_remote_request(p, remote_exec, strlen(remote_exec)), 0);
	cr_assert_eq(pipeline__feed_remote_request(p, "{\"not\":1}", 9), -EINVAL);
	memset(&s, 0, sizeof(s));
	s.id = 99;
	s.start_ns = 1795443643535936000ll; /* 200 ms after the request */
	s.leader_pid = 4242;
	snprintf(s.who.container_id, sizeof(s.who.container_id), "abcdef0123456789");
	snprintf(s.who.pod_namespace, sizeof(s.who.pod_namespace), "prod");
	snprintf(s.who.pod_name, sizeof(s.who.pod_name), "payments-api-0");
	snprintf(s.who.container_name, sizeof(s.who.container_name), "api");
	snprintf(s.leader_exe, sizeof(s.leader_exe), "/bin/cat");
	memset(&ev, 0, sizeof(ev));
	ev.kind = NODE_EV_EXEC;
	ev.time_ns = s.start_ns;
	ev.session = &s;
	ev.session_start = true;
	ev.exe = "/bin/cat";
	ev.argv[0] = "cat";
	ev.argv[1] = "/etc/passwd";
	ev.argc = ev.argc_total = 2;
	ev.proc.pid = 4242;
	snprintf(ev.proc.comm, sizeof(ev.proc.comm), "cat");
	cr_assert_eq(pipeline__feed_node_event(p, &ev), 0);
	pipeline__flush(p);
	fclose(out);
	cr_assert_eq(published, 0, "a remote request was published again");
	cr_assert_eq(pipeline__counters(p)->lines, 0, "a remote request counted as a line");
	out = fmemopen(buf, len, "r");
	alert_lines__read(&al, out);
	fclose(out);
	cr_assert_eq(al.n, 1, "want the node alert alone, got:\n%s", buf);
	a = al.v[0];
	cr_assert_str_eq(alert_str(a, "rule.id"), "node-container-exec");
	cr_assert_str_eq(alert_str(a, "user.name"), "mallory@example.com");
	cr_assert_str_eq(alert_str(a, "kubernetes.audit.auditID"),
			 "7e63c6b2-12bb-4ca2-b8c8-dc87b1ee0bb9");
	alert_lines__free(&al);
	pipeline__free(p);
	free(buf);
}

/* ---- parity: the node step of an incident, single-node and over facts ------------------------ */

#define EXEC_POD "payments-api-nhgv8m6ks-xsrxp"

struct facts {
	char **v;
	size_t n;
	struct json_out j;
};

static void keep(struct facts *f)
{
	f->v = realloc(f->v, (f->n + 1) * sizeof(*f->v));
	f->v[f->n++] = strdup(f->j.buf);
}

static void keep_fact(void *ctx, const struct audit_event *ev)
{
	struct facts *f = ctx;

	cr_assert_eq(fact__encode(ev, "cp0", 4, &f->j), 0);
	keep(f);
}

static void keep_node_fact(void *ctx, const struct kh_node_secret_read *r)
{
	struct facts *f = ctx;

	cr_assert_eq(node_fact__encode(r, "worker-1", &f->j), 0);
	keep(f);
}

static struct node_session exec_sess;

/* the attack log, with a secret open in the exec'd pod half a second after its exec */
static char *run(struct kh_pipeline_opts *po)
{
	char *buf = NULL, *line = NULL;
	size_t len = 0, cap = 0;
	FILE *in = fopen(KH_TEST_DATA_DIR "/attack.log", "re");
	struct kh_pipeline *p;
	int64_t exec_ns = 0;
	bool opened = false;
	ssize_t n;

	po->out = open_memstream(&buf, &len);
	cr_assert(in && po->out);
	p = pipeline__new(po);
	cr_assert_not_null(p);
	while ((n = getline(&line, &cap, in)) > 0) {
		struct kh_origin o = {.source = "attack.log"};
		struct audit_event ev;
		struct kh_parse_error pe;

		line[n - 1] = line[n - 1] == '\n' ? 0 : line[n - 1];
		if (audit_parse__line(line, strlen(line), &ev, &pe) == 0) {
			if (!exec_ns && kstr__eq(ev.object_ref.subresource, "exec") &&
			    kstr__eq(ev.object_ref.name, EXEC_POD))
				exec_ns = audit_event_time_ns(&ev);
			if (exec_ns && !opened &&
			    audit_event_time_ns(&ev) > exec_ns + 500 * 1000000ll) {
				struct node_event ne = {.kind = NODE_EV_OPEN,
							.session = &exec_sess};

				ne.time_ns = exec_ns + 500 * 1000000ll;
				ne.path = TOKEN;
				ne.ret = 3;
				ne.match = KH_NODE_M_SA_PATH;
				snprintf(ne.proc.comm, sizeof(ne.proc.comm), "cat");
				exec_sess.id = 4711;
				exec_sess.start_ns = exec_ns + 400 * 1000000ll;
				snprintf(exec_sess.who.pod_namespace,
					 sizeof(exec_sess.who.pod_namespace), "prod");
				snprintf(exec_sess.who.pod_name, sizeof(exec_sess.who.pod_name),
					 EXEC_POD);
				snprintf(exec_sess.who.container_name,
					 sizeof(exec_sess.who.container_name), "api");
				cr_assert_eq(pipeline__feed_node_event(p, &ne), 0);
				opened = true;
			}
		}
		pipeline__feed_line(p, line, strlen(line), &o);
	}
	cr_assert(opened, "the attack log has no exec into " EXEC_POD);
	pipeline__flush(p);
	pipeline__free(p);
	fclose(po->out);
	fclose(in);
	free(line);
	return buf;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *sorted(const char *a, const char *b)
{
	char *s, *tok, *save = NULL, *out, **v = NULL;
	size_t n = 0, off = 0;

	cr_assert_gt(asprintf(&s, "%s%s", a, b), 0);
	out = calloc(1, strlen(s) + 2);
	for (tok = strtok_r(s, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
		v = realloc(v, (n + 1) * sizeof(*v));
		v[n++] = tok;
	}
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++)
		off += (size_t)sprintf(out + off, "%s\n", v[i]);
	free(v);
	free(s);
	return out;
}

Test(node_fact, the_correlator_gets_the_node_step_single_node_mode_gets)
{
	struct kh_pipeline_opts all = {0}, local = {.scope = KH_SCOPE_LOCAL};
	struct kh_pipeline_opts cl = {.scope = KH_SCOPE_CLUSTER};
	struct facts f = {0};
	char *single, *here, *there = NULL, *a, *b;
	size_t len = 0, node_facts = 0;
	struct kh_pipeline *p;

	json_out__init(&f.j);
	local.fact_fn = keep_fact;
	local.node_fact_fn = keep_node_fact;
	local.fact_ctx = &f;
	single = run(&all);
	here = run(&local);
	cr_assert(strstr(single, "exec-session/4711"), "single-node: no node step:\n%s", single);
	/* the correlator's half: the facts in order, as a partition owner feeds them */
	cl.out = open_memstream(&there, &len);
	p = pipeline__new(&cl);
	cr_assert_not_null(p);
	for (size_t i = 0; i < f.n; i++) {
		struct kh_origin o = {.source = "cluster:0", .line_no = i + 1};
		struct fact_header h;

		cr_assert_eq(fact__header(f.v[i], strlen(f.v[i]), &h), 0);
		if (node_fact__is(f.v[i], strlen(f.v[i]))) {
			struct kh_node_secret_read r;
			struct audit_event ev;

			parse(f.v[i], &ev);
			cr_assert_eq(node_fact__read(&ev, h.t_ns, &r), 0);
			pipeline__feed_node_secret_read(p, &r);
			node_facts++;
		} else {
			pipeline__feed_fact(p, f.v[i], strlen(f.v[i]), &o, 1);
		}
		free(f.v[i]);
	}
	pipeline__flush(p);
	pipeline__free(p);
	fclose(cl.out);
	cr_assert_eq(node_facts, 1);
	cr_assert(strstr(there, "exec-session/4711"), "the correlator missed the node step");
	a = sorted(single, "");
	b = sorted(here, there);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	free(f.v);
	json_out__free(&f.j);
	free(single);
	free(here);
	free(there);
}

Test(node_fact, a_header_number_past_int64_is_refused)
{
	static const char big[] =
	    "{\"khFact\":1,\"khT\":99999999999999999999,\"khP\":0,\"khB\":0,}";
	static const char max[] = "{\"khFact\":1,\"khT\":9223372036854775807,\"khP\":0,\"khB\":0,}";
	struct fact_header h;

	cr_assert_eq(fact__header(big, sizeof(big) - 1, &h), -EINVAL);
	cr_assert_eq(fact__header(max, sizeof(max) - 1, &h), 0);
	cr_assert_eq(h.t_ns, INT64_MAX);
}
