// SPDX-License-Identifier: Apache-2.0
/*
 * `keyhole run` with the exec watch, through the real binary: the audit tap captures a pods/exec
 * request the stand-in apiserver writes to its audit log, runc execs into a container dressed as
 * that pod, and the node alerts keyhole prints name the pod (from the kubelet-style log dir the
 * config points at) and the Kubernetes user and command (from the captured request).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "bpf_need.h"
#include "alert_lines.h"
#include "runc_pod.h"

#define TOKEN "/var/run/secrets/kubernetes.io/serviceaccount/token"
#define STANDIN KH_BUILD_DIR "/tests/kube-apiserver"

static struct runc_pod pod;
static pid_t keyhole = -1;

/* whatever happened: no keyhole left running, no container left behind */
static void teardown(void)
{
	if (keyhole > 0) {
		kill(keyhole, SIGKILL);
		waitpid(keyhole, NULL, 0);
	}
	runc_pod__stop(&pod);
}

TestSuite(exec_watch_run, .fini = teardown);

static void need(const char *why)
{
	bpf_need("exec_watch_run", why);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

static bool file_has(const char *path, const char *needle)
{
	char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return strstr(buf, needle) != NULL;
}

static pid_t spawn(char *const argv[], const char *out, const char *err)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int o = out ? open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600)
			    : open("/dev/null", O_WRONLY);
		int e = err ? open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600) : o;

		dup2(o, 1);
		dup2(e, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static int wait_exit(pid_t pid, int secs)
{
	int st;

	for (int i = 0; i < secs * 20; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -ETIMEDOUT;
}

static void now_rfc3339(char *buf, size_t size)
{
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000);
}

struct run_files {
	char cfg[256], audit_log[300], out[256], err[256];
};

/* a container dressed as a pod, and `keyhole run` with the exec watch on it, ready */
static void start_keyhole(struct run_files *rf, const char *node_name)
{
	char yaml[512], audit_dir[256];

	need(runc_pod__unavailable());
	if (access(KH_KEYHOLE_BIN, X_OK) || access(STANDIN, X_OK))
		need("keyhole or the stand-in apiserver is not built");
	cr_assert_eq(runc_pod__start(&pod, "touch /shared/init-done; exec sleep 3600"), 0);
	cr_assert(runc_pod__wait_file(&pod, "init-done", 10000));
	snprintf(rf->cfg, sizeof(rf->cfg), "%s/keyhole.yaml", pod.root);
	snprintf(yaml, sizeof(yaml), "node:\n  exec_watch: true\n  pods_log_dir: %s\n",
		 pod.pods_log_dir);
	write_file(rf->cfg, yaml);
	snprintf(audit_dir, sizeof(audit_dir), "%s/audit", pod.root);
	cr_assert_eq(mkdir(audit_dir, 0700), 0);
	snprintf(rf->audit_log, sizeof(rf->audit_log), "%s/audit.log", audit_dir);
	snprintf(rf->out, sizeof(rf->out), "%s/alerts.jsonl", pod.root);
	snprintf(rf->err, sizeof(rf->err), "%s/keyhole.err", pod.root);
	{
		char *argv[] = {KH_KEYHOLE_BIN, "run",	       "--config", rf->cfg,
				"--audit-log",	rf->audit_log, "-o",	   rf->out,
				NULL,		NULL,	       NULL};

		if (node_name) {
			argv[8] = "--node-name";
			argv[9] = (char *)node_name;
		}
		keyhole = spawn(argv, NULL, rf->err);
	}
	for (int i = 0; i < 300 && !file_has(rf->err, "ready:"); i++)
		usleep(50000);
	if (!file_has(rf->err, "ready:")) {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "cat '%s' >&2", rf->err);
		(void)!system(cmd); /* what keyhole said is the diagnosis */
		cr_assert_fail("keyhole did not get ready (its messages above)");
	}
	cr_assert(!file_has(rf->err, "exec watch did not load"),
		  "keyhole runs without the exec watch");
}

/* the stand-in apiserver writes @lines (audit events, one a line) to the audit log keyhole taps */
static void apiserver_logs(const struct run_files *rf, const char *lines)
{
	char input[256];
	pid_t standin;

	snprintf(input, sizeof(input), "%s/request.jsonl", pod.root);
	write_file(input, lines);
	{
		char *argv[] = {STANDIN,
				"--audit-log-path",
				(char *)rf->audit_log,
				"--input",
				input,
				"--exit-when-done",
				NULL};

		standin = spawn(argv, NULL, NULL);
		cr_assert_eq(wait_exit(standin, 30), 0, "the stand-in apiserver failed");
	}
}

/* stop keyhole (it flushes what waits) and read back the alerts about this test's container */
static void stop_keyhole(const struct run_files *rf, struct alert_lines *al)
{
	FILE *f;

	kill(keyhole, SIGTERM);
	cr_assert_eq(wait_exit(keyhole, 30), 0, "keyhole run did not stop cleanly");
	keyhole = -1;
	cr_assert(file_has(rf->err, "keyhole: exec watch:"), "no exec watch counters at exit");
	f = fopen(rf->out, "r");
	cr_assert(f);
	alert_lines__read(al, f);
	fclose(f);
}

/* the alert of @rule about this test's container (others on this machine are not ours) */
static json_object *ours(const struct alert_lines *al, const char *rule)
{
	for (size_t i = 0; i < al->n; i++) {
		const char *cid = alert_str(al->v[i], "container.id");
		const char *id = alert_str(al->v[i], "rule.id");

		if (cid && !strcmp(cid, pod.id) && id && !strcmp(id, rule))
			return al->v[i];
	}
	return NULL;
}

