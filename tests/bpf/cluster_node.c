// SPDX-License-Identifier: Apache-2.0
/*
 * Cluster mode's node side, through the real binary over a real redis-server (Debian's, on a
 * random loopback port, logged into with the shipped least-privilege ACL):
 *
 *  - a control-plane instance (cp0) taps a stand-in apiserver's audit log, no exec watch;
 *  - a node-role instance (worker-1) runs the exec watch only, over a real runc container
 *    dressed as a pod, and no audit log.
 *
 * The stand-in logs an escalation (a ClusterRoleBinding making eve cluster-admin), eve's secret
 * read and her pods/exec into the pod; then runc execs into the container and reads the
 * service-account token. worker-1's node alerts must name eve, the user of the matching
 * pods/exec that only cp0 saw, and cp0's escalate-then-loot incident must carry worker-1's
 * secret open as its node step. Then the node restart fault: worker-1 is killed (SIGKILL) and a
 * second pods/exec is logged while it is down; restarted, it must still name that request's user
 * (it reads the exec stream from before its start), and its counters must say nothing was lost.
 * Last, Redis is killed and comes back empty, a third pods/exec is logged meanwhile: it must
 * still reach the node's exec join and name its user.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alert_lines.h"
#include "bpf_need.h"
#include "runc_pod.h"

#define TOKEN "/var/run/secrets/kubernetes.io/serviceaccount/token"
#define STANDIN KH_BUILD_DIR "/tests/kube-apiserver"
#define ACL KH_TEST_DATA_DIR "/../../deploy/redis/users.acl"
#define ID_EXEC "c0000000-0000-4000-8000-00000000e1e1"
#define ID_EXEC2 "c0000000-0000-4000-8000-00000000e2e2"
#define ID_EXEC3 "c0000000-0000-4000-8000-00000000e3e3"

static struct runc_pod pod;
static pid_t redis = -1, cp = -1, node = -1;

static void kill_wait(pid_t *p)
{
	if (*p > 0) {
		kill(*p, SIGKILL);
		waitpid(*p, NULL, 0);
	}
	*p = -1;
}

static void teardown(void)
{
	kill_wait(&node);
	kill_wait(&cp);
	kill_wait(&redis);
	runc_pod__stop(&pod);
}

TestSuite(cluster_node, .fini = teardown);

static void write_file(const char *path, const char *text, const char *mode)
{
	FILE *f = fopen(path, mode);

	cr_assert(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

static bool file_has(const char *path, const char *needle)
{
	static char buf[1 << 20];
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
		int o = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);
		int e = err ? open(err, O_WRONLY | O_CREAT | O_APPEND, 0600) : o;

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

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t n = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		  getsockname(s, (struct sockaddr *)&a, &n) == 0);
	port = ntohs(a.sin_port);
	close(s);
	return port;
}

static void show(const char *path)
{
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "echo '--- %s'; tail -40 '%s' >&2", path, path);
	(void)!system(cmd);
}

/* wait up to @secs for @needle in @path; on failure show the file */
static void wait_for(const char *path, const char *needle, int secs, const char *what)
{
	for (int i = 0; i < secs * 10 && !file_has(path, needle); i++)
		usleep(100000);
	if (!file_has(path, needle)) {
		show(path);
		cr_assert_fail("%s (no '%s' in %s)", what, needle, path);
	}
}

static void rfc3339(char *buf, size_t size, long offset_ms)
{
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	now.tv_sec += offset_ms / 1000;
	now.tv_nsec += (offset_ms % 1000) * 1000000;
	if (now.tv_nsec >= 1000000000)
		now.tv_sec++, now.tv_nsec -= 1000000000;
	gmtime_r(&now.tv_sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000);
}

struct env {
	char cname[32], cfg[256], out_cp[256], err_cp[256], log[256], standin[256], comm[16];
	char url[64];
	int port, mport;
};

static struct env E;

