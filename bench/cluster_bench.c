// SPDX-License-Identifier: Apache-2.0
/*
 * cluster_bench REDIS_URL: cluster mode's figures over a real Redis (bench/cluster-bench starts
 * one on loopback): facts per second through Redis, write-to-cluster-alert latency (p50, p99),
 * the correlator thread's CPU at 10,000 facts/s, and the memory the correlator holds for
 * 100,000 principals. Prints figures; it is not a timed test.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster/cluster_impl.h"
#include "keyhole/audit_parse.h"
#include "keyhole/cluster.h"

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* a secret get by user u<i>, with its own auditID and time */
static void publish_one(struct kh_cluster *c, long i, const char *run)
{
	char line[1024];
	struct audit_event ev;
	struct kh_parse_error pe;
	long s = i / 1000, ms = i % 1000;
	int n =
	    snprintf(line, sizeof(line),
		     "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":"
		     "\"Metadata\",\"auditID\":\"%s-%ld\",\"stage\":\"ResponseComplete\","
		     "\"requestURI\":\"/api/v1/namespaces/ns%ld/secrets/s%ld\",\"verb\":\"get\","
		     "\"user\":{\"username\":\"%s-u%ld\",\"groups\":[\"system:authenticated\"]},"
		     "\"sourceIPs\":[\"10.1.%ld.%ld\"],\"userAgent\":\"bench/1.0\",\"objectRef\":"
		     "{\"resource\":\"secrets\",\"namespace\":\"ns%ld\",\"name\":\"s%ld\","
		     "\"apiVersion\":\"v1\"},\"responseStatus\":{\"code\":200},"
		     "\"requestReceivedTimestamp\":\"2026-11-23T10:%02ld:%02ld.%03ldZ\","
		     "\"stageTimestamp\":\"2026-11-23T10:%02ld:%02ld.%03ldZ\",\"annotations\":{"
		     "\"authorization.k8s.io/decision\":\"allow\"}}",
		     run, i, i % 50, i % 7, run, i, (i / 250) % 250, i % 250, i % 50, i % 7,
		     (s / 60) % 60, s % 60, ms, (s / 60) % 60, s % 60, ms);

	if (audit_parse__line(line, (size_t)n, &ev, &pe) == 0)
		cluster__publish(c, &ev);
}

static struct kh_cluster *start(const char *url, const char *name, enum kh_cluster_role role,
				FILE *out, int64_t lag_ns)
{
	struct kh_cluster_opts o;
	struct kh_cluster *c;

	cluster_opts__defaults(&o);
	o.url = url;
	o.name = name;
	o.node_name = "bench";
	o.role = role;
	o.lag_ns = lag_ns;
	o.lease_ns = 2ll * 1000000000;
	o.queue_max = 1000000;
	o.out = out;
	o.tls_ca_file = getenv("KH_BENCH_TLS_CA"); /* rediss:// (cluster-bench --tls) */
	if (cluster__start(&o, &c)) {
		fprintf(stderr, "cluster_bench: cannot start cluster mode at %s\n", url);
		exit(1);
	}
	return c;
}

static void wait_published(struct kh_cluster *c, uint64_t n)
{
	struct kh_cluster_stats s;

	do {
		usleep(1000);
		cluster__stats(c, &s);
	} while (s.facts_published + s.facts_dropped < n);
}

static void bench_throughput(const char *url, const char *run)
{
	struct kh_cluster *c = start(url, run, KH_ROLE_NODE, stdout, 0);
	const long n = 200000;
	int64_t t0 = now_ns();

	for (long i = 0; i < n; i++)
		publish_one(c, i, run);
	wait_published(c, n);
	printf("facts through redis (publish, XADD acknowledged): %.0f facts/s (%ld facts)\n",
	       n / ((now_ns() - t0) / 1e9), n);
	cluster__stop(c);
	cluster__free(c);
}

/* ---- latency: every fact of a new user makes an unusual-decision alert ------------------------
 */

#define LAT_N 2000
static int64_t sent_at[LAT_N], got_at[LAT_N];
static char lat_run[64];

