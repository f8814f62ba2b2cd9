// SPDX-License-Identifier: Apache-2.0
/*
 * The exec watch end to end with a real runc container dressed as a pod: BPF programs -> ring
 * buffer -> node_source (decode, pod identity from the cgroup path and a /var/log/pods-style dir
 * under the test root) -> pipeline -> rules -> alert JSON lines. Items (a)-(e) of issue 9:
 *  (a) runc exec of cat on the token: node-container-exec and node-secret-read-in-exec with the
 *      pod's identity;
 *  (b) the container's own init (and its children) reading the same file: nothing;
 *  (c) a descendant of an exec'd shell reading a secret-volume file: caught;
 *  (d) a host process reading files with the same paths: nothing;
 *  (e) with the matching pods/exec audit line fed in (verb get, verb create), the alerts name the
 *      Kubernetes user, source IP, user agent, auditID and the command from the requestURI.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bpf_need.h"
#include "alert_lines.h"
#include "keyhole/exec_watch.h"
#include "keyhole/pipeline.h"
#include "keyhole/node_source.h"
#include "runc_pod.h"

#define TOKEN "/var/run/secrets/kubernetes.io/serviceaccount/token"

static struct exec_watch *w;
static struct ring_buffer *rb;
static struct runc_pod pod;
static struct kh_pipeline *p;
static struct node_source *src;
static FILE *out;
static struct alert_lines al;

static void need(const char *why)
{
	bpf_need("exec_watch_alerts", why);
}

static void drain(int ms)
{
	for (int i = 0; i < ms / 20; i++)
		ring_buffer__poll(rb, 20);
}

/* everything the pipeline wrote so far, after ending every wait for a request */
/*
 * The alerts about this test's container or this test process and its children only: the exec
 * watch sees the whole machine, and other test runs (or real containers) may exec into theirs
 * meanwhile.
 */
static void read_ours(void)
{
	size_t k = 0;

	alert_lines__free(&al);
	alert_lines__read(&al, out);
	for (size_t i = 0; i < al.n; i++) {
		const char *cid = alert_str(al.v[i], "container.id");
		json_object *pid = alert_get(al.v[i], "process.pid");
		json_object *ppid = alert_get(al.v[i], "process.parent.pid");
		bool mine = (pid && json_object_get_int(pid) == getpid()) ||
			    (ppid && json_object_get_int(ppid) == getpid());

		if ((cid && !strcmp(cid, pod.id)) || mine)
			al.v[k++] = al.v[i];
		else
			json_object_put(al.v[i]);
	}
	al.n = k;
}

static void alerts_now(void)
{
	drain(300);
	pipeline__flush(p);
	read_ours();
}

#define INIT_SCRIPT                                                                                \
	"read t < " TOKEN "; cat " TOKEN " >/dev/null; cat /etc/db-creds/password >/dev/null; "    \
	"touch /shared/init-done; exec sleep 3600"