static void start_redis(void)
{
	char cmd[1024], acl[256], pw[256], err[256], port[16];

	snprintf(pw, sizeof(pw), "%s/pw", pod.root);
	snprintf(acl, sizeof(acl), "%s/users.acl", pod.root);
	snprintf(err, sizeof(err), "%s/redis.log", pod.root);
	write_file(pw, "kh-node-test-pw\n", "w");
	/* the shipped ACL, its password and key prefix filled in; admin reads the streams */
	snprintf(cmd, sizeof(cmd),
		 "grep -v '^#' '%s' | sed -e 's/@@KEYHOLE_PASSWORD@@/kh-node-test-pw/' "
		 "-e 's/~keyhole:\\*/~%s:*/' > '%s' && "
		 "echo 'user admin on >adminpw ~* &* +@all' >> '%s'",
		 ACL, E.cname, acl, acl);
	cr_assert_eq(system(cmd), 0, "cannot write the ACL file from %s", ACL);
	snprintf(port, sizeof(port), "%d", E.port);
	{
		char *argv[] = {"/usr/bin/redis-server",
				"--port",
				port,
				"--bind",
				"127.0.0.1",
				"--save",
				"",
				"--appendonly",
				"no",
				"--dir",
				pod.root,
				"--aclfile",
				acl,
				NULL};

		redis = spawn(argv, err, err);
	}
	for (int i = 0; i < 100; i++) {
		snprintf(
		    cmd, sizeof(cmd),
		    "redis-cli -p %d --user admin --pass adminpw --no-auth-warning ping 2>/dev/null "
		    "| grep -q PONG",
		    E.port);
		if (system(cmd) == 0)
			return;
		usleep(100000);
	}
	show(err);
	cr_assert_fail("redis-server did not start");
}

static pid_t start_cp(void)
{
	char *argv[] = {KH_KEYHOLE_BIN,
			"run",
			"--cluster",
			E.url,
			"--cluster-name",
			E.cname,
			"-c",
			E.cfg,
			"--node-name",
			"cp0",
			"--role",
			"control-plane",
			"--comm",
			E.comm,
			"--audit-log",
			E.log,
			"--no-exec-watch",
			"--no-audit-guard",
			"--no-baseline",
			"-o",
			E.out_cp,
			NULL};
	pid_t p = spawn(argv, NULL, E.err_cp);

	wait_for(E.err_cp, "ready:", 30, "the control-plane instance did not get ready");
	return p;
}

/* worker-1: exec watch only, no apiserver to follow (a comm nothing runs under) */
static pid_t start_node(const char *out, const char *err)
{
	char mport[32], none[32];
	char *argv[] = {KH_KEYHOLE_BIN,
			"run",
			"--cluster",
			E.url,
			"--cluster-name",
			E.cname,
			"-c",
			E.cfg,
			"--node-name",
			"worker-1",
			"--role",
			"node",
			"--comm",
			none,
			"--no-audit-guard",
			"--no-baseline",
			"-o",
			(char *)out,
			"--metrics",
			mport,
			NULL};
	pid_t p;

	snprintf(mport, sizeof(mport), "127.0.0.1:%d", E.mport);
	snprintf(none, sizeof(none), "khnone%d", (int)getpid() % 100000);
	p = spawn(argv, NULL, err);
	wait_for(err, "ready:", 60, "the node instance did not get ready");
	cr_assert(!file_has(err, "exec watch did not load"),
		  "worker-1 runs without the exec watch");
	wait_for(err, "pods/exec requests from", 10, "worker-1 reads no exec stream");
	return p;
}

/* a metric of worker-1's /metrics, -1 when absent */
static double metric(const char *name)
{
	char cmd[300], line[256];
	double v = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "curl -sf http://127.0.0.1:%d/metrics", E.mport);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, strlen(name)) && line[strlen(name)] == ' ')
			v = strtod(line + strlen(name) + 1, NULL);
	pclose(f);
	return v;
}

/* returns how long it took, in ms (printed by the caller: a measurement, not a bound) */
static long wait_metric(const char *name, double at_least, int secs)
{
	struct timespec a, b;
	double v = -1;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < secs * 100 && (v = metric(name)) < at_least; i++)
		usleep(10000);
	clock_gettime(CLOCK_MONOTONIC, &b);
	cr_assert_geq(v, at_least, "worker-1's %s is %g, want at least %g", name, v, at_least);
	return (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
}

/* the stand-in apiserver writes @lines to cp0's audit log */
static void apiserver_writes(const char *lines)
{
	char input[256];
	pid_t p;

	snprintf(input, sizeof(input), "%s/input.jsonl", pod.root);
	write_file(input, lines, "w");
	{
		char *argv[] = {E.standin, "--audit-log-path", E.log, "--input",
				input,	   "--exit-when-done", NULL};

		p = spawn(argv, NULL, NULL);
		cr_assert_eq(wait_exit(p, 30), 0, "the stand-in apiserver failed");
	}
}

