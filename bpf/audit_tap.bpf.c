// SPDX-License-Identifier: GPL-2.0
/*
 * audit_tap: copies the bytes the kube-apiserver writes to its audit log into a ring buffer.
 *
 * Who: processes in the "targets" map (tgid), put there by the agent's /proc scan and by the
 * sched_process_exec program below when a process execs with the target comm. Every other
 * process pays one hash lookup per write and leaves.
 *
 * Which file: the inode behind the fd, keyed by (dev, ino) in "files". An inode not there is
 * matched by (parent directory dev and inode, basename) in "names" and then learned into "files".
 * That pair is what makes rotation lossless: the apiserver renames audit.log and creates a new
 * audit.log, and its first write to the new inode already matches by name, before the agent could
 * have learned of the file; the renamed file still matches by inode for any write that lands
 * after the rename. The fd number is never used as identity.
 *
 * What: sys_enter records the buffer (or iovec array) per thread id; sys_exit, knowing how many
 * bytes were written, copies them in chunks of KH_AUDIT_CHUNK_MAX with a sequence number and byte
 * offset. Past the cap the head and tail are kept (the decision annotation ends the line). The
 * chunk loop is a bounded loop of KH_AUDIT_CHUNKS_PER_RUN that tail-calls itself to go on, so the
 * same object verifies on 5.10 (no bpf_loop) and on today's kernels.
 *
 * Loss: every failed bpf_ringbuf_output is counted per CPU beside the call, and the write it
 * belonged to is counted lost once.
 *
 * Two ways in, one copy. The tracepoint path (tap_enter_* / tap_exit_*) sees every process's
 * write system calls and keeps the target's; the uprobe path (tap_go_write) is a uprobe on the Go
 * function every standard-library write goes through (syscall.write, found by the agent in the
 * apiserver's own binary, src/capture/gosym.c) and fires only in the process it is attached to,
 * so nobody else pays anything. The targets map says which path owns a process
 * (KH_TAP_VIA_*). Both feed the same copy (step/copy_run), so the records, chunking, cap and
 * loss accounting are the same; the uprobe path copies at the function's entry, the length from
 * the slice, since return probes are unsafe with Go's moving stacks.
 *
 * Wakeups: the ring's default wakes the agent for every record while it keeps up, and each
 * wakeup (irq_work, a cross-CPU wake) costs the apiserver's write more than the copy itself.
 * The tap wakes the agent at most once per wake_interval_ns, on a write's last chunk; the agent
 * polls every few milliseconds while data flows (capture.c), so latency stays bounded, and a
 * record after a quiet spell always wakes it (its last wakeup is older than the interval).
 */
#include "keyhole.bpf.h"

/* configuration, set by the agent between open and load */
const volatile char target_comm[KH_COMM_LEN] = "kube-apiserver";
const volatile __u64 cap_bytes = KH_AUDIT_CAP_DEFAULT;
const volatile __u64 tail_bytes = KH_AUDIT_TAIL_DEFAULT;
const volatile __u64 wake_interval_ns = 1000000;

/* when the tap last forced a wakeup (any CPU; a racy update only costs an extra wakeup) */
__u64 last_wake_ns;

/* the agent sizes it before load (power of two, page multiple); 16 MB holds ~8000 2 KB lines */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KH_TAP_MAX_TARGETS);
	__type(key, __u32);   /* tgid */
	__type(value, __u32); /* 1 */
} targets SEC(".maps");

/* LRU: inodes of rotated files stop being written and age out without the agent's help */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KH_TAP_MAX_FILES);
	__type(key, struct kh_file_key);
	__type(value, __u32); /* file_id */
} files SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KH_TAP_MAX_NAMES);
	__type(key, struct kh_name_key);
	__type(value, __u32); /* file_id */
} names SEC(".maps");

