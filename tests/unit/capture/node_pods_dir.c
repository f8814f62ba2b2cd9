// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/capture/pods_dir.c: namespace, pod and container names from kubelet log directories
 * laid out under a temporary root.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "capture/pods_dir.h"

#define UID "0f3c9a52-7f1e-4c1d-9b8e-2a6d5c4b3a21"
#define CID "4e1f0c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"

static char root[64], pods[128], ctrs[128];

static void mk(const char *dir, const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	cr_assert_eq(mkdir(p, 0755), 0, "mkdir %s", p);
}

static void ln(const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", ctrs, name);
	cr_assert_eq(symlink("/nonexistent/0.log", p), 0);
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/kh-podsdir-XXXXXX");
	cr_assert(mkdtemp(root));
	snprintf(pods, sizeof(pods), "%s/pods", root);
	snprintf(ctrs, sizeof(ctrs), "%s/containers", root);
	cr_assert_eq(mkdir(pods, 0755), 0);
	cr_assert_eq(mkdir(ctrs, 0755), 0);
	mk(pods, "kube-system_coredns-5d78c9869d-abcde_11111111-2222-3333-4444-555555555555");
	mk(pods, "payments_api-7d9f8-x2x7q_" UID);
	mk(pods, "kube-system_kube-apiserver-cp1_3b6e5f0c8f1e2a4f7c9a1b2c3d4e5f60");
	mk(pods, "not_a_kubelet_dir_" UID); /* '_' inside: not ours, even with the UID */
	ln("api-7d9f8-x2x7q_payments_istio-proxy-" CID ".log");
	ln("coredns-5d78c9869d-abcde_kube-system_coredns-"
	   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.log");
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(node_pods_dir, .init = setup, .fini = teardown);

Test(node_pods_dir, finds_namespace_and_pod_by_uid)
{
	char ns[64], pod[254];

	cr_assert(pods_dir__lookup(pods, UID, ns, sizeof(ns), pod, sizeof(pod)));
	cr_assert_str_eq(ns, "payments");
	cr_assert_str_eq(pod, "api-7d9f8-x2x7q");
	cr_assert(pods_dir__lookup(pods, "3b6e5f0c8f1e2a4f7c9a1b2c3d4e5f60", ns, sizeof(ns), pod,
				   sizeof(pod)));
	cr_assert_str_eq(ns, "kube-system");
	cr_assert_str_eq(pod, "kube-apiserver-cp1");
}

Test(node_pods_dir, unknown_uid_or_missing_dir)
{
	char ns[64], pod[254];

	cr_assert(!pods_dir__lookup(pods, "99999999-2222-3333-4444-555555555555", ns, sizeof(ns),
				    pod, sizeof(pod)));
	cr_assert(!pods_dir__lookup("/nonexistent/pods", UID, ns, sizeof(ns), pod, sizeof(pod)));
	cr_assert(!pods_dir__lookup(pods, "", ns, sizeof(ns), pod, sizeof(pod)));
	/* a name that does not fit is not truncated into a wrong one */
	cr_assert(!pods_dir__lookup(pods, UID, ns, 4, pod, sizeof(pod)));
}

Test(node_pods_dir, split_rejects_other_shapes)
{
	size_t a, b, c, d;

	cr_assert(pods_dir__split("ns_pod_uid", &a, &b, &c, &d));
	cr_assert_eq(a, 2);
	cr_assert_eq(b, 3);
	cr_assert_eq(c, 3);
	cr_assert_eq(d, 7);
	cr_assert(!pods_dir__split("nounderscore", &a, &b, &c, &d));
	cr_assert(!pods_dir__split("ns_uid", &a, &b, &c, &d));
	cr_assert(!pods_dir__split("_pod_uid", &a, &b, &c, &d));
	cr_assert(!pods_dir__split("ns__uid", &a, &b, &c, &d));
	cr_assert(!pods_dir__split("ns_pod_", &a, &b, &c, &d));
	cr_assert(!pods_dir__split("a_b_c_d", &a, &b, &c, &d));
}

Test(node_pods_dir, container_name_from_containers_links)
{
	char name[64];

	cr_assert(pods_dir__container_name(ctrs, CID, name, sizeof(name)));
	cr_assert_str_eq(name, "istio-proxy");
	cr_assert(!pods_dir__container_name(ctrs, "abcdef0123456789", name, sizeof(name)));
	cr_assert(!pods_dir__container_name("/nonexistent", CID, name, sizeof(name)));
}
