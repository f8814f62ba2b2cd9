// SPDX-License-Identifier: Apache-2.0
/*
 * kubectl attach and kubectl debug without --target on the node (issue 15), with real runc
 * containers whose stdin is a pipe the test holds, as the container runtime holds a container's
 * stdin for kubectl attach: attach starts no process, so the session opens when a process of the
 * container reads input from that stdin.
 *  (a) input written into the container's stdin, after a pods/attach request: a session of kind
 *      attach, paired with the request, and the secret read it runs caught with the attacher
 *      named;
 *  (b) the same input with no request: node-exec-without-audit;
 *  (c) a container process reading a pipe of its own (echo | cat in the init) and the init
 *      waiting on its stdin with nothing written: no session, no alert;
 *  (d) kubectl debug without --target: a second container with its own pid namespace (joining
 *      only the pod's network and ipc), its ephemeral-container patch and the attach kubectl
 *      debug -i makes: what is typed in it is an attach session attributed to the attach;
 *  (e) with node.attach_watch off (exec_watch_opts.no_attach), input opens no session, and an
 *      exec is still seen;
 *  (h) input after a gap longer than node.attach_idle (2 s here): a new attach session on the same
 *      reader, paired with the newer pods/attach request (a detach is not seen, so the gap
 *      stands for it); (i) a pause in one attach: both sessions pair with its one request;
 *  (f) the input taken with readv(2), and (g) with preadv2(2) at the current position, by a
 *      container process (tests/programs/stdin_vreader) that then runs it: an attach session
 *      like (a), and pread64(2)/preadv(2) of that stdin fail with ESPIPE (why they are not hooked).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec_watch_harness.h"

#define TOKEN "/var/run/secrets/kubernetes.io/serviceaccount/token"
#define ID_ALICE "5c0ffee0-1111-4a2b-9c3d-a11ce0000011"
#define ID_PATCH "5c0ffee0-2222-4a2b-9c3d-a11ce0000022"

/* the init reads a pipe of its own, then waits on the container's stdin for commands */
#define INIT_SCRIPT "echo hi | cat >/dev/null; touch /shared/init-done; exec sh"

static struct ew_harness h;

static void setup(void)
{
	ew_harness__setup(&h, "exec_attach", INIT_SCRIPT, "init-done", true);
}

static void teardown(void)
{
	ew_harness__teardown(&h);
}

TestSuite(exec_attach, .init = setup, .fini = teardown, .timeout = 150);

/* @user's @verb on pods/@sub of this pod, naming @container, stamped now */
static void feed_request_by(const char *user, const char *verb, const char *sub, const char *id,
			    const char *container)
{
	char line[4096], ts[64];

	ew_harness__now_ts(ts, sizeof(ts));
	snprintf(
	    line, sizeof(line),
	    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
	    "\"auditID\":\"%s\",\"stage\":\"ResponseStarted\",\"requestURI\":"
	    "\"/api/v1/namespaces/%s/pods/%s/%s?container=%s\\u0026stdin=true"
	    "\\u0026stdout=true\",\"verb\":\"%s\",\"user\":{\"username\":"
	    "\"%s\",\"groups\":[\"system:authenticated\"]},\"sourceIPs\":"
	    "[\"198.51.100.7\"],\"userAgent\":\"kubectl/v1.34.1 (linux/amd64)\",\"objectRef\":"
	    "{\"resource\":\"pods\",\"namespace\":\"%s\",\"name\":\"%s\",\"apiVersion\":\"v1\","
	    "\"subresource\":\"%s\"},\"responseStatus\":{\"code\":101},"
	    "\"requestReceivedTimestamp\":\"%s\",\"stageTimestamp\":\"%s\"}",
	    id, h.pod.ns, h.pod.pod, sub, container, verb, user, h.pod.ns, h.pod.pod, sub, ts, ts);
	ew_harness__feed(&h, line);
}

static void feed_request(const char *verb, const char *sub, const char *id, const char *container)
{
	feed_request_by("alice@example.com", verb, sub, id, container);
}

static json_object *only(const char *rule)
{
	cr_assert_eq(alert_lines__count(&h.al, rule), 1, "%zu %s alerts, want 1",
		     alert_lines__count(&h.al, rule), rule);
	return alert_lines__nth(&h.al, rule, 0);
}