/* a target write between sys_enter and the end of its copy at sys_exit, and the copy's progress */
struct inflight {
	__u64 write_id; /* ktime at sys_enter */
	__u64 buf;	/* the buffer, or the iovec array for writev/pwritev */
	__u64 dev;
	__u64 ino;
	__u32 file_id;
	__u32 vlen;  /* iovec count (writev) */
	__u32 flags; /* KH_CHUNK_WRITEV, KH_CHUNK_PWRITE, KH_CHUNK_TRUNCATED */
	__u32 seq;   /* next chunk's sequence number */
	__u64 total; /* bytes written (sys_exit) */
	__u64 off;   /* logical offset copied or skipped so far */
	__u64 head_end;
	__u64 tail_start;
	__u64 seg_base; /* current segment: the buffer or the current iovec */
	__u64 seg_len;
	__u64 seg_off;
	__u32 iov_idx; /* next iovec to read */
	__u32 tgid;
	__u32 active; /* a target-file write is between sys_enter and the end of its copy */
	__u32 pad;
	__u64 isize; /* uprobe path: the file's size when the write was called */
};

/*
 * One slot per thread of a target process, reused in place from write to write (an insert and a
 * delete per write would cost more than the copy); active marks a write in flight. A thread's
 * slot is removed when the thread exits.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KH_TAP_MAX_INFLIGHT);
	__type(key, __u32); /* thread id */
	__type(value, struct inflight);
} inflight SEC(".maps");

/* slot 0: tap_continue, so a long write's copy goes on in a fresh run with a fresh budget */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} progs SEC(".maps");

/* the same for the uprobe path: slot 0 is tap_go_continue (a tail call keeps its program type) */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} uprogs SEC(".maps");

KH_COUNTER_MAP(counters, KH_TAP__NR);
#define count(idx_) kh_count_add(&counters, idx_, 1, KH_TAP__NR)

enum { STEP_MORE = 0, STEP_DONE = 1 };

static __always_inline bool comm_is_target(const char *comm)
{
#pragma unroll
	for (int i = 0; i < KH_COMM_LEN; i++) {
		if (comm[i] != target_comm[i])
			return false;
		if (!comm[i])
			return true;
	}
	return true;
}

static __always_inline void emit_proc(__u32 tgid, __u32 kind)
{
	struct kh_audit_proc r = {};

	r.hdr.type = KH_REC_PROC_EVENT;
	r.hdr.size = sizeof(r);
	r.hdr.ts_ns = bpf_ktime_get_ns();
	r.tgid = tgid;
	r.kind = kind;
	bpf_get_current_comm(r.comm, sizeof(r.comm));
	if (bpf_ringbuf_output(&events, &r, sizeof(r), 0))
		count(KH_TAP_LOST_PROC);
}

/* wake the agent for a write's last chunk, at most once per wake_interval_ns */
static __always_inline __u64 wake_flags(__u32 chunk_flags, __u64 now)
{
	if (!(chunk_flags & KH_CHUNK_LAST))
		return BPF_RB_NO_WAKEUP;
	if (now - last_wake_ns < wake_interval_ns)
		return BPF_RB_NO_WAKEUP;
	last_wake_ns = now;
	return BPF_RB_FORCE_WAKEUP;
}

/* an inode not yet known: is it named like a watched file in a watched directory? */
static __always_inline bool match_name(struct file *f, __u32 *file_id)
{
	struct kh_name_key nk = {};
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	struct inode *dir = BPF_CORE_READ(d, d_parent, d_inode);
	__u32 *v;

	if (!dir || BPF_CORE_READ(d, d_name.len) >= KH_AUDIT_NAME_MAX)
		return false;
	nk.dev = BPF_CORE_READ(dir, i_sb, s_dev);
	nk.ino = BPF_CORE_READ(dir, i_ino);
	if (bpf_probe_read_kernel_str(nk.name, sizeof(nk.name), BPF_CORE_READ(d, d_name.name)) < 0)
		return false;
	v = bpf_map_lookup_elem(&names, &nk);
	if (!v)
		return false;
	*file_id = *v;
	return true;
}

/*
 * A write by a process of path @via to fd @fd: when the file is a watched one, the thread's slot
 * filled in and marked active (NULL otherwise).
 */
