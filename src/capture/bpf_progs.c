// SPDX-License-Identifier: Apache-2.0
/*
 * bpf_progs: optional tracepoints and program-by-program attach (see bpf_progs.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture/bpf_log.h"
#include "capture/bpf_progs.h"
#include "keyhole/features.h"
#include "keyhole/log.h"

bool bpf_progs__tracepoint(const struct bpf_program *p, char cat[64], char name[64])
{
	const char *sec = bpf_program__section_name(p);

	if (strncmp(sec, "tp/", 3) != 0)
		return false;
	return sscanf(sec + 3, "%63[^/]/%63s", cat, name) == 2;
}

void bpf_progs__drop_missing(struct bpf_object *obj, const char *lost)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, obj)
	{
		char cat[64], name[64];

		if (!bpf_progs__tracepoint(p, cat, name) || features__has_tracepoint(cat, name))
			continue;
		kh_log(KH_LOG_WARN, "tracepoint %s/%s is missing: %s", cat, name, lost);
		bpf_program__set_autoload(p, false);
	}
}

/* the tracepoint of a "tp/<category>/<name>" or "raw_tp/<name>" program */
static bool attachable(const struct bpf_program *p, char cat[64], char name[64])
{
	const char *sec = bpf_program__section_name(p);

	if (strncmp(sec, "raw_tp/", 7) == 0) {
		snprintf(cat, 64, "raw_tp");
		return sscanf(sec + 7, "%63s", name) == 1;
	}
	return bpf_progs__tracepoint(p, cat, name);
}

int bpf_progs__attach(struct bpf_object *obj, const char *what, struct bpf_link **links, int max,
		      int *n)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, obj)
	{
		char cat[64], name[64];
		struct bpf_link *l;
		int err;

		/* programs outside tracepoints (tail-call targets) are not attached */
		if (!bpf_program__autoload(p) || !attachable(p, cat, name))
			continue;
		if (*n == max)
			return -E2BIG;
		bpf_log__reset();
		l = bpf_program__attach(p);
		if (l) {
			links[(*n)++] = l;
			continue;
		}
		err = -errno;
		kh_log(KH_LOG_ERROR, "%s: attaching to tracepoint %s/%s failed (%s)%s", what, cat,
		       name, strerror(-err),
		       err == -ENOENT ? ": is tracefs mounted at /sys/kernel/tracing?" : "");
		bpf_log__print_tail(stderr, "    ", 5);
		return err;
	}
	return 0;
}

int bpf_progs__sum_counters(const struct bpf_map *map, int ncpus, uint64_t *out, unsigned int nr)
{
	uint64_t vals[ncpus > 0 ? ncpus : 1][nr];
	__u32 zero = 0;

	memset(out, 0, sizeof(uint64_t) * nr);
	if (ncpus <= 0)
		return -EINVAL;
	if (bpf_map_lookup_elem(bpf_map__fd(map), &zero, vals))
		return -errno;
	for (int c = 0; c < ncpus; c++)
		for (unsigned int k = 0; k < nr; k++)
			out[k] += vals[c][k];
	return 0;
}

#define DESTROY_THREADS 16

struct destroy_job {
	struct bpf_link **links;
	int n;
	atomic_int next;
};

static void *destroy_worker(void *arg)
{
	struct destroy_job *j = arg;
	int i;

	while ((i = atomic_fetch_add(&j->next, 1)) < j->n) {
		bpf_link__destroy(j->links[i]);
		j->links[i] = NULL;
	}
	return NULL;
}

void bpf_progs__destroy_links(struct bpf_link **links, int n)
{
	struct destroy_job j = {.links = links, .n = n};
	pthread_t th[DESTROY_THREADS];
	int started = 0;

	atomic_init(&j.next, 0);
	for (; started < DESTROY_THREADS && started < n - 1; started++)
		if (pthread_create(&th[started], NULL, destroy_worker, &j))
			break;
	destroy_worker(&j); /* this thread works too, and alone if no thread started */
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
}
