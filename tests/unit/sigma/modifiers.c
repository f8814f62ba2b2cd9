// SPDX-License-Identifier: Apache-2.0
/*
 * Sigma value modifiers and field paths (src/sigma/sigma_match.c, sigma_field.c): each modifier
 * matches where the specification says and not next to it, through the real loader and
 * pipeline.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "sigma_harness.h"

/* a detection rule whose one selection is @sel (YAML lines indented four spaces) */
static size_t hits(const char *sel, const struct ev_spec *s)
{
	char yaml[4096];

	snprintf(yaml, sizeof(yaml),
		 "title: modifier test\nid: mod-test\nlogsource:\n  product: kubernetes\n"
		 "  service: audit\ndetection:\n  sel:\n%s  condition: sel\nlevel: high\n",
		 sel);
	return sh_hits(yaml, s);
}

#define YES(sel, ...)                                                                              \
	cr_expect_eq(hits(sel, &(struct ev_spec){__VA_ARGS__}), 1, "no match: %s", sel)
#define NO(sel, ...) cr_expect_eq(hits(sel, &(struct ev_spec){__VA_ARGS__}), 0, "matched: %s", sel)

Test(sigma_modifiers, plain_value_is_whole_and_case_insensitive)
{
	YES("    verb: get\n", .verb = "get");
	YES("    verb: GET\n", .verb = "get");
	NO("    verb: ge\n", .verb = "get");
	YES("    user.username: Alice\n", .user = "alice");
}

Test(sigma_modifiers, cased_is_exact)
{
	YES("    user.username|cased: alice\n", .user = "alice");
	NO("    user.username|cased: Alice\n", .user = "alice");
	/* the allowlist case of issue 16: an OIDC name in capitals is not a service account */
	YES("    user.username|startswith|cased: 'system:serviceaccount:'\n",
	    .user = "system:serviceaccount:kube-system:x");
	NO("    user.username|startswith|cased: 'system:serviceaccount:'\n",
	   .user = "SYSTEM:SERVICEACCOUNT:KUBE-SYSTEM:x");
	YES("    user.username|startswith: 'system:serviceaccount:'\n",
	    .user = "SYSTEM:SERVICEACCOUNT:KUBE-SYSTEM:x");
}

Test(sigma_modifiers, contains_startswith_endswith)
{
	YES("    userAgent|contains: CURL\n", .ua = "my-curl/8.1");
	NO("    userAgent|contains: wget\n", .ua = "my-curl/8.1");
	YES("    userAgent|startswith: my-\n", .ua = "my-curl/8.1");
	NO("    userAgent|startswith: curl\n", .ua = "my-curl/8.1");
	YES("    userAgent|endswith: /8.1\n", .ua = "my-curl/8.1");
	NO("    userAgent|endswith: /8.2\n", .ua = "my-curl/8.1");
}

Test(sigma_modifiers, lists_are_or_and_all_is_and)
{
	YES("    verb:\n      - list\n      - get\n", .verb = "get");
	NO("    verb:\n      - list\n      - watch\n", .verb = "get");
	YES("    userAgent|contains|all:\n      - curl\n      - '8.1'\n", .ua = "my-curl/8.1");
	NO("    userAgent|contains|all:\n      - curl\n      - '9.1'\n", .ua = "my-curl/8.1");
}

Test(sigma_modifiers, wildcards_and_escapes)
{
	YES("    userAgent: 'my-*/8.?'\n", .ua = "my-curl/8.1");
	NO("    userAgent: 'my-*/8.?'\n", .ua = "my-curl/8.12");
	YES("    userAgent: '*curl*'\n", .ua = "my-curl/8.1");
	/* \* is a literal star, \\ a literal backslash, a lone backslash is itself */
	YES("    userAgent: 'a\\*b'\n", .ua = "a*b");
	NO("    userAgent: 'a\\*b'\n", .ua = "axxb");
	YES("    userAgent: 'a\\?b'\n", .ua = "a?b");
	NO("    userAgent: 'a\\?b'\n", .ua = "axb");
	YES("    userAgent: 'c:\\\\x'\n", .ua = "c:\\\\x"); /* \\ in the rule, one \ in the event */
	YES("    userAgent: 'c:\\d'\n", .ua = "c:\\\\d");
	/* a glob with a wildcard inside */
	YES("    requestURI|contains: 'secrets?*limit'\n", .uri = "/api/v1/secrets?x=1&limit=5");
	NO("    requestURI|contains: 'secrets?*limit'\n", .uri = "/api/v1/secrets");
}

