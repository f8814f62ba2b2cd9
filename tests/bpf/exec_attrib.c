// SPDX-License-Identifier: Apache-2.0
/*
 * Exec attribution end to end (issue 15) with a real runc container dressed as a pod: the exec
 * watch reads KUBERNETES_EXEC_AUDIT_ID from the exec'd process's environment in the kernel, the
 * join pairs the session with the audit line of that auditID, and node-exec-without-audit fires
 * for a session no request accounts for.
 *  (a) runc exec --env KUBERNETES_EXEC_AUDIT_ID=<id>, two requests in the pod: the one of that
 *      auditID is named (attribution audit-id), not the nearer one;
 *  (b) two overlapping execs into one container from two users: exact with the variable,
 *  (c) ambiguous without it (both candidates listed);
 *  (d) a runc exec with no audit line: node-exec-without-audit, naming the parent chain (runc's
 *      command line, this test process);
 *  (e) a nodes/proxy request running a command in the pod, then a runc exec: the rule names the
 *      proxy's user and says the exec came through the kubelet proxy;
 *  (f) the variable behind more environment than the scan reads: not found, the cut reported
 *      and counted;
 *  (g) a second container started in the running one's pid, network and ipc namespaces, as
 *      kubectl debug --target does, after its ephemeral-container patch: a session of kind
 *      debug-container attributed to the patch's user, its secret read caught;
 *  (h) the same container without the patch (as a pod with shareProcessNamespace starts its
 *      containers): counted, not alerted.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <bpf/libbpf.h>

#include "bpf_need.h"
#include "alert_lines.h"
#include "keyhole/exec_watch.h"
#include "keyhole/pipeline.h"
#include "keyhole/node_source.h"
#include "runc_pod.h"

#define TOKEN "/var/run/secrets/kubernetes.io/serviceaccount/token"
#define ID_ALICE "3e1f6a0c-1111-4a2b-9c3d-a11ce0000001"
#define ID_BOB "7b2d9e4f-2222-4c5d-8e6f-b0b000000002"
#define ID_EVE "c4e5f6a7-3333-4d8e-9f01-e7e000000003"
#define ENV_ALICE "KUBERNETES_EXEC_AUDIT_ID=" ID_ALICE
#define ENV_BOB "KUBERNETES_EXEC_AUDIT_ID=" ID_BOB

static struct exec_watch *w;
static struct ring_buffer *rb;
static struct runc_pod pod;
static struct kh_pipeline *p;
static struct node_source *src;
static FILE *out;
static struct alert_lines al;

static void need(const char *why)
{
	bpf_need("exec_attrib", why);
}

static void drain(int ms)
{
	for (int i = 0; i < ms / 20; i++)
		ring_buffer__poll(rb, 20);
}

/* the alerts about this test's container only (the exec watch sees the whole machine) */
static void read_ours(void)
{
	size_t k = 0;

	alert_lines__free(&al);
	alert_lines__read(&al, out);
	for (size_t i = 0; i < al.n; i++) {
		const char *cid = alert_str(al.v[i], "container.id");

		if (cid &&
		    (!strcmp(cid, pod.id) || (pod.debug_id[0] && !strcmp(cid, pod.debug_id))))
			al.v[k++] = al.v[i];
		else
			json_object_put(al.v[i]);
	}
	al.n = k;
}

/* drain the ring, end every wait for a request, read */
static void alerts_final(void)
{
	drain(300);
	pipeline__flush(p);
	read_ours();
}

#define INIT_SCRIPT "touch /shared/init-done; exec sleep 3600"

static void setup(void)
{
	static char why[256];
	struct kh_pipeline_opts po = {0};
	struct node_decode_opts no = {0};

	need(runc_pod__unavailable());
	int err = exec_watch__new(NULL, &w);

	if (err) {
		snprintf(why, sizeof(why), "exec watch did not load: %s", strerror(-err));
		need(why);
	}
	out = tmpfile();
	cr_assert(out);
	po.out = out;
	p = pipeline__new(&po);
	cr_assert(p);
	cr_assert_eq(runc_pod__start(&pod, INIT_SCRIPT), 0, "container did not start");
	no.pods_log_dir = pod.pods_log_dir;
	no.containers_log_dir = pod.containers_log_dir;
	src = node_source__new(p, &no);
	cr_assert(src);
	rb = ring_buffer__new(exec_watch__ring_fd(w), node_source__on_record, src, NULL);
	cr_assert(rb);
	cr_assert(runc_pod__wait_file(&pod, "init-done", 10000), "container init did not run");
	drain(200);
}

