// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of the exec-watch rules (src/rules/node/: rule_*.c, exec_join.c, node_alert.c) through the
 * pipeline: node events built by hand, pods/exec audit lines parsed as from a log, alerts read
 * back as JSON. Covers the join both ways round, both verbs, the window, pairing of two execs
 * into one pod, and one alert per session (exec) and per session and path (secret read).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_lines.h"
#include "keyhole/config.h"
#include "keyhole/node_event.h"
#include "keyhole/pipeline.h"
#include "keyhole/rule.h"

#define SEC 1000000000ll
/* 2026-11-23T10:00:00Z */
#define T0 1795428000ll

static FILE *out;
static struct kh_pipeline *p;
static struct alert_lines al;

static void setup(void)
{
	struct kh_pipeline_opts o = {0};

	out = tmpfile();
	cr_assert(out);
	o.out = out;
	p = pipeline__new(&o);
	cr_assert(p);
}

static void teardown(void)
{
	pipeline__free(p);
	fclose(out);
	alert_lines__free(&al);
}

TestSuite(node_rules, .init = setup, .fini = teardown);

static void read_alerts(void)
{
	alert_lines__free(&al);
	alert_lines__read(&al, out);
}

/* a pods/exec audit line at T0 + @ms for pod payments/api-0 */
static void feed_exec_request(const char *verb, const char *id, const char *pod, long ms,
			      const char *stage)
{
	char line[2048], ts[64];
	struct kh_origin o = {.source = "test", .line_no = 1};
	long s = ms / 1000, frac = ms % 1000;

	snprintf(ts, sizeof(ts), "2026-11-23T10:%02ld:%02ld.%03ld000Z", s / 60, s % 60, frac);
	snprintf(
	    line, sizeof(line),
	    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
	    "\"auditID\":\"%s\",\"stage\":\"%s\",\"requestURI\":\"/api/v1/namespaces/payments/"
	    "pods/%s/exec?command=sh\\u0026command=-c\\u0026command=cat+%%2Fvar%%2Frun%%2F"
	    "secrets%%2Fkubernetes.io%%2Fserviceaccount%%2Ftoken\\u0026container=api"
	    "\\u0026stdout=true\",\"verb\":\"%s\",\"user\":{\"username\":\"alice@example.com\","
	    "\"groups\":[\"devs\",\"system:authenticated\"]},\"sourceIPs\":[\"203.0.113.9\"],"
	    "\"userAgent\":\"kubectl/v1.31.0 (linux/amd64) kubernetes/abcdef\","
	    "\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"payments\",\"name\":\"%s\","
	    "\"apiVersion\":\"v1\",\"subresource\":\"exec\"},\"responseStatus\":{\"code\":101},"
	    "\"requestReceivedTimestamp\":\"%s\",\"stageTimestamp\":\"%s\","
	    "\"annotations\":{\"authorization.k8s.io/decision\":\"allow\","
	    "\"authorization.k8s.io/reason\":\"RBAC: allowed\"}}",
	    id, stage, pod, verb, pod, ts, ts);
	cr_assert_eq(pipeline__feed_line(p, line, strlen(line), &o), 0);
}

/* any audit line at T0 + @ms, to move event time */
static void feed_other(long ms)
{
	char line[512], ts[64];
	struct kh_origin o = {.source = "test", .line_no = 1};
	long s = ms / 1000;

	snprintf(ts, sizeof(ts), "2026-11-23T10:%02ld:%02ld.%03ld000Z", s / 60, s % 60, ms % 1000);
	snprintf(line, sizeof(line),
		 "{\"kind\":\"Event\",\"auditID\":\"lease-%ld\",\"stage\":\"ResponseComplete\","
		 "\"verb\":\"update\",\"user\":{\"username\":\"system:node:n1\"},"
		 "\"objectRef\":{\"resource\":\"leases\",\"namespace\":\"kube-node-lease\","
		 "\"name\":\"n1\"},\"requestReceivedTimestamp\":\"%s\",\"stageTimestamp\":\"%s\"}",
		 ms, ts, ts);
	cr_assert_eq(pipeline__feed_line(p, line, strlen(line), &o), 0);
}

static struct node_session sess(uint64_t id, const char *pod, long start_ms)
{
	struct node_session s;

