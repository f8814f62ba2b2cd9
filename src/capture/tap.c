// SPDX-License-Identifier: Apache-2.0
/*
 * tap: the audit tap's BPF object lifecycle and maps (see tap.h). The lifecycle is split as
 * libbpf intends: open, set rodata and map sizes, choose programs, load, fill the tail-call
 * table, attach program by program so a failure names its tracepoint.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "audit_tap.skel.h"
#include "capture/bpf_log.h"
#include "capture/bpf_progs.h"
#include "keyhole/caps.h"
#include "keyhole/features.h"
#include "keyhole/tap_path.h"
#include "capture/tap.h"
#include "keyhole/log.h"

#define TAP_MAX_LINKS 16

/*
 * A uprobe on one binary's write function (the uprobe path), shared by the processes that run
 * it: the probe is on the file, so a restart of the same binary is probed from its first
 * instruction without a new attachment (which needs CAP_SYS_ADMIN, given up after the start).
 */
struct tap_uprobe {
	uint64_t dev, ino;     /* the binary */
	int refs;	       /* followed processes running it now */
	struct bpf_link *link; /* NULL: a free slot */
};

struct tap {
	struct audit_tap_bpf *skel;
	struct bpf_link *links[TAP_MAX_LINKS]; /* exec/exit: always */
	int nlinks;
	struct bpf_link *wlinks[TAP_MAX_LINKS]; /* the write system calls: the tracepoint path */
	int nwlinks;
	bool writes; /* the tracepoint path is wanted (attached unless detached) */
	struct tap_uprobe up[KH_TAP_MAX_TARGETS];
	int ncpus;
	bool no_uprobe; /* this kernel's verifier refused the uprobe programs: tracepoints only */
};

uint64_t tap__kdev(dev_t dev)
{
	return ((uint64_t)major(dev) << 20) | minor(dev);
}

static int tap_configure(struct tap *t, const struct tap_opts *o)
{
	struct audit_tap_bpf *s = t->skel;
	const char *comm = o->comm ? o->comm : "kube-apiserver";
	uint64_t cap = o->cap_bytes ? o->cap_bytes : KH_AUDIT_CAP_DEFAULT;
	uint64_t tail = o->tail_bytes ? o->tail_bytes : KH_AUDIT_TAIL_DEFAULT;
	uint32_t ring = o->ring_bytes ? o->ring_bytes : 16u << 20;
	/* the config and the command line checked these, naming their key or flag */
	if (strlen(comm) >= KH_COMM_LEN) {
		kh_log(KH_LOG_ERROR,
		       "process name '%s': at most %d bytes (the kernel truncates "
		       "comm)",
		       comm, KH_COMM_LEN - 1);
		return -EINVAL;
	}
	if (cap < KH_AUDIT_CAP_MIN || cap > KH_AUDIT_CAP_MAX) {
		kh_log(KH_LOG_ERROR,
		       "capture cap %llu: must be from %u to %u (the copy budget of "
		       "one write)",
		       (unsigned long long)cap, KH_AUDIT_CAP_MIN, KH_AUDIT_CAP_MAX);
		return -EINVAL;
	}
	if (!o->tail_bytes && tail > cap / 4)
		tail = cap / 4;
	if (tail == 0 || tail >= cap) {
		kh_log(KH_LOG_ERROR, "tail bytes %llu must be below the cap %llu",
		       (unsigned long long)tail, (unsigned long long)cap);
		return -EINVAL;
	}
	if (ring < 4096 || (ring & (ring - 1))) {
		kh_log(KH_LOG_ERROR, "ring buffer size %u: must be a power of two >= 4096", ring);
		return -EINVAL;
	}
	memset((char *)s->rodata->target_comm, 0, sizeof(s->rodata->target_comm));
	memcpy((char *)s->rodata->target_comm, comm, strlen(comm));
	s->rodata->cap_bytes = cap;
	s->rodata->tail_bytes = tail;
	bpf_map__set_max_entries(s->maps.events, ring);

	/* optional tracepoints this kernel lacks: leave their programs out */
	bpf_progs__drop_missing(s->obj, "writes through it are not captured");
	return 0;
}

static int tap_load(struct tap *t)
{
	int key = 0, fd, err;

	bpf_log__reset();
	err = audit_tap_bpf__load(t->skel);
	if (err) {
		bpf_log__load_failed("the audit tap", err);
		return err;
	}
	fd = bpf_program__fd(t->skel->progs.tap_continue);
	err = bpf_map_update_elem(bpf_map__fd(t->skel->maps.progs), &key, &fd, BPF_ANY);
	fd = bpf_program__fd(t->skel->progs.tap_go_continue);
	if (!err && !t->no_uprobe)
		err = bpf_map_update_elem(bpf_map__fd(t->skel->maps.uprogs), &key, &fd, BPF_ANY);
	if (err) {
		err = -errno;
		kh_log(KH_LOG_ERROR, "filling the audit tap's tail-call table failed: %s",
		       strerror(-err));
		return err;
	}
	return 0;
}

