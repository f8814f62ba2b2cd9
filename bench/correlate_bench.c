// SPDX-License-Identifier: Apache-2.0
/*
 * correlate_bench: the correlator's memory at N tracked subjects, and its cost per event.
 *
 *     build/bench/correlate_bench [N]        (default N = 100000)
 *
 * Feeds N RoleBinding creates at Request level, each binding one new user to a role (the
 * correlator's worst case: every grant is a new principal with its own grant record, and its
 * binding a second one), into a table of N principals, so it ends full (and evicting), and
 * reports the resident set (VmRSS) the correlator added and bytes per tracked principal. Then N
 * reads by those users (each opens an incident only while incidents fit; the rest are evicted,
 * counted), and N lease updates the correlator must ignore, each timed against parsing alone so the
 * figure is the correlator's own cost. Lines are generated into one stack buffer, so they add
 * nothing to the resident set.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyhole/correlate.h"
#include "keyhole/audit_parse.h"
#include "keyhole/emit.h"

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static double cpu_s(void)
{
	struct timespec ts;

	/* this thread's CPU time: other work on a shared machine does not count */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum kind { GRANT, READ, LEASE };

/* one ResponseComplete line of kind @k for principal @i at second @s of the run */
static size_t line_for(char *buf, size_t cap, enum kind k, long i, long s)
{
	char t[64];

	snprintf(t, sizeof(t), "2026-11-23T%02ld:%02ld:%02ld.%06ldZ", 10 + s / 3600, s / 60 % 60,
		 s % 60, i % 1000000);
	switch (k) {
	case GRANT:
		return (size_t)snprintf(
		    buf, cap,
		    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Request\","
		    "\"auditID\":\"00000000-0000-4000-8000-%012ld\",\"stage\":\"ResponseComplete\","
		    "\"requestURI\":\"/apis/rbac.authorization.k8s.io/v1/namespaces/team-%ld/"
		    "rolebindings\",\"verb\":\"create\",\"user\":{\"username\":\"platform-admin\","
		    "\"groups\":[\"platform\",\"system:authenticated\"]},\"sourceIPs\":[\"10.0.0.5\"],"
		    "\"userAgent\":\"kubectl/v1.30.2 (linux/amd64) kubernetes/3968350\","
		    "\"objectRef\":{\"resource\":\"rolebindings\",\"namespace\":\"team-%ld\","
		    "\"name\":\"dev-%ld\",\"apiGroup\":\"rbac.authorization.k8s.io\","
		    "\"apiVersion\":\"v1\"},\"responseStatus\":{\"metadata\":{},\"code\":201},"
		    "\"requestObject\":{\"kind\":\"RoleBinding\",\"apiVersion\":"
		    "\"rbac.authorization.k8s.io/v1\",\"metadata\":{\"name\":\"dev-%ld\","
		    "\"namespace\":\"team-%ld\",\"creationTimestamp\":null},\"subjects\":[{\"kind\":"
		    "\"User\",\"apiGroup\":\"rbac.authorization.k8s.io\",\"name\":"
		    "\"developer-%06ld@corp.example\"}],\"roleRef\":{\"apiGroup\":"
		    "\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\",\"name\":\"edit\"}},"
		    "\"requestReceivedTimestamp\":\"%s\",\"stageTimestamp\":\"%s\",\"annotations\":{"
		    "\"authorization.k8s.io/decision\":\"allow\",\"authorization.k8s.io/reason\":"
		    "\"\"}}",
		    i, i % 500, i % 500, i, i, i % 500, i, t, t);
	case READ:
		return (size_t)snprintf(
		    buf, cap,
		    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
		    "\"auditID\":\"00000000-0000-4000-9000-%012ld\",\"stage\":\"ResponseComplete\","
		    "\"requestURI\":\"/api/v1/namespaces/team-%ld/secrets/db\",\"verb\":\"get\","
		    "\"user\":{\"username\":\"developer-%06ld@corp.example\",\"groups\":"
		    "[\"system:authenticated\"]},\"sourceIPs\":[\"10.0.0.6\"],\"userAgent\":"
		    "\"kubectl/v1.30.2 (linux/amd64) kubernetes/3968350\",\"objectRef\":{\"resource\":"
		    "\"secrets\",\"namespace\":\"team-%ld\",\"name\":\"db\",\"apiVersion\":\"v1\"},"
		    "\"responseStatus\":{\"metadata\":{},\"code\":200},\"requestReceivedTimestamp\":"
		    "\"%s\",\"stageTimestamp\":\"%s\",\"annotations\":{\"authorization.k8s.io/"
		    "decision\":\"allow\",\"authorization.k8s.io/reason\":\"\"}}",
		    i, i % 500, i, i % 500, t, t);
	case LEASE:
		return (size_t)snprintf(
		    buf, cap,
		    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
		    "\"auditID\":\"00000000-0000-4000-a000-%012ld\",\"stage\":\"ResponseComplete\","
		    "\"requestURI\":\"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/"
		    "worker-%ld?timeout=10s\",\"verb\":\"update\",\"user\":{\"username\":"
		    "\"system:node:worker-%ld\",\"groups\":[\"system:nodes\",\"system:authenticated\"]},"
		    "\"sourceIPs\":[\"10.0.0.21\"],\"userAgent\":\"kubelet/v1.36.2 (linux/amd64) "
		    "kubernetes/5d9c2f0\",\"objectRef\":{\"resource\":\"leases\",\"namespace\":"
		    "\"kube-node-lease\",\"name\":\"worker-%ld\",\"apiGroup\":\"coordination.k8s.io\","
		    "\"apiVersion\":\"v1\"},\"responseStatus\":{\"metadata\":{},\"code\":200},"
		    "\"requestReceivedTimestamp\":\"%s\",\"stageTimestamp\":\"%s\",\"annotations\":{"
		    "\"authorization.k8s.io/decision\":\"allow\",\"authorization.k8s.io/reason\":"
		    "\"\"}}",
		    i, i % 50, i % 50, i % 50, t, t);
	}
	return 0;
}

