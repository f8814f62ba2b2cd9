// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of exec attribution (src/node/exec_join.c, node_alert.c) and node-exec-without-audit
 * (src/node/rule_exec_without_audit.c) through the real pipeline: sessions built by hand (with
 * the auditID and parent chain the kernel would have read), audit lines parsed as from a log,
 * alerts read back as JSON.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert_lines.h"
#include "keyhole/config.h"
#include "keyhole/metrics.h"
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

TestSuite(node_attribution, .init = setup, .fini = teardown);

static void read_alerts(void)
{
	alert_lines__free(&al);
	alert_lines__read(&al, out);
}

static void stamp(char *ts, size_t size, long ms)
{
	long s = ms / 1000;

	snprintf(ts, size, "2026-11-23T10:%02ld:%02ld.%03ld000Z", s / 60, s % 60, ms % 1000);
}

/* a request on pods/@sub of payments/@pod by @user at T0 + @ms */
static void feed_request(const char *verb, const char *sub, const char *id, const char *user,
			 const char *pod, long ms)
{
	char line[2048], ts[64];
	struct kh_origin o = {.source = "test", .line_no = 1};

	stamp(ts, sizeof(ts), ms);
	snprintf(line, sizeof(line),
		 "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
		 "\"auditID\":\"%s\",\"stage\":\"ResponseStarted\",\"requestURI\":"
		 "\"/api/v1/namespaces/payments/pods/%s/%s?command=sh\\u0026container=api\","
		 "\"verb\":\"%s\",\"user\":{\"username\":\"%s\"},\"sourceIPs\":[\"203.0.113.9\"],"
		 "\"userAgent\":\"kubectl/v1.34.0\",\"objectRef\":{\"resource\":\"pods\","
		 "\"namespace\":\"payments\",\"name\":\"%s\",\"apiVersion\":\"v1\","
		 "\"subresource\":\"%s\"},\"requestReceivedTimestamp\":\"%s\","
		 "\"stageTimestamp\":\"%s\"}",
		 id, pod, sub, verb, user, pod, sub, ts, ts);
	cr_assert_eq(pipeline__feed_line(p, line, strlen(line), &o), 0);
}

static void feed_exec_request(const char *id, const char *user, long ms)
{
	feed_request("get", "exec", id, user, "api-0", ms);
}

/* a nodes/proxy request at T0 + @ms whose kubelet path is @path */
static void feed_proxy(const char *id, const char *path, long ms)
{
	char line[2048], ts[64];
	struct kh_origin o = {.source = "test", .line_no = 1};

	stamp(ts, sizeof(ts), ms);
	snprintf(line, sizeof(line),
		 "{\"kind\":\"Event\",\"auditID\":\"%s\",\"stage\":\"ResponseStarted\","
		 "\"requestURI\":\"/api/v1/nodes/n1/proxy/%s\",\"verb\":\"get\",\"user\":"
		 "{\"username\":\"eve\"},\"sourceIPs\":[\"198.51.100.66\"],\"objectRef\":"
		 "{\"resource\":\"nodes\",\"name\":\"n1\",\"apiVersion\":\"v1\",\"subresource\":"
		 "\"proxy\"},\"requestReceivedTimestamp\":\"%s\",\"stageTimestamp\":\"%s\"}",
		 id, path, ts, ts);
	cr_assert_eq(pipeline__feed_line(p, line, strlen(line), &o), 0);
}

/* any audit line at T0 + @ms, to move event time */
static void feed_other(long ms)
{
	char line[512], ts[64];
	struct kh_origin o = {.source = "test", .line_no = 1};

	stamp(ts, sizeof(ts), ms);
	snprintf(line, sizeof(line),
		 "{\"kind\":\"Event\",\"auditID\":\"lease-%ld\",\"stage\":\"ResponseComplete\","
		 "\"verb\":\"update\",\"user\":{\"username\":\"system:node:n1\"},"
		 "\"objectRef\":{\"resource\":\"leases\",\"namespace\":\"kube-node-lease\","
		 "\"name\":\"n1\"},\"requestReceivedTimestamp\":\"%s\",\"stageTimestamp\":\"%s\"}",
		 ms, ts, ts);
	cr_assert_eq(pipeline__feed_line(p, line, strlen(line), &o), 0);
}

