// SPDX-License-Identifier: GPL-2.0
/*
 * audit_guard: reports what processes other than the apiserver do to the audit log the tap
 * captures: open it for writing, truncate it, rename it away or another file onto it, unlink it.
 * The log is the record an intruder wants to rewrite; keyhole sees both the apiserver's writes
 * and the attempt to undo them (node-audit-log-tamper).
 *
 * It shares the tap's targets, files and names maps (the agent hands it the tap's map fds
 * before load), so "the apiserver" and "the audit log" mean here exactly what they mean to the
 * tap, including across rotation.
 *
 * Descriptor operations are matched by inode: at sys_exit of every successful open, the new
 * descriptor's file is checked for FMODE_WRITE first (most opens are read-only and leave after
 * a few loads), then its inode against "files". ftruncate is matched the same way at entry.
 *
 * Path operations (truncate, unlink, rename) cannot be resolved to an inode from a tracepoint:
 * the kernel has not walked the path yet at sys_enter and the name is gone at sys_exit. So a
 * path whose basename is a watched log's ("basenames") is followed to sys_exit, and a success is
 * reported. A bare name (no '/') is resolved exactly against the cwd or dfd's directory and
 * "names"; the agent resolves the rest (keyhole/capture: the tamperer's root and cwd, or what
 * happened to the watched file). Every other path operation pays one string read.
 *
 * Records go to a ring of their own, so a flood of lookalike names cannot push the apiserver's
 * bytes out of the tap's ring; losses are counted like the tap's.
 */
#include "keyhole.bpf.h"

/* fmode_t bit of a file open for writing (include/linux/fs.h, unchanged since 2.6) */
#define KH_FMODE_WRITE 0x2
#define KH_AT_FDCWD -100

/* the tap's maps (same definitions as bpf/audit_tap.bpf.c; the agent reuses the tap's fds) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KH_TAP_MAX_TARGETS);
	__type(key, __u32);
	__type(value, __u32);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KH_TAP_MAX_FILES);
	__type(key, struct kh_file_key);
	__type(value, __u32);
} files SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KH_TAP_MAX_NAMES);
	__type(key, struct kh_name_key);
	__type(value, __u32);
} names SEC(".maps");

/* basenames of the watched logs (audit.log), set by the agent beside the tap's names */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KH_TAP_MAX_NAMES);
	__type(key, struct kh_base_key);
	__type(value, __u32); /* file_id of one watch with that name */
} basenames SEC(".maps");

/*
 * the watched logs' directories: an inode in "files" counts only while its file is still in one
 * of them, because inode numbers are reused once a file is deleted, and "files" remembers the
 * inodes of rotated logs the apiserver has since pruned
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KH_TAP_MAX_NAMES);
	__type(key, struct kh_file_key);
	__type(value, __u32); /* file_id of one watch there */
} dirs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, KH_GUARD_RING_BYTES);
} tamper_events SEC(".maps");

/* a path operation on a watched basename, between sys_enter and sys_exit, by thread id */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KH_GUARD_MAX_PENDING);
	__type(key, __u32);
	__type(value, struct kh_audit_tamper);
} pending SEC(".maps");

/* a record is larger than the BPF stack: it is built here */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kh_audit_tamper);
} scratch SEC(".maps");

KH_COUNTER_MAP(guard_counters, KH_GUARD__NR);
#define count(idx_) kh_count_add(&guard_counters, idx_, 1, KH_GUARD__NR)

static __always_inline bool is_target(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return bpf_map_lookup_elem(&targets, &tgid) != NULL;
}

/* a zeroed record in this CPU's scratch slot */
static __always_inline struct kh_audit_tamper *record_begin(__u32 op)
{
	__u32 zero = 0;
	struct kh_audit_tamper *r = bpf_map_lookup_elem(&scratch, &zero);

	if (!r)
		return NULL;
	__builtin_memset(r, 0, sizeof(*r));
	r->hdr.type = KH_REC_AUDIT_TAMPER;
	r->hdr.size = sizeof(*r);
	r->op = op;
	return r;
}