static void teardown(void)
{
	runc_pod__stop(&pod);
	ring_buffer__free(rb);
	node_source__free(src);
	pipeline__free(p);
	exec_watch__free(w);
	if (out)
		fclose(out);
	alert_lines__free(&al);
	rb = NULL;
	src = NULL;
	p = NULL;
	w = NULL;
	out = NULL;
}

TestSuite(exec_attrib, .init = setup, .fini = teardown, .timeout = 150);

static void now_ts(char *ts, size_t size)
{
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000);
}

static void feed(const char *line)
{
	struct kh_origin o = {.source = "test-audit", .line_no = 1};

	cr_assert_eq(pipeline__feed_line(p, line, strlen(line), &o), 0);
	cr_assert_eq(pipeline__counters(p)->parsed, pipeline__counters(p)->lines);
}

/* a pods/exec request of @user for this pod, stamped now */
static void feed_exec_request(const char *audit_id, const char *user)
{
	char line[4096], ts[64];

	now_ts(ts, sizeof(ts));
	snprintf(
	    line, sizeof(line),
	    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
	    "\"auditID\":\"%s\",\"stage\":\"ResponseStarted\",\"requestURI\":"
	    "\"/api/v1/namespaces/%s/pods/%s/exec?command=sh\\u0026container=%s"
	    "\\u0026stdin=true\\u0026tty=true\",\"verb\":\"get\",\"user\":{\"username\":\"%s\","
	    "\"groups\":[\"system:authenticated\"]},\"sourceIPs\":[\"198.51.100.7\"],"
	    "\"userAgent\":\"kubectl/v1.34.1 (linux/amd64) kubernetes/abc\",\"objectRef\":"
	    "{\"resource\":\"pods\",\"namespace\":\"%s\",\"name\":\"%s\",\"apiVersion\":\"v1\","
	    "\"subresource\":\"exec\"},\"responseStatus\":{\"code\":101},"
	    "\"requestReceivedTimestamp\":\"%s\",\"stageTimestamp\":\"%s\"}",
	    audit_id, pod.ns, pod.pod, pod.container, user, pod.ns, pod.pod, ts, ts);
	feed(line);
}

/* eve's nodes/proxy request that runs `id` in this pod through the kubelet API, stamped now */
static void feed_proxy_request(void)
{
	char line[4096], ts[64];

	now_ts(ts, sizeof(ts));
	snprintf(
	    line, sizeof(line),
	    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
	    "\"auditID\":\"" ID_EVE "\",\"stage\":\"ResponseStarted\",\"requestURI\":"
	    "\"/api/v1/nodes/node-1/proxy/exec/%s/%s/%s?command=id\\u0026output=1\","
	    "\"verb\":\"get\",\"user\":{\"username\":\"eve@example.com\",\"groups\":"
	    "[\"system:authenticated\"]},\"sourceIPs\":[\"203.0.113.66\"],\"userAgent\":"
	    "\"websocat/1.13\",\"objectRef\":{\"resource\":\"nodes\",\"name\":\"node-1\","
	    "\"apiVersion\":\"v1\",\"subresource\":\"proxy\"},\"responseStatus\":{\"code\":101},"
	    "\"requestReceivedTimestamp\":\"%s\",\"stageTimestamp\":\"%s\"}",
	    pod.ns, pod.pod, pod.container, ts, ts);
	feed(line);
}

static const char *nth_str(json_object *a, const char *path, size_t i)
{
	json_object *v = alert_get(a, path);

	if (!v || !json_object_is_type(v, json_type_array) || i >= json_object_array_length(v))
		return NULL;
	return json_object_get_string(json_object_array_get_idx(v, i));
}

static json_object *only(const char *rule)
{
	cr_assert_eq(alert_lines__count(&al, rule), 1, "%zu %s alerts, want 1",
		     alert_lines__count(&al, rule), rule);
	return alert_lines__nth(&al, rule, 0);
}