static struct node_session sess(uint64_t id, const char *pod, long start_ms, const char *audit_id)
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
	snprintf(s.leader_exe, sizeof(s.leader_exe), "%s", "/bin/sh");
	snprintf(s.audit_id, sizeof(s.audit_id), "%s", audit_id ? audit_id : "");
	s.loginuid = KH_NODE_LOGINUID_UNSET;
	s.sessionid = KH_NODE_LOGINUID_UNSET;
	return s;
}

static void feed_exec(const struct node_session *s, long ms, const char *cmd)
{
	struct node_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = NODE_EV_EXEC;
	ev.time_ns = T0 * SEC + ms * 1000000ll;
	ev.session = s;
	ev.proc.pid = s->leader_pid;
	snprintf(ev.proc.comm, sizeof(ev.proc.comm), "sh");
	ev.session_start = true;
	ev.exe = "/bin/sh";
	ev.argv[0] = "sh";
	ev.argv[1] = "-c";
	ev.argv[2] = cmd;
	ev.argc = ev.argc_total = 3;
	cr_assert_eq(pipeline__feed_node_event(p, &ev), 0);
}

static json_object *only(const char *rule)
{
	cr_assert_eq(alert_lines__count(&al, rule), 1, "%zu %s alerts, want 1",
		     alert_lines__count(&al, rule), rule);
	return alert_lines__nth(&al, rule, 0);
}

static const char *nth(json_object *a, const char *path, size_t i)
{
	json_object *v = alert_get(a, path);

	if (!v || !json_object_is_type(v, json_type_array) || i >= json_object_array_length(v))
		return NULL;
	return json_object_get_string(json_object_array_get_idx(v, i));
}

static const char *method(json_object *a)
{
	return alert_str(a, "keyhole.attribution.method");
}

Test(node_attribution, audit_id_pairs_exactly_though_another_request_is_nearer)
{
	struct node_session s = sess(1, "api-0", 1000, "id-alice");
	json_object *a;

	feed_exec_request("id-alice", "alice", 0);
	feed_exec_request("id-bob", "bob", 990);
	feed_exec(&s, 1000, "id");
	read_alerts(); /* out at once */
	a = only("node-container-exec");
	cr_assert_str_eq(method(a), "audit-id");
	cr_assert_str_eq(alert_str(a, "user.name"), "alice");
	cr_assert_str_eq(alert_str(a, "keyhole.attribution.session_audit_id"), "id-alice");
	cr_assert_null(alert_get(a, "keyhole.attribution.candidates"));
}

Test(node_attribution, audit_id_session_waits_for_its_own_request)
{
	struct node_session s = sess(2, "api-0", 0, "id-late");

	feed_exec(&s, 0, "id");
	feed_exec_request("id-other", "bob", 100); /* fits by time, but not its ID */
	read_alerts();
	cr_assert_eq(al.n, 0, "paired with a request that is not its own");
	feed_exec_request("id-late", "alice", 800);
	read_alerts();
	cr_assert_str_eq(method(only("node-container-exec")), "audit-id");
	cr_assert_str_eq(alert_str(only("node-container-exec"), "user.name"), "alice");
}

Test(node_attribution, audit_id_never_logged_falls_back_to_time_at_the_end_of_the_wait)
{
	struct node_session s = sess(3, "api-0", 0, "id-missing");
	json_object *a;

	feed_exec_request("id-bob", "bob", 100);
	feed_exec(&s, 0, "id");
	feed_other(5100);
	read_alerts();
	a = only("node-container-exec");
	cr_assert_str_eq(method(a), "unique-match");
	cr_assert_str_eq(alert_str(a, "user.name"), "bob");
	cr_assert(json_object_get_boolean(
	    alert_get(a, "keyhole.attribution.session_audit_id_unmatched")));
}

Test(node_attribution, audit_id_of_another_pods_request_does_not_pair_by_it)
{
	struct node_session s = sess(4, "api-0", 0, "id-elsewhere");
	json_object *a;

	feed_request("get", "exec", "id-elsewhere", "alice", "db-0", 0);
	feed_exec(&s, 0, "id");
	pipeline__flush(p);
	read_alerts();
	a = only("node-container-exec");
	cr_assert_str_eq(method(a), "none");
	cr_assert_null(alert_get(a, "user.name"));
	cr_assert(json_object_get_boolean(
	    alert_get(a, "keyhole.attribution.session_audit_id_unmatched")));
	/* an auditID that accounts for nothing does not hide the exec from the new rule */
	cr_assert_str_eq(alert_str(only("node-exec-without-audit"), "keyhole.exec_path.via"),
			 "node");
}