/* who is doing it, and when */
static __always_inline void record_who(struct kh_audit_tamper *r)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();

	r->hdr.ts_ns = bpf_ktime_get_ns();
	r->tgid = id >> 32;
	r->tid = (__u32)id;
	r->ppid = BPF_CORE_READ(task, real_parent, tgid);
	r->uid = BPF_CORE_READ(task, real_cred, uid.val);
	bpf_get_current_comm(r->comm, sizeof(r->comm));
}

static __always_inline void send(struct kh_audit_tamper *r)
{
	if (bpf_ringbuf_output(&tamper_events, r, sizeof(*r), 0))
		count(KH_GUARD_LOST);
	else
		count(KH_GUARD_REPORTED);
}

/* the watched file behind @f, by inode and directory: its file_id, or 0 */
static __always_inline __u32 watched_file(struct file *f, struct kh_file_key *fk)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	struct inode *dir = BPF_CORE_READ(f, f_path.dentry, d_parent, d_inode);
	struct kh_file_key dk;
	__u32 *fid;

	fk->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	fk->ino = BPF_CORE_READ(inode, i_ino);
	fid = bpf_map_lookup_elem(&files, fk);
	if (!fid || !dir)
		return 0;
	/* a second name (hard link) elsewhere is the same file; a reused number has one name */
	if (BPF_CORE_READ(inode, __i_nlink) > 1)
		return *fid;
	dk.dev = BPF_CORE_READ(dir, i_sb, s_dev);
	dk.ino = BPF_CORE_READ(dir, i_ino);
	return bpf_map_lookup_elem(&dirs, &dk) ? *fid : 0;
}

/*
 * Is the basename of @path (@len bytes, no NUL) a watched log's? Fills @bk with it. The scan
 * runs backwards from the end and stops at the first '/', so a real path costs a few steps and
 * the verifier sees one exit per step instead of every combination of slashes.
 */
static __always_inline bool watched_basename(const char *path, __u32 len, struct kh_base_key *bk,
					     bool *has_slash)
{
	__u32 at = 0;

	*has_slash = false;
	for (__u32 k = 0; k < KH_TAMPER_PATH_MAX; k++) {
		__u32 i;

		if (k >= len)
			break;
		i = (len - 1 - k) & (KH_TAMPER_PATH_MAX - 1);
		if (path[i] == '/') {
			at = i + 1;
			*has_slash = true;
			break;
		}
	}
	if (at >= len || len - at >= KH_AUDIT_NAME_MAX)
		return false; /* empty (a trailing '/'), or longer than any watched name */
	for (__u32 k = 0; k < KH_AUDIT_NAME_MAX - 1; k++) {
		if (at + k >= len)
			break;
		bk->name[k] = path[(at + k) & (KH_TAMPER_PATH_MAX - 1)];
	}
	return bpf_map_lookup_elem(&basenames, bk) != NULL;
}

/* the inode of directory fd @dfd, or of the cwd for AT_FDCWD */
static __always_inline struct inode *dir_inode(__s32 dfd)
{
	struct task_struct *task;
	struct file *f;

	if (dfd == KH_AT_FDCWD) {
		task = (struct task_struct *)bpf_get_current_task();
		return BPF_CORE_READ(task, fs, pwd.dentry, d_inode);
	}
	f = kh_task_fd_file((unsigned int)dfd);
	return f ? BPF_CORE_READ(f, f_inode) : NULL;
}

/* a bare name relative to @dfd: the watched file's id when that directory holds one so named */
static __always_inline __u32 exact_by_name(__s32 dfd, const struct kh_base_key *bk)
{
	struct inode *dir = dir_inode(dfd);
	struct kh_name_key nk = {};
	__u32 *fid;

	if (!dir)
		return 0;
	nk.dev = BPF_CORE_READ(dir, i_sb, s_dev);
	nk.ino = BPF_CORE_READ(dir, i_ino);
	__builtin_memcpy(nk.name, bk->name, sizeof(nk.name));
	fid = bpf_map_lookup_elem(&names, &nk);
	return fid ? *fid : 0;
}