static void expect_exact(json_object *a, const char *audit_id, const char *user)
{
	cr_assert_str_eq(alert_str(a, "keyhole.attribution.method"), "audit-id");
	cr_assert_str_eq(alert_str(a, "keyhole.attribution.session_audit_id"), audit_id);
	cr_assert_str_eq(alert_str(a, "kubernetes.audit.auditID"), audit_id);
	cr_assert_str_eq(alert_str(a, "user.name"), user);
	cr_assert_str_eq(alert_str(a, "source.ip"), "198.51.100.7");
	cr_assert_str_eq(alert_str(a, "orchestrator.resource.name"), pod.pod);
}

Test(exec_attrib, a_audit_id_names_its_request_not_the_nearest)
{
	const char *env[] = {ENV_ALICE, NULL};

	feed_exec_request(ID_ALICE, "alice@example.com");
	feed_exec_request(ID_BOB, "bob@example.com"); /* later, so nearer the session */
	cr_assert_eq(runc_pod__exec_env(&pod, env, "cat " TOKEN " >/dev/null"), 0);
	drain(300);
	read_ours(); /* exact: out at once, no flush needed */
	expect_exact(only("node-container-exec"), ID_ALICE, "alice@example.com");
	expect_exact(only("node-secret-read-in-exec"), ID_ALICE, "alice@example.com");
	alerts_final();
	cr_assert_eq(alert_lines__count(&al, "node-exec-without-audit"), 0);
}

/* two execs at once, each `sleep 1` so they overlap, then read the token */
static void two_overlapping_execs(const char *const *env_a, const char *const *env_b)
{
	pid_t kids[2];
	const char *const *envs[2] = {env_a, env_b};
	int st;

	for (int i = 0; i < 2; i++) {
		kids[i] = fork();
		cr_assert_geq(kids[i], 0);
		if (kids[i] == 0)
			_exit(
			    runc_pod__exec_env(&pod, envs[i], "sleep 1; cat " TOKEN " >/dev/null"));
	}
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(waitpid(kids[i], &st, 0), kids[i]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "runc exec %d failed", i);
	}
	alerts_final();
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 2);
	cr_assert_eq(alert_lines__count(&al, "node-secret-read-in-exec"), 2);
	cr_assert_eq(alert_lines__count(&al, "node-exec-without-audit"), 0);
}

Test(exec_attrib, b_two_overlapping_execs_are_exact_with_the_variable)
{
	const char *env_a[] = {ENV_ALICE, NULL}, *env_b[] = {ENV_BOB, NULL};
	bool seen_alice = false, seen_bob = false;

	feed_exec_request(ID_ALICE, "alice@example.com");
	feed_exec_request(ID_BOB, "bob@example.com");
	two_overlapping_execs(env_a, env_b);
	for (size_t i = 0; i < al.n; i++) {
		json_object *a = al.v[i];
		const char *id = alert_str(a, "keyhole.attribution.session_audit_id");

		cr_assert_not_null(id);
		if (!strcmp(id, ID_ALICE)) {
			expect_exact(a, ID_ALICE, "alice@example.com");
			seen_alice = true;
		} else {
			expect_exact(a, ID_BOB, "bob@example.com");
			seen_bob = true;
		}
	}
	cr_assert(seen_alice && seen_bob);
}

Test(exec_attrib, c_two_overlapping_execs_are_ambiguous_without_it)
{
	feed_exec_request(ID_ALICE, "alice@example.com");
	feed_exec_request(ID_BOB, "bob@example.com");
	two_overlapping_execs(NULL, NULL);
	for (size_t i = 0; i < al.n; i++) {
		json_object *a = al.v[i];
		const char *c0 = nth_str(a, "keyhole.attribution.candidates", 0);
		const char *c1 = nth_str(a, "keyhole.attribution.candidates", 1);

		cr_assert_str_eq(alert_str(a, "keyhole.attribution.method"), "ambiguous");
		cr_assert_null(alert_get(a, "keyhole.attribution.session_audit_id"));
		cr_assert_eq(
		    json_object_get_int(alert_get(a, "keyhole.attribution.candidates_count")), 2);
		cr_assert(c0 && c1);
		cr_assert((!strcmp(c0, ID_ALICE) && !strcmp(c1, ID_BOB)) ||
			  (!strcmp(c0, ID_BOB) && !strcmp(c1, ID_ALICE)));
	}
	/* the two sessions were given different requests */
	cr_assert_str_neq(
	    alert_str(alert_lines__nth(&al, "node-container-exec", 0), "kubernetes.audit.auditID"),
	    alert_str(alert_lines__nth(&al, "node-container-exec", 1), "kubernetes.audit.auditID"));
}