Test(node_attribution, unique_and_ambiguous_matches)
{
	struct node_session a = sess(5, "api-0", 1000, NULL), b = sess(6, "api-0", 1200, NULL);
	struct node_session c = sess(7, "api-1", 1000, NULL);
	json_object *x;

	feed_exec_request("id-1", "alice", 900);
	feed_exec_request("id-2", "bob", 1150);
	feed_request("get", "exec", "id-3", "carol", "api-1", 950);
	feed_exec(&a, 1000, "id");
	feed_exec(&b, 1200, "id");
	feed_exec(&c, 1000, "id");
	read_alerts();
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 3);
	x = alert_lines__nth(&al, "node-container-exec", 0);
	cr_assert_str_eq(method(x), "ambiguous");
	cr_assert_eq(json_object_get_int(alert_get(x, "keyhole.attribution.candidates_count")), 2);
	cr_assert_str_eq(nth(x, "keyhole.attribution.candidates", 0), "id-1"); /* nearest first */
	cr_assert_str_eq(nth(x, "keyhole.attribution.candidates", 1), "id-2");
	cr_assert_str_eq(alert_str(x, "user.name"), "alice");
	x = alert_lines__nth(&al, "node-container-exec", 1);
	cr_assert_str_eq(method(x), "ambiguous");
	cr_assert_str_eq(alert_str(x, "user.name"), "bob");
	x = alert_lines__nth(&al, "node-container-exec", 2);
	cr_assert_str_eq(method(x), "unique-match");
	cr_assert_str_eq(alert_str(x, "user.name"), "carol");
	cr_assert_str_eq(alert_str(x, "keyhole.exec_request.subresource"), "exec");
}

Test(node_attribution, attach_counts_as_the_request)
{
	struct node_session s = sess(8, "api-0", 500, NULL);
	json_object *a;

	feed_request("create", "attach", "id-attach", "alice", "api-0", 400);
	feed_exec(&s, 500, "id");
	pipeline__flush(p);
	read_alerts();
	a = only("node-container-exec");
	cr_assert_str_eq(method(a), "unique-match");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_request.subresource"), "attach");
	cr_assert_eq(alert_lines__count(&al, "node-exec-without-audit"), 0);
}

Test(node_attribution, without_audit_waits_the_whole_window)
{
	struct node_session s = sess(9, "api-0", 0, NULL);
	json_object *a;

	s.n_ancestors = 2;
	s.anc[0] = (struct node_ancestor){.pid = 900,
					  .loginuid = KH_NODE_LOGINUID_UNSET,
					  .sessionid = KH_NODE_LOGINUID_UNSET,
					  .comm = "runc"};
	snprintf(s.anc[0].cmdline, sizeof(s.anc[0].cmdline), "runc exec -t abc sh");
	s.anc[1] =
	    (struct node_ancestor){.pid = 800, .loginuid = 1000, .sessionid = 7, .comm = "bash"};
	feed_exec(&s, 0, "id");
	feed_other(29000);
	read_alerts();
	cr_assert_eq(alert_lines__count(&al, "node-exec-without-audit"), 0, "inside the window");
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 1, "5 s wait is over");
	feed_other(30100);
	read_alerts();
	a = only("node-exec-without-audit");
	cr_assert_str_eq(alert_str(a, "rule.severity"), "high");
	cr_assert_str_eq(nth(a, "threat.technique.id", 0), "T1609");
	cr_assert_str_eq(method(a), "none");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_path.via"), "node");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_session.origin"), "login-session");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_session.parents.0.name"), "runc");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_session.parents.0.command_line"),
			 "runc exec -t abc sh");
	cr_assert_eq(json_object_get_int(alert_get(a, "keyhole.exec_session.parents.1.login_uid")),
		     1000);
}

