// SPDX-License-Identifier: Apache-2.0
/*
 * gen_audit: writes a realistic audit log for benchmarks: the traffic mix of a busy control
 * plane (controllers, kubelets, leader-election leases, events, humans with kubectl, a little
 * scripted secret access), both stages per request, annotations last, 1-3 KB per event as
 * Request-level policies make them. Deterministic for a given seed, so runs compare.
 *
 * Usage: gen_audit SIZE_MB [SEED] > audit.log
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;

static uint32_t rnd(void)
{
	/* xorshift64*: fast, and good enough to shuffle a traffic mix */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

#define PICK(a) (a[rnd() % (sizeof(a) / sizeof(a[0]))])

struct actor {
	const char *user;
	const char *groups;
	const char *ua;
	const char *ip;
};

static const struct actor actors[] = {
    {"system:kube-controller-manager", "\"system:authenticated\"",
     "kube-controller-manager/v1.31.2 (linux/amd64) kubernetes/5864a46/leader-election",
     "10.0.0.10"},
    {"system:kube-scheduler", "\"system:authenticated\"",
     "kube-scheduler/v1.31.2 (linux/amd64) kubernetes/5864a46/leader-election", "10.0.0.10"},
    {"system:node:worker-1", "\"system:nodes\",\"system:authenticated\"",
     "kubelet/v1.31.2 (linux/amd64) kubernetes/5864a46", "10.0.1.21"},
    {"system:node:worker-2", "\"system:nodes\",\"system:authenticated\"",
     "kubelet/v1.31.2 (linux/amd64) kubernetes/5864a46", "10.0.1.22"},
    {"system:serviceaccount:kube-system:coredns",
     "\"system:serviceaccounts\",\"system:serviceaccounts:kube-system\",\"system:authenticated\"",
     "coredns/v1.11.3 (linux/amd64) kubernetes/$Format", "10.244.0.5"},
    {"system:serviceaccount:cert-manager:cert-manager",
     "\"system:serviceaccounts\",\"system:serviceaccounts:cert-manager\",\"system:authenticated\"",
     "cert-manager-controller/v1.15.3 (linux/amd64) cert-manager/2f3c8c3", "10.244.1.7"},
    {"system:serviceaccount:flux-system:kustomize-controller",
     "\"system:serviceaccounts\",\"system:serviceaccounts:flux-system\",\"system:authenticated\"",
     "kustomize-controller/v1.3.0 (linux/amd64)", "10.244.2.9"},
    {"alice@example.com", "\"devs\",\"system:authenticated\"",
     "kubectl/v1.31.1 (darwin/arm64) kubernetes/948afe5", "203.0.113.7"},
    {"system:serviceaccount:ci:deployer",
     "\"system:serviceaccounts\",\"system:serviceaccounts:ci\",\"system:authenticated\"",
     "python-requests/2.31.0", "10.244.3.4"},
    {"bob@example.com", "\"ops\",\"system:authenticated\"", "curl/8.5.0", "198.51.100.23"},
};

static const char *const resources[] = {"pods",	    "configmaps", "secrets",	 "leases",
					"events",   "nodes",	  "deployments", "endpoints",
					"services", "replicasets"};
static const char *const namespaces[] = {"default",	 "kube-system", "payments",
					 "cert-manager", "flux-system", "monitoring"};
static const char *const verbs[] = {"get",   "get",    "get",	"list",
				    "watch", "update", "patch", "create"};

static void uuid(char *b)
{
	snprintf(b, 37, "%08x-%04x-4%03x-%04x-%08x%04x", rnd(), rnd() & 0xffff, rnd() & 0xfff,
		 (rnd() & 0x3fff) | 0x8000, rnd(), rnd() & 0xffff);
}

static void ts(char *b, uint64_t us)
{
	uint64_t s = us / 1000000;
	unsigned h = (unsigned)(s / 3600 % 24), m = (unsigned)(s / 60 % 60),
		 sec = (unsigned)(s % 60);
	unsigned d = (unsigned)(1 + s / 86400 % 28);

	snprintf(b, 40, "2026-11-%02uT%02u:%02u:%02u.%06uZ", d, h, m, sec,
		 (unsigned)(us % 1000000));
}

/* a Request-level body for writes: labels and a spec, never real secret data */
static int body(char *b, size_t cap, const char *res, const char *name)
{
	int n = snprintf(
	    b, cap,
	    ",\"requestObject\":{\"kind\":\"Unknown\",\"apiVersion\":\"v1\",\"metadata\":"
	    "{\"name\":\"%s\",\"labels\":{\"app\":\"%s\",\"tier\":\"backend\","
	    "\"pod-template-hash\":\"%08x\"},\"annotations\":{\"deployment.kubernetes.io/"
	    "revision\":\"%u\"}},\"spec\":{\"replicas\":%u,\"template\":{\"spec\":{"
	    "\"containers\":[{\"name\":\"app\",\"image\":\"registry.example.com/%s:1.%u.%u\","
	    "\"resources\":{\"limits\":{\"cpu\":\"500m\",\"memory\":\"256Mi\"}},"
	    "\"env\":[{\"name\":\"LOG_LEVEL\",\"value\":\"info\"},{\"name\":\"GOMAXPROCS\","
	    "\"value\":\"2\"}],\"ports\":[{\"containerPort\":8080,\"protocol\":\"TCP\"}],"
	    "\"readinessProbe\":{\"httpGet\":{\"path\":\"/readyz\",\"port\":8080},"
	    "\"periodSeconds\":10}}],\"tolerations\":[{\"key\":\"node.kubernetes.io/"
	    "not-ready\",\"operator\":\"Exists\",\"effect\":\"NoExecute\","
	    "\"tolerationSeconds\":300}]}}}}",
	    name, name, rnd(), rnd() % 40, 1 + rnd() % 5, res, rnd() % 30, rnd() % 10);
	return n;
}