/*
 * Read user path @up into @dst; true when it may name a watched log: its basename is a watched
 * log's, and a bare name is one in the watched directory (then file_id and F_EXACT are set).
 */
static __always_inline bool check_path(struct kh_audit_tamper *r, char *dst, const char *up,
				       __s32 dfd)
{
	struct kh_base_key bk = {};
	bool has_slash;
	long n = bpf_probe_read_user_str(dst, KH_TAMPER_PATH_MAX, up);

	if (n <= 0)
		return false;
	if (n == KH_TAMPER_PATH_MAX) {
		/* the basename is past what was read: a long path must not hide it, so the agent
		 * judges this one by its effect on the watched logs */
		r->flags |= KH_TAMPER_F_PATH_TRUNC;
		return true;
	}
	if (!watched_basename(dst, (__u32)n - 1, &bk, &has_slash))
		return false;
	if (has_slash)
		return true;
	if (!r->file_id && (r->file_id = exact_by_name(dfd, &bk)))
		r->flags |= KH_TAMPER_F_EXACT;
	return r->file_id != 0;
}

/* where the process's paths start: its root, and the cwd or @dfd */
static __always_inline void record_dirs(struct kh_audit_tamper *r, __s32 dfd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct inode *root = BPF_CORE_READ(task, fs, root.dentry, d_inode);
	struct inode *base = dir_inode(dfd);

	if (root) {
		r->root_dev = BPF_CORE_READ(root, i_sb, s_dev);
		r->root_ino = BPF_CORE_READ(root, i_ino);
	}
	if (base) {
		r->base_dev = BPF_CORE_READ(base, i_sb, s_dev);
		r->base_ino = BPF_CORE_READ(base, i_ino);
	}
}

/* follow a path operation to its sys_exit when a path names a watched basename */
static __always_inline int path_enter(__u32 op, __s32 dfd, const char *p1, __s32 dfd2,
				      const char *p2, __u64 size)
{
	struct kh_audit_tamper *r;
	bool from, onto = false;
	__u32 tid;

	if (is_target())
		return 0;
	r = record_begin(op);
	if (!r)
		return 0;
	r->dfd = dfd;
	r->size = size; /* truncate(2): the length asked for */
	from = check_path(r, r->path, p1, dfd);
	if (p2) {
		bool exact_from = r->flags & KH_TAMPER_F_EXACT;

		onto = check_path(r, r->path2, p2, dfd2);
		/* the new name is the one that matched (or the one the kernel tied to the log) */
		if ((!from && onto) || (onto && !exact_from && (r->flags & KH_TAMPER_F_EXACT)))
			r->op = KH_TAMPER_RENAME_ONTO;
	}
	if (!from && !onto) {
		/*
		 * truncate(2) follows links of any name (/proc/self/fd/N of an O_PATH descriptor,
		 * a hard link) and is rare: every successful one is reported, and the agent
		 * judges by what happened to the watched logs
		 */
		if (op != KH_TAMPER_TRUNCATE || r->path[0] == 0)
			return 0;
		r->flags |= KH_TAMPER_F_ANY_NAME;
		from = true;
	}
	count(KH_GUARD_NAME_MATCHES);
	record_who(r);
	if (!from) /* the new path is the one to resolve */
		r->dfd = dfd2;
	record_dirs(r, r->dfd);
	tid = r->tid;
	if (bpf_map_update_elem(&pending, &tid, r, BPF_ANY))
		count(KH_GUARD_PENDING_FULL);
	return 0;
}

/*
 * The operation's result: report it when it succeeded. The entry must be this system call's
 * (@op_a or @op_b): one left by an enter whose exit never ran here (programs attached or
 * detached one by one) is dropped, not reported as the next call's.
 */
static __always_inline int path_exit(long ret, __u32 op_a, __u32 op_b)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct kh_audit_tamper *r = bpf_map_lookup_elem(&pending, &tid);

	if (!r)
		return 0;
	if (ret == 0 && (r->op == op_a || r->op == op_b)) {
		r->ret = ret;
		send(r);
	}
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