static void setup(void)
{
	static char why[256];
	int err;
	struct kh_pipeline_opts po = {0};
	struct node_decode_opts no = {0};

	need(runc_pod__unavailable());
	err = exec_watch__new(NULL, &w);
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

TestSuite(exec_watch_alerts, .init = setup, .fini = teardown, .timeout = 120);

static void expect_pod(json_object *a)
{
	cr_assert_str_eq(alert_str(a, "orchestrator.type"), "kubernetes");
	cr_assert_str_eq(alert_str(a, "orchestrator.namespace"), pod.ns);
	cr_assert_str_eq(alert_str(a, "orchestrator.resource.type"), "pod");
	cr_assert_str_eq(alert_str(a, "orchestrator.resource.name"), pod.pod);
	cr_assert_str_eq(alert_str(a, "orchestrator.resource.id"), pod.pod_uid);
	cr_assert_str_eq(alert_str(a, "container.id"), pod.id);
	cr_assert_str_eq(alert_str(a, "container.name"), pod.container);
}

static const char *arg(json_object *a, const char *path, size_t i)
{
	json_object *v = alert_get(a, path);

	if (!v || !json_object_is_type(v, json_type_array) || i >= json_object_array_length(v))
		return NULL;
	return json_object_get_string(json_object_array_get_idx(v, i));
}

Test(exec_watch_alerts, b_container_init_reading_secrets_is_silent)
{
	alerts_now();
	cr_assert_eq(al.n, 0, "%zu alerts from the container's own processes", al.n);
}

Test(exec_watch_alerts, a_runc_exec_cat_token_alerts_with_pod_identity)
{
	json_object *x, *s;

	cr_assert_eq(runc_pod__exec(&pod, "cat " TOKEN " >/dev/null"), 0);
	alerts_now();
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 1);
	cr_assert_eq(alert_lines__count(&al, "node-secret-read-in-exec"), 1);
	x = alert_lines__nth(&al, "node-container-exec", 0);
	s = alert_lines__nth(&al, "node-secret-read-in-exec", 0);
	expect_pod(x);
	expect_pod(s);
	cr_assert_str_eq(alert_str(x, "rule.severity"), "medium");
	cr_assert_str_eq(alert_str(x, "process.executable"), "/bin/sh");
	cr_assert_str_eq(arg(x, "process.args", 2), "cat " TOKEN " >/dev/null");
	cr_assert_str_eq(alert_str(s, "rule.severity"), "high");
	cr_assert_str_eq(alert_str(s, "file.path"), TOKEN);
	cr_assert_str_eq(alert_str(s, "process.name"), "cat");
	cr_assert_str_eq(alert_str(s, "keyhole.open.result"), "success");
	cr_assert_str_eq(alert_str(s, "keyhole.exec_session.id"),
			 alert_str(x, "keyhole.exec_session.id"));
	cr_assert_str_eq(alert_str(s, "keyhole.cgroup.path"), alert_str(x, "keyhole.cgroup.path"));
	/* no pods/exec request was fed: no user to name */
	cr_assert_null(alert_get(x, "user"));
}

Test(exec_watch_alerts, c_descendant_of_exec_shell_reading_secret_volume)
{
	json_object *s;

	cr_assert_eq(runc_pod__exec(&pod, "sh -c 'cat /etc/db-creds/password >/dev/null; true'"),
		     0);
	alerts_now();
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 1);
	cr_assert_eq(alert_lines__count(&al, "node-secret-read-in-exec"), 1);
	s = alert_lines__nth(&al, "node-secret-read-in-exec", 0);
	expect_pod(s);
	cr_assert_str_eq(alert_str(s, "file.path"), "/etc/db-creds/password");
	cr_assert_str_eq(arg(s, "keyhole.open.matched", 0), "volume_mount");
	cr_assert_neq(json_object_get_int(alert_get(s, "process.pid")),
		      json_object_get_int(alert_get(s, "process.session_leader.pid")),
		      "the reader is a descendant, not the exec'd shell");
}

Test(exec_watch_alerts, d_host_process_reading_same_paths_is_silent)
{
	char tok[512], sec[512];
	char *argv[] = {"/bin/cat", tok, sec, TOKEN, NULL};

	snprintf(tok, sizeof(tok), "%s/token", pod.token_dir);
	snprintf(sec, sizeof(sec), "%s/password", pod.secret_dir);
	kh_run(argv, true); /* the in-container path does not exist on the host: cat fails there */
	alerts_now();
	cr_assert_eq(al.n, 0, "%zu alerts from a host process", al.n);
}