/* type @cmd into the (debug) container's stdin, and wait for it to have run */
static void type(bool debug, const char *cmd)
{
	char line[512];

	snprintf(line, sizeof(line), "%s/typed", h.pod.shared);
	unlink(line); /* from an earlier input */
	snprintf(line, sizeof(line), "%s; touch /shared/typed\n", cmd);
	cr_assert_eq(runc_pod__attach_input(&h.pod, debug, line), 0);
	cr_assert(runc_pod__wait_file(&h.pod, "typed", 10000), "the input was not run");
}

Test(exec_attach, a_input_on_stdin_is_an_attach_session_paired_with_the_attach)
{
	json_object *a;

	feed_request("create", "attach", ID_ALICE, h.pod.container);
	type(false, "cat " TOKEN " >/dev/null");
	ew_harness__alerts_final(&h);
	a = only("node-container-exec");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_session.kind"), "attach");
	cr_assert_str_eq(alert_str(a, "keyhole.attribution.method"), "unique-match");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_request.subresource"), "attach");
	cr_assert_str_eq(alert_str(a, "user.name"), "alice@example.com");
	cr_assert_str_eq(alert_str(a, "kubernetes.audit.auditID"), ID_ALICE);
	cr_assert_str_eq(alert_str(a, "container.name"), h.pod.container);
	/* the session's first process is the container's init, which read the input */
	cr_assert_eq(json_object_get_int(alert_get(a, "process.pid")), h.pod.init_pid);
	a = only("node-secret-read-in-exec");
	cr_assert_str_eq(alert_str(a, "file.path"), TOKEN);
	cr_assert_str_eq(alert_str(a, "user.name"), "alice@example.com");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_session.kind"), "attach");
	cr_assert_eq(alert_lines__count(&h.al, "node-exec-without-audit"), 0);
}

Test(exec_attach, b_input_with_no_request_is_an_exec_without_audit)
{
	json_object *a;

	type(false, "id >/dev/null");
	ew_harness__alerts_final(&h);
	a = only("node-exec-without-audit");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_session.kind"), "attach");
	cr_assert_str_eq(alert_str(a, "keyhole.attribution.method"), "none");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_path.via"), "node");
	cr_assert_null(alert_get(a, "user.name"));
}

Test(exec_attach, c_own_pipes_and_a_waiting_stdin_are_no_session)
{
	ew_harness__alerts_final(&h);
	cr_assert_eq(h.al.n, 0, "%zu alerts with nothing typed", h.al.n);
	/* an exec into the same container is still an exec, not an attach */
	cr_assert_eq(runc_pod__exec(&h.pod, "echo hi | cat >/dev/null"), 0);
	ew_harness__alerts_final(&h);
	cr_assert_str_eq(alert_str(only("node-container-exec"), "keyhole.exec_session.kind"),
			 "exec");
}

#define DEBUG_NAME "debugger-q8z4m"

Test(exec_attach, d_debug_without_target_is_attributed_through_its_attach)
{
	json_object *a;

	feed_request("patch", "ephemeralcontainers", ID_PATCH, "");
	cr_assert_eq(runc_pod__start_debug_alone(&h.pod, DEBUG_NAME,
						 "touch /shared/debug-done; exec sh"),
		     0);
	cr_assert(runc_pod__wait_file(&h.pod, "debug-done", 10000), "debug container did not run");
	feed_request("create", "attach", ID_ALICE, DEBUG_NAME);
	type(true, "cat " TOKEN " >/dev/null");
	ew_harness__alerts_final(&h);
	a = only("node-container-exec");
	cr_assert_str_eq(alert_str(a, "container.id"), h.pod.debug_id);
	cr_assert_str_eq(alert_str(a, "container.name"), DEBUG_NAME);
	cr_assert_str_eq(alert_str(a, "orchestrator.resource.name"), h.pod.pod);
	cr_assert_str_eq(alert_str(a, "keyhole.exec_session.kind"), "attach");
	cr_assert_str_eq(alert_str(a, "kubernetes.audit.auditID"), ID_ALICE);
	cr_assert_str_eq(alert_str(a, "user.name"), "alice@example.com");
	a = only("node-secret-read-in-exec");
	cr_assert_str_eq(alert_str(a, "container.id"), h.pod.debug_id);
	cr_assert_str_eq(alert_str(a, "user.name"), "alice@example.com");
	cr_assert_eq(alert_lines__count(&h.al, "node-exec-without-audit"), 0);
}