Test(node_attribution, without_audit_names_the_nodes_proxy_user)
{
	struct node_session s = sess(10, "api-0", 1000, NULL);
	json_object *a;

	feed_proxy("id-metrics", "metrics/cadvisor", 900); /* runs nothing in a pod */
	feed_proxy("id-proxy", "exec/payments/api-0/api?command=sh", 950);
	feed_exec(&s, 1000, "id");
	pipeline__flush(p);
	read_alerts();
	a = only("node-exec-without-audit");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_path.via"), "kubelet-proxy");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_path.kubelet_proxy.user"), "eve");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_path.kubelet_proxy.auditID"), "id-proxy");
	cr_assert_str_eq(alert_str(a, "user.name"), "eve");
	cr_assert_str_eq(nth(a, "evidence.audit_ids", 0), "id-proxy");
	/* a nodes/proxy request is no pods/exec request for the other rules */
	cr_assert_null(alert_get(only("node-container-exec"), "user.name"));
}

Test(node_attribution, proxy_into_another_pod_is_not_named)
{
	struct node_session s = sess(11, "api-0", 1000, NULL);

	feed_proxy("id-proxy", "exec/payments/db-0/db?command=sh", 950);
	feed_exec(&s, 1000, "id");
	pipeline__flush(p);
	read_alerts();
	cr_assert_str_eq(alert_str(only("node-exec-without-audit"), "keyhole.exec_path.via"),
			 "node");
}

Test(node_attribution, without_audit_counts_repeats_like_exec_probes)
{
	struct node_session s[3];

	for (int i = 0; i < 3; i++)
		s[i] = sess(20 + i, "api-0", i * 10000, NULL);
	feed_exec(&s[0], 0, "/bin/probe");
	feed_exec(&s[1], 10000, "/bin/probe");
	feed_exec(&s[2], 20000, "cat token");
	pipeline__flush(p);
	read_alerts();
	cr_assert_eq(alert_lines__count(&al, "node-exec-without-audit"), 2);
}

Test(node_attribution, window_from_the_config_file)
{
	static const char yaml[] = "rules:\n  node-exec-without-audit:\n    window: 2s\n";
	struct kh_config *cfg;
	struct kh_config_error err;
	struct kh_pipeline_opts o = {0};
	struct node_session s = sess(30, "api-0", 0, NULL);

	cr_assert_eq(config__load_buf(yaml, sizeof(yaml) - 1, "test.yaml", rules__config_schema(),
				      &cfg, &err),
		     0, "%s", err.msg);
	pipeline__free(p);
	o.out = out;
	o.cfg = cfg;
	p = pipeline__new(&o);
	cr_assert(p);
	feed_exec(&s, 0, "id");
	feed_other(2100);
	read_alerts();
	cr_assert_eq(alert_lines__count(&al, "node-exec-without-audit"), 1);
	pipeline__free(p);
	p = NULL;
	config__free(cfg);
}

Test(node_attribution, debug_container_pairs_with_its_ephemeral_container_patch)
{
	struct node_session d = sess(40, "api-0", 1000, NULL), e = sess(41, "api-0", 1100, NULL);
	json_object *a;

	d.new_container = true;
	feed_request("patch", "ephemeralcontainers", "id-debug", "alice", "api-0", 900);
	feed_exec(&d, 1000, "sh");
	feed_exec(&e, 1100, "sh"); /* an exec: the patch is not its request */
	pipeline__flush(p);
	read_alerts();
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 2);
	a = alert_lines__nth(&al, "node-container-exec", 0);
	cr_assert_str_eq(alert_str(a, "keyhole.exec_session.kind"), "debug-container");
	cr_assert_str_eq(method(a), "unique-match");
	cr_assert_str_eq(alert_str(a, "user.name"), "alice");
	a = alert_lines__nth(&al, "node-container-exec", 1);
	cr_assert_str_eq(method(a), "none");
	cr_assert_eq(alert_lines__count(&al, "node-exec-without-audit"), 1);
}