/* the parent whose name is @comm, or NULL */
static json_object *parent_named(json_object *a, const char *comm)
{
	json_object *ps = alert_get(a, "keyhole.exec_session.parents");

	for (size_t i = 0; ps && i < json_object_array_length(ps); i++) {
		json_object *e = json_object_array_get_idx(ps, i), *n;

		if (json_object_object_get_ex(e, "name", &n) &&
		    !strcmp(json_object_get_string(n), comm))
			return e;
	}
	return NULL;
}

Test(exec_attrib, d_exec_with_no_request_fires_naming_the_parent_chain)
{
	json_object *a, *runc, *me, *cl;
	char my_comm[32] = "";
	pid_t kid;
	int st;
	FILE *f = fopen("/proc/self/comm", "r");

	cr_assert(f);
	cr_assert(fgets(my_comm, sizeof(my_comm), f));
	fclose(f);
	my_comm[strcspn(my_comm, "\n")] = 0;
	/*
	 * the agent reads the parents' command lines when it decodes the session's start, which
	 * it does at once; here the ring is drained while runc still waits for its command
	 */
	kid = fork();
	cr_assert_geq(kid, 0);
	if (kid == 0)
		_exit(runc_pod__exec_env(&pod, NULL, "cat " TOKEN " >/dev/null; sleep 1"));
	drain(800);
	cr_assert_eq(waitpid(kid, &st, 0), kid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	alerts_final();
	a = only("node-exec-without-audit");
	cr_assert_str_eq(alert_str(a, "rule.severity"), "high");
	cr_assert_str_eq(alert_str(a, "keyhole.attribution.method"), "none");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_path.via"), "node");
	cr_assert_null(alert_get(a, "user.name"));
	cr_assert_str_eq(alert_str(a, "orchestrator.resource.name"), pod.pod);
	/* runc exec started it, and this test's child started runc */
	runc = parent_named(a, "runc");
	cr_assert_not_null(
	    runc, "no runc among the parents: %s",
	    json_object_to_json_string(alert_get(a, "keyhole.exec_session.parents")));
	cr_assert(json_object_object_get_ex(runc, "command_line", &cl));
	cr_assert(strstr(json_object_get_string(cl), " exec "));
	cr_assert(strstr(json_object_get_string(cl), pod.id));
	me = parent_named(a, my_comm);
	cr_assert_not_null(me, "the test process (%s) is not among the parents", my_comm);
	cr_assert_eq(json_object_get_int(json_object_object_get(me, "pid")), kid);
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 1);
}

Test(exec_attrib, e_nodes_proxy_request_then_exec_names_the_proxy_user)
{
	json_object *a;

	feed_proxy_request();
	cr_assert_eq(runc_pod__exec_env(&pod, NULL, "id >/dev/null"), 0);
	alerts_final();
	a = only("node-exec-without-audit");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_path.via"), "kubelet-proxy");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_path.kubelet_proxy.user"), "eve@example.com");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_path.kubelet_proxy.node"), "node-1");
	cr_assert_str_eq(alert_str(a, "user.name"), "eve@example.com");
	cr_assert_str_eq(alert_str(a, "source.ip"), "203.0.113.66");
	cr_assert_str_eq(nth_str(a, "evidence.audit_ids", 0), ID_EVE);
	/* node-container-exec does not take a nodes/proxy request for its own */
	cr_assert_str_eq(alert_str(only("node-container-exec"), "keyhole.attribution.method"),
			 "none");
}

