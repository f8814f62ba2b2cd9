// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/node/exec_request_kind.c: which audit events can stand behind a session in a
 * running pod (pods/exec, pods/attach, ephemeral-container patches, nodes/proxy), and the pod a
 * nodes/proxy request's kubelet path runs a command in.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "keyhole/audit_parse.h"
#include "rules/node/exec_request.h"

static char buf[8][2048];
static int nbuf;

static struct audit_event parse_ref(const char *verb, const char *resource, const char *ns,
				    const char *name, const char *sub, const char *uri)
{
	char *line = buf[nbuf++ % 8];
	struct audit_event ev;
	struct kh_parse_error pe;
	char nsfield[128] = "";

	if (ns)
		snprintf(nsfield, sizeof(nsfield), "\"namespace\":\"%s\",", ns);
	snprintf(line, sizeof(buf[0]),
		 "{\"kind\":\"Event\",\"auditID\":\"a1\",\"stage\":\"ResponseStarted\","
		 "\"verb\":\"%s\",\"requestURI\":\"%s\",\"objectRef\":{\"resource\":\"%s\",%s"
		 "\"name\":\"%s\",\"subresource\":\"%s\"}}",
		 verb, uri, resource, nsfield, name, sub);
	cr_assert_eq(audit_parse__line(line, strlen(line), &ev, &pe), 0, "parse: %s", pe.reason);
	return ev;
}

Test(node_exec_request_kind, kinds)
{
	struct audit_event e;

	e = parse_ref("get", "pods", "n", "p", "exec", "/api/v1/namespaces/n/pods/p/exec");
	cr_assert_eq(exec_request__kind(&e), EXEC_REQ_EXEC);
	e = parse_ref("create", "pods", "n", "p", "attach", "/api/v1/namespaces/n/pods/p/attach");
	cr_assert_eq(exec_request__kind(&e), EXEC_REQ_ATTACH);
	e = parse_ref("patch", "pods", "n", "p", "ephemeralcontainers", "/x");
	cr_assert_eq(exec_request__kind(&e), EXEC_REQ_DEBUG);
	e = parse_ref("get", "pods", "n", "p", "ephemeralcontainers", "/x");
	cr_assert_eq(exec_request__kind(&e), EXEC_REQ_NONE);
	e = parse_ref("get", "nodes", NULL, "node-1", "proxy", "/api/v1/nodes/node-1/proxy/pods");
	cr_assert_eq(exec_request__kind(&e), EXEC_REQ_PROXY);
	e = parse_ref("get", "pods", "n", "p", "portforward", "/x");
	cr_assert_eq(exec_request__kind(&e), EXEC_REQ_NONE);
	e = parse_ref("delete", "pods", "n", "p", "exec", "/x");
	cr_assert_eq(exec_request__kind(&e), EXEC_REQ_NONE);
	cr_assert_str_eq(exec_request__kind_name(EXEC_REQ_PROXY), "nodes/proxy");
}

static int target(const char *uri, char *ns, char *pod, char *ctr)
{
	struct audit_event e = parse_ref("get", "nodes", NULL, "node-1", "proxy", uri);

	return exec_request__proxy_target(e.request_uri, ns, pod, ctr);
}

Test(node_exec_request_kind, proxy_paths_that_run_a_command_name_the_pod)
{
	char ns[64], pod[254], ctr[64];

	cr_assert_eq(target("/api/v1/nodes/node-1/proxy/exec/payments/api-0/app?command=id", ns,
			    pod, ctr),
		     0);
	cr_assert_str_eq(ns, "payments");
	cr_assert_str_eq(pod, "api-0");
	cr_assert_str_eq(ctr, "app");
	/* with the pod UID, and a JSON-escaped query */
	cr_assert_eq(target("/api/v1/nodes/node-1/proxy/run/kube-system/etcd-x/0f3c9a52-7f1e/etcd"
			    "?cmd=ls\\u0026x=1",
			    ns, pod, ctr),
		     0);
	cr_assert_str_eq(ns, "kube-system");
	cr_assert_str_eq(pod, "etcd-x");
	cr_assert_str_eq(ctr, "etcd");
	cr_assert_eq(target("/api/v1/nodes/node-1/proxy/attach/n/p/c", ns, pod, ctr), 0);
	cr_assert_str_eq(ctr, "c");
	/* URL escapes in the names are decoded */
	cr_assert_eq(target("/api/v1/nodes/n1/proxy/exec/n/p%2Dx/c", ns, pod, ctr), 0);
	cr_assert_str_eq(pod, "p-x");
}

Test(node_exec_request_kind, other_kubelet_paths_name_no_pod)
{
	char ns[64], pod[254], ctr[64];

	cr_assert_eq(target("/api/v1/nodes/node-1/proxy/pods", ns, pod, ctr), -ENOENT);
	cr_assert_eq(target("/api/v1/nodes/node-1/proxy/metrics/cadvisor", ns, pod, ctr), -ENOENT);
	cr_assert_eq(target("/api/v1/nodes/node-1/proxy/exec/n/p", ns, pod, ctr), -ENOENT);
	cr_assert_eq(target("/api/v1/nodes/node-1/proxy/exec/n/p/u/c/extra", ns, pod, ctr),
		     -ENOENT);
	cr_assert_eq(target("/api/v1/nodes/node-1/proxy/exec//p/c", ns, pod, ctr), -ENOENT);
	cr_assert_eq(target("/api/v1/nodes/node-1/proxy/containerLogs/n/p/c", ns, pod, ctr),
		     -ENOENT);
	cr_assert_eq(target("/api/v1/nodes/node-1/status?x=/proxy/exec/n/p/c", ns, pod, ctr),
		     -ENOENT);
}
