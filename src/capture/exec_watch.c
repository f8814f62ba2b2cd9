// SPDX-License-Identifier: Apache-2.0
/*
 * exec_watch: the exec watch's BPF object lifecycle (see exec_watch.h), on the loader shape of
 * the audit tap and guard: open, configure (map sizes, programs this kernel has no tracepoint
 * for), load, attach program by program; failures reported once through kh_log with the tail of
 * libbpf's and the verifier's log.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture/bpf_log.h"
#include "capture/bpf_progs.h"
#include "exec_watch.skel.h"
#include "keyhole/exec_watch.h"
#include "keyhole/features.h"
#include "keyhole/log.h"

#define EXEC_WATCH_MAX_LINKS 24

struct exec_watch {
	struct exec_watch_bpf *skel;
	struct bpf_link *links[EXEC_WATCH_MAX_LINKS];
	int nlinks;
	int ncpus;
};

static int exec_watch_configure(struct exec_watch *w, const struct exec_watch_opts *opts)
{
	/* the syscall tracepoints need tracefs mounted; mount it as root when it is not */
	if (!features__mount_tracefs()) {
		int err = errno ? -errno : -ENOENT;

		kh_log(KH_LOG_ERROR,
		       "exec watch: no tracefs, and mounting it at "
		       "/sys/kernel/tracing failed (%s): mount it (mount -t tracefs "
		       "nodev /sys/kernel/tracing) or give the agent CAP_SYS_ADMIN",
		       strerror(-err));
		return err;
	}
	if (opts && opts->max_tags)
		bpf_map__set_max_entries(w->skel->maps.tags, opts->max_tags);
	if (opts && opts->attach_idle_ns)
		w->skel->rodata->attach_idle_ns = opts->attach_idle_ns;
	/* every read on the node passes the attach hooks: an operator may trade attach away */
	if (opts && opts->no_attach) {
		bpf_program__set_autoload(w->skel->progs.exec_watch_read_enter, false);
		bpf_program__set_autoload(w->skel->progs.exec_watch_read_exit, false);
		bpf_program__set_autoload(w->skel->progs.exec_watch_readv_enter, false);
		bpf_program__set_autoload(w->skel->progs.exec_watch_readv_exit, false);
		bpf_program__set_autoload(w->skel->progs.exec_watch_preadv2_enter, false);
		bpf_program__set_autoload(w->skel->progs.exec_watch_preadv2_exit, false);
	}
	/* open(2) is missing on arm64, openat2(2) before 5.6 */
	bpf_progs__drop_missing(w->skel->obj, "opens through it inside exec sessions are not "
					      "seen");
	return 0;
}

static int exec_watch_load(struct exec_watch *w)
{
	int err;

	bpf_log__reset();
	err = exec_watch_bpf__load(w->skel);
	if (err)
		bpf_log__load_failed("the exec watch", err);
	return err;
}

static int exec_watch_attach(struct exec_watch *w)
{
	return bpf_progs__attach(w->skel->obj, "the exec watch", w->links, EXEC_WATCH_MAX_LINKS,
				 &w->nlinks);
}

int exec_watch__new(const struct exec_watch_opts *opts, struct exec_watch **out)
{
	struct exec_watch *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	bpf_log__install(opts ? opts->verbose : 0);
	w->ncpus = libbpf_num_possible_cpus();
	bpf_log__reset();
	w->skel = exec_watch_bpf__open();
	if (!w->skel || w->ncpus <= 0) {
		err = errno ? -errno : -EINVAL;
		kh_log(KH_LOG_ERROR,
		       "opening the exec watch's BPF object failed (%s):", strerror(-err));
		bpf_log__print_tail(stderr, "    ", 10);
		goto err_free;
	}
	err = exec_watch_configure(w, opts);
	if (err)
		goto err_free;
	err = exec_watch_load(w);
	if (err)
		goto err_free;
	err = exec_watch_attach(w);
	if (err)
		goto err_free;
	*out = w;
	return 0;
err_free:
	exec_watch__free(w);
	return err;
}

void exec_watch__free(struct exec_watch *w)
{
	if (!w)
		return;
	exec_watch__detach(w);
	exec_watch_bpf__destroy(w->skel);
	free(w);
}

int exec_watch__detach(struct exec_watch *w)
{
	bpf_progs__destroy_links(w->links, w->nlinks);
	w->nlinks = 0;
	return 0;
}

int exec_watch__attach(struct exec_watch *w)
{
	return w->nlinks ? 0 : exec_watch_attach(w);
}

int exec_watch__ring_fd(const struct exec_watch *w)
{
	return bpf_map__fd(w->skel->maps.exec_events);
}

int exec_watch__counters(const struct exec_watch *w, uint64_t out[KH_EXEC_WATCH__NR])
{
	return bpf_progs__sum_counters(w->skel->maps.exec_counters, w->ncpus, out,
				       KH_EXEC_WATCH__NR);
}