Test(exec_attrib, f_variable_past_the_scan_bound_is_reported_as_cut)
{
	static char big[KH_NODE_ENV_SCAN_MAX + 2048];
	const char *env[] = {big, ENV_ALICE, NULL};
	uint64_t before[KH_EXEC_WATCH__NR], after[KH_EXEC_WATCH__NR];
	json_object *a;

	memcpy(big, "PADDING=", 8);
	memset(big + 8, 'x', sizeof(big) - 9);
	big[sizeof(big) - 1] = 0;
	cr_assert_eq(exec_watch__counters(w, before), 0);
	feed_exec_request(ID_ALICE, "alice@example.com");
	cr_assert_eq(runc_pod__exec_env(&pod, env, "true"), 0);
	alerts_final();
	a = only("node-container-exec");
	cr_assert(
	    json_object_get_boolean(alert_get(a, "keyhole.attribution.environment_scan_cut")));
	cr_assert_null(alert_get(a, "keyhole.attribution.session_audit_id"));
	/* the join falls back to pod and time */
	cr_assert_str_eq(alert_str(a, "keyhole.attribution.method"), "unique-match");
	cr_assert_eq(exec_watch__counters(w, after), 0);
	cr_assert_geq(after[KH_EXEC_WATCH_ENV_CUT], before[KH_EXEC_WATCH_ENV_CUT] + 1);
}

/* alice's patch of pods/ephemeralcontainers for this pod, stamped now */
static void feed_debug_request(void)
{
	char line[4096], ts[64];

	now_ts(ts, sizeof(ts));
	snprintf(line, sizeof(line),
		 "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
		 "\"auditID\":\"" ID_ALICE "\",\"stage\":\"ResponseComplete\",\"requestURI\":"
		 "\"/api/v1/namespaces/%s/pods/%s/ephemeralcontainers\",\"verb\":\"patch\","
		 "\"user\":{\"username\":\"alice@example.com\"},\"sourceIPs\":[\"198.51.100.7\"],"
		 "\"userAgent\":\"kubectl/v1.34.1\",\"objectRef\":{\"resource\":\"pods\","
		 "\"namespace\":\"%s\",\"name\":\"%s\",\"apiVersion\":\"v1\","
		 "\"subresource\":\"ephemeralcontainers\"},\"responseStatus\":{\"code\":200},"
		 "\"requestReceivedTimestamp\":\"%s\",\"stageTimestamp\":\"%s\"}",
		 pod.ns, pod.pod, pod.ns, pod.pod, ts, ts);
	feed(line);
}

#define DEBUG_SCRIPT "cat " TOKEN " >/dev/null; touch /shared/debug-done; exec sleep 3600"

Test(exec_attrib, g_debug_container_is_a_session_attributed_to_its_patch)
{
	json_object *a;

	feed_debug_request();
	cr_assert_eq(runc_pod__start_debug(&pod, "debugger-x7k2p", DEBUG_SCRIPT), 0);
	cr_assert(runc_pod__wait_file(&pod, "debug-done", 10000), "debug container did not run");
	alerts_final();
	a = only("node-container-exec");
	cr_assert_str_eq(alert_str(a, "container.id"), pod.debug_id);
	cr_assert_str_eq(alert_str(a, "container.name"), "debugger-x7k2p");
	cr_assert_str_eq(alert_str(a, "orchestrator.resource.name"), pod.pod);
	cr_assert_str_eq(alert_str(a, "keyhole.exec_session.kind"), "debug-container");
	cr_assert_str_eq(alert_str(a, "keyhole.attribution.method"), "unique-match");
	cr_assert_str_eq(alert_str(a, "user.name"), "alice@example.com");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_request.subresource"), "ephemeralcontainers");
	a = only("node-secret-read-in-exec");
	cr_assert_str_eq(alert_str(a, "file.path"), TOKEN);
	cr_assert_str_eq(alert_str(a, "user.name"), "alice@example.com");
	cr_assert_eq(alert_lines__count(&al, "node-exec-without-audit"), 0);
}

Test(exec_attrib, h_new_container_without_a_debug_request_is_counted_not_alerted)
{
	uint64_t sessions = node_source__stats(src)->sessions;

	cr_assert_eq(runc_pod__start_debug(&pod, "sidecar", DEBUG_SCRIPT), 0);
	cr_assert(runc_pod__wait_file(&pod, "debug-done", 10000), "second container did not run");
	alerts_final();
	/* seen as a session (the kernel tagged it), but no one asked for it through the API */
	cr_assert_gt(node_source__stats(src)->sessions, sessions);
	cr_assert_eq(al.n, 0, "%zu alerts for a container start", al.n);
}