static void exec_request(char *buf, size_t size, const char *id, const char *user, long off_ms)
{
	char ts[64];

	rfc3339(ts, sizeof(ts), off_ms);
	snprintf(
	    buf, size,
	    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
	    "\"auditID\":\"%s\",\"stage\":\"ResponseStarted\",\"requestURI\":\"/api/v1/"
	    "namespaces/%s/pods/%s/exec?command=cat\\u0026command=%%2Fvar%%2Frun%%2Fsecrets"
	    "%%2Fkubernetes.io%%2Fserviceaccount%%2Ftoken\\u0026container=%s\\u0026stdout=true"
	    "\",\"verb\":\"get\",\"user\":{\"username\":\"%s\",\"groups\":[\"system:"
	    "authenticated\"]},\"sourceIPs\":[\"192.0.2.44\"],\"userAgent\":\"kubectl/v1.32.0"
	    "\",\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"%s\",\"name\":\"%s\","
	    "\"apiVersion\":\"v1\",\"subresource\":\"exec\"},\"responseStatus\":{\"code\":101},"
	    "\"requestReceivedTimestamp\":\"%s\",\"stageTimestamp\":\"%s\",\"annotations\":{"
	    "\"authorization.k8s.io/decision\":\"allow\",\"authorization.k8s.io/reason\":\"\"}}"
	    "\n",
	    id, pod.ns, pod.pod, pod.container, user, pod.ns, pod.pod, ts, ts);
}

/* a ClusterRoleBinding making eve cluster-admin, eve's secret read, eve's pods/exec */
static void attack(char *buf, size_t size)
{
	char t1[64], t2[64], ex[4096];
	int n;

	rfc3339(t1, sizeof(t1), -3000);
	rfc3339(t2, sizeof(t2), -2000);
	exec_request(ex, sizeof(ex), ID_EXEC, "eve@example.com", -1000);
	n = snprintf(
	    buf, size,
	    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Request\","
	    "\"auditID\":\"c0000000-0000-4000-8000-0000000000b1\",\"stage\":\"ResponseComplete\","
	    "\"requestURI\":\"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings\",\"verb\":"
	    "\"create\",\"user\":{\"username\":\"system:serviceaccount:ci:build-bot\",\"groups\":["
	    "\"system:serviceaccounts\",\"system:authenticated\"]},\"sourceIPs\":[\"10.244.1.23\"],"
	    "\"userAgent\":\"kubectl/v1.30.2\",\"objectRef\":{\"resource\":\"clusterrolebindings\","
	    "\"name\":\"eve-admin\",\"apiGroup\":\"rbac.authorization.k8s.io\",\"apiVersion\":\"v1\"},"
	    "\"responseStatus\":{\"code\":201},\"requestObject\":{\"kind\":\"ClusterRoleBinding\","
	    "\"metadata\":{\"name\":\"eve-admin\"},\"subjects\":[{\"kind\":\"User\",\"name\":"
	    "\"eve@example.com\"}],\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"cluster-admin\"}"
	    "},\"requestReceivedTimestamp\":\"%s\",\"stageTimestamp\":\"%s\",\"annotations\":{"
	    "\"authorization.k8s.io/decision\":\"allow\",\"authorization.k8s.io/reason\":\"\"}}\n"
	    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
	    "\"auditID\":\"c0000000-0000-4000-8000-0000000000b2\",\"stage\":\"ResponseComplete\","
	    "\"requestURI\":\"/api/v1/namespaces/%s/secrets/db-creds\",\"verb\":\"get\",\"user\":{"
	    "\"username\":\"eve@example.com\",\"groups\":[\"system:authenticated\"]},\"sourceIPs\":["
	    "\"192.0.2.44\"],\"userAgent\":\"kubectl/v1.32.0\",\"objectRef\":{\"resource\":"
	    "\"secrets\",\"namespace\":\"%s\",\"name\":\"db-creds\",\"apiVersion\":\"v1\"},"
	    "\"responseStatus\":{\"code\":200},\"requestReceivedTimestamp\":\"%s\","
	    "\"stageTimestamp\":\"%s\",\"annotations\":{\"authorization.k8s.io/decision\":"
	    "\"allow\",\"authorization.k8s.io/reason\":\"\"}}\n%s",
	    t1, t1, pod.ns, pod.ns, t2, t2, ex);
	cr_assert_lt(n, (int)size);
}

/* the node-container-exec alert of our container whose request is @id, or NULL */
static json_object *node_alert(struct alert_lines *al, const char *out, const char *rule,
			       const char *id)
{
	FILE *f = fopen(out, "r");

	cr_assert(f, "%s: %s", out, strerror(errno));
	alert_lines__free(al);
	alert_lines__read(al, f);
	fclose(f);
	for (size_t i = 0; i < al->n; i++) {
		const char *cid = alert_str(al->v[i], "container.id");
		const char *r = alert_str(al->v[i], "rule.id");
		const char *a = alert_str(al->v[i], "kubernetes.audit.auditID");

		if (cid && !strcmp(cid, pod.id) && r && !strcmp(r, rule) && a && !strcmp(a, id))
			return al->v[i];
	}
	return NULL;
}