static __always_inline struct inflight *track(__u64 fd, __u64 buf, __u32 vlen, __u32 flags,
					      __u32 via)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct inflight *slot, st = {};
	struct kh_file_key fk;
	struct inode *inode;
	struct file *f;
	__u32 *fid, *v;

	v = bpf_map_lookup_elem(&targets, &tgid);
	if (!v || *v != via)
		return NULL;
	f = kh_task_fd_file((unsigned int)fd);
	if (!f)
		return NULL;
	inode = BPF_CORE_READ(f, f_inode);
	fk.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	fk.ino = BPF_CORE_READ(inode, i_ino);
	fid = bpf_map_lookup_elem(&files, &fk);
	if (fid) {
		st.file_id = *fid;
	} else {
		if (!match_name(f, &st.file_id))
			return NULL;
		bpf_map_update_elem(&files, &fk, &st.file_id, BPF_ANY);
		count(KH_TAP_NAME_MATCHES);
	}
	slot = bpf_map_lookup_elem(&inflight, &tid);
	if (!slot) {
		if (bpf_map_update_elem(&inflight, &tid, &st, BPF_NOEXIST) ||
		    !(slot = bpf_map_lookup_elem(&inflight, &tid))) {
			count(KH_TAP_LOST_INFLIGHT);
			count(KH_TAP_LOST_WRITES);
			return NULL;
		}
	}
	slot->write_id = bpf_ktime_get_ns();
	slot->buf = buf;
	slot->dev = fk.dev;
	slot->ino = fk.ino;
	slot->file_id = st.file_id;
	slot->vlen = vlen;
	slot->flags = flags;
	slot->tgid = tgid;
	slot->active = 1;
	if (via == KH_TAP_VIA_UPROBE)
		slot->isize = BPF_CORE_READ(inode, i_size);
	return slot;
}

static __always_inline int on_enter(__u64 fd, __u64 buf, __u32 vlen, __u32 flags)
{
	track(fd, buf, vlen, flags, KH_TAP_VIA_TRACEPOINT);
	return 0;
}

/* the tap stops copying this write: count it lost and tell reassembly (best effort) */
static __always_inline void give_up(struct inflight *st, __u32 tid, __u32 reason)
{
	struct kh_audit_write_end e = {};

	count(reason);
	count(KH_TAP_LOST_WRITES);
	e.hdr.type = KH_REC_AUDIT_WRITE_END;
	e.hdr.size = sizeof(e);
	e.hdr.ts_ns = bpf_ktime_get_ns();
	e.write_id = st->write_id;
	e.total = st->total;
	e.captured = st->off;
	e.tgid = st->tgid;
	e.tid = tid;
	e.chunks = st->seq;
	e.reason = reason;
	bpf_ringbuf_output(&events, &e, sizeof(e), wake_flags(KH_CHUNK_LAST, e.hdr.ts_ns));
}

/* one chunk of @n bytes in a record reserved for @class bytes of data (a constant) */
static __always_inline int emit_chunk(struct inflight *st, __u32 tid, __u64 n, const __u32 class)
{
	struct kh_audit_chunk *c;
	__u32 flags = st->flags;

	if (st->off + n >= st->total)
		flags |= KH_CHUNK_LAST;
	c = bpf_ringbuf_reserve(&events, KH_AUDIT_CHUNK_HDR_SIZE + class, 0);
	if (!c)
		return -KH_TAP_LOST_CHUNKS;
	/*
	 * The bound the verifier must see on the very register the read gets: clang may test a
	 * copy of @n and pass another, and verifiers before 5.11 do not carry bounds across
	 * copies (seen on 5.10 and 6.1 with the uprobe path's inlined copy). The clamp is done in
	 * BPF itself, so the compiler cannot move it away; n > class was refused just above.
	 */
	if (n > class) {
		bpf_ringbuf_discard(c, BPF_RB_NO_WAKEUP);
		return -KH_TAP_READ_FAULTS;
	}
	asm volatile("if %[n] <= %[c] goto +1; %[n] = %[c]" : [n] "+r"(n) : [c] "i"(class));
	if (bpf_probe_read_user(c->data, n, (void *)(st->seg_base + st->seg_off))) {
		bpf_ringbuf_discard(c, BPF_RB_NO_WAKEUP);
		return -KH_TAP_READ_FAULTS;
	}
	c->hdr.type = KH_REC_AUDIT_CHUNK;
	c->hdr.size = KH_AUDIT_CHUNK_HDR_SIZE + n;
	c->hdr.ts_ns = bpf_ktime_get_ns();
	c->write_id = st->write_id;
	c->dev = st->dev;
	c->ino = st->ino;
	c->offset = st->off;
	c->total = st->total;
	c->head_end = st->head_end;
	c->tail_start = st->tail_start;
	c->tgid = st->tgid;
	c->tid = tid;
	c->seq = st->seq;
	c->len = n;
	c->file_id = st->file_id;
	c->flags = flags;
	bpf_ringbuf_submit(c, wake_flags(flags, c->hdr.ts_ns));
	st->off += n;
	st->seg_off += n;
	st->seq++;
	return STEP_MORE;
}