/*
 * Attach the tracepoint programs of one set: the write system calls (@writes, the tracepoint
 * path) or the rest (exec and exit, which both paths need). Uprobe programs are attached per
 * process by tap__uprobe_attach().
 */
static int tap_attach_set(struct tap *t, bool writes, struct bpf_link **links, int *n)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, t->skel->obj)
	{
		char cat[64], name[64];
		struct bpf_link *l;
		int err;

		if (!bpf_program__autoload(p) || !bpf_progs__tracepoint(p, cat, name) ||
		    (strcmp(cat, "syscalls") == 0) != writes)
			continue;
		if (*n == TAP_MAX_LINKS)
			return -E2BIG;
		bpf_log__reset();
		l = bpf_program__attach(p);
		if (l) {
			links[(*n)++] = l;
			continue;
		}
		err = -errno;
		kh_log(KH_LOG_ERROR, "the audit tap: attaching to tracepoint %s/%s failed (%s)%s",
		       cat, name, strerror(-err),
		       err == -ENOENT ? ": is tracefs mounted at /sys/kernel/tracing?" : "");
		bpf_log__print_tail(stderr, "    ", 5);
		return err;
	}
	return 0;
}

static int tap_attach(struct tap *t)
{
	int err = tap_attach_set(t, false, t->links, &t->nlinks);

	if (!err && t->writes)
		err = tap__writes_attach(t);
	return err;
}

int tap__writes_attach(struct tap *t)
{
	bool raised = false;
	int err, level;

	t->writes = true;
	if (t->nwlinks)
		return 0;
	/* at perf_event_paranoid 3 a tracepoint's perf event wants CAP_SYS_ADMIN: effective only
	 * for this call, where `run --late-uprobes` kept it permitted (a no-op otherwise) */
	if (tap_path_perf_restricted(&level))
		raised = caps__raise(KH_CAP_SYS_ADMIN);
	err = tap_attach_set(t, true, t->wlinks, &t->nwlinks);
	if (raised)
		caps__lower(KH_CAP_SYS_ADMIN);
	if (err) {
		bpf_progs__destroy_links(t->wlinks, t->nwlinks);
		t->nwlinks = 0;
	}
	return err;
}

void tap__writes_detach(struct tap *t)
{
	t->writes = false;
	bpf_progs__destroy_links(t->wlinks, t->nwlinks);
	t->nwlinks = 0;
}

bool tap__writes_attached(const struct tap *t)
{
	return t->nwlinks > 0;
}

int tap__uprobe_attach(struct tap *t, uint64_t dev, uint64_t ino, const char *binary,
		       uint64_t offset)
{
	struct tap_uprobe *slot = NULL;
	struct bpf_link *l;
	bool raised;
	int err;

	if (t->no_uprobe)
		return -EOPNOTSUPP;

	/* an unused probe stays for the binary's next start (a restart): it is reused first */
	for (int i = 0; i < KH_TAP_MAX_TARGETS; i++) {
		if (t->up[i].link && t->up[i].dev == dev && t->up[i].ino == ino) {
			t->up[i].refs++;
			return 0;
		}
		if (!t->up[i].link && !slot)
			slot = &t->up[i];
	}
	for (int i = 0; i < KH_TAP_MAX_TARGETS && !slot; i++) {
		if (!t->up[i].refs) {
			bpf_link__destroy(t->up[i].link);
			t->up[i].link = NULL;
			slot = &t->up[i];
		}
	}
	if (!slot)
		return -E2BIG;
	bpf_log__reset();
	/*
	 * Every process running this file: the programs keep only the targets on the uprobe path
	 * (one map lookup), so only other processes of the same binary pay, and nobody else.
	 */
	/*
	 * A new uprobe wants CAP_SYS_ADMIN on kernels with upstream ba677dbe77af: effective for
	 * this call alone where `run --late-uprobes` kept it permitted (caps__raise is a no-op
	 * before the start-up drop, and where it is not held).
	 */
	raised = caps__raise(KH_CAP_SYS_ADMIN);
	l = bpf_program__attach_uprobe(t->skel->progs.tap_go_write, false, -1, binary,
				       (size_t)offset);
	err = l ? 0 : -errno;
	if (raised)
		caps__lower(KH_CAP_SYS_ADMIN);
	if (err)
		return err;
	*slot = (struct tap_uprobe){.dev = dev, .ino = ino, .refs = 1, .link = l};
	return 0;
}

void tap__uprobe_release(struct tap *t, uint64_t dev, uint64_t ino)
{
	for (int i = 0; i < KH_TAP_MAX_TARGETS; i++) {
		if (t->up[i].refs && t->up[i].dev == dev && t->up[i].ino == ino)
			t->up[i].refs--;
	}
}