	memset(&s, 0, sizeof(s));
	s.id = id;
	s.start_ns = T0 * SEC + start_ms * 1000000ll;
	s.leader_pid = 4242;
	snprintf(s.who.container_id, sizeof(s.who.container_id), "%s", "abcdef0123456789");
	snprintf(s.who.pod_uid, sizeof(s.who.pod_uid), "%s",
		 "0f3c9a52-7f1e-4c1d-9b8e-2a6d5c4b3a21");
	snprintf(s.who.pod_namespace, sizeof(s.who.pod_namespace), "%s", "payments");
	snprintf(s.who.pod_name, sizeof(s.who.pod_name), "%s", pod);
	snprintf(s.who.container_name, sizeof(s.who.container_name), "%s", "api");
	snprintf(s.who.cgroup_path, sizeof(s.who.cgroup_path),
		 "/kubepods/besteffort/pod%s/abcdef0123456789", s.who.pod_uid);
	snprintf(s.leader_exe, sizeof(s.leader_exe), "%s", "/bin/sh");
	memcpy(s.leader_args, "sh\0-c\0cat token", 16);
	s.leader_args_len = 16;
	return s;
}

static void feed_exec(const struct node_session *s, long ms, bool start, const char *const *argv)
{
	struct node_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = NODE_EV_EXEC;
	ev.time_ns = T0 * SEC + ms * 1000000ll;
	ev.session = s;
	ev.proc.pid = start ? s->leader_pid : s->leader_pid + 1;
	ev.proc.ppid = 100;
	ev.proc.ns_pid = 7;
	snprintf(ev.proc.comm, sizeof(ev.proc.comm), "%s", argv[0]);
	ev.session_start = start;
	ev.exe = start ? "/bin/sh" : "/bin/cat";
	for (; argv[ev.argc]; ev.argc++)
		ev.argv[ev.argc] = argv[ev.argc];
	ev.argc_total = ev.argc;
	cr_assert_eq(pipeline__feed_node_event(p, &ev), 0);
}

static void feed_open(const struct node_session *s, long ms, const char *path, long ret)
{
	struct node_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = NODE_EV_OPEN;
	ev.time_ns = T0 * SEC + ms * 1000000ll;
	ev.session = s;
	ev.proc.pid = s->leader_pid + 1;
	ev.proc.ppid = s->leader_pid;
	snprintf(ev.proc.comm, sizeof(ev.proc.comm), "cat");
	ev.path = path;
	ev.ret = ret;
	ev.match = KH_NODE_M_SA_PATH | KH_NODE_M_VOLUME_DEV;
	cr_assert_eq(pipeline__feed_node_event(p, &ev), 0);
}

static const char *const sh_args[] = {"sh", "-c", "cat token", NULL};

#define TOKEN "/var/run/secrets/kubernetes.io/serviceaccount/token"

static void expect_joined(json_object *a, const char *audit_id)
{
	json_object *cmd = alert_get(a, "keyhole.exec_request.command");
	json_object *ids = alert_get(a, "evidence.audit_ids");

	cr_assert_str_eq(alert_str(a, "user.name"), "alice@example.com");
	cr_assert_str_eq(alert_str(a, "source.ip"), "203.0.113.9");
	cr_assert_str_eq(alert_str(a, "user_agent.original"),
			 "kubectl/v1.31.0 (linux/amd64) kubernetes/abcdef");
	cr_assert_str_eq(alert_str(a, "kubernetes.audit.auditID"), audit_id);
	cr_assert_str_eq(alert_str(a, "keyhole.exec_request.auditID"), audit_id);
	cr_assert(cmd && json_object_array_length(cmd) == 3);
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(cmd, 2)), "cat " TOKEN);
	cr_assert(ids && json_object_array_length(ids) == 1);
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(ids, 0)), audit_id);
}

static void expect_pod(json_object *a, const char *pod)
{
	cr_assert_str_eq(alert_str(a, "orchestrator.namespace"), "payments");
	cr_assert_str_eq(alert_str(a, "orchestrator.resource.name"), pod);
	cr_assert_str_eq(alert_str(a, "orchestrator.resource.id"),
			 "0f3c9a52-7f1e-4c1d-9b8e-2a6d5c4b3a21");
	cr_assert_str_eq(alert_str(a, "container.id"), "abcdef0123456789");
	cr_assert_str_eq(alert_str(a, "container.name"), "api");
}