/*
 * One step of the copy: load the next iovec, skip the truncated middle of the current segment,
 * or send one chunk. Returns STEP_MORE, STEP_DONE, or a negative kh_tap_counter naming the
 * failure.
 */
static __always_inline int step(struct inflight *st, __u32 tid)
{
	__u64 avail, limit, n;

	if (st->off >= st->total)
		return STEP_DONE;
	if (st->seg_off >= st->seg_len) {
		struct iovec iov;

		if (!(st->flags & KH_CHUNK_WRITEV) || st->iov_idx >= st->vlen)
			return -KH_TAP_READ_FAULTS; /* fewer bytes in the buffers than written */
		if (bpf_probe_read_user(&iov, sizeof(iov),
					(void *)(st->buf + (__u64)st->iov_idx * sizeof(iov))))
			return -KH_TAP_READ_FAULTS;
		st->iov_idx++;
		st->seg_base = (__u64)iov.iov_base;
		st->seg_len = iov.iov_len;
		st->seg_off = 0;
		return STEP_MORE;
	}
	avail = st->seg_len - st->seg_off;
	if (st->off >= st->head_end && st->off < st->tail_start) {
		n = st->tail_start - st->off;
		if (n > avail)
			n = avail;
		st->off += n;
		st->seg_off += n;
		return STEP_MORE;
	}
	limit = st->off < st->head_end ? st->head_end : st->total;
	n = limit - st->off;
	if (n > avail)
		n = avail;
	if (n > KH_AUDIT_CHUNK_MAX)
		n = KH_AUDIT_CHUNK_MAX;
	/* keep the verifier's bound on n through clang's register shuffling */
	asm volatile("%0 &= 0x1fff" : "+r"(n));
	if (n > KH_AUDIT_CHUNK_MAX || n == 0)
		return -KH_TAP_READ_FAULTS;
	/*
	 * bpf_ringbuf_reserve() takes a constant size: reserve the smallest of four classes that
	 * holds n, so a 1 KB line takes ~1.1 KB of ring, and copy the user bytes straight in.
	 */
	if (n <= 512)
		return emit_chunk(st, tid, n, 512);
	if (n <= 1024)
		return emit_chunk(st, tid, n, 1024);
	if (n <= 2048)
		return emit_chunk(st, tid, n, 2048);
	return emit_chunk(st, tid, n, KH_AUDIT_CHUNK_MAX);
}

/* copy up to KH_AUDIT_CHUNKS_PER_RUN chunks, then go on in @next's slot 0 */
static __always_inline int copy_run(void *ctx, struct inflight *st, __u32 tid, void *next)
{
	int r = STEP_MORE;

#pragma clang loop unroll(disable)
	for (int i = 0; i < KH_AUDIT_CHUNKS_PER_RUN; i++) {
		r = step(st, tid);
		if (r != STEP_MORE)
			break;
	}
	if (r == STEP_MORE) {
		bpf_tail_call(ctx, next, 0);
		r = -KH_TAP_BUDGET; /* the tail call failed: the chain limit is spent */
	}
	if (r < 0)
		give_up(st, tid, -r);
	st->active = 0;
	return 0;
}

/* the write's size is known (@total > 0): set up the copy of its bytes */
static __always_inline void begin_copy(struct inflight *st, __u64 total)
{
	__u64 *cnt;

	st->total = total;
	st->off = 0;
	st->seq = 0;
	st->head_end = total;
	st->tail_start = total;
	if (total > cap_bytes) {
		st->head_end = cap_bytes - tail_bytes;
		st->tail_start = total - tail_bytes;
		st->flags |= KH_CHUNK_TRUNCATED;
	}
	if (st->flags & KH_CHUNK_WRITEV) {
		st->seg_base = 0;
		st->seg_len = 0; /* the first step loads iovec 0 */
	} else {
		st->seg_base = st->buf;
		st->seg_len = total;
	}
	st->seg_off = 0;
	st->iov_idx = 0;
	cnt = kh_counters_get(&counters);
	if (cnt) {
		cnt[KH_TAP_WRITES]++;
		cnt[KH_TAP_BYTES] += total;
		if (st->flags & KH_CHUNK_TRUNCATED)
			cnt[KH_TAP_TRUNCATED]++;
	}
}