SEC("tp/syscalls/sys_enter_unlinkat")
int guard_enter_unlinkat(struct trace_event_raw_sys_enter *ctx)
{
	return path_enter(KH_TAMPER_UNLINK, (__s32)ctx->args[0], (const char *)ctx->args[1], 0,
			  NULL, 0);
}

/* unlink(2), rename(2) and renameat(2): x86 has them, arm64 does not */
SEC("tp/syscalls/sys_enter_unlink")
int guard_enter_unlink(struct trace_event_raw_sys_enter *ctx)
{
	return path_enter(KH_TAMPER_UNLINK, KH_AT_FDCWD, (const char *)ctx->args[0], 0, NULL, 0);
}

SEC("tp/syscalls/sys_enter_renameat2")
int guard_enter_renameat2(struct trace_event_raw_sys_enter *ctx)
{
	return path_enter(KH_TAMPER_RENAME_FROM, (__s32)ctx->args[0], (const char *)ctx->args[1],
			  (__s32)ctx->args[2], (const char *)ctx->args[3], 0);
}

SEC("tp/syscalls/sys_enter_renameat")
int guard_enter_renameat(struct trace_event_raw_sys_enter *ctx)
{
	return path_enter(KH_TAMPER_RENAME_FROM, (__s32)ctx->args[0], (const char *)ctx->args[1],
			  (__s32)ctx->args[2], (const char *)ctx->args[3], 0);
}

SEC("tp/syscalls/sys_enter_rename")
int guard_enter_rename(struct trace_event_raw_sys_enter *ctx)
{
	return path_enter(KH_TAMPER_RENAME_FROM, KH_AT_FDCWD, (const char *)ctx->args[0],
			  KH_AT_FDCWD, (const char *)ctx->args[1], 0);
}

SEC("tp/syscalls/sys_enter_truncate")
int guard_enter_truncate(struct trace_event_raw_sys_enter *ctx)
{
	return path_enter(KH_TAMPER_TRUNCATE, KH_AT_FDCWD, (const char *)ctx->args[0], 0, NULL,
			  ctx->args[1]);
}

SEC("tp/syscalls/sys_exit_unlinkat")
int guard_exit_unlinkat(struct trace_event_raw_sys_exit *ctx)
{
	return path_exit(ctx->ret, KH_TAMPER_UNLINK, KH_TAMPER_UNLINK);
}

SEC("tp/syscalls/sys_exit_unlink")
int guard_exit_unlink(struct trace_event_raw_sys_exit *ctx)
{
	return path_exit(ctx->ret, KH_TAMPER_UNLINK, KH_TAMPER_UNLINK);
}

SEC("tp/syscalls/sys_exit_renameat2")
int guard_exit_renameat2(struct trace_event_raw_sys_exit *ctx)
{
	return path_exit(ctx->ret, KH_TAMPER_RENAME_FROM, KH_TAMPER_RENAME_ONTO);
}

SEC("tp/syscalls/sys_exit_renameat")
int guard_exit_renameat(struct trace_event_raw_sys_exit *ctx)
{
	return path_exit(ctx->ret, KH_TAMPER_RENAME_FROM, KH_TAMPER_RENAME_ONTO);
}

SEC("tp/syscalls/sys_exit_rename")
int guard_exit_rename(struct trace_event_raw_sys_exit *ctx)
{
	return path_exit(ctx->ret, KH_TAMPER_RENAME_FROM, KH_TAMPER_RENAME_ONTO);
}

SEC("tp/syscalls/sys_exit_truncate")
int guard_exit_truncate(struct trace_event_raw_sys_exit *ctx)
{
	return path_exit(ctx->ret, KH_TAMPER_TRUNCATE, KH_TAMPER_TRUNCATE);
}

