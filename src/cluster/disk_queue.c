// SPDX-License-Identifier: Apache-2.0
/*
 * disk_queue: cluster mode's facts on disk until Redis acknowledges them (format and contract in
 * disk_queue.h).
 *
 * Two threads: the capturing one appends (one writev per fact, under the lock, so the publisher
 * sees whole records only), the publisher reads back, acknowledges and syncs. Reads happen
 * outside the lock on the publisher's own descriptor; the lock guards the segment list and the
 * counters. fdatasync runs on the publisher's side only (dq__sync), never in the capturing thread.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "cluster/disk_queue.h"
#include "keyhole/log.h"

#define SEG_HEAD 8
#define CURSOR_LEN 28
#define TO_SYNC_MAX 8
#define PEEK_MAX 4096

struct seg {
	uint64_t id;
	uint64_t size; /* bytes of whole, checked records (and the header) */
};

struct peeked {
	size_t si;    /* segment index at peek time */
	uint64_t end; /* offset after the record */
	uint64_t bytes;
};

struct disk_queue {
	char dir[4096];
	int dir_fd, lock_fd, cur_fd;
	pthread_mutex_t mu;
	uint64_t max_bytes, seg_max;
	struct seg *segs; /* oldest (the cursor's) first, the write segment last */
	size_t nseg, segcap;
	int wfd;
	int to_sync[TO_SYNC_MAX]; /* rotated write segments not synced yet */
	size_t nsync;
	bool dir_dirty; /* a segment was created or deleted since the last sync */
	uint64_t roff;	/* the cursor: offset in segs[0] */
	/* the publisher's side */
	int rfd;
	uint64_t rfd_id;
	struct peeked peek[PEEK_MAX];
	size_t npeek;
	uint64_t appended, synced;
	struct dq_stats st;
};

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint32_t rec_crc(const uint8_t *head, const void *line, uint32_t len)
{
	uLong c = crc32(0L, head, 8);

	return (uint32_t)crc32(c, line, len);
}

void dq__rec_head(uint8_t *head, const char *line, uint32_t len, int32_t partition)
{
	put32(head, len);
	put32(head + 4, (uint32_t)partition);
	put32(head + 8, rec_crc(head, line, len));
}

static void seg_name(char *buf, size_t cap, uint64_t id)
{
	snprintf(buf, cap, "%016" PRIx64 ".kq", id);
}