Test(node_rules, request_first_then_session_joins_at_once_verb_get)
{
	struct node_session s = sess(11, "api-0", 500);
	json_object *a;

	feed_exec_request("get", "req-get", "api-0", 0, "ResponseStarted");
	feed_exec(&s, 500, true, sh_args);
	read_alerts(); /* before any flush: the request was there, nothing waits */
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 1);
	a = alert_lines__nth(&al, "node-container-exec", 0);
	expect_joined(a, "req-get");
	expect_pod(a, "api-0");
	cr_assert_str_eq(alert_str(a, "rule.severity"), "medium");
	cr_assert_str_eq(alert_str(a, "event.action"), "exec");
	cr_assert_str_eq(alert_str(a, "process.executable"), "/bin/sh");
	cr_assert_str_eq(alert_str(a, "@timestamp"), "2026-11-23T10:00:00.500000Z");
}

Test(node_rules, verb_create_joins_too)
{
	struct node_session s = sess(12, "api-0", 300);

	feed_exec_request("create", "req-create", "api-0", 0, "ResponseStarted");
	feed_exec(&s, 300, true, sh_args);
	read_alerts();
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 1);
	expect_joined(alert_lines__nth(&al, "node-container-exec", 0), "req-create");
}

Test(node_rules, session_first_waits_for_a_late_request)
{
	struct node_session s = sess(13, "api-0", 0);

	feed_exec(&s, 0, true, sh_args);
	feed_open(&s, 50, TOKEN, 3);
	read_alerts();
	cr_assert_eq(al.n, 0, "held while the request may still come");
	feed_exec_request("get", "req-late", "api-0", 1200, "ResponseStarted");
	read_alerts();
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 1);
	cr_assert_eq(alert_lines__count(&al, "node-secret-read-in-exec"), 1);
	expect_joined(alert_lines__nth(&al, "node-container-exec", 0), "req-late");
	expect_joined(alert_lines__nth(&al, "node-secret-read-in-exec", 0), "req-late");
}

Test(node_rules, no_request_alerts_after_the_wait_without_user)
{
	struct node_session s = sess(14, "api-0", 0);
	json_object *a;

	feed_exec(&s, 0, true, sh_args);
	feed_other(4000);
	read_alerts();
	cr_assert_eq(al.n, 0, "still inside the 5 s wait");
	feed_other(5100);
	read_alerts();
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 1);
	a = alert_lines__nth(&al, "node-container-exec", 0);
	cr_assert_null(alert_get(a, "user"));
	cr_assert_null(alert_get(a, "kubernetes.audit"));
	cr_assert_eq(json_object_array_length(alert_get(a, "evidence.audit_ids")), 0);
	expect_pod(a, "api-0");
}

Test(node_rules, flush_ends_the_wait)
{
	struct node_session s = sess(15, "api-0", 0);

	feed_exec(&s, 0, true, sh_args);
	pipeline__flush(p);
	read_alerts();
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 1);
}

Test(node_rules, other_pod_or_outside_window_does_not_join)
{
	struct node_session s = sess(16, "api-0", 40000);

	feed_exec_request("get", "req-old", "api-0", 0, "ResponseStarted");	  /* 40 s before */
	feed_exec_request("get", "req-other", "api-1", 39900, "ResponseStarted"); /* other pod */
	feed_exec(&s, 40000, true, sh_args);
	pipeline__flush(p);
	read_alerts();
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 1);
	cr_assert_null(alert_get(alert_lines__nth(&al, "node-container-exec", 0), "user"));
}

Test(node_rules, two_execs_into_one_pod_pair_by_time)
{
	struct node_session a = sess(21, "api-0", 1000), b = sess(22, "api-0", 9000);

	feed_exec_request("get", "req-a", "api-0", 900, "ResponseStarted");
	feed_exec_request("get", "req-b", "api-0", 8900, "ResponseStarted");
	feed_exec(&b, 9000, true, sh_args); /* the later session first: nearest request wins */
	feed_exec(&a, 1000, true, sh_args);
	feed_open(&a, 1100, TOKEN, 3);
	read_alerts();
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 2);
	cr_assert_str_eq(alert_str(alert_lines__nth(&al, "node-container-exec", 0),
				   "kubernetes.audit.auditID"),
			 "req-b");
	cr_assert_str_eq(alert_str(alert_lines__nth(&al, "node-container-exec", 1),
				   "kubernetes.audit.auditID"),
			 "req-a");
	/* the secret rule pairs the same way, though it alerts on one session only */
	cr_assert_str_eq(alert_str(alert_lines__nth(&al, "node-secret-read-in-exec", 0),
				   "kubernetes.audit.auditID"),
			 "req-a");
}