int main(int argc, char **argv)
{
	uint64_t target, written = 0, t_us = 1795400000ULL * 1000000ULL % (86400ULL * 1000000ULL);
	static char line[8192], bodybuf[2048];
	char id[40], t1[40], t2[40];

	if (argc < 2) {
		fprintf(stderr, "usage: gen_audit SIZE_MB [SEED] > audit.log\n");
		return 2;
	}
	target = strtoull(argv[1], NULL, 10) << 20;
	rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) : 0x6b6579686f6c65ULL;
	if (!rng_state)
		rng_state = 1;
	setvbuf(stdout, NULL, _IOFBF, 1 << 20);
	while (written < target) {
		/* humans and scripts are a sliver of a control plane's traffic */
		const struct actor *a = &actors[rnd() % 1000 < 995 ? rnd() % 7 : 7 + rnd() % 3];
		const char *res = PICK(resources), *ns = PICK(namespaces), *verb = PICK(verbs);
		int is_sa = !strncmp(a->user, "system:serviceaccount:", 22);
		char extra[512] = "";
		char name[64];
		int write_verb =
		    !strcmp(verb, "update") || !strcmp(verb, "patch") || !strcmp(verb, "create");
		int code = rnd() % 50 ? (write_verb && !strcmp(verb, "create") ? 201 : 200) : 403;

		/* controllers mostly watch secrets rather than get them one by one */
		if (!strcmp(res, "secrets") && a < &actors[7] && rnd() % 20)
			res = "pods";
		if (is_sa)
			snprintf(
			    extra, sizeof(extra),
			    ",\"extra\":{\"authentication.kubernetes.io/credential-id\":[\"JTI=%08x-"
			    "%04x-4%03x-8%03x-%08x%04x\"],\"authentication.kubernetes.io/node-name\":"
			    "[\"worker-%u\"],\"authentication.kubernetes.io/node-uid\":[\"%08x-%04x-"
			    "4%03x-8%03x-%08x%04x\"],\"authentication.kubernetes.io/pod-name\":[\"%s-"
			    "%05x\"],\"authentication.kubernetes.io/pod-uid\":[\"%08x-%04x-4%03x-8%03x-"
			    "%08x%04x\"]}",
			    rnd(), rnd() & 0xffff, rnd() & 0xfff, rnd() & 0xfff, rnd(),
			    rnd() & 0xffff, rnd() % 5, rnd(), rnd() & 0xffff, rnd() & 0xfff,
			    rnd() & 0xfff, rnd(), rnd() & 0xffff, ns, rnd() & 0xfffff, rnd(),
			    rnd() & 0xffff, rnd() & 0xfff, rnd() & 0xfff, rnd(), rnd() & 0xffff);
		snprintf(name, sizeof(name), "%s-%u", res, rnd() % 500);
		uuid(id);
		t_us += rnd() % 2000;
		ts(t1, t_us);
		ts(t2, t_us + 500 + rnd() % 5000);
		bodybuf[0] = '\0';
		if (write_verb && strcmp(res, "secrets"))
			body(bodybuf, sizeof(bodybuf), res, name);
		for (int stage = 0; stage < 2; stage++) {
			int n = snprintf(
			    line, sizeof(line),
			    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"%s\","
			    "\"auditID\":\"%s\",\"stage\":\"%s\",\"requestURI\":\"/api/v1/namespaces/"
			    "%s/%s/%s\",\"verb\":\"%s\",\"user\":{\"username\":\"%s\",\"uid\":\"%08x\","
			    "\"groups\":[%s]%s},\"sourceIPs\":[\"%s\"],\"userAgent\":\"%s\","
			    "\"objectRef\":{\"resource\":\"%s\",\"namespace\":\"%s\",\"name\":\"%s\","
			    "\"apiVersion\":\"v1\"}%s%s,\"requestReceivedTimestamp\":\"%s\","
			    "\"stageTimestamp\":\"%s\",\"annotations\":{\"authorization.k8s.io/"
			    "decision\":\"%s\",\"authorization.k8s.io/reason\":\"%s\"}}\n",
			    bodybuf[0] ? "Request" : "Metadata", id,
			    stage ? "ResponseComplete" : "RequestReceived", ns, res, name, verb,
			    a->user, rnd(), a->groups, extra, a->ip, a->ua, res, ns, name,
			    stage ? (code == 403
					 ? ",\"responseStatus\":{\"metadata\":{},\"status\":"
					   "\"Failure\",\"reason\":\"Forbidden\",\"code\":403}"
					 : (code == 201 ? ",\"responseStatus\":{\"metadata\":{},"
							  "\"code\":201}"
							: ",\"responseStatus\":{\"metadata\":{},"
							  "\"code\":200}"))
				  : "",
			    bodybuf, t1, stage ? t2 : t1, code == 403 ? "forbid" : "allow",
			    code == 403
				? ""
				: "RBAC: allowed by ClusterRoleBinding \\\"system:basic-user\\\" of ClusterRole \\\"system:basic-user\\\" to Group \\\"system:authenticated\\\"");
			fwrite(line, 1, (size_t)n, stdout);
			written += (uint64_t)n;
		}
	}
	fprintf(stderr, "gen_audit: %" PRIu64 " bytes\n", written);
	return 0;
}
