// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/rules/node/exec_request.c: which audit events are pods/exec requests (both
 * verbs), and the command decoded from the requestURI through JSON and URL escaping.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "keyhole/audit_parse.h"
#include "rules/node/exec_request.h"

static struct audit_event parse(const char *line)
{
	struct audit_event ev;
	struct kh_parse_error pe;

	cr_assert_eq(audit_parse__line(line, strlen(line), &ev, &pe), 0, "parse: %s", pe.reason);
	return ev;
}

#define EXEC_LINE(verb, uri)                                                                       \
	"{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","           \
	"\"auditID\":\"a1\",\"stage\":\"ResponseStarted\",\"requestURI\":\"" uri "\","             \
	"\"verb\":\"" verb "\",\"user\":{\"username\":\"alice\"},\"sourceIPs\":[\"10.0.0.7\"],"    \
	"\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"payments\",\"name\":\"api-0\","      \
	"\"subresource\":\"exec\",\"apiVersion\":\"v1\"},"                                         \
	"\"requestReceivedTimestamp\":\"2026-11-23T10:00:00.000000Z\","                            \
	"\"stageTimestamp\":\"2026-11-23T10:00:00.100000Z\"}"

Test(node_exec_request, both_verbs_are_exec)
{
	struct audit_event a =
	    parse(EXEC_LINE("create", "/api/v1/namespaces/payments/pods/api-0/exec?command=sh"));
	struct audit_event b =
	    parse(EXEC_LINE("get", "/api/v1/namespaces/payments/pods/api-0/exec?command=sh"));
	struct audit_event c =
	    parse(EXEC_LINE("list", "/api/v1/namespaces/payments/pods/api-0/exec?command=sh"));

	cr_assert(exec_request__is_exec(&a));
	cr_assert(exec_request__is_exec(&b));
	cr_assert(!exec_request__is_exec(&c));
}

Test(node_exec_request, other_subresources_are_not_exec)
{
	const char *attach =
	    "{\"kind\":\"Event\",\"auditID\":\"a2\",\"verb\":\"create\",\"requestURI\":\"/x\","
	    "\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"n\",\"name\":\"p\","
	    "\"subresource\":\"attach\"}}";
	const char *pods =
	    "{\"kind\":\"Event\",\"auditID\":\"a3\",\"verb\":\"get\","
	    "\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"n\",\"name\":\"p\"}}";
	struct audit_event a = parse(attach), b = parse(pods);

	cr_assert(!exec_request__is_exec(&a));
	cr_assert(!exec_request__is_exec(&b));
}

Test(node_exec_request, command_from_url_and_json_escapes)
{
	/* kubectl 1.30+: command=cat&command=/var/run/...; Go's JSON escapes '&' as \u0026 */
	struct audit_event ev = parse(EXEC_LINE(
	    "get", "/api/v1/namespaces/payments/pods/api-0/exec?command=sh\\u0026command=-c"
		   "\\u0026command=cat+%2Fvar%2Frun%2Fsecrets%2Fkubernetes.io%2Fserviceaccount"
		   "%2Ftoken+%7C+base64\\u0026container=api\\u0026stdin=true\\u0026stdout=true"));
	struct exec_command c;

	cr_assert_eq(exec_request__command(ev.request_uri, &c), 0);
	cr_assert_eq(c.argc, 3);
	cr_assert_eq(c.total, 3);
	cr_assert_str_eq(c.argv[0], "sh");
	cr_assert_str_eq(c.argv[1], "-c");
	cr_assert_str_eq(c.argv[2],
			 "cat /var/run/secrets/kubernetes.io/serviceaccount/token | base64");
	cr_assert_null(c.argv[3]);
	cr_assert_str_eq(c.container, "api");
}

Test(node_exec_request, real_sample_form)
{
	/* falco-k8s-audit exec_pod.jsonl: raw '&', container given twice */
	struct audit_event ev = parse(EXEC_LINE(
	    "create",
	    "/api/v1/namespaces/default/pods/nginx-deployment-7998647bdf-phvq7/exec?"
	    "command=bash&container=nginx1&container=nginx1&stdin=true&stdout=true&tty=true"));
	struct exec_command c;

	cr_assert_eq(exec_request__command(ev.request_uri, &c), 0);
	cr_assert_eq(c.argc, 1);
	cr_assert_str_eq(c.argv[0], "bash");
	cr_assert_str_eq(c.container, "nginx1");
}

Test(node_exec_request, bad_percent_escapes_are_literal_and_no_command_is_empty)
{
	struct audit_event ev = parse(EXEC_LINE("get", "/x?command=a%2&command=%zz%&command="));
	struct audit_event none = parse(EXEC_LINE("get", "/api/v1/namespaces/n/pods/p/exec"));
	struct exec_command c;

	cr_assert_eq(exec_request__command(ev.request_uri, &c), 0);
	cr_assert_eq(c.argc, 3);
	cr_assert_str_eq(c.argv[0], "a%2");
	cr_assert_str_eq(c.argv[1], "%zz%");
	cr_assert_str_eq(c.argv[2], "");
	cr_assert_eq(exec_request__command(none.request_uri, &c), 0);
	cr_assert_eq(c.argc, 0);
	cr_assert_null(c.argv[0]);
	cr_assert_str_eq(c.container, "");
}

Test(node_exec_request, url_decode)
{
	char out[32];
	size_t n = exec_request__url_decode("a+b%20c%2fd%", 12, out);

	cr_assert_eq(n, 8);
	cr_assert(!memcmp(out, "a b c/d%", 8));
}