Test(sigma_modifiers, re_is_case_sensitive_unless_i)
{
	YES("    userAgent|re: '^(curl|wget)/'\n", .ua = "curl/8.1");
	NO("    userAgent|re: '^(curl|wget)/'\n", .ua = "Curl/8.1");
	YES("    userAgent|re|i: '^(curl|wget)/'\n", .ua = "Curl/8.1");
	YES("    userAgent|re: 'l/\\d+\\.\\d'\n", .ua = "curl/8.1"); /* searched, not anchored */
}

Test(sigma_modifiers, cidr_v4_and_v6)
{
	YES("    sourceIPs|cidr: 10.0.0.0/8\n", .ips = "[\"10.1.2.3\"]");
	NO("    sourceIPs|cidr: 10.0.0.0/8\n", .ips = "[\"11.1.2.3\"]");
	YES("    sourceIPs|cidr: 10.0.0.0/8\n", .ips = "[\"192.0.2.1\",\"10.1.2.3\"]");
	YES("    sourceIPs|cidr: 'fd00::/8'\n", .ips = "[\"fd12::1\"]");
	NO("    sourceIPs|cidr: 'fd00::/8'\n", .ips = "[\"fe80::1\"]");
	YES("    sourceIPs|cidr: 192.0.2.7/32\n", .ips = "[\"192.0.2.7\"]");
	NO("    sourceIPs|cidr: 192.0.2.7/32\n", .ips = "[\"192.0.2.8\"]");
}

Test(sigma_modifiers, exists_and_null)
{
	YES("    userAgent|exists: true\n", .ua = "x");
	NO("    userAgent|exists: true\n", .ua = "-");
	YES("    userAgent|exists: false\n", .ua = "-");
	YES("    userAgent: null\n", .ua = "-");
	NO("    userAgent: null\n", .ua = "x");
	YES("    user.extra.authentication.kubernetes.io/pod-name|exists: true\n", .pod_name = "p");
	NO("    user.extra.authentication.kubernetes.io/pod-name|exists: true\n");
	YES("    requestObject.spec.nodeName: null\n",
	    .request_object = "{\"spec\":{\"nodeName\":null}}");
}

Test(sigma_modifiers, base64_and_base64offset)
{
	/* "secret" is c2VjcmV0 */
	YES("    requestURI|base64|contains: secret\n", .uri = "/x?q=c2VjcmV0");
	NO("    requestURI|base64|contains: secret\n", .uri = "/x?q=secret");
	/* base64("xsecret") = eHNlY3JldA==, "secret" at offset 1: its middle is in there */
	YES("    requestURI|base64offset|contains: secret\n", .uri = "/x?q=eHNlY3JldA==");
	/* base64("xxsecret") = eHhzZWNyZXQ= (offset 2) */
	YES("    requestURI|base64offset|contains: secret\n", .uri = "/x?q=eHhzZWNyZXQ=");
	/* base64("xxsecre"): one byte short of the word */
	NO("    requestURI|base64offset|contains: secret\n", .uri = "/x?q=eHhzZWNyZQ==");
}

Test(sigma_modifiers, numbers_compare)
{
	YES("    responseStatus.code: 403\n", .code = 403);
	NO("    responseStatus.code: 403\n", .code = 401);
	YES("    responseStatus.code|gte: 400\n", .code = 403);
	NO("    responseStatus.code|gt: 403\n", .code = 403);
	YES("    responseStatus.code|lt: 300\n", .code = 201);
	YES("    responseStatus.code|lte: 201\n", .code = 201);
	NO("    responseStatus.code|lte: 200\n", .code = 201);
}

Test(sigma_modifiers, fieldref)
{
	YES("    user.username|fieldref: objectRef.name\n", .user = "bob", .name = "bob");
	NO("    user.username|fieldref: objectRef.name\n", .user = "bob", .name = "carol");
}