static __always_inline int on_exit(void *ctx, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct inflight *st = bpf_map_lookup_elem(&inflight, &tid);

	if (!st || !st->active)
		return 0;
	if (ret <= 0) {
		st->active = 0;
		return 0;
	}
	begin_copy(st, ret);
	return copy_run(ctx, st, tid, &progs);
}

SEC("tp")
int tap_continue(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct inflight *st = bpf_map_lookup_elem(&inflight, &tid);

	if (!st || !st->active)
		return 0;
	return copy_run(ctx, st, tid, &progs);
}

SEC("tp/syscalls/sys_enter_write")
int tap_enter_write(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(ctx->args[0], ctx->args[1], 0, 0);
}

SEC("tp/syscalls/sys_enter_pwrite64")
int tap_enter_pwrite64(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(ctx->args[0], ctx->args[1], 0, KH_CHUNK_PWRITE);
}

SEC("tp/syscalls/sys_enter_writev")
int tap_enter_writev(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(ctx->args[0], ctx->args[1], ctx->args[2], KH_CHUNK_WRITEV);
}

SEC("tp/syscalls/sys_enter_pwritev")
int tap_enter_pwritev(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(ctx->args[0], ctx->args[1], ctx->args[2],
			KH_CHUNK_WRITEV | KH_CHUNK_PWRITE);
}

SEC("tp/syscalls/sys_exit_write")
int tap_exit_write(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx, ctx->ret);
}

SEC("tp/syscalls/sys_exit_pwrite64")
int tap_exit_pwrite64(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx, ctx->ret);
}

SEC("tp/syscalls/sys_exit_writev")
int tap_exit_writev(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx, ctx->ret);
}

SEC("tp/syscalls/sys_exit_pwritev")
int tap_exit_pwritev(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx, ctx->ret);
}

/*
 * The uprobe path. Go's register ABI (ABIInternal) passes syscall.write(fd int, p []byte) as
 * fd, p.ptr, p.len, p.cap in the first integer registers, and keeps the goroutine (g) in a
 * fixed register:
 *   amd64 (Go 1.17+): AX = fd, BX = p.ptr, CX = p.len; g in R14
 *   arm64 (Go 1.18+): R0 = fd, R1 = p.ptr, R2 = p.len; g in R28
 * (not the C calling convention, so not PT_REGS_PARMn on amd64). The agent checked the binary's
 * ABI and that the function opens with the small-frame stack check (gosym.c). Where the probe
 * sits: amd64, on the check's JBE (entry + 4; the CMP before it changes no register), a branch
 * the kernel emulates rather than single-steps; arm64, at the entry.
 */
#if defined(__TARGET_ARCH_x86)
#define GO_FD(r) ((r)->ax)
#define GO_BUF(r) ((r)->bx)
#define GO_LEN(r) ((r)->cx)
#define GO_G(r) ((r)->r14)
#define GO_SP(r) ((r)->sp)
#elif defined(__TARGET_ARCH_arm64)
#define GO_FD(r) (((const struct user_pt_regs *)(r))->regs[0])
#define GO_BUF(r) (((const struct user_pt_regs *)(r))->regs[1])
#define GO_LEN(r) (((const struct user_pt_regs *)(r))->regs[2])
#define GO_G(r) (((const struct user_pt_regs *)(r))->regs[28])
#define GO_SP(r) (((const struct user_pt_regs *)(r))->sp)
#else
#error "the uprobe path knows Go's register ABI on x86 (amd64) and arm64 only"
#endif
/* g.stackguard0: after g.stack (lo, hi), the same on every 64-bit Go since 1.0 */
#define GO_G_STACKGUARD0 16

/*
 * Will the function call morestack first? Its prologue compares SP with g.stackguard0
 * (unsigned, SP <= guard: grow the stack, or yield to a preemption request, which sets the
 * guard to a huge value) and then restarts from its first instruction, which fires this probe a
 * second time for the same write. Copying only the run that goes on keeps one record set per
 * write. On amd64 the probe is on the JBE itself: the CMP's flags decide (CF or ZF: taken).
 */