Test(exec_watch_run, keyhole_run_names_pod_user_and_command, .timeout = 180)
{
	char line[4096], ts[64];
	struct run_files rf;
	struct alert_lines al = {0};
	json_object *x, *s;

	start_keyhole(&rf, NULL);
	/* the apiserver logs the pods/exec request (kubectl >= 1.30: verb get) ... */
	now_rfc3339(ts, sizeof(ts));
	snprintf(
	    line, sizeof(line),
	    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
	    "\"auditID\":\"7c4e2a90-1111-4222-8333-944455556666\",\"stage\":\"ResponseStarted\","
	    "\"requestURI\":\"/api/v1/namespaces/%s/pods/%s/exec?command=cat\\u0026command="
	    "%%2Fvar%%2Frun%%2Fsecrets%%2Fkubernetes.io%%2Fserviceaccount%%2Ftoken\\u0026"
	    "container=%s\\u0026stdout=true\",\"verb\":\"get\",\"user\":{\"username\":"
	    "\"eve@example.com\",\"groups\":[\"system:authenticated\"]},\"sourceIPs\":"
	    "[\"192.0.2.44\"],\"userAgent\":\"kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9\","
	    "\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"%s\",\"name\":\"%s\","
	    "\"apiVersion\":\"v1\",\"subresource\":\"exec\"},\"responseStatus\":{\"code\":101},"
	    "\"requestReceivedTimestamp\":\"%s\",\"stageTimestamp\":\"%s\"}\n",
	    pod.ns, pod.pod, pod.container, pod.ns, pod.pod, ts, ts);
	apiserver_logs(&rf, line);
	/* ... then the kubelet's runc exec runs the command in the container */
	cr_assert_eq(runc_pod__exec(&pod, "exec cat " TOKEN " >/dev/null"), 0);
	sleep(1);
	stop_keyhole(&rf, &al);
	x = ours(&al, "node-container-exec");
	s = ours(&al, "node-secret-read-in-exec");
	cr_assert(x, "no node-container-exec alert for the pod");
	cr_assert(s, "no node-secret-read-in-exec alert for the pod");
	for (int k = 0; k < 2; k++) {
		json_object *a = k ? s : x, *cmd = alert_get(a, "keyhole.exec_request.command");

		cr_assert_str_eq(alert_str(a, "orchestrator.namespace"), pod.ns);
		cr_assert_str_eq(alert_str(a, "orchestrator.resource.name"), pod.pod);
		cr_assert_str_eq(alert_str(a, "container.name"), pod.container);
		cr_assert_str_eq(alert_str(a, "user.name"), "eve@example.com");
		cr_assert_str_eq(alert_str(a, "source.ip"), "192.0.2.44");
		cr_assert_str_eq(alert_str(a, "kubernetes.audit.auditID"),
				 "7c4e2a90-1111-4222-8333-944455556666");
		cr_assert(cmd && json_object_array_length(cmd) == 2);
		cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(cmd, 1)), TOKEN);
	}
	cr_assert_str_eq(alert_str(s, "file.path"), TOKEN);
	alert_lines__free(&al);
}

/* a nodes/proxy request by @user running `id` in the pod through @node's kubelet, at @ts */
static int proxy_line(char *buf, size_t size, const char *node, const char *user,
		      const char *audit_id, const char *ts)
{
	return snprintf(
	    buf, size,
	    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
	    "\"auditID\":\"%s\",\"stage\":\"ResponseStarted\",\"requestURI\":"
	    "\"/api/v1/nodes/%s/proxy/exec/%s/%s/%s?command=id\\u0026output=1\","
	    "\"verb\":\"get\",\"user\":{\"username\":\"%s\",\"groups\":"
	    "[\"system:authenticated\"]},\"sourceIPs\":[\"203.0.113.66\"],\"userAgent\":"
	    "\"websocat/1.13\",\"objectRef\":{\"resource\":\"nodes\",\"name\":\"%s\","
	    "\"apiVersion\":\"v1\",\"subresource\":\"proxy\"},\"responseStatus\":{\"code\":101},"
	    "\"requestReceivedTimestamp\":\"%s\",\"stageTimestamp\":\"%s\"}\n",
	    audit_id, node, pod.ns, pod.pod, pod.container, user, node, ts, ts);
}

/*
 * --node-name reaches node-exec-without-audit: of two nodes/proxy requests into the pod, the one
 * through another node's kubelet (nearer in time, so taken when the name is not known) cannot
 * have run anything here; the alert names the one through the node the flag names.
 */
Test(exec_watch_run, node_name_flag_reaches_the_node_rules, .timeout = 180)
{
	char lines[8192], ts_eve[64], ts_mallory[64];
	struct run_files rf;
	struct alert_lines al = {0};
	json_object *a;
	int n;

	start_keyhole(&rf, "worker-7");
	now_rfc3339(ts_eve, sizeof(ts_eve));
	sleep(2);
	now_rfc3339(ts_mallory, sizeof(ts_mallory));
	n = proxy_line(lines, sizeof(lines), "worker-7", "eve@example.com",
		       "5d1e7a22-0000-4000-8000-000000000007", ts_eve);
	proxy_line(lines + n, sizeof(lines) - n, "worker-9", "mallory@example.com",
		   "5d1e7a22-0000-4000-8000-000000000009", ts_mallory);
	apiserver_logs(&rf, lines);
	cr_assert_eq(runc_pod__exec(&pod, "exec id >/dev/null"), 0);
	sleep(1);
	stop_keyhole(&rf, &al);
	a = ours(&al, "node-exec-without-audit");
	cr_assert(a, "no node-exec-without-audit alert for the pod");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_path.via"), "kubelet-proxy");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_path.kubelet_proxy.node"), "worker-7");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_path.kubelet_proxy.user"), "eve@example.com");
	alert_lines__free(&al);
}