/* alerts of @rule for our container in the lines node_alert read last */
static size_t count_rule(const struct alert_lines *al, const char *rule)
{
	size_t n = 0;

	for (size_t i = 0; i < al->n; i++) {
		const char *cid = alert_str(al->v[i], "container.id");
		const char *r = alert_str(al->v[i], "rule.id");

		n += cid && !strcmp(cid, pod.id) && r && !strcmp(r, rule);
	}
	return n;
}

static void setup_env(void)
{
	char yaml[1024];

	snprintf(E.cname, sizeof(E.cname), "khn%d", (int)getpid());
	E.port = free_port();
	E.mport = free_port();
	snprintf(E.url, sizeof(E.url), "redis://127.0.0.1:%d", E.port);
	snprintf(E.cfg, sizeof(E.cfg), "%s/keyhole.yaml", pod.root);
	snprintf(E.out_cp, sizeof(E.out_cp), "%s/cp0.json", pod.root);
	snprintf(E.err_cp, sizeof(E.err_cp), "%s/cp0.err", pod.root);
	snprintf(E.log, sizeof(E.log), "%s/audit.log", pod.root);
	snprintf(E.comm, sizeof(E.comm), "khs%d", (int)getpid() % 1000000);
	snprintf(E.standin, sizeof(E.standin), "%s/%s", pod.root, E.comm);
	cr_assert_eq(symlink(STANDIN, E.standin), 0, "%s: %s", E.standin, strerror(errno));
	snprintf(yaml, sizeof(yaml),
		 "cluster:\n  user: keyhole\n  password_file: %s/pw\n  partitions: 2\n"
		 "  lease: 3s\n  lag: 1s\nnode:\n  exec_watch: true\n  pods_log_dir: %s\n",
		 pod.root, pod.pods_log_dir);
	write_file(E.cfg, yaml, "w");
}

