// SPDX-License-Identifier: Apache-2.0
/*
 * node_decode: ring records to node events, with the session table and pod identity (see
 * node_decode.h).
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/cgroup_path.h"
#include "keyhole/node_decode.h"
#include "capture/pods_dir.h"
#include "keyhole/keytab.h"
#include "capture/proc_chain.h"

struct node_decoder {
	struct node_decode_opts o;
	struct keytab *sessions;       /* session id -> session, oldest first */
	struct node_session no_memory; /* the session of an event no entry could be made for */
	struct node_decode_stats st;
	char exe[KH_NODE_PATH_MAX + 1];
	char args[KH_NODE_ARGS_MAX + 1];
	char path[KH_NODE_PATH_MAX + 1];
	char containers_dir[4096];
};

struct node_decoder *node_decoder__new(const struct node_decode_opts *opts)
{
	struct node_decoder *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	if (opts)
		d->o = *opts;
	if (!d->o.pods_log_dir)
		d->o.pods_log_dir = KH_PODS_LOG_DIR;
	if (!d->o.containers_log_dir) {
		/* the runtime's links live beside the kubelet's dirs: <pods dir>/../containers */
		char tmp[sizeof(d->containers_dir)];

		snprintf(tmp, sizeof(tmp), "%s", d->o.pods_log_dir);
		snprintf(d->containers_dir, sizeof(d->containers_dir), "%s/containers",
			 dirname(tmp));
		d->o.containers_log_dir = d->containers_dir;
	}
	if (!d->o.proc_dir)
		d->o.proc_dir = "/proc";
	if (!d->o.max_sessions)
		d->o.max_sessions = 1024;
	d->sessions = keytab__new(sizeof(struct node_session), d->o.max_sessions, NULL, NULL);
	if (!d->sessions) {
		node_decoder__free(d);
		errno = ENOMEM;
		return NULL;
	}
	return d;
}

void node_decoder__free(struct node_decoder *d)
{
	if (!d)
		return;
	keytab__free(d->sessions);
	free(d);
}

const struct node_decode_stats *node_decoder__stats(const struct node_decoder *d)
{
	return &d->st;
}

bool node_decode__wall_ns(uint64_t mono, int64_t *out)
{
	struct timespec rt, mo;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mo);
	if (mono > (uint64_t)mo.tv_sec * 1000000000ull + (uint64_t)mo.tv_nsec)
		return false;
	int64_t off = (rt.tv_sec - mo.tv_sec) * 1000000000ll + (rt.tv_nsec - mo.tv_nsec);

	*out = (int64_t)mono + off;
	return true;
}

