// SPDX-License-Identifier: Apache-2.0
/*
 * fact_dedup_bench [N]: the correlator's duplicate filter (src/cluster/fact_dedup.c) taking N
 * distinct secret-read facts (default 1,000,000, one a millisecond of event time, so all inside
 * the horizon), then the same N again as copies. Prints the memory an identity costs (RSS
 * growth) and the CPU a fact costs, for docs/cluster.md's "Duplicate facts".
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/fact_dedup.h"

#define T0 1700000000000000000ll

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char l[256];
	long v = 0;

	while (f && fgets(l, sizeof(l), f))
		if (!strncmp(l, "VmRSS:", 6))
			v = atol(l + 6);
	if (f)
		fclose(f);
	return v;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* the facts, made first so their formatting is not timed */
static char **make(long n, size_t **lens)
{
	char **v = calloc((size_t)n, sizeof(*v));

	*lens = calloc((size_t)n, sizeof(**lens));
	for (long i = 0; v && *lens && i < n; i++) {
		int len =
		    asprintf(&v[i],
			     "{\"khFact\":1,\"khT\":%lld,\"khP\":0,\"khB\":0,\"khNode\":\"cp0\","
			     "\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\","
			     "\"level\":\"Metadata\",\"auditID\":\"%08lx-6f1c-4b1e-9a3e-"
			     "2c7f1d0e5b6a\",\"stage\":\"ResponseComplete\",\"requestURI\":"
			     "\"/api/v1/namespaces/prod/secrets/db-%ld\",\"verb\":\"get\","
			     "\"user\":{\"username\":\"user-%ld\"}}",
			     T0 + i * 1000000ll, i, i % 1000, i % 5000);

		if (len < 0)
			return NULL;
		(*lens)[i] = (size_t)len;
	}
	return v;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000, dup = 0, r0;
	size_t *lens;
	char **v = make(n, &lens);
	struct fact_dedup *d;
	double c0, c1, c2;

	if (n <= 0 || !v) {
		fprintf(stderr, "usage: fact_dedup_bench [N > 0]\n");
		return 2;
	}
	r0 = rss_kib();
	d = fact_dedup__new((uint64_t)n, 3600ll * 1000000000);
	c0 = cpu_s();
	for (long i = 0; i < n; i++)
		dup += fact_dedup__seen(d, v[i], lens[i], T0 + i * 1000000ll);
	c1 = cpu_s();
	for (long i = 0; i < n; i++)
		dup += fact_dedup__seen(d, v[i], lens[i], T0 + i * 1000000ll);
	c2 = cpu_s();
	printf("%ld identities held: +%ld KiB RSS (%.0f bytes each); %.2f us CPU a new fact, "
	       "%.2f us a copy; %ld copies found, %llu evicted\n",
	       (long)fact_dedup__count(d), rss_kib() - r0, (rss_kib() - r0) * 1024.0 / (double)n,
	       (c1 - c0) * 1e6 / (double)n, (c2 - c1) * 1e6 / (double)n, dup,
	       (unsigned long long)fact_dedup__evicted(d));
	fact_dedup__free(d);
	for (long i = 0; i < n; i++)
		free(v[i]);
	free(v);
	free(lens);
	return dup == n ? 0 : 1;
}