Test(node_rules, later_stages_of_the_request_do_not_double_anything)
{
	struct node_session s = sess(23, "api-0", 100);

	feed_exec_request("get", "req-1", "api-0", 0, "RequestReceived");
	feed_exec_request("get", "req-1", "api-0", 0, "ResponseStarted");
	feed_exec(&s, 100, true, sh_args);
	feed_exec_request("get", "req-1", "api-0", 0, "ResponseComplete");
	pipeline__flush(p);
	read_alerts();
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 1);
	expect_joined(alert_lines__nth(&al, "node-container-exec", 0), "req-1");
}

Test(node_rules, one_exec_alert_per_session_and_one_secret_alert_per_path)
{
	static const char *const cat[] = {"cat", TOKEN, NULL};
	struct node_session s = sess(31, "api-0", 0);
	json_object *o;

	feed_exec_request("get", "req-s", "api-0", 0, "ResponseStarted");
	feed_exec(&s, 0, true, sh_args);
	feed_exec(&s, 10, false, cat); /* a descendant's exec: no second exec alert */
	feed_open(&s, 20, TOKEN, 3);
	feed_open(&s, 30, TOKEN, 3);
	feed_open(&s, 40, "/etc/db-creds/password", -13);
	read_alerts();
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 1);
	cr_assert_eq(alert_lines__count(&al, "node-secret-read-in-exec"), 2);
	o = alert_lines__nth(&al, "node-secret-read-in-exec", 0);
	cr_assert_str_eq(alert_str(o, "rule.severity"), "high");
	cr_assert_str_eq(alert_str(o, "event.action"), "open");
	cr_assert_str_eq(alert_str(o, "file.path"), TOKEN);
	cr_assert_str_eq(alert_str(o, "keyhole.open.result"), "success");
	cr_assert_str_eq(alert_str(o, "process.session_leader.executable"), "/bin/sh");
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(
			     alert_get(o, "threat.technique.subtechnique.id"), 0)),
			 "T1552.007");
	expect_joined(o, "req-s");
	expect_pod(o, "api-0");
	o = alert_lines__nth(&al, "node-secret-read-in-exec", 1);
	cr_assert_str_eq(alert_str(o, "keyhole.open.result"), "failure");
	cr_assert_str_eq(alert_str(o, "keyhole.open.error"), "EACCES");
}

Test(node_rules, learn_only_writes_nothing)
{
	struct node_session s = sess(41, "api-0", 0);

	pipeline__set_learn_only(p, 1);
	feed_exec(&s, 0, true, sh_args);
	feed_open(&s, 20, TOKEN, 3);
	pipeline__flush(p);
	read_alerts();
	cr_assert_eq(al.n, 0);
}

/* the node side of an escalate-then-loot: its exec and token read join the audit incident */
Test(node_rules, node_read_joins_the_audit_exec_and_the_incident)
{
	FILE *log = fopen(KH_TEST_DATA_DIR "/correlate/metadata.log", "r");
	struct kh_origin o = {.source = "metadata.log"};
	struct node_session s = sess(51, "web-7d4b9c8f6-x2x9q", 0);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	json_object *inc = NULL, *reads;

	cr_assert(log);
	while ((n = getline(&line, &cap, log)) > 0) {
		o.line_no++;
		cr_assert_eq(pipeline__feed_line(p, line, (size_t)n - (line[n - 1] == '\n'), &o),
			     0);
	}
	free(line);
	fclose(log);
	snprintf(s.who.pod_namespace, sizeof(s.who.pod_namespace), "default");
	snprintf(s.who.container_name, sizeof(s.who.container_name), "web");
	s.start_ns = T0 * SEC + 130400ll * 1000000; /* 10:02:10.4, the request was at 10:02:10 */
	feed_exec(&s, 130400, true, sh_args);
	feed_open(&s, 130500, TOKEN, 3);
	pipeline__flush(p);
	read_alerts();
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 1);
	cr_assert_str_eq(alert_str(alert_lines__nth(&al, "node-container-exec", 0),
				   "kubernetes.audit.auditID"),
			 "fc608790-5e64-4b01-a7ea-cd4ab7399642");
	cr_assert_str_eq(alert_str(alert_lines__nth(&al, "node-secret-read-in-exec", 0),
				   "user.name"),
			 "attacker-admin");
	for (size_t i = 0; alert_lines__nth(&al, "k8s-escalate-then-loot", i); i++)
		inc = alert_lines__nth(&al, "k8s-escalate-then-loot", i);
	cr_assert(inc, "the audit log alone makes an incident");
	reads = alert_get(inc, "keyhole.incident.node_secret_reads");
	cr_assert(reads && json_object_array_length(reads) == 1,
		  "the node read joined the incident's last revision");
	cr_assert_str_eq(alert_str(json_object_array_get_idx(reads, 0), "path"), TOKEN);
}