/* a pods/@sub request of alice's for api-0 at T0 + @ms, at @stage (stamped @stage_ms) */
static void feed_staged(const char *sub, const char *id, const char *stage, long ms, long stage_ms)
{
	char line[2048], ts[64], sts[64];
	struct kh_origin o = {.source = "test", .line_no = 1};

	stamp(ts, sizeof(ts), ms);
	stamp(sts, sizeof(sts), stage_ms);
	snprintf(
	    line, sizeof(line),
	    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
	    "\"auditID\":\"%s\",\"stage\":\"%s\",\"requestURI\":"
	    "\"/api/v1/namespaces/payments/pods/api-0/%s?container=api\\u0026stdin=true\","
	    "\"verb\":\"create\",\"user\":{\"username\":\"alice\"},\"sourceIPs\":"
	    "[\"203.0.113.9\"],\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"payments\","
	    "\"name\":\"api-0\",\"apiVersion\":\"v1\",\"subresource\":\"%s\"},"
	    "\"requestReceivedTimestamp\":\"%s\",\"stageTimestamp\":\"%s\"}",
	    id, stage, sub, sub, ts, sts);
	cr_assert_eq(pipeline__feed_line(p, line, strlen(line), &o), 0);
}

Test(node_attribution, attach_session_pairs_only_with_an_attach)
{
	struct node_session s = sess(50, "api-0", 1000, NULL);
	json_object *a;

	s.attach = true;
	feed_exec_request("id-exec", "bob", 990); /* nearer, but an exec starts a process */
	feed_staged("attach", "id-attach", "ResponseStarted", 500, 500);
	feed_exec(&s, 1000, "sh");
	pipeline__flush(p);
	read_alerts();
	a = only("node-container-exec");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_session.kind"), "attach");
	cr_assert_str_eq(method(a), "unique-match");
	cr_assert_str_eq(alert_str(a, "kubernetes.audit.auditID"), "id-attach");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_request.subresource"), "attach");
	cr_assert_eq(alert_lines__count(&al, "node-exec-without-audit"), 0);
}

Test(node_attribution, attach_input_minutes_after_the_attach_still_pairs)
{
	struct node_session s = sess(51, "api-0", 300000, NULL); /* typed 5 min after attaching */

	s.attach = true;
	feed_staged("attach", "id-attach", "ResponseStarted", 0, 0);
	feed_exec(&s, 300000, "sh");
	pipeline__flush(p);
	read_alerts();
	cr_assert_str_eq(alert_str(only("node-container-exec"), "kubernetes.audit.auditID"),
			 "id-attach");
	cr_assert_eq(alert_lines__count(&al, "node-exec-without-audit"), 0);
}

Test(node_attribution, attach_that_ended_or_is_too_old_does_not_pair)
{
	struct node_session s = sess(52, "api-0", 300000, NULL);
	struct node_session t = sess(53, "api-0", 1300000, NULL);

	s.attach = t.attach = true;
	/* an attach whose stream ended 4 min before the input */
	feed_staged("attach", "id-ended", "ResponseStarted", 0, 0);
	feed_staged("attach", "id-ended", "ResponseComplete", 0, 60000);
	feed_exec(&s, 300000, "sh");
	/* an attach 11 min before the input, still streaming */
	feed_staged("attach", "id-old", "ResponseStarted", 640000, 640000);
	feed_exec(&t, 1300000, "bash"); /* not a repeat of the first */
	pipeline__flush(p);
	read_alerts();
	cr_assert_eq(alert_lines__count(&al, "node-exec-without-audit"), 2);
	for (size_t i = 0; i < 2; i++)
		cr_assert_str_eq(method(alert_lines__nth(&al, "node-container-exec", i)), "none");
}

/* the sessions one reader opens after input gaps (node.attach_idle) share the attach's request */
Test(node_attribution, attach_sessions_after_a_gap_share_a_streaming_attach)
{
	struct node_session s = sess(55, "api-0", 1000, NULL);
	struct node_session t = sess(56, "api-0", 400000, NULL); /* input again 6.6 min later */
	struct node_session u = sess(57, "api-0", 401000, NULL);

	s.attach = t.attach = true;
	feed_staged("attach", "id-attach", "ResponseStarted", 500, 500);
	feed_exec(&s, 1000, "sh");
	feed_exec(&t, 400000, "cat");
	feed_exec(&u, 401000, "ls"); /* an exec does not take what attach sessions share */
	pipeline__flush(p);
	read_alerts();
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 3);
	for (size_t i = 0; i < 2; i++) {
		json_object *a = alert_lines__nth(&al, "node-container-exec", i);

		cr_assert_str_eq(alert_str(a, "kubernetes.audit.auditID"), "id-attach");
		cr_assert_str_eq(method(a), "unique-match");
	}
	cr_assert_str_eq(method(alert_lines__nth(&al, "node-container-exec", 2)), "none");
	cr_assert_eq(alert_lines__count(&al, "node-exec-without-audit"), 1);
}

