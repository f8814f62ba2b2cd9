// SPDX-License-Identifier: Apache-2.0
/*
 * checkpoint: the per-log positions saved with the history (see keyhole/checkpoint.h).
 *
 * An advance is a few stores; the file head is hashed only when a log moves to a file it was
 * not in before (a rotation, or the first line after start), so the live path pays one open and
 * one 4 KB read per rotated file. The hash key is fixed: the head hash is an identity, not a
 * secret, and must be the same in the next run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyhole/checkpoint.h"
#include "keyhole/keytab.h"

static const uint8_t head_key[16] = "keyhole-ckpt-v1";

struct kh_checkpoint {
	struct kh_ckpt_entry e[KH_CKPT_MAX_LOGS];
	size_t n;
	uint64_t generation;
};

struct kh_checkpoint *checkpoint__new(void)
{
	return calloc(1, sizeof(struct kh_checkpoint));
}

void checkpoint__free(struct kh_checkpoint *cp)
{
	free(cp);
}

int file_id__of_fd(int fd, uint32_t head_len, struct kh_file_id *out)
{
	uint8_t head[KH_CKPT_HEAD_BYTES];
	uint32_t want;
	struct stat st;
	ssize_t got = 0;

	if (fstat(fd, &st))
		return -errno;
	memset(out, 0, sizeof(*out));
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	want = head_len ? head_len : KH_CKPT_HEAD_BYTES;
	if (want > KH_CKPT_HEAD_BYTES)
		return -EINVAL;
	while ((uint32_t)got < want) {
		ssize_t r = pread(fd, head + got, want - (size_t)got, got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += r;
	}
	out->head_len = (uint32_t)got;
	out->head_hash = siphash__24(head_key, head, (size_t)got);
	return 0;
}

int file_id__of_path(const char *path, uint32_t head_len, struct kh_file_id *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = file_id__of_fd(fd, head_len, out);
	close(fd);
	return r;
}

static struct kh_ckpt_entry *slot(struct kh_checkpoint *cp, const char *log)
{
	for (size_t i = 0; i < cp->n; i++)
		if (!strcmp(cp->e[i].log, log))
			return &cp->e[i];
	if (cp->n == KH_CKPT_MAX_LOGS || strlen(log) >= KH_CKPT_LOG_MAX)
		return NULL;
	memset(&cp->e[cp->n], 0, sizeof(cp->e[0]));
	strcpy(cp->e[cp->n].log, log);
	return &cp->e[cp->n++];
}

/* the head of a file first seen now: through its path, if the path still names that inode */
static void learn_head(struct kh_ckpt_entry *e, const struct kh_file_pos *pos)
{
	struct kh_file_id id;

	e->file = (struct kh_file_id){.dev = pos->dev, .ino = pos->ino};
	if (!pos->host_path || file_id__of_path(pos->host_path, 0, &id) || id.ino != pos->ino)
		return; /* rotated again already: the inode alone identifies it */
	e->file.head_len = id.head_len;
	e->file.head_hash = id.head_hash;
}

static void copy_kstr(char *dst, size_t cap, struct kstr s)
{
	size_t n = s.p && s.len < cap ? s.len : 0;

	memcpy(dst, s.p ? s.p : "", n);
	dst[n] = '\0';
}

void checkpoint__advance(struct kh_checkpoint *cp, const struct kh_file_pos *pos,
			 struct kstr audit_id, struct kstr stage, int64_t time_ns)
{
	struct kh_ckpt_entry *e = slot(cp, pos->log);

	if (!e)
		return;
	if (e->file.ino != pos->ino || !e->file.ino) /* dev: stat and the kernel may differ (btrfs)
						      */
		learn_head(e, pos);
	e->offset = pos->end;
	e->offset_known = pos->end_known;
	e->time_ns = time_ns;
	copy_kstr(e->audit_id, sizeof(e->audit_id), audit_id);
	copy_kstr(e->stage, sizeof(e->stage), stage);
	cp->generation++;
}

const struct kh_ckpt_entry *checkpoint__find(const struct kh_checkpoint *cp, const char *log)
{
	for (size_t i = 0; cp && i < cp->n; i++)
		if (!strcmp(cp->e[i].log, log))
			return &cp->e[i];
	return NULL;
}

size_t checkpoint__count(const struct kh_checkpoint *cp)
{
	return cp ? cp->n : 0;
}

const struct kh_ckpt_entry *checkpoint__entry(const struct kh_checkpoint *cp, size_t i)
{
	return i < cp->n ? &cp->e[i] : NULL;
}

uint64_t checkpoint__generation(const struct kh_checkpoint *cp)
{
	return cp->generation;
}

/* ---- encoding: little-endian fixed fields, then the three strings ---- */

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		*p++ = (uint8_t)(v >> (8 * i));
	return p;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#define FIXED (8 * 5 + 4 + 1 + 1 + 1 + 2)

size_t checkpoint__encode(const struct kh_ckpt_entry *e, uint8_t *buf, size_t cap)
{
	size_t il = strlen(e->audit_id), sl = strlen(e->stage), ll = strlen(e->log);
	uint8_t *p = buf;

	if (FIXED + il + sl + ll > cap)
		return 0;
	p = put64(p, e->offset);
	p = put64(p, (uint64_t)e->time_ns);
	p = put64(p, e->file.dev);
	p = put64(p, e->file.ino);
	p = put64(p, e->file.head_hash);
	for (int i = 0; i < 4; i++)
		*p++ = (uint8_t)(e->file.head_len >> (8 * i));
	*p++ = e->offset_known;
	*p++ = (uint8_t)il;
	*p++ = (uint8_t)sl;
	*p++ = (uint8_t)ll;
	*p++ = (uint8_t)(ll >> 8);
	memcpy(p, e->audit_id, il);
	memcpy(p + il, e->stage, sl);
	memcpy(p + il + sl, e->log, ll);
	return FIXED + il + sl + ll;
}

int checkpoint__restore(struct kh_checkpoint *cp, const uint8_t *b, size_t len)
{
	struct kh_ckpt_entry e = {0}, *dst;
	size_t il, sl, ll;

	if (len < FIXED)
		return -EINVAL;
	il = b[45];
	sl = b[46];
	ll = b[47] | (size_t)b[48] << 8;
	if (len != FIXED + il + sl + ll || il > KH_CKPT_ID_MAX || sl > KH_CKPT_STAGE_MAX ||
	    ll == 0 || ll >= KH_CKPT_LOG_MAX)
		return -EINVAL;
	e.offset = get64(b);
	e.time_ns = (int64_t)get64(b + 8);
	e.file.dev = get64(b + 16);
	e.file.ino = get64(b + 24);
	e.file.head_hash = get64(b + 32);
	e.file.head_len =
	    b[40] | (uint32_t)b[41] << 8 | (uint32_t)b[42] << 16 | (uint32_t)b[43] << 24;
	e.offset_known = b[44] != 0;
	if (e.file.head_len > KH_CKPT_HEAD_BYTES)
		return -EINVAL;
	memcpy(e.audit_id, b + FIXED, il);
	memcpy(e.stage, b + FIXED + il, sl);
	memcpy(e.log, b + FIXED + il + sl, ll);
	if (memchr(e.log, '\0', ll))
		return -EINVAL;
	if (!(dst = slot(cp, e.log)))
		return -ENOSPC;
	*dst = e;
	cp->generation++;
	return 0;
}
