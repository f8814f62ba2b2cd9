// SPDX-License-Identifier: Apache-2.0
/*
 * The SigmaHQ Kubernetes audit rules, as published, loaded unchanged from ../shared/rules/sigma
 * (beside the checkout; they are test data, not part of keyhole): every one loads, fires on an
 * event that matches it and stays silent on a near miss.
 *
 * Three of them name fields a raw audit Event does not have (hostPath, capabilities, top-level
 * apiGroup); keyhole maps them as a Sigma pipeline would (src/sigma/sigma_field.c). One compares
 * responseStatus.code with the string 'ALLOW' (upstream's mistake: the apiserver writes an
 * integer), so only an event that carries that string matches it; the test says so.
 */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers" /* the table names what it sets */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sigma_harness.h"

struct upstream_case {
	const char *file, *id;
	struct ev_spec hit, miss;
	const char *hit_line; /* instead of hit, a literal line */
};

#define POD_HOSTPATH "{\"spec\":{\"volumes\":[{\"name\":\"h\",\"hostPath\":{\"path\":\"/etc\"}}]}}"
#define POD_PLAIN                                                                                  \
	"{\"spec\":{\"volumes\":[{\"name\":\"e\",\"emptyDir\":{}}],\"containers\":[{\"name\":\"c\"}]}}"
#define POD_CAPS                                                                                   \
	"{\"spec\":{\"containers\":[{\"name\":\"c\",\"securityContext\":{\"capabilities\":{\"add\":[\"SYS_ADMIN\"]}}}]}}"