Test(node_attribution, exec_session_does_not_pair_with_an_attach_from_minutes_ago)
{
	struct node_session s = sess(54, "api-0", 300000, NULL);

	feed_staged("attach", "id-attach", "ResponseStarted", 0, 0);
	feed_exec(&s, 300000, "sh");
	pipeline__flush(p);
	read_alerts();
	cr_assert_str_eq(method(only("node-container-exec")), "none");
}

/* a pipeline configured by @yaml (replacing the suite's); the caller frees the returned config */
static struct kh_config *reconfigure(const char *yaml)
{
	struct kh_config *cfg;
	struct kh_config_error err;
	struct kh_pipeline_opts o = {0};

	cr_assert_eq(config__load_buf(yaml, strlen(yaml), "test.yaml", rules__config_schema(), &cfg,
				      &err),
		     0, "%s", err.msg);
	pipeline__free(p);
	o.out = out;
	o.cfg = cfg;
	p = pipeline__new(&o);
	cr_assert(p);
	return cfg;
}

static void feed_argv(const struct node_session *s, long ms, const char *const *argv)
{
	struct node_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = NODE_EV_EXEC;
	ev.time_ns = T0 * SEC + ms * 1000000ll;
	ev.session = s;
	ev.proc.pid = s->leader_pid;
	snprintf(ev.proc.comm, sizeof(ev.proc.comm), "%s", argv[0]);
	ev.session_start = true;
	ev.exe = argv[0];
	while (argv[ev.argc])
		ev.argv[ev.argc] = argv[ev.argc], ev.argc++;
	ev.argc_total = ev.argc;
	cr_assert_eq(pipeline__feed_node_event(p, &ev), 0);
}

Test(node_attribution, allowlisted_probe_is_counted_not_alerted)
{
	static const char yaml[] =
	    "rules:\n"
	    "  node-exec-without-audit:\n"
	    "    repeat_window: 0s\n"
	    "    probe_commands: [\"cat /tmp/healthy\", \"/bin/grpc_health_probe -addr=:8080\"]\n"
	    "  node-container-exec:\n"
	    "    repeat_window: 0s\n"
	    "    probe_commands: [\"cat /tmp/healthy\"]\n";
	static const char *const probe[] = {"cat", "/tmp/healthy", NULL};
	static const char *const grpc[] = {"/bin/grpc_health_probe", "-addr=:8080", NULL};
	static const char *const other_args[] = {"cat", "/var/run/secrets/token", NULL};
	static const char *const more_args[] = {"cat", "/tmp/healthy", "/etc/shadow", NULL};
	struct kh_config *cfg = reconfigure(yaml);
	struct node_session s[6];
	json_object *a;

	for (int i = 0; i < 6; i++)
		s[i] = sess(60 + i, "api-0", i * 1000, NULL);
	/* someone logged in to the node ran the probe's command by hand */
	s[4].anc[0] =
	    (struct node_ancestor){.pid = 800, .loginuid = 1000, .sessionid = 3, .comm = "bash"};
	s[4].n_ancestors = 1;
	s[5].attach = true; /* typed into an attached stdin, not run by the kubelet */
	feed_argv(&s[0], 0, probe);
	feed_argv(&s[1], 1000, grpc);
	feed_argv(&s[2], 2000, other_args);
	feed_argv(&s[3], 3000, more_args);
	feed_argv(&s[4], 4000, probe);
	feed_argv(&s[5], 5000, probe);
	pipeline__flush(p);
	read_alerts();
	/* the same command with other or more arguments, by hand, or attached: alerted */
	cr_assert_eq(alert_lines__count(&al, "node-exec-without-audit"), 4);
	a = alert_lines__nth(&al, "node-exec-without-audit", 0);
	cr_assert_str_eq(alert_str(a, "process.args.1"), "/var/run/secrets/token");
	a = alert_lines__nth(&al, "node-exec-without-audit", 1);
	cr_assert_str_eq(alert_str(a, "process.args.2"), "/etc/shadow");
	/* each rule has its own list: grpc is allowlisted for one only */
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 5);
	/* counted, where /metrics shows it */
	{
		struct kh_metrics *m = metrics__new();
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		cr_assert(m && f);
		cr_assert_eq(metrics__add_rules(m, pipeline__rules(p)), 0);
		cr_assert_eq(metrics__render(m, f), 0);
		fclose(f);
		cr_assert_not_null(strstr(text, "\nkeyhole_exec_probes_allowed_total{rule=\""
						"node-exec-without-audit\"} 2\n"),
				   "%s", text);
		cr_assert_not_null(strstr(text, "\nkeyhole_exec_probes_allowed_total{rule=\""
						"node-container-exec\"} 1\n"));
		free(text);
		metrics__free(m);
	}
	pipeline__free(p);
	p = NULL;
	config__free(cfg);
}

