// SPDX-License-Identifier: Apache-2.0
/*
 * parse_bench: throughput of audit_parse__line() alone, on realistic 1-3 KB audit lines held in
 * memory (no I/O), so a regression in the hot path shows apart from the rest of the agent.
 *
 *   parse_bench [-s SECONDS] [FILE]
 *
 * Without FILE it generates a mix shaped like a control plane's log: mostly Metadata-level
 * gets/lists/watches by controllers and kubelets (about 1.2 KB), some Request/RequestResponse
 * events with requestObject/responseObject bodies (2-3 KB). With FILE it parses that file's lines.
 * Prints MB/s and events/s per CPU second of one core (thread CPU time, not wall time).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyhole/audit_parse.h"

struct corpus {
	char *buf;
	size_t len, cap;
	size_t *off; /* line starts; off[n] is the end */
	size_t n, ncap;
};

static void corpus_add(struct corpus *c, const char *line, size_t len)
{
	if (c->len + len + 1 > c->cap) {
		c->cap = (c->len + len + 1) * 2;
		c->buf = realloc(c->buf, c->cap);
	}
	if (c->n + 2 > c->ncap) {
		c->ncap = (c->n + 2) * 2;
		c->off = realloc(c->off, c->ncap * sizeof(*c->off));
	}
	if (!c->buf || !c->off) {
		fprintf(stderr, "parse_bench: out of memory\n");
		exit(1);
	}
	c->off[c->n++] = c->len;
	memcpy(c->buf + c->len, line, len);
	c->len += len;
	c->buf[c->len++] = '\n';
	c->off[c->n] = c->len;
}

static const char *const users[] = {
    "system:serviceaccount:kube-system:replicaset-controller",
    "system:node:cp-1.example.internal",
    "system:kube-controller-manager",
    "system:serviceaccount:cert-manager:cert-manager",
    "alice@example.com",
    "system:serviceaccount:flux-system:helm-controller",
};
static const char *const agents[] = {
    ("kube-controller-manager/v1.30.2 (linux/amd64) "
     "kubernetes/3968350/system:serviceaccount:kube-system:replicaset-controller"),
    "kubelet/v1.30.2 (linux/amd64) kubernetes/3968350",
    "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350",
    "cert-manager-controller/v1.14.4 (linux/amd64) cert-manager/f8e4b2a",
    "curl/8.5.0",
    "helm-controller/v0.37.4",
};
static const char *const resources[] = {"secrets", "configmaps", "pods",
					"leases",  "events",	 "deployments"};
static const char *const verbs[] = {"get", "list", "watch", "update", "patch", "create"};