/* feed @n lines of kind @k (to @c, or parse only when @c is NULL); seconds taken */
static double feed(struct kh_correlate *c, enum kind k, long n, long s0)
{
	static char buf[4096];
	struct audit_event ev;
	struct kh_parse_error pe;
	double t0 = cpu_s();

	for (long i = 0; i < n; i++) {
		/* 100k grants in ~16 minutes of event time: all inside the 30-minute window */
		size_t len = line_for(buf, sizeof(buf), k, i, s0 + i / 100);

		if (audit_parse__line(buf, len, &ev, &pe) != 0) {
			fprintf(stderr, "bench line does not parse: %s at %zu\n", pe.reason,
				pe.offset);
			exit(1);
		}
		if (c)
			correlate__on_event(c, &ev);
	}
	return cpu_s() - t0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	struct kh_correlate_opts o;
	struct kh_counters cnt = {0};
	const struct kh_correlate_stats *st;
	FILE *devnull = fopen("/dev/null", "w");
	struct kh_emit *e = emit__new(devnull, &cnt);
	struct kh_correlate *c;
	long rss0, rss1, rss2;
	double parse_s, grant_s, read_s, lease_s, lease_parse_s;

	if (n < 1 || !devnull || !e)
		return 1;
	correlate_opts__defaults(&o);
	/*
	 * Each grant tracks its user and its binding (plus the one actor): a table of n
	 * principals is full after n/2 grants; the other half of the grants exercise eviction.
	 */
	o.max_subjects = (uint32_t)n;
	feed(NULL, LEASE, 1000, 0); /* warm the parser and the allocator */
	rss0 = rss_kib();
	c = correlate__new_opts(&o, e);
	if (!c)
		return 1;
	parse_s = feed(NULL, GRANT, n, 0);
	grant_s = feed(c, GRANT, n, 0);
	rss1 = rss_kib();
	st = correlate__stats(c);
	printf(
	    "grants fed:            %ld (RoleBinding create, Request level, one new user each)\n",
	    n);
	printf("principals tracked:    %llu (table max %u: users and bindings of the newest "
	       "grants), evictions %llu\n",
	       (unsigned long long)st->subjects_tracked, o.max_subjects,
	       (unsigned long long)st->subject_evictions);
	printf("correlator RSS:        %.1f MiB at %llu tracked principals (%.0f bytes each, "
	       "grant records included)\n",
	       (double)(rss1 - rss0) / 1024, (unsigned long long)st->subjects_tracked,
	       (double)(rss1 - rss0) * 1024 / (double)st->subjects_tracked);
	printf("grant events:          %.2f us each in the correlator (%.2f us with parsing)\n",
	       (grant_s - parse_s) * 1e6 / (double)n, grant_s * 1e6 / (double)n);

	read_s = feed(c, READ, n, (n / 100) + 1);
	rss2 = rss_kib();
	st = correlate__stats(c);
	printf("loot events:           %.2f us each with parsing; incidents opened %llu, evicted "
	       "%llu (max %u), RSS now %.1f MiB\n",
	       read_s * 1e6 / (double)n, (unsigned long long)st->incidents_opened,
	       (unsigned long long)st->incident_evictions, o.max_incidents,
	       (double)(rss2 - rss0) / 1024);

	lease_parse_s = feed(NULL, LEASE, n, 2 * (n / 100) + 2);
	lease_s = feed(c, LEASE, n, 2 * (n / 100) + 2);
	printf("unrelated events:      %.3f us each in the correlator (lease updates)\n",
	       (lease_s - lease_parse_s) * 1e6 / (double)n);
	correlate__free(c);
	emit__free(e);
	fclose(devnull);
	return 0;
}