/* copy a fixed-size kernel string field, which may lack its NUL */
static void kcopy(char *dst, size_t dsize, const char *src, size_t ssize)
{
	size_t n = strnlen(src, ssize);

	if (n >= dsize)
		n = dsize - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

void node_decode__cgroup_path(const struct kh_rec_node_exec *r, char *out, size_t size)
{
	size_t o = 0;
	uint32_t depth = r->cgrp_depth < KH_NODE_CGRP_DEPTH ? r->cgrp_depth : KH_NODE_CGRP_DEPTH;

	out[0] = 0;
	for (uint32_t i = depth; i-- > 0;) {
		size_t n = strnlen(r->cgrp[i], KH_NODE_CGRP_NAME_MAX);

		if (o + n + 2 > size)
			break;
		out[o++] = '/';
		memcpy(out + o, r->cgrp[i], n);
		o += n;
		out[o] = 0;
	}
	if (!o && size > 1) {
		out[0] = '/';
		out[1] = 0;
	}
}

/* pod identity from the cgroup path, then names from the kubelet's log directories */
static void resolve(struct node_decoder *d, struct node_identity *who)
{
	struct kh_pod_ref ref;

	if (!cgroup_path__parse(who->cgroup_path, strlen(who->cgroup_path), &ref)) {
		d->st.no_pod++;
		return;
	}
	memcpy(who->pod_uid, ref.pod_uid, sizeof(who->pod_uid));
	memcpy(who->container_id, ref.container_id, sizeof(who->container_id));
	pods_dir__lookup(d->o.pods_log_dir, who->pod_uid, who->pod_namespace,
			 sizeof(who->pod_namespace), who->pod_name, sizeof(who->pod_name));
	pods_dir__container_name(d->o.containers_log_dir, who->container_id, who->container_name,
				 sizeof(who->container_name));
}

/*
 * A session first seen after its first exec (that record was lost): take the cgroup from
 * /proc/PID/cgroup while the process lives, the v2 line or else the memory controller's.
 */
static void cgroup_from_proc(struct node_decoder *d, uint32_t pid, struct node_identity *who)
{
	char p[256], line[1024];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%u/cgroup", d->o.proc_dir, pid);
	f = fopen(p, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *path = strchr(line, ':');
		char *ctl = path ? path + 1 : NULL;

		path = ctl ? strchr(ctl, ':') : NULL;
		if (!path)
			continue;
		*path++ = 0;
		path[strcspn(path, "\n")] = 0;
		if ((!ctl[0] && strcmp(path, "/")) || !strcmp(ctl, "memory")) {
			snprintf(who->cgroup_path, sizeof(who->cgroup_path), "%s", path);
			who->cgroup_v1 = ctl[0] != 0;
			if (!ctl[0])
				break;
		}
	}
	fclose(f);
}

static struct node_session *session_get(struct node_decoder *d, uint64_t id)
{
	return keytab__find(d->sessions, &id, sizeof(id));
}

static struct node_session *session_new(struct node_decoder *d, const struct kh_node_proc *p,
					int64_t t)
{
	struct node_session *s;
	bool created;

	/* first in, first out: a session is found (keytab__find), never touched */
	if (keytab__full(d->sessions)) {
		keytab__remove(d->sessions, keytab__oldest(d->sessions));
		d->st.session_evictions++;
	}
	s = keytab__upsert(d->sessions, &p->session_id, sizeof(p->session_id), &created);
	if (!s) { /* out of memory: decoded all the same, remembered by nobody */
		s = &d->no_memory;
		memset(s, 0, sizeof(*s));
	}
	s->id = p->session_id;
	s->start_ns = t;
	s->leader_pid = p->session_leader;
	d->st.sessions++;
	return s;
}

static void fill_proc(struct node_process *np, const struct kh_node_proc *p)
{
	np->pid = p->pid;
	np->tid = p->tid;
	np->ppid = p->ppid;
	np->uid = p->uid;
	np->gid = p->gid;
	np->ns_pid = p->ns_pid;
	kcopy(np->comm, sizeof(np->comm), p->comm, sizeof(p->comm));
}

/* split the NUL-separated argv copy in d->args into ev->argv */
static void split_args(struct node_decoder *d, uint32_t len, struct node_event *ev)
{
	uint32_t at = 0;

	ev->argc = ev->argc_total = 0;
	while (at < len) {
		size_t n = strnlen(d->args + at, len - at);

		if (ev->argc < KH_NODE_ARGV_MAX)
			ev->argv[ev->argc++] = d->args + at;
		ev->argc_total++;
		at += (uint32_t)n + 1;
	}
	ev->argv[ev->argc] = NULL;
}

/* what the kernel read at the session's first exec: the audit ID and the parent chain */
static void session_start_facts(struct node_decoder *d, struct node_session *s,
				const struct kh_rec_node_exec *r)
{
	if (r->flags & KH_NODE_F_AUDIT_ID)
		kcopy(s->audit_id, sizeof(s->audit_id), r->audit_id, sizeof(r->audit_id));
	s->audit_id_truncated = r->flags & KH_NODE_F_AUDIT_ID_TRUNC;
	s->env_cut = r->flags & KH_NODE_F_ENV_CUT;
	s->new_container = r->flags & KH_NODE_F_NEW_CONTAINER;
	s->attach = r->flags & KH_NODE_F_ATTACH;
	if (s->attach)
		d->st.attaches++;
	s->env_scanned = r->env_scanned;
	if (s->env_cut)
		d->st.env_cut++;
	if (s->audit_id[0])
		d->st.audit_ids++;
	proc_chain__fill(s, r, d->o.proc_dir);
}

static void decode_exec(struct node_decoder *d, const struct kh_rec_node_exec *r,
			struct node_event *ev)
{
	struct node_session *s = session_get(d, r->proc.session_id);
	uint32_t len = r->args_len < KH_NODE_ARGS_MAX ? r->args_len : KH_NODE_ARGS_MAX;

	kcopy(d->exe, sizeof(d->exe), r->filename, sizeof(r->filename));
	memcpy(d->args, r->args, len);
	d->args[len] = 0;
	ev->exe = d->exe;
	ev->args_truncated = r->flags & KH_NODE_F_ARGS_TRUNC;
	ev->session_start = r->flags & KH_NODE_F_SESSION_START;
	split_args(d, len, ev);
	if (!s) {
		s = session_new(d, &r->proc, ev->time_ns);
		if (!ev->session_start)
			d->st.late_sessions++;
		node_decode__cgroup_path(r, s->who.cgroup_path, sizeof(s->who.cgroup_path));
		if (ev->session_start)
			session_start_facts(d, s, r);
		s->who.cgroup_v1 = r->flags & KH_NODE_F_CGRP_V1;
		resolve(d, &s->who);
	}
	if (ev->session_start || !s->leader_exe[0]) {
		memcpy(s->leader_exe, d->exe, sizeof(s->leader_exe));
		memcpy(s->leader_args, d->args, len + 1);
		s->leader_args_len = len;
		s->leader_args_truncated = ev->args_truncated;
	}
	ev->session = s;
}

/* a session met first through an open or exit record */
static struct node_session *session_late(struct node_decoder *d, const struct kh_node_proc *p,
					 int64_t t)
{
	struct node_session *s = session_new(d, p, t);

	d->st.late_sessions++;
	cgroup_from_proc(d, p->pid, &s->who);
	resolve(d, &s->who);
	return s;
}

int node_decoder__decode(struct node_decoder *d, const void *data, size_t size,
			 struct node_event *ev)
{
	const struct kh_rec_hdr *h = data;
	const struct kh_node_proc *p;
	struct node_session *s;

	if (size < sizeof(*h))
		return 0;
	memset(ev, 0, sizeof(*ev));
	switch (h->type) {
	case KH_REC_NODE_EXEC:
		if (size < sizeof(struct kh_rec_node_exec))
			goto malformed;
		ev->kind = NODE_EV_EXEC;
		break;
	case KH_REC_NODE_OPEN:
		if (size < sizeof(struct kh_rec_node_open))
			goto malformed;
		ev->kind = NODE_EV_OPEN;
		break;
	case KH_REC_NODE_EXIT:
		if (size < sizeof(struct kh_rec_node_exit))
			goto malformed;
		ev->kind = NODE_EV_EXIT;
		break;
	default:
		return 0;
	}
	p = (const struct kh_node_proc *)(h + 1);
	if (!p->session_id) /* the kernel's ids are ktime stamps, never 0 */
		goto malformed;
	if (!node_decode__wall_ns(h->ts_ns, &ev->time_ns))
		goto malformed;
	fill_proc(&ev->proc, p);
	d->st.records++;
	if (ev->kind == NODE_EV_EXEC) {
		decode_exec(d, data, ev);
		s = (struct node_session *)ev->session;
	} else {
		s = session_get(d, p->session_id);
		if (!s)
			s = session_late(d, p, ev->time_ns);
		ev->session = s;
	}
	if (ev->kind == NODE_EV_OPEN) {
		const struct kh_rec_node_open *o = data;

		kcopy(d->path, sizeof(d->path), o->path, sizeof(o->path));
		ev->path = d->path;
		ev->path_truncated = o->flags & KH_NODE_F_PATH_TRUNC;
		ev->ret = o->ret;
		ev->open_flags = o->open_flags;
		ev->match = o->match;
	} else if (ev->kind == NODE_EV_EXIT) {
		ev->exit_code = ((const struct kh_rec_node_exit *)data)->exit_code;
		s->ended = true;
	}
	/* the pod's log directory may appear after its first look-up */
	if (s->who.pod_uid[0] && !s->who.pod_namespace[0])
		pods_dir__lookup(d->o.pods_log_dir, s->who.pod_uid, s->who.pod_namespace,
				 sizeof(s->who.pod_namespace), s->who.pod_name,
				 sizeof(s->who.pod_name));
	return 1;

malformed:
	d->st.malformed++;
	return -EINVAL;
}