static size_t gen_event(char *out, size_t cap, unsigned r)
{
	const char *user = users[r % 6], *ua = agents[(r / 6) % 6];
	const char *res = resources[(r / 36) % 6], *verb = verbs[(r / 216) % 6];
	int body = (r % 5) == 0;
	char obj[2048] = "";
	int n;

	if (body)
		snprintf(
		    obj, sizeof(obj),
		    ",\"requestObject\":{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":"
		    "{\"name\":\"cfg-%u\",\"namespace\":\"team-%u\",\"uid\":\"7b2c9f1e-3d4a-4b5c-"
		    "9e8f-0a1b2c3d4e5f\",\"resourceVersion\":\"%u\",\"labels\":{\"app.kubernetes."
		    "io/"
		    "name\":\"web\",\"app.kubernetes.io/instance\":\"web-%u\",\"helm.sh/chart\":"
		    "\"web-1.4.2\"},\"annotations\":{\"meta.helm.sh/release-name\":\"web\"},"
		    "\"managedFields\":[{\"manager\":\"helm\",\"operation\":\"Update\",\"apiVersion"
		    "\":\"v1\",\"time\":\"2026-11-23T19:06:46Z\",\"fieldsType\":\"FieldsV1\","
		    "\"fieldsV1\":{\"f:data\":{\".\":{},\"f:config.yaml\":{}}}}]},\"data\":"
		    "{\"config.yaml\":\"server:\\n  port: 8080\\n  replicas: %u\\n  tls: true\\n"
		    "  hosts:\\n  - a.example.com\\n  - b.example.com\\n\"}},\"responseObject\":{"
		    "\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
		    "\"Success\",\"code\":%d,\"details\":{\"name\":\"cfg-%u\",\"kind\":"
		    "\"configmaps\",\"uid\":\"7b2c9f1e-3d4a-4b5c-9e8f-0a1b2c3d4e5f\"},"
		    "\"retryAfterSeconds\":null,\"ratio\":1.5e-3,\"flags\":[true,false]}",
		    r, r % 17, r * 7, r % 3, r % 9, 200, r);
	n = snprintf(
	    out, cap,
	    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"%s\","
	    "\"auditID\":\"%08x-1f2e-4d3c-8b9a-%012x\",\"stage\":\"ResponseComplete\","
	    "\"requestURI\":\"/api/v1/namespaces/team-%u/%s/obj-%u?resourceVersion=0&timeout=9m\","
	    "\"verb\":\"%s\",\"user\":{\"username\":\"%s\",\"uid\":\"5c0f9a7e-2b1d-4e3f-a4b5-"
	    "c6d7e8f90a1b\",\"groups\":[\"system:serviceaccounts\",\"system:serviceaccounts:kube-"
	    "system\",\"system:authenticated\"],\"extra\":{\"authentication.kubernetes.io/"
	    "credential-id\":[\"JTI=4f1c2d3e-5a6b-7c8d-9e0f-a1b2c3d4e5f6\"],\"authentication."
	    "kubernetes.io/node-name\":[\"cp-1\"],\"authentication.kubernetes.io/node-uid\":"
	    "[\"0e1d2c3b-4a59-6877-8695-a4b3c2d1e0f9\"],\"authentication.kubernetes.io/pod-name\":"
	    "[\"controller-7d9f8b6c5d-x2x4q\"],\"authentication.kubernetes.io/pod-uid\":"
	    "[\"9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4\"]}},\"sourceIPs\":[\"10.%u.%u.%u\"],"
	    "\"userAgent\":\"%s\",\"objectRef\":{\"resource\":\"%s\",\"namespace\":\"team-%u\","
	    "\"name\":\"obj-%u\",\"apiVersion\":\"v1\"},\"responseStatus\":{\"metadata\":{},"
	    "\"code\":200},\"requestReceivedTimestamp\":\"2026-11-23T19:06:46.%06uZ\","
	    "\"stageTimestamp\":\"2026-11-23T19:06:46.%06uZ\"%s,\"annotations\":{"
	    "\"authorization.k8s.io/decision\":\"allow\",\"authorization.k8s.io/reason\":\"RBAC: "
	    "allowed by ClusterRoleBinding \\\"system:controller:replicaset-controller\\\" of "
	    "ClusterRole \\\"system:controller:replicaset-controller\\\" to ServiceAccount "
	    "\\\"replicaset-controller/kube-system\\\"\"}}",
	    body ? "RequestResponse" : "Metadata", r, r * 2654435761u, r % 17, res, r, verb, user,
	    r % 250, (r / 250) % 250, r % 200 + 1, ua, res, r % 17, r, r % 1000000,
	    (r + 1733) % 1000000, obj);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static void load_file(struct corpus *c, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t lcap = 0;
	ssize_t n;

	if (!f) {
		fprintf(stderr, "parse_bench: cannot open %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while ((n = getline(&line, &lcap, f)) > 0) {
		if (line[n - 1] == '\n')
			n--;
		corpus_add(c, line, (size_t)n);
	}
	free(line);
	fclose(f);
}

/* CPU time of this thread: on a shared, loaded machine wall time would measure the neighbours */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct corpus c = {0};
	double secs = 3, t0, t;
	unsigned long long bytes = 0, events = 0, bad = 0;
	struct audit_event ev;
	unsigned long long sink = 0; /* uses the results, so no work is optimised away */
	int i = 1;

	if (argc > 2 && !strcmp(argv[1], "-s")) {
		secs = atof(argv[2]);
		i = 3;
	}
	if (i < argc) {
		load_file(&c, argv[i]);
	} else {
		char line[8192];

		for (unsigned r = 1; r <= 20000; r++) {
			size_t n = gen_event(line, sizeof(line), r * 2654435761u >> 8);

			if (n)
				corpus_add(&c, line, n);
		}
	}
	if (!c.n) {
		fprintf(stderr, "parse_bench: no lines\n");
		return 2;
	}
	t0 = now();
	do {
		for (size_t k = 0; k < c.n; k++) {
			size_t len = c.off[k + 1] - c.off[k] - 1;

			if (audit_parse__line(c.buf + c.off[k], len, &ev, NULL))
				bad++;
			else
				sink += ev.verb.len + ev.source_ips.n;
			bytes += len + 1;
			events++;
		}
		t = now() - t0;
	} while (t < secs);
	printf("parse_bench: %zu distinct lines, avg %.0f B; %llu events in %.2f CPU s: %.0f MB/s, "
	       "%.2f M events/s, %llu rejected (sum %llu)\n",
	       c.n, (double)c.len / c.n, events, t, bytes / t / 1e6, events / t / 1e6, bad, sink);
	free(c.buf);
	free(c.off);
	return 0;
}