/* ftruncate(fd, length): matched by inode at entry, reported at exit on success */
SEC("tp/syscalls/sys_enter_ftruncate")
int guard_enter_ftruncate(struct trace_event_raw_sys_enter *ctx)
{
	struct file *f = kh_task_fd_file((unsigned int)ctx->args[0]);
	struct kh_audit_tamper *r;
	struct kh_file_key fk;
	__u32 fid, tid;

	if (!f || !(fid = watched_file(f, &fk)) || is_target())
		return 0;
	r = record_begin(KH_TAMPER_FTRUNCATE);
	if (!r)
		return 0;
	record_who(r);
	r->dev = fk.dev;
	r->ino = fk.ino;
	r->file_id = fid;
	r->flags = KH_TAMPER_F_EXACT;
	r->size = ctx->args[1];
	r->dfd = (__s32)ctx->args[0];
	bpf_probe_read_kernel_str(r->path, sizeof(r->path),
				  BPF_CORE_READ(f, f_path.dentry, d_name.name));
	tid = r->tid;
	if (bpf_map_update_elem(&pending, &tid, r, BPF_ANY))
		count(KH_GUARD_PENDING_FULL);
	return 0;
}

SEC("tp/syscalls/sys_exit_ftruncate")
int guard_exit_ftruncate(struct trace_event_raw_sys_exit *ctx)
{
	return path_exit(ctx->ret, KH_TAMPER_FTRUNCATE, KH_TAMPER_FTRUNCATE);
}

/*
 * The file an open just installed at descriptor @fd, as cheaply as the kernel allows: every open
 * on the node runs this, and most leave right after. With a BTF task pointer (5.11+) the walk
 * task->files->fdt->fd is plain loads, and the one helper call is the read of the table slot
 * (a variable index); older kernels take the probe-read walk of kh_task_fd_file(). The bound
 * check is not needed: the kernel has just installed @fd in this table.
 */
static __always_inline struct file *new_fd_file(unsigned int fd)
{
	struct file *f = NULL;

	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf)) {
		struct task_struct *t = bpf_get_current_task_btf();
		struct file **fds = t->files->fdt->fd;

		if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]))
			return NULL;
		return f;
	}
	return kh_task_fd_file(fd);
}

/*
 * Every successful open: the new descriptor's file, when open for writing and a watched log,
 * by a process that is not the apiserver. Read-only opens leave after the f_mode load.
 */
static __always_inline int open_exit(long ret)
{
	struct kh_audit_tamper *r;
	bool wr;
	struct kh_file_key fk;
	struct file *f;
	__u32 fid;

	if (ret < 0)
		return 0;
	f = new_fd_file((unsigned int)ret);
	if (!f)
		return 0;
	/*
	 * open(O_RDONLY | O_TRUNC) truncates without write access, and the kernel clears O_TRUNC
	 * from f_flags: a read-only open is looked at only when it left the file empty, and the
	 * agent reports it only when the log held more than that
	 */
	wr = BPF_CORE_READ(f, f_mode) & KH_FMODE_WRITE;
	if (!wr && BPF_CORE_READ(f, f_inode, i_size) != 0)
		return 0;
	if (!(fid = watched_file(f, &fk)) || is_target())
		return 0;
	r = record_begin(KH_TAMPER_OPEN_WRITE);
	if (!r)
		return 0;
	record_who(r);
	r->dev = fk.dev;
	r->ino = fk.ino;
	r->file_id = fid;
	r->flags = KH_TAMPER_F_EXACT | (wr ? 0 : KH_TAMPER_F_READ_ONLY);
	r->ret = ret;
	r->open_flags = BPF_CORE_READ(f, f_flags);
	r->size = BPF_CORE_READ(f, f_inode, i_size);
	r->dfd = KH_AT_FDCWD;
	bpf_probe_read_kernel_str(r->path, sizeof(r->path),
				  BPF_CORE_READ(f, f_path.dentry, d_name.name));
	send(r);
	return 0;
}

SEC("tp/syscalls/sys_exit_openat")
int guard_exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_openat2")
int guard_exit_openat2(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_open")
int guard_exit_open(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_creat")
int guard_exit_creat(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret);
}
