// SPDX-License-Identifier: Apache-2.0
/*
 * seam: where the catch-up hands over to the live tap (see keyhole/resume.h), and the live
 * lines' file offsets.
 *
 * Live lines carry their file (dev, inode) but not their offset: the tap sees writes, not
 * positions. A file first seen after a rotation starts at 0 and grows by each line; the file
 * that was live at start continues from where the catch-up stopped (or from a line the seam
 * matched). A line the tap cut (head and tail) is shorter than on disk, and a file whose start
 * nobody read has an unknown base: from there the offset is an estimate, flagged as one, and
 * resume finds the position by auditID instead.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyhole/audit_parse.h"
#include "keyhole/json_in.h"
#include "resume/resume_impl.h"
#include "keyhole/keytab.h"

static const uint8_t key_key[16] = "keyhole-seam-v1";

/*
 * the top-level member @name of the audit line, read with the JSON reader: a key of the same
 * name nested in requestObject, or inside a string, is not the line's own. The first such
 * member: the fields read here are near the head, which a cut line keeps.
 */
bool line_field(const char *line, size_t len, const char *name, const char **v, size_t *vlen)
{
	struct json_in top = json_in__span(line, len), val;
	struct kstr s;

	if (!json_in__member_first(&top, name, &val) || !json_in__str(&val, &s))
		return false;
	*v = s.p;
	*vlen = s.len;
	return true;
}

uint64_t line_key(const char *line, size_t len)
{
	const char *id, *stage;
	size_t il, sl;
	char buf[KH_CKPT_ID_MAX + KH_CKPT_STAGE_MAX + 2];

	if (!line_field(line, len, "auditID", &id, &il) || il > KH_CKPT_ID_MAX ||
	    !line_field(line, len, "stage", &stage, &sl) || sl > KH_CKPT_STAGE_MAX)
		return siphash__24(key_key, line, len);
	memcpy(buf, id, il);
	buf[il] = '/';
	memcpy(buf + il + 1, stage, sl);
	return siphash__24(key_key, buf, il + 1 + sl);
}

int64_t line_time_ns(const char *line, size_t len)
{
	const char *v;
	size_t vl;
	long long t;

	if (line_field(line, len, "stageTimestamp", &v, &vl) &&
	    (t = audit_parse__rfc3339_ns(v, vl)) > 0)
		return t;
	if (line_field(line, len, "requestReceivedTimestamp", &v, &vl) &&
	    (t = audit_parse__rfc3339_ns(v, vl)) > 0)
		return t;
	return 0;
}

struct live_log *live_log_get(struct kh_resume *r, const char *log)
{
	for (size_t i = 0; i < r->nlv; i++)
		if (!strcmp(r->lv[i].log, log))
			return &r->lv[i];
	if (r->nlv == KH_CKPT_MAX_LOGS || strlen(log) >= KH_CKPT_LOG_MAX)
		return NULL;
	memset(&r->lv[r->nlv], 0, sizeof(r->lv[0]));
	strcpy(r->lv[r->nlv].log, log);
	return &r->lv[r->nlv++];
}

void seam_note(struct live_log *lv, uint64_t key, uint64_t dev, uint64_t ino, uint64_t end)
{
	if (!lv->ring) {
		lv->ring = calloc(KH_RESUME_SEAM, sizeof(*lv->ring));
		if (!lv->ring)
			return; /* no seam: a few lines may be alerted twice, never missed */
		lv->seam = SEAM_WAIT;
	}
	lv->ring[lv->head] = (struct seam_line){key, dev, ino, end};
	lv->head = (lv->head + 1) % KH_RESUME_SEAM;
	if (lv->n < KH_RESUME_SEAM)
		lv->n++;
}

/* ring index of the i-th oldest line held */
static size_t nth(const struct live_log *lv, size_t i)
{
	return (lv->head + KH_RESUME_SEAM - lv->n + i) % KH_RESUME_SEAM;
}

static void seam_end(struct live_log *lv)
{
	lv->seam = SEAM_DONE;
	free(lv->ring);
	lv->ring = NULL;
	lv->n = 0;
}

/* the seam's verdict on a live line: true when the catch-up already fed it */
static bool seam_match(struct live_log *lv, uint64_t key)
{
	const struct seam_line *sl;

	if (lv->seam == SEAM_WAIT) {
		lv->seam = SEAM_DONE;
		for (size_t i = 0; i < lv->n; i++)
			if (lv->ring[nth(lv, i)].key == key) {
				lv->seam = SEAM_MATCHING;
				lv->cursor = i;
				break;
			}
		if (lv->seam == SEAM_DONE) {
			seam_end(lv);
			return false;
		}
	}
	if (lv->seam != SEAM_MATCHING)
		return false;
	sl = &lv->ring[nth(lv, lv->cursor)];
	if (sl->key != key) {
		seam_end(lv);
		return false;
	}
	lv->dev = sl->dev;
	lv->ino = sl->ino;
	lv->off = sl->end;
	lv->known = lv->have_file = true;
	if (++lv->cursor == lv->n)
		seam_end(lv);
	return true;
}

/* the line is the first of the file @host: then the tap saw the file begin (offset 0) */
static bool first_in_file(const struct kh_live_line *l)
{
	char buf[512];
	size_t n = l->len < sizeof(buf) ? l->len : sizeof(buf);
	int fd = l->host ? open(l->host, O_RDONLY | O_CLOEXEC) : -1;
	struct stat st;
	bool yes;

	if (fd < 0)
		return false;
	yes = !fstat(fd, &st) && st.st_ino == l->ino && pread(fd, buf, n, 0) == (ssize_t)n &&
	      !memcmp(buf, l->data, n);
	close(fd);
	return yes;
}

bool resume__live_line(struct kh_resume *r, const struct kh_live_line *l, struct kh_file_pos *pos)
{
	struct live_log *lv = l->log ? live_log_get(r, l->log) : NULL;

	if (!lv)
		return false;
	if (resume_pending(r, l->log)) {
		/* its catch-up has not run yet (the apiserver was found after the start): judged
		 * live now, and skipped by the catch-up */
		if (!lv->early)
			lv->early = calloc(RESUME_EARLY_MAX, sizeof(*lv->early));
		if (lv->early && lv->nearly < RESUME_EARLY_MAX)
			lv->early[lv->nearly++] = line_key(l->data, l->len);
	}
	if (lv->seam == SEAM_WAIT || lv->seam == SEAM_MATCHING) {
		if (seam_match(lv, line_key(l->data, l->len))) {
			r->st.seam_doubles++;
			return true;
		}
	}
	if (!lv->have_file || lv->ino != l->ino) {
		/* a file the tap saw begin (a rotation) starts at 0; the one live at start, unread,
		 * has an unknown base */
		lv->known = lv->have_file || (!l->cut && first_in_file(l));
		lv->off = 0;
		lv->have_file = true;
		lv->dev = l->dev;
		lv->ino = l->ino;
	}
	if (l->cut)
		lv->known = false;
	lv->off += l->len + 1;
	*pos = (struct kh_file_pos){.log = l->log,
				    .host_path = l->host,
				    .dev = l->dev,
				    .ino = l->ino,
				    .end = lv->off,
				    .end_known = lv->known};
	return false;
}