static void setup_no_attach(void)
{
	struct exec_watch_opts o = {.no_attach = true};

	ew_harness__setup_opts(&h, "exec_attach", INIT_SCRIPT, "init-done", true, &o);
}

/* a suite of its own: a test's .init would run after the suite's, not instead of it */
TestSuite(exec_attach_off, .init = setup_no_attach, .fini = teardown, .timeout = 150);

Test(exec_attach_off, e_attach_watch_off_sees_no_attach)
{
	type(false, "cat " TOKEN " >/dev/null");
	ew_harness__alerts_final(&h);
	cr_assert_eq(h.al.n, 0, "%zu alerts with the attach hooks left out", h.al.n);
	cr_assert_eq(runc_pod__exec(&h.pod, "id >/dev/null"), 0);
	ew_harness__alerts_final(&h);
	cr_assert_str_eq(alert_str(only("node-container-exec"), "keyhole.exec_session.kind"),
			 "exec");
}

/*
 * The init waits for a mode (readv or preadv2) in /shared/mode, then becomes stdin_vreader, which
 * takes one chunk of the container's stdin that way and runs it. Nothing in the container reads
 * fd 0 before: the loop's cat reads a file.
 */
#define VREADER_INIT                                                                               \
	"touch /shared/init-done; until cat /shared/mode >/dev/null 2>&1; do sleep 1; done; "      \
	"exec /shared/stdin_vreader $(cat /shared/mode) /shared"

static void setup_vreader(void)
{
	ew_harness__setup(&h, "exec_attach", VREADER_INIT, "init-done", true);
}

TestSuite(exec_attach_vread, .init = setup_vreader, .fini = teardown, .timeout = 150);

/* put the static reader into the container's /shared, then hand the init its @mode */
static void start_vreader(const char *mode)
{
	char cmd[1024], path[512];
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 "cp '%s/tests/stdin_vreader' '%s/.vreader' && mv '%s/.vreader' '%s/stdin_vreader'",
		 KH_BUILD_DIR, h.pod.shared, h.pod.shared, h.pod.shared);
	cr_assert_eq(system(cmd), 0, "cannot copy stdin_vreader (is it built?)");
	snprintf(path, sizeof(path), "%s/.mode", h.pod.shared);
	f = fopen(path, "w");
	cr_assert(f);
	fprintf(f, "%s\n", mode);
	cr_assert_eq(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "%s/mode", h.pod.shared);
	cr_assert_eq(rename(path, cmd), 0);
	cr_assert(runc_pod__wait_file(&h.pod, "reading", 15000), "stdin_vreader did not start");
}

static void expect_vread_session(void)
{
	char path[512], buf[64] = "";
	json_object *a;
	FILE *f;

	feed_request("create", "attach", ID_ALICE, h.pod.container);
	type(false, "cat " TOKEN " >/dev/null");
	ew_harness__alerts_final(&h);
	a = only("node-container-exec");
	cr_assert_str_eq(alert_str(a, "keyhole.exec_session.kind"), "attach");
	cr_assert_str_eq(alert_str(a, "user.name"), "alice@example.com");
	cr_assert_str_eq(alert_str(a, "kubernetes.audit.auditID"), ID_ALICE);
	/* the reader is the container's init, exec'd into stdin_vreader */
	cr_assert_eq(json_object_get_int(alert_get(a, "process.pid")), h.pod.init_pid);
	a = only("node-secret-read-in-exec");
	cr_assert_str_eq(alert_str(a, "file.path"), TOKEN);
	cr_assert_str_eq(alert_str(a, "user.name"), "alice@example.com");
	cr_assert_eq(alert_lines__count(&h.al, "node-exec-without-audit"), 0);
	/* pread64 and preadv cannot read a pipe: nothing to hook there */
	snprintf(path, sizeof(path), "%s/pread", h.pod.shared);
	f = fopen(path, "r");
	cr_assert(f && fgets(buf, sizeof(buf), f));
	fclose(f);
	cr_assert_str_eq(buf, "pread=ESPIPE preadv=ESPIPE\n");
}