static bool is_seg_name(const char *n, uint64_t *id)
{
	char *end;

	if (strlen(n) != 19 || strcmp(n + 16, ".kq") || strspn(n, "0123456789abcdef") != 16)
		return false;
	*id = strtoull(n, &end, 16);
	return end == n + 16;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int segs_push(struct disk_queue *q, uint64_t id, uint64_t size)
{
	if (q->nseg == q->segcap) {
		size_t nc = q->segcap ? q->segcap * 2 : 16;
		struct seg *ns = realloc(q->segs, nc * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		q->segs = ns;
		q->segcap = nc;
	}
	q->segs[q->nseg++] = (struct seg){id, size};
	return 0;
}

static int list_segs(struct disk_queue *q)
{
	int fd = openat(q->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	int err = 0;

	if (!d) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	while (!err && (e = readdir(d))) {
		uint64_t id;

		if (is_seg_name(e->d_name, &id))
			err = segs_push(q, id, 0);
	}
	closedir(d);
	if (q->nseg)
		qsort(q->segs, q->nseg, sizeof(*q->segs), cmp_seg);
	return err;
}

/* ---- the cursor ------------------------------------------------------------------------------ */

static void cursor_write(struct disk_queue *q, uint64_t id, uint64_t off)
{
	uint8_t b[CURSOR_LEN];

	memcpy(b, "KHQC", 4);
	put32(b + 4, DQ_VERSION);
	put64(b + 8, id);
	put64(b + 16, off);
	put32(b + 24, (uint32_t)crc32(0L, b, 24));
	/* one small write in place: a process crash leaves the old or the new one, and a torn one
	 * (power loss) fails its checksum, which rereads from the oldest segment */
	if (pwrite(q->cur_fd, b, sizeof(b), 0) != (ssize_t)sizeof(b))
		q->st.write_errors++;
}

/* true when the cursor file holds a valid cursor; false and counted when it is damaged */
static bool cursor_read(struct disk_queue *q, uint64_t *id, uint64_t *off)
{
	uint8_t b[CURSOR_LEN];
	ssize_t n = pread(q->cur_fd, b, sizeof(b), 0);

	if (n == 0)
		return false; /* a new queue */
	if (n != (ssize_t)sizeof(b) || memcmp(b, "KHQC", 4) || get32(b + 4) != DQ_VERSION ||
	    get32(b + 24) != (uint32_t)crc32(0L, b, 24)) {
		kh_log(KH_LOG_WARN,
		       "cluster disk queue %s: the cursor is damaged; publishing from the oldest "
		       "segment (facts may be sent twice)",
		       q->dir);
		q->st.corrupt++;
		return false;
	}
	*id = get64(b + 8);
	*off = get64(b + 16);
	return true;
}

/* ---- open: recover what a previous run left ---------------------------------------------------
 */

static void set_aside(struct disk_queue *q, uint64_t id, uint64_t size, const char *why)
{
	char name[32], to[48];

	seg_name(name, sizeof(name), id);
	snprintf(to, sizeof(to), "%s.corrupt", name);
	kh_log(KH_LOG_WARN, "cluster disk queue %s/%s: %s; set aside as %s", q->dir, name, why, to);
	renameat(q->dir_fd, name, q->dir_fd, to);
	q->st.corrupt++;
	q->st.cut_bytes += size;
}

/*
 * Walk segment @s from @off: count its good records into the stats, cut it after the last good
 * one. Returns 0, or -1 when the segment is not ours (set aside by the caller).
 */
static int scan_seg(struct disk_queue *q, struct seg *s, uint64_t off)
{
	char name[32];
	uint8_t head[DQ_REC_HEAD];
	char *buf = NULL;
	struct stat stt;
	int fd, ret = 0;

	seg_name(name, sizeof(name), s->id);
	fd = openat(q->dir_fd, name, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &stt) || pread(fd, head, SEG_HEAD, 0) != SEG_HEAD ||
	    memcmp(head, "KHFQ", 4) || get32(head + 4) != DQ_VERSION) {
		s->size = fd >= 0 && !fstat(fd, &stt) ? (uint64_t)stt.st_size : 0;
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (off < SEG_HEAD || off > (uint64_t)stt.st_size)
		off = SEG_HEAD;
	for (;;) {
		uint32_t len;
		char *nb;

		if (pread(fd, head, DQ_REC_HEAD, (off_t)off) != DQ_REC_HEAD)
			break;
		len = get32(head);
		if (len > DQ_REC_MAX || off + DQ_REC_HEAD + len > (uint64_t)stt.st_size)
			break;
		nb = realloc(buf, len ? len : 1);
		if (!nb) {
			ret = -ENOMEM;
			break;
		}
		buf = nb;
		if (pread(fd, buf, len, (off_t)(off + DQ_REC_HEAD)) != (ssize_t)len ||
		    rec_crc(head, buf, len) != get32(head + 8))
			break;
		off += DQ_REC_HEAD + len;
		q->st.pending++;
		q->st.bytes += DQ_REC_HEAD + len;
	}
	free(buf);
	if (!ret && off < (uint64_t)stt.st_size) {
		kh_log(KH_LOG_WARN,
		       "cluster disk queue %s/%s: a damaged record at byte %" PRIu64
		       " (a write cut by a crash?); %" PRIu64 " bytes from there dropped",
		       q->dir, name, off, (uint64_t)stt.st_size - off);
		q->st.corrupt++;
		q->st.cut_bytes += (uint64_t)stt.st_size - off;
		if (ftruncate(fd, (off_t)off))
			q->st.write_errors++;
	}
	s->size = off;
	close(fd);
	return ret;
}

/* drop the segments before the cursor, scan the rest; the cursor lands on a record boundary */
static int recover(struct disk_queue *q)
{
	uint64_t cid = 0, coff = SEG_HEAD;
	bool have = cursor_read(q, &cid, &coff);
	size_t i, k = 0;
	char name[32];

	for (i = 0; i < q->nseg; i++) {
		struct seg s = q->segs[i];
		int r;

		if (have && s.id < cid) { /* wholly acknowledged by the last run */
			seg_name(name, sizeof(name), s.id);
			unlinkat(q->dir_fd, name, 0);
			continue;
		}
		r = scan_seg(q, &s, have && s.id == cid ? coff : SEG_HEAD);
		if (r == -ENOMEM)
			return r;
		if (r) {
			set_aside(q, s.id, s.size, "not a keyhole fact segment of this version");
			continue;
		}
		if (k == 0)
			q->roff = have && s.id == cid && coff >= SEG_HEAD && coff <= s.size
				      ? coff
				      : SEG_HEAD;
		q->segs[k++] = s;
	}
	q->nseg = k;
	q->st.recovered = q->st.pending;
	return 0;
}

static int new_write_seg(struct disk_queue *q)
{
	uint64_t id = q->nseg ? q->segs[q->nseg - 1].id + 1 : 1;
	uint8_t head[SEG_HEAD];
	char name[32];
	int fd, err;

	seg_name(name, sizeof(name), id);
	fd = openat(q->dir_fd, name, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	memcpy(head, "KHFQ", 4);
	put32(head + 4, DQ_VERSION);
	err = write(fd, head, SEG_HEAD) == SEG_HEAD ? segs_push(q, id, SEG_HEAD) : -EIO;
	if (err) {
		close(fd);
		unlinkat(q->dir_fd, name, 0);
		return err;
	}
	q->wfd = fd;
	q->dir_dirty = true;
	if (q->nseg == 1)
		q->roff = SEG_HEAD;
	return 0;
}

static int open_files(struct disk_queue *q, const char *dir)
{
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	q->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (q->dir_fd < 0)
		return -errno;
	q->lock_fd = openat(q->dir_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (q->lock_fd < 0)
		return -errno;
	if (flock(q->lock_fd, LOCK_EX | LOCK_NB))
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	q->cur_fd = openat(q->dir_fd, "cursor", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	return q->cur_fd < 0 ? -errno : 0;
}

int dq__open(const char *dir, uint64_t max_bytes, struct disk_queue **out)
{
	struct disk_queue *q = calloc(1, sizeof(*q));
	int err;

	if (!q)
		return -ENOMEM;
	q->dir_fd = q->lock_fd = q->cur_fd = q->wfd = q->rfd = -1;
	pthread_mutex_init(&q->mu, NULL);
	snprintf(q->dir, sizeof(q->dir), "%s", dir);
	q->max_bytes = max_bytes;
	q->seg_max = max_bytes / 4;
	q->seg_max = q->seg_max < DQ_SEG_MIN   ? DQ_SEG_MIN
		     : q->seg_max > DQ_SEG_MAX ? DQ_SEG_MAX
					       : q->seg_max;
	err = open_files(q, dir);
	if (!err)
		err = list_segs(q);
	if (!err)
		err = recover(q);
	if (!err)
		err = new_write_seg(q);
	if (err) {
		kh_log(KH_LOG_ERROR, "cluster disk queue %s: %s", dir,
		       err == -EBUSY ? "another keyhole holds it (one directory per instance)"
				     : strerror(-err));
		dq__close(q);
		return err;
	}
	cursor_write(q, q->segs[0].id, q->roff);
	if (q->st.recovered)
		kh_log(KH_LOG_INFO,
		       "cluster disk queue %s: %" PRIu64 " facts of an earlier run to publish", dir,
		       q->st.recovered);
	*out = q;
	return 0;
}

void dq__close(struct disk_queue *q)
{
	if (!q)
		return;
	int fds[] = {q->wfd, q->rfd, q->cur_fd, q->lock_fd, q->dir_fd};

	if (q->cur_fd >= 0)
		dq__sync(q);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(q->segs);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

/* ---- the capturing thread ---------------------------------------------------------------------
 */

/* the write segment is full: start the next one; the old one is synced by dq__sync */
static int rotate(struct disk_queue *q)
{
	int old = q->wfd, err;

	if (old < 0) {
		/* an earlier rotation failed: try again */
	} else if (q->nsync == TO_SYNC_MAX) { /* the publisher is not syncing: do it here, rarely */
		fdatasync(old);
		close(old);
	} else {
		q->to_sync[q->nsync++] = old;
	}
	q->wfd = -1;
	err = new_write_seg(q);
	return err;
}

int dq__append(struct disk_queue *q, const char *line, uint32_t len, int32_t partition)
{
	uint8_t head[DQ_REC_HEAD];
	struct iovec iov[2] = {{head, DQ_REC_HEAD}, {(void *)line, len}};
	uint64_t rec = DQ_REC_HEAD + (uint64_t)len;
	struct seg *w;
	ssize_t n;
	int err = 0;

	if (len > DQ_REC_MAX)
		return -E2BIG;
	dq__rec_head(head, line, len, partition);
	pthread_mutex_lock(&q->mu);
	if (q->st.bytes + rec > q->max_bytes) {
		q->st.full++;
		pthread_mutex_unlock(&q->mu);
		return -ENOSPC;
	}
	w = &q->segs[q->nseg - 1];
	if (q->wfd < 0 || (w->size > SEG_HEAD && w->size + rec > q->seg_max)) {
		err = rotate(q);
		w = &q->segs[q->nseg - 1];
	}
	if (!err) {
		n = writev(q->wfd, iov, 2);
		if (n != (ssize_t)rec) {
			err = n < 0 ? -errno : -ENOSPC;
			if (n > 0 && ftruncate(q->wfd, (off_t)w->size)) /* no half record left */
				err = -EIO;
		}
	}
	if (err) {
		q->st.write_errors++;
	} else {
		w->size += rec;
		q->st.pending++;
		q->st.bytes += rec;
		q->appended++;
	}
	pthread_mutex_unlock(&q->mu);
	return err;
}

/* ---- the publisher's thread -------------------------------------------------------------------
 */

static int read_fd(struct disk_queue *q, uint64_t id)
{
	char name[32];

	if (q->rfd >= 0 && q->rfd_id == id)
		return q->rfd;
	if (q->rfd >= 0)
		close(q->rfd);
	seg_name(name, sizeof(name), id);
	q->rfd = openat(q->dir_fd, name, O_RDONLY | O_CLOEXEC);
	q->rfd_id = id;
	return q->rfd;
}

/* one record at @off of segment @id (@size: its checked end); 1 read, 0 end, -1 damaged */
static int read_rec(struct disk_queue *q, uint64_t id, uint64_t off, uint64_t size,
		    struct dq_rec *r)
{
	uint8_t head[DQ_REC_HEAD];
	int fd = read_fd(q, id);
	uint32_t len;

	if (off >= size)
		return 0;
	if (fd < 0 || pread(fd, head, DQ_REC_HEAD, (off_t)off) != DQ_REC_HEAD)
		return -1;
	len = get32(head);
	if (len > DQ_REC_MAX || off + DQ_REC_HEAD + len > size || !(r->line = malloc(len + 1)))
		return -1;
	if (pread(fd, r->line, len, (off_t)(off + DQ_REC_HEAD)) != (ssize_t)len ||
	    rec_crc(head, r->line, len) != get32(head + 8)) {
		free(r->line);
		r->line = NULL;
		return -1;
	}
	r->line[len] = 0;
	r->len = len;
	r->partition = (int32_t)get32(head + 4);
	return 1;
}

/* a record that went bad after the open (the disk): skip the rest of its segment, counted */
static void skip_damaged(struct disk_queue *q, size_t si, uint64_t off)
{
	uint64_t cut, id, end;
	char name[32];

	pthread_mutex_lock(&q->mu);
	kh_log(KH_LOG_WARN,
	       "cluster disk queue %s: a damaged record at byte %" PRIu64 "; the rest of its "
	       "segment is skipped",
	       q->dir, off);
	cut = q->segs[si].size - off;
	q->st.corrupt++;
	q->st.cut_bytes += cut;
	q->st.bytes -= cut < q->st.bytes ? cut : q->st.bytes;
	for (size_t i = 0; i < si; i++) { /* the segments read to their end before it */
		seg_name(name, sizeof(name), q->segs[i].id);
		unlinkat(q->dir_fd, name, 0);
	}
	memmove(q->segs, q->segs + si, (q->nseg - si) * sizeof(*q->segs));
	q->nseg -= si;
	q->roff = q->segs[0].size;
	id = q->segs[0].id;
	end = q->roff;
	pthread_mutex_unlock(&q->mu);
	cursor_write(q, id, end);
}

size_t dq__peek(struct disk_queue *q, struct dq_rec *recs, size_t max)
{
	size_t n = 0, si = 0;
	uint64_t off;

	if (max > PEEK_MAX)
		max = PEEK_MAX;
	pthread_mutex_lock(&q->mu);
	off = q->roff;
	pthread_mutex_unlock(&q->mu);
	while (n < max) {
		uint64_t id, size;
		bool last;
		int r;

		pthread_mutex_lock(&q->mu);
		id = q->segs[si].id;
		size = q->segs[si].size;
		last = si + 1 == q->nseg;
		pthread_mutex_unlock(&q->mu);
		r = read_rec(q, id, off, size, &recs[n]);
		if (r == 0 && last)
			break;
		if (r == 0) {
			si++;
			off = SEG_HEAD;
			continue;
		}
		if (r < 0) {
			if (!n)
				skip_damaged(q, si, off);
			break;
		}
		off += DQ_REC_HEAD + recs[n].len;
		q->peek[n] = (struct peeked){si, off, DQ_REC_HEAD + (uint64_t)recs[n].len};
		n++;
	}
	q->npeek = n;
	return n;
}

int dq__ack(struct disk_queue *q, size_t n)
{
	uint64_t bytes = 0, id, off;
	size_t si;
	char name[32];

	if (!n || n > q->npeek)
		return n ? -EINVAL : 0;
	for (size_t i = 0; i < n; i++)
		bytes += q->peek[i].bytes;
	si = q->peek[n - 1].si;
	off = q->peek[n - 1].end;
	pthread_mutex_lock(&q->mu);
	if (off >= q->segs[si].size && si + 1 < q->nseg) { /* that segment is done */
		si++;
		off = SEG_HEAD;
	}
	for (size_t i = 0; i < si; i++) {
		seg_name(name, sizeof(name), q->segs[i].id);
		unlinkat(q->dir_fd, name, 0);
	}
	if (si) {
		memmove(q->segs, q->segs + si, (q->nseg - si) * sizeof(*q->segs));
		q->nseg -= si;
		q->dir_dirty = true;
	}
	q->roff = off;
	q->st.pending -= n < q->st.pending ? n : q->st.pending;
	q->st.bytes -= bytes < q->st.bytes ? bytes : q->st.bytes;
	id = q->segs[0].id;
	pthread_mutex_unlock(&q->mu);
	q->npeek = 0;
	cursor_write(q, id, off);
	return 0;
}

uint64_t dq__sync(struct disk_queue *q)
{
	int fds[TO_SYNC_MAX], wfd;
	size_t nfds;
	uint64_t a;
	bool dir;

	pthread_mutex_lock(&q->mu);
	a = q->appended;
	if (a == q->synced && !q->nsync) {
		pthread_mutex_unlock(&q->mu);
		return a;
	}
	nfds = q->nsync;
	memcpy(fds, q->to_sync, nfds * sizeof(int));
	q->nsync = 0;
	wfd = q->wfd >= 0 ? dup(q->wfd) : -1; /* a rotation may close it meanwhile */
	dir = q->dir_dirty;
	q->dir_dirty = false;
	pthread_mutex_unlock(&q->mu);
	for (size_t i = 0; i < nfds; i++) {
		fdatasync(fds[i]);
		close(fds[i]);
	}
	if (wfd >= 0) {
		fdatasync(wfd);
		close(wfd);
	}
	if (dir)
		fsync(q->dir_fd);
	fdatasync(q->cur_fd);
	pthread_mutex_lock(&q->mu);
	q->synced = a;
	pthread_mutex_unlock(&q->mu);
	return a;
}

uint64_t dq__appended(struct disk_queue *q)
{
	uint64_t a;

	pthread_mutex_lock(&q->mu);
	a = q->appended;
	pthread_mutex_unlock(&q->mu);
	return a;
}

void dq__stats(struct disk_queue *q, struct dq_stats *s)
{
	pthread_mutex_lock(&q->mu);
	*s = q->st;
	pthread_mutex_unlock(&q->mu);
}
