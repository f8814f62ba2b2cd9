// SPDX-License-Identifier: Apache-2.0
/*
 * guard: the audit guard's BPF object lifecycle and maps (see guard.h): open, reuse the tap's
 * maps, leave out missing tracepoints, load, attach program by program.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "audit_guard.skel.h"
#include "capture/bpf_log.h"
#include "capture/bpf_progs.h"
#include "capture/guard.h"
#include "capture/tap.h"
#include "keyhole/log.h"

#define GUARD_MAX_LINKS 24

struct guard {
	struct audit_guard_bpf *skel;
	struct bpf_link *links[GUARD_MAX_LINKS];
	int nlinks;
	int ncpus;
};

/* the guard's copies of the tap's maps become the tap's own */
static int share_maps(struct guard *g, const struct tap *t)
{
	struct bpf_map *mine[] = {g->skel->maps.targets, g->skel->maps.files, g->skel->maps.names};
	const char *names[] = {"targets", "files", "names"};

	for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++) {
		int fd = tap__map_fd(t, names[i]), err;

		if (fd < 0)
			return fd;
		err = bpf_map__reuse_fd(mine[i], fd);
		if (err)
			return err;
	}
	return 0;
}

int guard__new(const struct tap *t, int verbose, struct guard **out)
{
	struct guard *g = calloc(1, sizeof(*g));
	int err;

	if (!g)
		return -ENOMEM;
	bpf_log__install(verbose);
	g->ncpus = libbpf_num_possible_cpus();
	bpf_log__reset();
	g->skel = audit_guard_bpf__open();
	if (!g->skel || g->ncpus <= 0) {
		err = errno ? -errno : -EINVAL;
		kh_log(KH_LOG_ERROR, "opening the audit guard's BPF object failed (%s)",
		       strerror(-err));
		goto err_free;
	}
	err = share_maps(g, t);
	if (err) {
		kh_log(KH_LOG_ERROR, "the audit guard cannot share the tap's maps: %s",
		       strerror(-err));
		goto err_free;
	}
	bpf_progs__drop_missing(g->skel->obj, "those operations on the audit log are not seen");
	bpf_log__reset();
	err = audit_guard_bpf__load(g->skel);
	if (err) {
		bpf_log__load_failed("the audit guard", err);
		goto err_free;
	}
	err = bpf_progs__attach(g->skel->obj, "the audit guard", g->links, GUARD_MAX_LINKS,
				&g->nlinks);
	if (err)
		goto err_free;
	*out = g;
	return 0;
err_free:
	guard__free(g);
	return err;
}

void guard__detach(struct guard *g)
{
	bpf_progs__destroy_links(g->links, g->nlinks);
	g->nlinks = 0;
}

int guard__attach(struct guard *g)
{
	if (g->nlinks)
		return 0;
	return bpf_progs__attach(g->skel->obj, "the audit guard", g->links, GUARD_MAX_LINKS,
				 &g->nlinks);
}

void guard__free(struct guard *g)
{
	if (!g)
		return;
	guard__detach(g);
	audit_guard_bpf__destroy(g->skel);
	free(g);
}

int guard__watch(struct guard *g, const char *path, uint64_t dir_dev, uint64_t dir_ino,
		 uint32_t file_id)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct kh_file_key dk = {.dev = dir_dev, .ino = dir_ino};
	struct kh_base_key k;

	if (!*base || strlen(base) >= KH_AUDIT_NAME_MAX)
		return -ENAMETOOLONG;
	memset(&k, 0, sizeof(k));
	memcpy(k.name, base, strlen(base));
	if (bpf_map_update_elem(bpf_map__fd(g->skel->maps.basenames), &k, &file_id, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(g->skel->maps.dirs), &dk, &file_id, BPF_ANY))
		return -errno;
	return 0;
}

int guard__ring_fd(const struct guard *g)
{
	return bpf_map__fd(g->skel->maps.tamper_events);
}

int guard__counters(const struct guard *g, uint64_t out[KH_GUARD__NR])
{
	return bpf_progs__sum_counters(g->skel->maps.guard_counters, g->ncpus, out, KH_GUARD__NR);
}