static __always_inline bool go_will_restart(struct pt_regs *ctx)
{
#if defined(__TARGET_ARCH_x86)
	return ctx->flags & (0x1 /* CF */ | 0x40 /* ZF */);
#else
	__u64 guard;

	if (bpf_probe_read_user(&guard, sizeof(guard), (void *)(GO_G(ctx) + GO_G_STACKGUARD0)))
		return false; /* unreadable: copy (a duplicate is visible, a loss is not) */
	return GO_SP(ctx) <= guard;
#endif
}

/* the last write call each goroutine made to a watched file, to recognise the same call again */
struct go_call {
	__u64 dev, ino;
	__u64 isize; /* the file's size at the call */
	__u64 len;
	__u64 fd;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64); /* the goroutine: its g pointer */
	__type(value, struct go_call);
} go_calls SEC(".maps");

/*
 * The kernel can run a uprobe's program twice for one call: when a signal arrives while the
 * probed instruction is being stepped, it aborts the step and the breakpoint is hit again (Go
 * signals its threads often: preemption, the GC). A goroutine calling again with the same
 * length, fd and file while the file's size has not moved is that repeat: a real second call
 * follows a write that grew the file (an audit log only grows; a failed write grew nothing, and
 * then the first copy already stands for it). Keyed by g, not by thread: a goroutine preempted
 * at the breakpoint may resume on another thread.
 */
static __always_inline bool go_repeat(__u64 g, struct inflight *st, __u64 fd, __u64 len)
{
	struct go_call *last = bpf_map_lookup_elem(&go_calls, &g);
	struct go_call now = {
	    .dev = st->dev, .ino = st->ino, .isize = st->isize, .len = len, .fd = fd};

	if (last && last->dev == now.dev && last->ino == now.ino && last->isize == now.isize &&
	    last->len == now.len && last->fd == now.fd)
		return true;
	bpf_map_update_elem(&go_calls, &g, &now, BPF_ANY);
	return false;
}

SEC("uprobe")
int tap_go_write(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 len = GO_LEN(ctx);
	struct inflight *st;

	/* the pid filter of the attachment already chose the process: the lookup confirms it */
	if (!len)
		return 0;
	count(KH_TAP_UPROBE_HITS);
	if (go_will_restart(ctx)) {
		count(KH_TAP_UPROBE_REENTRY);
		return 0;
	}
	st = track(GO_FD(ctx), GO_BUF(ctx), 0, KH_CHUNK_UPROBE, KH_TAP_VIA_UPROBE);
	if (!st)
		return 0;
	if (go_repeat(GO_G(ctx), st, GO_FD(ctx), len)) {
		count(KH_TAP_UPROBE_REENTRY);
		st->active = 0;
		return 0;
	}
	begin_copy(st, len);
	return copy_run(ctx, st, tid, &uprogs);
}

SEC("uprobe")
int tap_go_continue(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct inflight *st = bpf_map_lookup_elem(&inflight, &tid);

	if (!st || !st->active)
		return 0;
	return copy_run(ctx, st, tid, &uprogs);
}

/* a process execs: with the target comm it becomes a target (an apiserver (re)start) */
SEC("tp/sched/sched_process_exec")
int tap_exec(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	char comm[KH_COMM_LEN] = {};
	__u32 one = KH_TAP_VIA_TRACEPOINT; /* the agent moves it to the uprobe path */

	bpf_get_current_comm(comm, sizeof(comm));
	if (!comm_is_target(comm)) {
		/* a target that exec'ed something else is no longer one */
		if (!bpf_map_delete_elem(&targets, &tgid))
			emit_proc(tgid, KH_PROC_EXIT);
		return 0;
	}
	/*
	 * A process on the uprobe path stays there: an image of the same binary is probed already
	 * (the uprobe is on the file), and the agent re-resolves a new binary at this exec record.
	 */
	bpf_map_update_elem(&targets, &tgid, &one, BPF_NOEXIST);
	count(KH_TAP_TARGET_EXECS);
	emit_proc(tgid, KH_PROC_EXEC);
	return 0;
}

/*
 * A thread exits: a target's thread frees its in-flight slot. When it is the group leader, the
 * process is gone (other threads' exits are not the process's).
 */
SEC("tp/sched/sched_process_exit")
int tap_proc_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;

	if (!bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	bpf_map_delete_elem(&inflight, &tid);
	if (tid == tgid && !bpf_map_delete_elem(&targets, &tgid))
		emit_proc(tgid, KH_PROC_EXIT);
	return 0;
}
