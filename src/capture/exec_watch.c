// SPDX-License-Identifier: Apache-2.0
/*
 * exec_watch: the loader of the exec-watch BPF programs (split lifecycle: open, size the maps,
 * drop programs this kernel has no tracepoint for, load, attach).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "keyhole/exec_watch.h"
#include "exec_watch.skel.h"

struct exec_watch {
	struct exec_watch_bpf *skel;
};

static const char *tracefs_dirs[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};

/* the mounted tracing directory, mounting tracefs at the first candidate if none is */
static const char *tracefs_dir(void)
{
	char p[128];

	for (size_t i = 0; i < sizeof(tracefs_dirs) / sizeof(tracefs_dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/events", tracefs_dirs[i]);
		if (access(p, F_OK) == 0)
			return tracefs_dirs[i];
	}
	if (mount("nodev", tracefs_dirs[0], "tracefs", 0, NULL)) {
		fprintf(
		    stderr,
		    "keyhole: exec watch: no tracefs and mounting it at %s failed: %s; mount it "
		    "(mount -t tracefs nodev %s) or give the agent CAP_SYS_ADMIN\n",
		    tracefs_dirs[0], strerror(errno), tracefs_dirs[0]);
		return NULL;
	}
	return tracefs_dirs[0];
}

static bool have_syscall_tp(const char *tracefs, const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/events/syscalls/%s", tracefs, name);
	return access(p, F_OK) == 0;
}

/* drop programs whose syscall tracepoint this kernel or architecture lacks (open on arm64) */
static void drop_missing(struct exec_watch_bpf *s, const char *tracefs)
{
	if (!have_syscall_tp(tracefs, "sys_enter_open")) {
		bpf_program__set_autoload(s->progs.exec_watch_open_enter, false);
		bpf_program__set_autoload(s->progs.exec_watch_open_exit, false);
	}
	if (!have_syscall_tp(tracefs, "sys_enter_openat2")) {
		bpf_program__set_autoload(s->progs.exec_watch_openat2_enter, false);
		bpf_program__set_autoload(s->progs.exec_watch_openat2_exit, false);
	}
}

struct exec_watch *exec_watch__new(const struct exec_watch_opts *opts)
{
	struct exec_watch *w = calloc(1, sizeof(*w));
	const char *tracefs;
	int err;

	if (!w)
		return NULL;
	tracefs = tracefs_dir();
	if (!tracefs) {
		err = -ENOENT;
		goto exit_free;
	}
	w->skel = exec_watch_bpf__open();
	if (!w->skel) {
		err = -errno;
		fprintf(stderr, "keyhole: exec watch: opening the BPF object failed: %s\n",
			strerror(-err));
		goto exit_free;
	}
	if (opts && opts->max_tags)
		bpf_map__set_max_entries(w->skel->maps.tags, opts->max_tags);
	drop_missing(w->skel, tracefs);
	err = exec_watch_bpf__load(w->skel);
	if (err) {
		fprintf(
		    stderr,
		    "keyhole: exec watch: loading the BPF programs failed: %s; run as root with "
		    "BTF (/sys/kernel/btf/vmlinux), see `keyhole probe`\n",
		    strerror(-err));
		goto exit_destroy;
	}
	err = exec_watch_bpf__attach(w->skel);
	if (err) {
		fprintf(
		    stderr,
		    "keyhole: exec watch: attaching to sched and syscall tracepoints failed: %s; "
		    "check %s/events/syscalls exists\n",
		    strerror(-err), tracefs);
		goto exit_destroy;
	}
	return w;

exit_destroy:
	exec_watch_bpf__destroy(w->skel);
exit_free:
	free(w);
	errno = -err;
	return NULL;
}

void exec_watch__free(struct exec_watch *w)
{
	if (!w)
		return;
	exec_watch_bpf__destroy(w->skel);
	free(w);
}

int exec_watch__detach(struct exec_watch *w)
{
	exec_watch_bpf__detach(w->skel);
	return 0;
}

int exec_watch__attach(struct exec_watch *w)
{
	return exec_watch_bpf__attach(w->skel);
}

int exec_watch__ring_fd(const struct exec_watch *w)
{
	return bpf_map__fd(w->skel->maps.exec_events);
}

int exec_watch__counters(const struct exec_watch *w, uint64_t out[KH_NODE_C_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(w->skel->maps.exec_counters);
	uint64_t *v;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; i < KH_NODE_C_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, v))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[i] += v[c];
	}
	free(v);
	return 0;
}