static const struct upstream_case cases[] = {
    {"kubernetes_audit_change_admission_controller.yml",
     "eed82177-38f5-4299-8a76-098d50d225ab",
     {.verb = "create",
      .resource = "mutatingwebhookconfigurations",
      .ns = "-",
      .name = "w",
      .api_group = "admissionregistration.k8s.io"},
     {.verb = "get",
      .resource = "mutatingwebhookconfigurations",
      .ns = "-",
      .name = "w",
      .api_group = "admissionregistration.k8s.io"}},
    {"kubernetes_audit_cronjob_modification.yml",
     "0c9b3bda-41a6-4442-9345-356ae86343dc",
     {.verb = "patch", .resource = "cronjobs", .api_group = "batch"},
     {.verb = "list", .resource = "cronjobs", .api_group = "batch"}},
    {"kubernetes_audit_deployment_deleted.yml",
     "40967487-139b-4811-81d9-c9767a92aa5a",
     {.verb = "delete", .resource = "deployments", .api_group = "apps"},
     {.verb = "delete", .resource = "replicasets", .api_group = "apps"}},
    {"kubernetes_audit_events_deleted.yml",
     "3132570d-cab2-4561-9ea6-1743644b2290",
     {.verb = "delete", .resource = "events"},
     {.verb = "create", .resource = "events"}},
    {"kubernetes_audit_exec_into_container.yml",
     "a1b0ca4e-7835-413e-8471-3ff2b8a66be6",
     {.verb = "create", .resource = "pods", .subresource = "exec"},
     /* kubectl >= 1.30 execs with get: the upstream rule misses it (INDEX.md) */
     {.verb = "get", .resource = "pods", .subresource = "exec"}},
    {"kubernetes_audit_hostpath_mount.yml",
     "402b955c-8fe0-4a8c-b635-622b4ac5f902",
     {.verb = "create", .resource = "pods", .name = "-", .request_object = POD_HOSTPATH},
     {.verb = "create", .resource = "pods", .name = "-", .request_object = POD_PLAIN}},
    {"kubernetes_audit_pod_in_system_namespace.yml",
     "a80d927d-ac6e-443f-a867-e8d6e3897318",
     {.verb = "create", .resource = "pods", .ns = "kube-system", .name = "-"},
     {.verb = "create", .resource = "pods", .ns = "kube-systems", .name = "-"}},
    {"kubernetes_audit_potential_enumeration_activity.yml",
     "597a7e84-187d-458b-9e4f-2f5a0e676711",
     {0},
     /* a real apiserver line: the code is an integer, so this never fires on one */
     {.verb = "create",
      .resource = "pods",
      .subresource = "exec",
      .code = 200,
      .uri = "/api/v1/namespaces/default/pods/p/exec?command=%2fbin%2fsh&stdin=true"},
     "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
     "\"auditID\":\"enum-1\",\"stage\":\"ResponseComplete\",\"requestURI\":\"/api/v1/"
     "namespaces/default/pods/p/exec?command=%2fbin%2fsh\",\"verb\":\"create\","
     "\"user\":{\"username\":\"u\"},\"objectRef\":{\"resource\":\"pods\",\"subresource\":"
     "\"exec\"},\"responseStatus\":{\"code\":\"ALLOW\"},\"requestReceivedTimestamp\":"
     "\"2026-11-23T10:00:00.000000Z\",\"stageTimestamp\":\"2026-11-23T10:00:00.000000Z\"}"},
    {"kubernetes_audit_privileged_pod_creation.yml",
     "c5cd1b20-36bb-488d-8c05-486be3d0cb97",
     {.verb = "create", .resource = "pods", .name = "-", .request_object = POD_CAPS},
     {.verb = "create", .resource = "pods", .name = "-", .request_object = POD_PLAIN}},
    {"kubernetes_audit_rbac_permisions_listing.yml",
     "84b777bd-c946-4d17-aa2e-c39f5a454325",
     {.verb = "create",
      .resource = "selfsubjectrulesreviews",
      .ns = "-",
      .name = "-",
      .api_group = "authorization.k8s.io"},
     {.verb = "create",
      .resource = "selfsubjectaccessreviews",
      .ns = "-",
      .name = "-",
      .api_group = "authorization.k8s.io"}},
    {"kubernetes_audit_rolebinding_modification.yml",
     "10b97915-ec8d-455f-a815-9a78926585f6",
     {.verb = "patch", .resource = "rolebindings", .api_group = "rbac.authorization.k8s.io"},
     {.verb = "get", .resource = "rolebindings", .api_group = "rbac.authorization.k8s.io"}},
    {"kubernetes_audit_secrets_enumeration.yml",
     "eeb3e9e1-b685-44e4-9232-6bb701f925b5",
     {.verb = "list", .resource = "secrets", .name = "-"},
     {.verb = "get", .resource = "secrets"}},
    {"kubernetes_audit_secrets_modified_or_deleted.yml",
     "58d31a75-a4f8-4c40-985b-373d58162ca2",
     {.verb = "delete", .resource = "secrets"},
     {.verb = "watch", .resource = "secrets"}},
    {"kubernetes_audit_serviceaccount_creation.yml",
     "e31bae15-83ed-473e-bf31-faf4f8a17d36",
     {.verb = "create", .resource = "serviceaccounts"},
     {.verb = "delete", .resource = "serviceaccounts"}},
    {"kubernetes_audit_sidecar_injection.yml",
     "ad9012a6-e518-4432-9890-f3b82b8fc71f",
     {.verb = "patch", .resource = "deployments", .api_group = "apps"},
     {.verb = "patch", .resource = "deployments", .api_group = "extensions"}},
    {"kubernetes_audit_unauthorized_unauthenticated_actions.yml",
     "0d933542-1f1f-420d-97d4-21b2c3c492d9",
     {.code = 401, .decision = "forbid"},
     {.code = 404}},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* ../shared/rules/sigma beside the source tree; KH_SHARED_SIGMA_DIR in the environment wins */
static const char *upstream_dir(void)
{
	const char *d = getenv("KH_SHARED_SIGMA_DIR");

	return d && *d ? d : KH_SHARED_SIGMA_DIR;
}

static bool have_upstream(void)
{
	struct stat st;

	if (stat(upstream_dir(), &st) == 0)
		return true;
	fprintf(stderr,
		"sigma_upstream: SKIPPED: %s is absent (shared/ must sit beside the "
		"checkout, or set KH_SHARED_SIGMA_DIR)\n",
		upstream_dir());
	return false;
}

Test(sigma_upstream, every_rule_loads_unchanged)
{
	const char *paths[] = {upstream_dir()};
	char *errs = NULL;
	size_t n_files = 0;
	struct sh *h;

	if (!have_upstream())
		cr_skip_test("%s absent", upstream_dir());
	for (size_t i = 0; i < N_CASES; i++) {
		char path[512];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", upstream_dir(), cases[i].file);
		cr_expect_eq(stat(path, &st), 0, "%s missing", path);
		n_files++;
	}
	h = sh_new_paths(paths, 1);
	cr_expect_eq(sh_rules(h), n_files, "every upstream rule loads");
	sh_free(h);
	(void)errs;
}

Test(sigma_upstream, each_fires_on_a_match_and_not_on_a_near_miss)
{
	if (!have_upstream())
		cr_skip_test("%s absent", upstream_dir());
	for (size_t i = 0; i < N_CASES; i++) {
		const struct upstream_case *c = &cases[i];
		char path[512];
		const char *paths[] = {path};
		struct sh *h;

		snprintf(path, sizeof(path), "%s/%s", upstream_dir(), c->file);
		h = sh_new_paths(paths, 1);
		cr_assert_eq(sh_rules(h), 1, "%s did not load", c->file);
		sh_ev(h, &c->miss);
		sh_flush(h);
		cr_expect_eq(sh_count(h, c->id), 0, "%s fired on its near miss", c->file);
		if (c->hit_line)
			sh_feed(h, c->hit_line);
		else
			sh_ev(h, &c->hit);
		sh_flush(h);
		cr_expect_eq(sh_count(h, c->id), 1, "%s did not fire on its match", c->file);
		sh_free(h);
	}
}