int tap__new(const struct tap_opts *opts, struct tap **out)
{
	struct kh_features feat;
	char why[512];
	struct tap *t;
	int err;

	bpf_log__install(opts->verbose);
	features__probe(&feat, true);
	if (!features__run_ok(&feat, why, sizeof(why))) {
		kh_log(KH_LOG_ERROR,
		       "live capture cannot work here: %s (`keyhole probe` lists "
		       "everything)",
		       why);
		return -EOPNOTSUPP;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->ncpus = libbpf_num_possible_cpus();
	bpf_log__reset();
	t->skel = audit_tap_bpf__open();
	if (!t->skel || t->ncpus <= 0) {
		err = errno ? -errno : -EINVAL;
		kh_log(KH_LOG_ERROR,
		       "opening the audit tap's BPF object failed (%s):", strerror(-err));
		bpf_log__print_tail(stderr, "    ", 10);
		goto err_free;
	}
	t->writes = !opts->no_write_tracepoints;
	err = tap_configure(t, opts);
	if (err)
		goto err_free;
	err = tap_load(t);
	if (err && !t->no_uprobe) {
		/*
		 * The uprobe programs are the newest code in the object, and a verifier that
		 * refuses them (seen on 5.10 and 6.1 amd64) must not take the tracepoint path down
		 * with them: load again without them, and every apiserver gets tracepoints.
		 */
		kh_log(KH_LOG_WARN, "the audit tap's uprobe programs did not load on this kernel; "
				    "loading the tracepoint path alone (every apiserver is tapped "
				    "by its write system calls)");
		audit_tap_bpf__destroy(t->skel);
		t->skel = audit_tap_bpf__open();
		if (!t->skel) {
			err = errno ? -errno : -EINVAL;
			goto err_free;
		}
		t->no_uprobe = true;
		bpf_program__set_autoload(t->skel->progs.tap_go_write, false);
		bpf_program__set_autoload(t->skel->progs.tap_go_continue, false);
		err = tap_configure(t, opts);
		if (!err)
			err = tap_load(t);
	}
	if (err)
		goto err_free;
	err = tap_attach(t);
	if (err)
		goto err_free;
	*out = t;
	return 0;
err_free:
	tap__free(t);
	return err;
}

void tap__detach(struct tap *t)
{
	bpf_progs__destroy_links(t->links, t->nlinks);
	t->nlinks = 0;
	bpf_progs__destroy_links(t->wlinks, t->nwlinks);
	t->nwlinks = 0;
	for (int i = 0; i < KH_TAP_MAX_TARGETS; i++) {
		bpf_link__destroy(t->up[i].link);
		t->up[i] = (struct tap_uprobe){0};
	}
}

int tap__attach(struct tap *t)
{
	return t->nlinks ? 0 : tap_attach(t);
}

void tap__free(struct tap *t)
{
	if (!t)
		return;
	tap__detach(t);
	audit_tap_bpf__destroy(t->skel);
	free(t);
}

int tap__add_target(struct tap *t, pid_t tgid, uint32_t via)
{
	__u32 key = tgid, v = via;

	if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.targets), &key, &v, BPF_ANY))
		return -errno;
	return 0;
}

int tap__remove_target(struct tap *t, pid_t tgid)
{
	__u32 key = tgid;

	if (bpf_map_delete_elem(bpf_map__fd(t->skel->maps.targets), &key))
		return -errno;
	return 0;
}

int tap__watch_path(struct tap *t, const char *path, uint32_t file_id, struct kh_name_key *armed)
{
	char dbuf[PATH_MAX], bbuf[PATH_MAX];
	struct kh_name_key nk;
	struct kh_file_key fk;
	const char *base;
	struct stat st;

	if (snprintf(dbuf, sizeof(dbuf), "%s", path) >= (int)sizeof(dbuf) ||
	    snprintf(bbuf, sizeof(bbuf), "%s", path) >= (int)sizeof(bbuf))
		return -ENAMETOOLONG;
	base = basename(bbuf);
	if (strlen(base) >= KH_AUDIT_NAME_MAX)
		return -ENAMETOOLONG;
	if (stat(dirname(dbuf), &st))
		return -errno;
	memset(&nk, 0, sizeof(nk));
	nk.dev = tap__kdev(st.st_dev);
	nk.ino = st.st_ino;
	memcpy(nk.name, base, strlen(base));
	if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.names), &nk, &file_id, BPF_ANY))
		return -errno;
	if (armed)
		*armed = nk;
	if (stat(path, &st) == 0) {
		fk.dev = tap__kdev(st.st_dev);
		fk.ino = st.st_ino;
		if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.files), &fk, &file_id, BPF_ANY))
			return -errno;
	}
	return 0;
}

int tap__map_fd(const struct tap *t, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(t->skel->obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

int tap__unwatch_name(struct tap *t, const struct kh_name_key *k)
{
	if (bpf_map_delete_elem(bpf_map__fd(t->skel->maps.names), k) && errno != ENOENT)
		return -errno;
	return 0;
}

int tap__ring_fd(const struct tap *t)
{
	return bpf_map__fd(t->skel->maps.events);
}

int tap__counters(const struct tap *t, uint64_t out[KH_TAP__NR])
{
	return bpf_progs__sum_counters(t->skel->maps.counters, t->ncpus, out, KH_TAP__NR);
}