Test(cluster_node, node_alerts_name_the_user_of_another_nodes_pods_exec, .timeout = 300)
{
	char lines[16384], out1[256], err1[256], out2[256], err2[256];
	struct alert_lines al = {0};
	json_object *x, *s;
	bool node_step = false;

	bpf_need("cluster_node", runc_pod__unavailable());
	if (access(KH_KEYHOLE_BIN, X_OK) || access(STANDIN, X_OK))
		bpf_need("cluster_node", "keyhole or the stand-in apiserver is not built");
	if (access("/usr/bin/redis-server", X_OK) || system("command -v curl >/dev/null"))
		cr_assert_fail("redis-server or curl is not installed (scripts/install-deps)");
	cr_assert_eq(runc_pod__start(&pod, "touch /shared/init-done; exec sleep 3600"), 0);
	cr_assert(runc_pod__wait_file(&pod, "init-done", 10000));
	setup_env();
	start_redis();
	snprintf(out1, sizeof(out1), "%s/worker-1.json", pod.root);
	snprintf(err1, sizeof(err1), "%s/worker-1.err", pod.root);
	snprintf(out2, sizeof(out2), "%s/worker-1b.json", pod.root);
	snprintf(err2, sizeof(err2), "%s/worker-1b.err", pod.root);
	cp = start_cp();
	node = start_node(out1, err1);
	wait_for(E.err_cp, "took partition", 15, "cp0 took no partition");

	/* cp0's apiserver serves the escalation and the pods/exec; the pod runs on worker-1 */
	attack(lines, sizeof(lines));
	apiserver_writes(lines);
	fprintf(stderr,
		"cluster_node: the pods/exec reached worker-1's exec join %ld ms after the "
		"stand-in apiserver exited (tap, publisher, Redis, node feed, drain)\n",
		wait_metric("keyhole_cluster_exec_requests_fed_total", 1, 30));
	cr_assert_eq(runc_pod__exec(&pod, "exec cat " TOKEN " >/dev/null"), 0);
	/* the incident's node step: worker-1's open, through the correlator's lag */
	for (int i = 0; i < 150 && !node_step; i++) {
		usleep(100000);
		node_step = file_has(E.out_cp, "exec-session/") && file_has(E.out_cp, TOKEN);
	}
	for (int i = 0; i < 100 && !node_alert(&al, out1, "node-secret-read-in-exec", ID_EXEC); i++)
		usleep(100000);
	x = node_alert(&al, out1, "node-container-exec", ID_EXEC);
	cr_assert(x, "worker-1 wrote no node-container-exec alert joined to %s", ID_EXEC);
	cr_assert_str_eq(alert_str(x, "user.name"), "eve@example.com");
	cr_assert_str_eq(alert_str(x, "orchestrator.resource.name"), pod.pod);
	cr_assert_str_eq(alert_str(x, "keyhole.attribution.method"), "unique-match");
	s = node_alert(&al, out1, "node-secret-read-in-exec", ID_EXEC);
	cr_assert(s, "worker-1 wrote no node-secret-read-in-exec alert joined to %s", ID_EXEC);
	cr_assert_str_eq(alert_str(s, "user.name"), "eve@example.com");
	cr_assert_str_eq(alert_str(s, "file.path"), TOKEN);
	cr_assert_eq(count_rule(&al, "node-exec-without-audit"), 0,
		     "worker-1 said the exec had no pods/exec request");
	if (!node_step)
		show(E.out_cp);
	cr_assert(node_step, "cp0's incident has no node step from worker-1's secret open");
	cr_assert(file_has(E.out_cp, "k8s-escalate-then-loot"));
	cr_assert_eq(metric("keyhole_cluster_exec_requests_dropped_total"), 0);

	/* the node restart fault: killed mid-stream, a pods/exec logged while it is down */
	kill_wait(&node);
	exec_request(lines, sizeof(lines), ID_EXEC2, "frank@example.com", 0);
	apiserver_writes(lines);
	sleep(1);
	node = start_node(out2, err2);
	fprintf(stderr, "cluster_node: the restarted worker-1 read the backlog in %ld ms\n",
		wait_metric("keyhole_cluster_exec_requests_fed_total", 2, 30));
	{
		const char *env[] = {"KUBERNETES_EXEC_AUDIT_ID=" ID_EXEC2, NULL};

		/* the kubelet passes the request's auditID (KEP-6035): no doubt which one */
		cr_assert_eq(runc_pod__exec_env(&pod, env, "exec cat /etc/hostname >/dev/null"), 0);
	}
	for (int i = 0; i < 100 && !node_alert(&al, out2, "node-container-exec", ID_EXEC2); i++)
		usleep(100000);
	x = node_alert(&al, out2, "node-container-exec", ID_EXEC2);
	if (!x)
		show(out2);
	cr_assert(x, "restarted worker-1 did not join its exec to %s", ID_EXEC2);
	cr_assert_str_eq(alert_str(x, "user.name"), "frank@example.com");
	cr_assert_str_eq(alert_str(x, "keyhole.attribution.method"), "audit-id");
	cr_assert_eq(metric("keyhole_cluster_exec_requests_dropped_total"), 0);

	/* Redis lost mid-stream and back empty: the publisher and the node feed reconnect */
	kill_wait(&redis);
	exec_request(lines, sizeof(lines), ID_EXEC3, "grace@example.com", 0);
	apiserver_writes(lines); /* queued on cp0 while Redis is away */
	start_redis();
	wait_metric("keyhole_cluster_exec_requests_fed_total", 3, 60);
	{
		const char *env[] = {"KUBERNETES_EXEC_AUDIT_ID=" ID_EXEC3, NULL};

		cr_assert_eq(runc_pod__exec_env(&pod, env, "exec cat /etc/hostname >/dev/null"), 0);
	}
	for (int i = 0; i < 100 && !node_alert(&al, out2, "node-container-exec", ID_EXEC3); i++)
		usleep(100000);
	x = node_alert(&al, out2, "node-container-exec", ID_EXEC3);
	cr_assert(x, "worker-1 did not join an exec after Redis came back");
	cr_assert_str_eq(alert_str(x, "user.name"), "grace@example.com");

	kill(node, SIGTERM);
	cr_assert_eq(wait_exit(node, 30), 0, "worker-1 did not stop cleanly");
	node = -1;
	kill(cp, SIGTERM);
	cr_assert_eq(wait_exit(cp, 30), 0, "cp0 did not stop cleanly");
	cp = -1;
	cr_assert(file_has(err2, "keyhole: cluster node feed:"), "no node feed counters at exit");
	cr_assert(file_has(err2, "fed to the exec join, 0 dropped"),
		  "the restarted node feed dropped requests");
	/* no secret value on stderr or in the output of either instance */
	cr_assert(!file_has(E.err_cp, "kh-node-test-pw") && !file_has(err1, "kh-node-test-pw"));
	alert_lines__free(&al);
}