/* rules.<id>.join_window and join_wait from the config file reach both rules */
Test(node_rules, join_window_and_wait_from_the_config_file)
{
	static const char yaml[] =
	    "rules:\n"
	    "  node-container-exec:\n    join_window: 2s\n    join_wait: 1s\n"
	    "  node-secret-read-in-exec:\n    join_window: 2s\n    join_wait: 1s\n";
	struct kh_config *cfg;
	struct kh_config_error err;
	struct kh_pipeline_opts o = {0};
	struct node_session a = sess(61, "api-0", 0), b = sess(62, "api-0", 10000);

	cr_assert_eq(config__load_buf(yaml, sizeof(yaml) - 1, "test.yaml", rules__config_schema(),
				      &cfg, &err),
		     0, "%s", err.msg);
	pipeline__free(p);
	o.out = out;
	o.cfg = cfg;
	p = pipeline__new(&o);
	cr_assert(p);
	/* 3 s apart: outside a 2 s window */
	feed_exec_request("get", "req-far", "api-0", 3000, "ResponseStarted");
	feed_exec(&a, 0, true, sh_args);
	/* a session without its request is written after 1 s of event time, not 5 */
	feed_exec(&b, 10000, true, (const char *const[]){"ls", NULL});
	feed_other(11100);
	read_alerts();
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 2);
	cr_assert_null(alert_get(alert_lines__nth(&al, "node-container-exec", 0), "user"));
	pipeline__free(p);
	p = NULL;
	config__free(cfg);
}

/*
 * Exec probes: the kubelet runs them through runc exec every few seconds with no API request.
 * The same command in the same container, without a request, alerts once per repeat_window.
 */
Test(node_rules, unjoined_repeats_of_a_command_in_a_container_alert_once)
{
	static const char *const probe[] = {"/bin/grpc_health_probe", "-addr=:8080", NULL};
	static const char *const other[] = {"sh", "-c", "id", NULL};
	struct node_session s[5];

	for (int i = 0; i < 5; i++)
		s[i] = sess(70 + i, "api-0", i * 10000);
	feed_exec(&s[0], 0, true, probe);
	feed_exec(&s[1], 10000, true, probe); /* 10 s later: the next probe */
	feed_exec(&s[2], 20000, true, other); /* another command */
	feed_exec_request("get", "req-probe-like", "api-0", 30000, "ResponseStarted");
	feed_exec(&s[3], 30000, true, probe); /* same command, but asked through the API */
	snprintf(s[4].who.container_id, sizeof(s[4].who.container_id), "fedcba9876543210");
	feed_exec(&s[4], 40000, true, probe); /* same command, other container */
	pipeline__flush(p);
	read_alerts();
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 4);
	cr_assert_str_eq(alert_str(alert_lines__nth(&al, "node-container-exec", 2),
				   "kubernetes.audit.auditID"),
			 "req-probe-like");
}

Test(node_rules, repeat_window_zero_alerts_every_session)
{
	static const char yaml[] = "rules:\n  node-container-exec:\n    repeat_window: 0s\n";
	static const char *const probe[] = {"/bin/true", NULL};
	struct kh_config *cfg;
	struct kh_config_error err;
	struct kh_pipeline_opts o = {0};
	struct node_session a = sess(81, "api-0", 0), b = sess(82, "api-0", 10000);

	cr_assert_eq(config__load_buf(yaml, sizeof(yaml) - 1, "test.yaml", rules__config_schema(),
				      &cfg, &err),
		     0, "%s", err.msg);
	pipeline__free(p);
	o.out = out;
	o.cfg = cfg;
	p = pipeline__new(&o);
	cr_assert(p);
	feed_exec(&a, 0, true, probe);
	feed_exec(&b, 10000, true, probe);
	pipeline__flush(p);
	read_alerts();
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 2);
	pipeline__free(p);
	p = NULL;
	config__free(cfg);
}