Test(node_attribution, probe_allowlist_does_not_hide_a_request_or_a_proxy)
{
	static const char yaml[] = "rules:\n"
				   "  node-exec-without-audit:\n"
				   "    probe_commands: [\"cat /tmp/healthy\"]\n"
				   "  node-container-exec:\n"
				   "    probe_commands: [\"cat /tmp/healthy\"]\n";
	static const char *const probe[] = {"cat", "/tmp/healthy", NULL};
	struct kh_config *cfg = reconfigure(yaml);
	struct node_session a = sess(70, "api-0", 1000, NULL), b = sess(71, "api-1", 1000, NULL);

	feed_exec_request("id-1", "alice", 900);
	feed_proxy("id-proxy", "exec/payments/api-1/api?command=cat", 950);
	feed_argv(&a, 1000, probe);
	feed_argv(&b, 1000, probe);
	pipeline__flush(p);
	read_alerts();
	/* alice's exec is alerted with her name; the proxied one by the rule, naming eve */
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 1);
	cr_assert_str_eq(alert_str(alert_lines__nth(&al, "node-container-exec", 0), "user.name"),
			 "alice");
	cr_assert_str_eq(alert_str(only("node-exec-without-audit"), "keyhole.exec_path.via"),
			 "kubelet-proxy");
	pipeline__free(p);
	p = NULL;
	config__free(cfg);
}

/* one session in api-0 after a nodes/proxy exec into it through node n1; its exec_path.via */
static const char *via_after_proxy_on_n1(const char *yaml)
{
	struct kh_config *cfg = reconfigure(yaml);
	struct node_session s = sess(80, "api-0", 1000, NULL);
	static char via[32];

	/* a fresh output for each configuration */
	fflush(out);
	cr_assert_eq(ftruncate(fileno(out), 0), 0);
	rewind(out);
	feed_proxy("id-proxy", "exec/payments/api-0/api?command=sh", 950);
	feed_exec(&s, 1000, "id");
	pipeline__flush(p);
	read_alerts();
	snprintf(via, sizeof(via), "%s",
		 alert_str(only("node-exec-without-audit"), "keyhole.exec_path.via"));
	pipeline__free(p);
	p = NULL;
	config__free(cfg);
	return via;
}

Test(node_attribution, nodes_proxy_through_another_node_is_not_taken)
{
	cr_assert_str_eq(
	    via_after_proxy_on_n1("rules:\n  node-exec-without-audit:\n    node_name: n2\n"),
	    "node");
	cr_assert_str_eq(
	    via_after_proxy_on_n1("rules:\n  node-exec-without-audit:\n    node_name: n1\n"),
	    "kubelet-proxy");
	/* the cluster's node name when the rule names none */
	cr_assert_str_eq(via_after_proxy_on_n1("cluster:\n  node_name: n2\n"), "node");
}

Test(node_attribution, attach_session_outside_a_pod_is_not_reported)
{
	struct node_session s = sess(90, "api-0", 1000, NULL);

	s.attach = true;
	s.who.pod_uid[0] = s.who.pod_namespace[0] = s.who.pod_name[0] = 0;
	s.who.container_id[0] = 0;
	feed_exec(&s, 1000, "bash");
	pipeline__flush(p);
	read_alerts();
	cr_assert_eq(al.n, 0, "%zu alerts for a terminal read in an unshared pid namespace", al.n);
}