Test(exec_attach_vread, f_input_taken_with_readv_is_an_attach_session)
{
	start_vreader("readv");
	expect_vread_session();
}

Test(exec_attach_vread, g_input_taken_with_preadv2_is_an_attach_session)
{
	start_vreader("preadv2");
	expect_vread_session();
}

#define ID_BOB "5c0ffee0-3333-4a2b-9c3d-b0b000000033"
#define IDLE_NS 2000000000ull

static void setup_idle(void)
{
	struct exec_watch_opts o = {.attach_idle_ns = IDLE_NS};

	ew_harness__setup_opts(&h, "exec_attach", INIT_SCRIPT, "init-done", true, &o);
}

TestSuite(exec_attach_idle, .init = setup_idle, .fini = teardown, .timeout = 150);

static uint64_t idle_reopens(void)
{
	uint64_t c[KH_EXEC_WATCH__NR];

	cr_assert_eq(exec_watch__counters(h.w, c), 0);
	return c[KH_EXEC_WATCH_ATTACH_IDLE];
}

/* the @i-th alert of @rule, by @user with request @id, of kind attach */
static json_object *nth_by(const char *rule, size_t i, const char *user, const char *id)
{
	json_object *a = alert_lines__nth(&h.al, rule, i);

	cr_assert(a, "no %s alert #%zu", rule, i);
	cr_assert_str_eq(alert_str(a, "keyhole.exec_session.kind"), "attach");
	cr_assert_str_eq(alert_str(a, "user.name"), user);
	cr_assert_str_eq(alert_str(a, "kubernetes.audit.auditID"), id);
	return a;
}

Test(exec_attach_idle, h_input_after_a_gap_is_a_new_session_for_the_next_attach)
{
	uint64_t before = idle_reopens();
	json_object *a0, *a1;

	feed_request("create", "attach", ID_ALICE, h.pod.container);
	type(false, "id >/dev/null");
	/* alice detaches (unseen), bob attaches after the gap and reads the token */
	usleep((IDLE_NS / 1000) + 1500000);
	feed_request_by("bob@example.com", "create", "attach", ID_BOB, h.pod.container);
	type(false, "cat " TOKEN " >/dev/null");
	ew_harness__alerts_final(&h);
	cr_assert_eq(alert_lines__count(&h.al, "node-container-exec"), 2);
	a0 = nth_by("node-container-exec", 0, "alice@example.com", ID_ALICE);
	a1 = nth_by("node-container-exec", 1, "bob@example.com", ID_BOB);
	/* one reader (the init), two sessions */
	cr_assert_eq(json_object_get_int(alert_get(a0, "process.pid")), h.pod.init_pid);
	cr_assert_eq(json_object_get_int(alert_get(a1, "process.pid")), h.pod.init_pid);
	cr_assert_str_neq(alert_str(a0, "keyhole.exec_session.id"),
			  alert_str(a1, "keyhole.exec_session.id"));
	cr_assert_eq(alert_lines__count(&h.al, "node-secret-read-in-exec"), 1);
	nth_by("node-secret-read-in-exec", 0, "bob@example.com", ID_BOB);
	cr_assert_eq(alert_lines__count(&h.al, "node-exec-without-audit"), 0);
	cr_assert_geq(idle_reopens(), before + 1);
}

Test(exec_attach_idle, i_a_pause_in_one_attach_stays_with_its_request)
{
	feed_request("create", "attach", ID_ALICE, h.pod.container);
	type(false, "id >/dev/null");
	usleep((IDLE_NS / 1000) + 1500000);
	type(false, "cat " TOKEN " >/dev/null");
	ew_harness__alerts_final(&h);
	/* a new session after the pause, but no request went unaccounted for */
	cr_assert_eq(alert_lines__count(&h.al, "node-container-exec"), 2);
	nth_by("node-container-exec", 0, "alice@example.com", ID_ALICE);
	nth_by("node-container-exec", 1, "alice@example.com", ID_ALICE);
	nth_by("node-secret-read-in-exec", 0, "alice@example.com", ID_ALICE);
	cr_assert_eq(alert_lines__count(&h.al, "node-exec-without-audit"), 0);
}