static void *reader(void *arg)
{
	FILE *in = arg;
	char *line = NULL;
	size_t cap = 0;

	while (getline(&line, &cap, in) > 0) {
		char key[96];
		char *u;
		long i;

		snprintf(key, sizeof(key), "\"auditID\":\"%s-", lat_run);
		u = strstr(line, key);
		if (u && strstr(line, "k8s-unusual-decision-ua") &&
		    (i = strtol(u + strlen(key), NULL, 10)) >= 0 && i < LAT_N && !got_at[i])
			got_at[i] = now_ns();
	}
	free(line);
	return NULL;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void bench_latency(const char *url, const char *run, int64_t lag_ns)
{
	int fds[2];
	FILE *w, *r;
	pthread_t th;
	struct kh_cluster *c;
	int64_t lat[LAT_N];
	int n = 0;

	if (pipe(fds) || !(w = fdopen(fds[1], "w")) || !(r = fdopen(fds[0], "r")))
		exit(1);
	memset(got_at, 0, sizeof(got_at));
	snprintf(lat_run, sizeof(lat_run), "%s", run);
	pthread_create(&th, NULL, reader, r);
	c = start(url, run, KH_ROLE_CONTROL_PLANE, w, lag_ns);
	sleep(1); /* the first lease round */
	for (long i = 0; i < LAT_N; i++) {
		sent_at[i] = now_ns();
		publish_one(c, i, run);
		usleep(2000); /* 500 facts/s: latency, not throughput */
	}
	sleep(1 + (unsigned)(lag_ns / 1000000000));
	cluster__stop(c);
	cluster__free(c);
	fclose(w);
	pthread_join(th, NULL);
	fclose(r);
	for (int i = 0; i < LAT_N; i++)
		if (got_at[i])
			lat[n++] = got_at[i] - sent_at[i];
	qsort(lat, (size_t)n, sizeof(lat[0]), cmp64);
	if (!n) {
		printf("write-to-cluster-alert: no alert came back\n");
		return;
	}
	printf("write-to-cluster-alert latency (lag %lld ms, %d of %d alerts): p50 %.1f ms, "
	       "p99 %.1f ms\n",
	       (long long)(lag_ns / 1000000), n, LAT_N, lat[n / 2] / 1e6, lat[n * 99 / 100] / 1e6);
}

/* ---- correlator CPU at 10k facts/s, memory at 100k principals -------------------------------- */

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

static double thread_cpu_s(pthread_t t)
{
	clockid_t cid;
	struct timespec ts;

	if (pthread_getcpuclockid(t, &cid) || clock_gettime(cid, &ts))
		return -1;
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void bench_load(const char *url, const char *run)
{
	FILE *devnull = fopen("/dev/null", "w");
	struct kh_cluster *c = start(url, run, KH_ROLE_CONTROL_PLANE, devnull, 0);
	struct kh_cluster_stats s;
	long rss0, i = 0;
	double cpu0;
	int64_t t0;

	sleep(1);
	rss0 = rss_kb();
	cpu0 = thread_cpu_s(c->cor_thread);
	t0 = now_ns();
	for (int sec = 0; sec < 10; sec++) /* 10 s at 10,000 facts/s: 100,000 principals */
		for (int k = 0; k < 100; k++) {
			for (int j = 0; j < 100; j++, i++)
				publish_one(c, i, run);
			int64_t due = t0 + (int64_t)(sec * 100 + k + 1) * 10000000;
			while (now_ns() < due)
				usleep(500);
		}
	do {
		usleep(10000);
		cluster__stats(c, &s);
	} while (s.facts_consumed < (uint64_t)i && now_ns() - t0 < 60ll * 1000000000);
	printf("correlator at 10,000 facts/s: %.1f%% of one core (%.2f s CPU over %.1f s); "
	       "%llu of %ld facts consumed\n",
	       100 * (thread_cpu_s(c->cor_thread) - cpu0) / ((now_ns() - t0) / 1e9),
	       thread_cpu_s(c->cor_thread) - cpu0, (now_ns() - t0) / 1e9,
	       (unsigned long long)s.facts_consumed, i);
	printf("memory for %ld principals (one secret get each): +%ld MiB RSS (%ld MiB total)\n", i,
	       (rss_kb() - rss0) / 1024, rss_kb() / 1024);
	cluster__stop(c);
	cluster__free(c);
	fclose(devnull);
}

int main(int argc, char **argv)
{
	char run[64];

	if (argc != 2) {
		fprintf(stderr, "usage: cluster_bench redis://127.0.0.1:PORT\n");
		return 2;
	}
	snprintf(run, sizeof(run), "b%d", (int)getpid());
	bench_throughput(argv[1], strcat(run, "t"));
	run[strlen(run) - 1] = 'l';
	bench_latency(argv[1], run, 0);
	run[strlen(run) - 1] = 'm';
	bench_latency(argv[1], run, 20000000);
	run[strlen(run) - 1] = 'c';
	bench_load(argv[1], run);
	return 0;
}