/* a pods/exec audit line for this pod, stamped now, as the apiserver would write it */
static void feed_request(const char *verb, const char *audit_id, const char *uri_command)
{
	char line[4096], ts[64];
	struct timespec now;
	struct tm tm;
	struct kh_origin o = {.source = "test-audit", .line_no = 1};

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000);
	snprintf(line, sizeof(line),
		 "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
		 "\"auditID\":\"%s\",\"stage\":\"ResponseStarted\",\"requestURI\":"
		 "\"/api/v1/namespaces/%s/pods/%s/exec?%s\\u0026container=%s\\u0026stdout=true\","
		 "\"verb\":\"%s\",\"user\":{\"username\":\"mallory@example.com\",\"groups\":"
		 "[\"system:authenticated\"]},\"sourceIPs\":[\"198.51.100.23\"],\"userAgent\":"
		 "\"kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46\",\"objectRef\":{\"resource\":"
		 "\"pods\",\"namespace\":\"%s\",\"name\":\"%s\",\"apiVersion\":\"v1\","
		 "\"subresource\":\"exec\"},\"responseStatus\":{\"code\":101},"
		 "\"requestReceivedTimestamp\":\"%s\",\"stageTimestamp\":\"%s\",\"annotations\":"
		 "{\"authorization.k8s.io/decision\":\"allow\",\"authorization.k8s.io/reason\":"
		 "\"RBAC: allowed by ClusterRoleBinding \\\"debuggers\\\"\"}}",
		 audit_id, pod.ns, pod.pod, uri_command, pod.container, verb, pod.ns, pod.pod, ts,
		 ts);
	cr_assert_eq(pipeline__feed_line(p, line, strlen(line), &o), 0);
	cr_assert_eq(pipeline__counters(p)->parsed, pipeline__counters(p)->lines);
}

static void expect_requester(json_object *a, const char *audit_id)
{
	cr_assert_str_eq(alert_str(a, "user.name"), "mallory@example.com");
	cr_assert_str_eq(alert_str(a, "source.ip"), "198.51.100.23");
	cr_assert_str_eq(alert_str(a, "user_agent.original"),
			 "kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46");
	cr_assert_str_eq(alert_str(a, "kubernetes.audit.auditID"), audit_id);
	cr_assert_str_eq(arg(a, "evidence.audit_ids", 0), audit_id);
	cr_assert_str_eq(arg(a, "keyhole.exec_request.command", 0), "sh");
	cr_assert_str_eq(arg(a, "keyhole.exec_request.command", 1), "-c");
	cr_assert_str_eq(arg(a, "keyhole.exec_request.command", 2), "cat " TOKEN " >/dev/null");
	cr_assert_null(arg(a, "keyhole.exec_request.command", 3));
	expect_pod(a);
}

#define URI_CMD                                                                                    \
	"command=sh\\u0026command=-c\\u0026command=cat+%2Fvar%2Frun%2Fsecrets%2Fkubernetes.io"     \
	"%2Fserviceaccount%2Ftoken+%3E%2Fdev%2Fnull"

Test(exec_watch_alerts, e_request_verb_get_before_the_exec_names_user_and_command)
{
	feed_request("get", "5f0c1d2e-aaaa-4bbb-8ccc-0123456789ab", URI_CMD);
	cr_assert_eq(runc_pod__exec(&pod, "cat " TOKEN " >/dev/null"), 0);
	drain(300);
	/* joined at once, before any flush: the request was already there */
	read_ours();
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 1);
	cr_assert_eq(alert_lines__count(&al, "node-secret-read-in-exec"), 1);
	expect_requester(alert_lines__nth(&al, "node-container-exec", 0),
			 "5f0c1d2e-aaaa-4bbb-8ccc-0123456789ab");
	expect_requester(alert_lines__nth(&al, "node-secret-read-in-exec", 0),
			 "5f0c1d2e-aaaa-4bbb-8ccc-0123456789ab");
}

Test(exec_watch_alerts, e_request_verb_create_after_the_exec_names_user_and_command)
{
	cr_assert_eq(runc_pod__exec(&pod, "cat " TOKEN " >/dev/null"), 0);
	drain(300);
	/* the request is logged late (the session waits for it) */
	feed_request("create", "0a1b2c3d-bbbb-4ccc-8ddd-abcdefabcdef", URI_CMD);
	read_ours();
	cr_assert_eq(alert_lines__count(&al, "node-container-exec"), 1);
	cr_assert_eq(alert_lines__count(&al, "node-secret-read-in-exec"), 1);
	expect_requester(alert_lines__nth(&al, "node-container-exec", 0),
			 "0a1b2c3d-bbbb-4ccc-8ddd-abcdefabcdef");
	expect_requester(alert_lines__nth(&al, "node-secret-read-in-exec", 0),
			 "0a1b2c3d-bbbb-4ccc-8ddd-abcdefabcdef");
	cr_assert_str_eq(alert_str(alert_lines__nth(&al, "node-container-exec", 0),
				   "kubernetes.audit.verb"),
			 "create");
}
