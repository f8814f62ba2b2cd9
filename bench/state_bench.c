// SPDX-License-Identifier: Apache-2.0
/*
 * state_bench: memory of the stateful rules at N active groups, and the state file's cost.
 *
 *     build/bench/state_bench [N]        (default N = 100000)
 *
 * Feeds 2 N secret gets through the whole pipeline (parser and every rule): N client
 * fingerprints (username, source IP, user agent), each reading 2 distinct secrets, all within
 * one 6-minute window of event time, so at the end k8s-secret-rapid-get holds N live groups (none
 * at its threshold: nothing expires, nothing alerts) and k8s-unusual-decision-ua holds N
 * combinations. Reports the process's resident set (VmRSS) before and after, bytes per group,
 * events per second, and the time and size of saving and loading the history file. Lines are
 * built in one stack buffer, so they add nothing to the resident set.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keyhole/config.h"
#include "keyhole/pipeline.h"
#include "keyhole/rule.h"
#include "keyhole/state_file.h"

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

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* request @j (0 or 1) of client @i: a ResponseComplete get, at most 5 minutes into the run */
static size_t line_for(char *buf, size_t cap, long i, int j, long n)
{
	long us = (i * 2 + j) * (300L * 1000000 / (2 * n)); /* spread over 300 s */
	char t[96]; /* room for any long, so no build can call it truncated */

	snprintf(t, sizeof(t), "2026-11-23T10:%02ld:%02ld.%06ldZ", us / 60000000, us / 1000000 % 60,
		 us % 1000000);
	return (size_t)snprintf(
	    buf, cap,
	    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
	    "\"auditID\":\"%08lx-%04x-4%03x-8000-%012lx\",\"stage\":\"ResponseComplete\","
	    "\"requestURI\":\"/api/v1/namespaces/team-%04ld/secrets/app-secret-%d\","
	    "\"verb\":\"get\",\"user\":{\"username\":\"system:serviceaccount:team-%04ld:"
	    "worker-%06ld\",\"uid\":\"%08lx-0000-4000-8000-000000000000\",\"groups\":["
	    "\"system:serviceaccounts\",\"system:authenticated\"]},\"sourceIPs\":[\"10.%ld.%ld."
	    "%ld\"],\"userAgent\":\"app-worker/v2.7.%ld (linux/amd64) kubernetes/3968350\","
	    "\"objectRef\":{\"resource\":\"secrets\",\"namespace\":\"team-%04ld\",\"name\":"
	    "\"app-secret-%d\",\"apiVersion\":\"v1\"},\"responseStatus\":{\"metadata\":{},"
	    "\"code\":200},\"requestReceivedTimestamp\":\"%s\",\"stageTimestamp\":\"%s\","
	    "\"annotations\":{\"authorization.k8s.io/decision\":\"allow\","
	    "\"authorization.k8s.io/reason\":\"RBAC: allowed by RoleBinding\"}}",
	    (unsigned long)i, j, (unsigned)(i & 0xfff), (unsigned long)(i * 2 + j), i % 1000, j,
	    i % 1000, i, (unsigned long)i, 64 + i / 65536, i / 256 % 256, i % 256, i % 100,
	    i % 1000, j, t, t);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	int only = argc > 2 && !strcmp(argv[2], "--only-stateful");
	int rapid_only = argc > 2 && !strcmp(argv[2], "--only-rapid-get");
	int no_corr = argc > 2 && !strcmp(argv[2], "--no-correlate");
	char path[] = "/tmp/kh-state-bench-XXXXXX", statefile[64], cfgtext[1024], buf[2048];
	FILE *devnull = fopen("/dev/null", "w");
	struct kh_config *cfg = NULL;
	struct kh_config_error err;
	struct kh_pipeline *p;
	struct kh_origin o = {.source = "bench"};
	long rss0, rss1, rss2;
	double t0, t1, t2, t3;
	int fd;

	if (n < 1 || !devnull || (fd = mkstemp(path)) < 0) {
		fprintf(stderr, "usage: state_bench [N >= 1]\n");
		return 2;
	}
	close(fd);
	unlink(path);
	snprintf(statefile, sizeof(statefile), "%s.khs", path);
	/*
	 * room for N groups and N combinations (the defaults are 100,000 and 200,000); with
	 * --only-stateful the per-event rules and the correlator are off, with --only-rapid-get
	 * the new-terms rule too, to see what each costs
	 */
	snprintf(cfgtext, sizeof(cfgtext),
		 "state_file: %s\ncorrelate: {enabled: %s}\nrules:\n"
		 "  k8s-secret-rapid-get: {max_groups: %ld}\n"
		 "  k8s-unusual-decision-ua: {max_keys: %ld, enabled: %s}\n"
		 "  k8s-secret-suspicious-ua: {enabled: %s}\n"
		 "  k8s-secret-access-non-controller: {enabled: %s}\n"
		 "  k8s-secret-read-node-or-pod-sa: {enabled: %s}\n"
		 "  k8s-secret-configmap-arc-proxy: {enabled: %s}\n",
		 statefile, only || rapid_only || no_corr ? "false" : "true", n, n,
		 rapid_only ? "false" : "true", only || rapid_only ? "false" : "true",
		 only || rapid_only ? "false" : "true", only || rapid_only ? "false" : "true",
		 only || rapid_only ? "false" : "true");
	if (config__load_buf(cfgtext, strlen(cfgtext), "bench", rules__config_schema(), &cfg,
			     &err)) {
		fprintf(stderr, "config: %s: %s\n", err.key, err.msg);
		return 1;
	}
	p = pipeline__new(&(struct kh_pipeline_opts){.out = devnull, .cfg = cfg});
	if (!p)
		return 1;
	rss0 = rss_kib();
	t0 = now_s();
	for (long i = 0; i < n; i++)
		for (int j = 0; j < 2; j++) {
			size_t len = line_for(buf, sizeof(buf), i, j, n);

			o.line_no++;
			pipeline__feed_line(p, buf, len, &o);
		}
	t1 = now_s();
	rss1 = rss_kib();
	const struct kh_counters *c = pipeline__counters(p);

	printf("state_bench: %ld client fingerprints, %ld secret gets in one 6-minute window\n", n,
	       2 * n);
	printf("  parsed %llu, malformed %llu, alerts %llu (all rules enabled), state "
	       "evictions %llu\n",
	       (unsigned long long)c->parsed, (unsigned long long)c->malformed,
	       (unsigned long long)c->alerts, (unsigned long long)c->state_evictions);
	printf("  feed: %.2f s, %.0f events/s through parse and every rule\n", t1 - t0,
	       (double)(2 * n) / (t1 - t0));
	printf("  RSS: %.1f MB before, %.1f MB with %ld active groups (+%.1f MB, %.0f bytes per "
	       "group and its new-terms key)\n",
	       rss0 / 1024.0, rss1 / 1024.0, n, (rss1 - rss0) / 1024.0,
	       (double)(rss1 - rss0) * 1024 / (double)n);
	printf("  RSS limit 64 MB at 100,000 active groups: %s\n",
	       n == 100000 ? (rss1 < 64 * 1024 ? "met" : "EXCEEDED") : "(run with N = 100000)");
	t2 = now_s();
	pipeline__save_state(p);
	t3 = now_s();
	{
		FILE *f = fopen(statefile, "r");
		long size = 0;

		if (f) {
			fseek(f, 0, SEEK_END);
			size = ftell(f);
			fclose(f);
		}
		printf("  state file: %ld keys saved in %.3f s (write, fsync, rename), %.1f MB\n",
		       n, t3 - t2, size / 1048576.0);
	}
	pipeline__free(p);
	t2 = now_s();
	p = pipeline__new(&(struct kh_pipeline_opts){.out = devnull, .cfg = cfg});
	t3 = now_s();
	rss2 = rss_kib();
	printf("  restart: loaded in %.3f s (checksum, checks, %ld keys back); RSS %.1f MB\n",
	       t3 - t2, n, rss2 / 1024.0);
	pipeline__free(p);
	config__free(cfg);
	unlink(statefile);
	fclose(devnull);
	return n == 100000 && rss1 >= 64 * 1024;
}