Test(sigma_modifiers, paths_into_the_raw_event)
{
	const char *pod = "{\"spec\":{\"hostPID\":true,\"containers\":[{\"name\":\"a\","
			  "\"securityContext\":{\"privileged\":false}},{\"name\":\"b\","
			  "\"securityContext\":{\"privileged\":true}}]}}";

	YES("    requestObject.spec.hostPID: 'true'\n", .resource = "pods", .request_object = pod);
	YES("    requestObject.spec.containers.securityContext.privileged: 'true'\n",
	    .resource = "pods", .request_object = pod);
	NO("    requestObject.spec.hostNetwork: 'true'\n", .resource = "pods",
	   .request_object = pod);
	YES("    requestObject.spec.containers.1.name: b\n", .resource = "pods",
	    .request_object = pod);
	NO("    requestObject.spec.containers.0.name: b\n", .resource = "pods",
	   .request_object = pod);
	/* the annotation key holds dots; Sigma's k8s rules write it as one dotted path */
	YES("    annotations.authorization.k8s.io/decision: forbid\n", .decision = "forbid");
	NO("    annotations.authorization.k8s.io/decision: forbid\n", .decision = "allow");
	YES("    user.groups: 'system:masters'\n", .groups = "[\"a\",\"system:masters\"]");
	YES("    sourceIPs.0: 192.0.2.10\n");
	NO("    sourceIPs.1: 192.0.2.10\n");
	/* escapes in the line are decoded before matching, keys included */
	YES("    requestObject.spec.hostPID: 'true'\n", .resource = "pods",
	    .request_object = "{\"spec\":{\"host\\u0050ID\":true}}");
	YES("    user.extra.authentication.kubernetes.io/pod-name: p\n", .pod_name = "p",
	    .ua = "a\\/b"); /* a \/ elsewhere in the line */
	YES("    objectRef.resource: secrets\n", .resource = "secr\\u0065ts");
}

Test(sigma_modifiers, keywords_search_the_line)
{
	char yaml[] = "title: kw\nid: kw\nlogsource:\n  product: kubernetes\n  service: audit\n"
		      "detection:\n  keywords:\n    - EVIL-AGENT\n  condition: keywords\n";

	cr_expect_eq(sh_hits(yaml, &(struct ev_spec){.ua = "evil-agent/1"}), 1);
	cr_expect_eq(sh_hits(yaml, &(struct ev_spec){.ua = "good-agent/1"}), 0);
}

Test(sigma_modifiers, sigmahq_mapped_names)
{
	/* hostPath, capabilities and top-level apiGroup as SigmaHQ's rules write them */
	YES("    hostPath: '*'\n", .resource = "pods",
	    .request_object =
		"{\"spec\":{\"volumes\":[{\"name\":\"h\",\"hostPath\":{\"path\":\"/\"}}]}}");
	NO("    hostPath: '*'\n", .resource = "pods",
	   .request_object = "{\"spec\":{\"volumes\":[{\"name\":\"e\",\"emptyDir\":{}}]}}");
	YES("    capabilities: '*'\n", .resource = "pods",
	    .request_object = "{\"spec\":{\"initContainers\":[{\"securityContext\":"
			      "{\"capabilities\":{\"add\":[\"SYS_ADMIN\"]}}}]}}");
	YES("    apiGroup: apps\n", .resource = "deployments", .api_group = "apps");
	NO("    apiGroup: apps\n", .resource = "deployments", .api_group = "batch");
}

Test(sigma_modifiers, exec_command_is_decoded_and_joined)
{
	const char *uri = "/api/v1/namespaces/d/pods/p/exec?command=sh&command=-c"
			  "&command=id%3B+cat+%2Fetc%2Fshadow&stdin=true";

	YES("    keyhole.exec.command|cased: 'sh -c id; cat /etc/shadow'\n", .resource = "pods",
	    .subresource = "exec", .uri = uri);
	NO("    keyhole.exec.command|contains: '%2F'\n", .resource = "pods", .subresource = "exec",
	   .uri = uri);
	NO("    keyhole.exec.command|exists: true\n", .resource = "pods", .subresource = "exec",
	   .uri = "/api/v1/namespaces/d/pods/p/exec?stdin=true");
}
