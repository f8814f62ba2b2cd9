/* SPDX-License-Identifier: Apache-2.0 */
/*
 * checkpoint: how far keyhole has processed each audit log, saved with the rules' history in the
 * state file (one save, one rename: the history and the position never disagree), so a restart
 * resumes where the last run stopped instead of leaving a blind window (issue 19).
 *
 * A position names the file by identity, not by name, because rotation renames it: device,
 * inode, and a hash of its first head_len bytes (the inode alone could be reused by a new file
 * once the old one is deleted). It holds the byte offset after the last complete line processed,
 * and that line's auditID, stage and event time, which confirm the offset at resume (and find
 * the line again when the offset was only an estimate).
 */
#ifndef KEYHOLE_CHECKPOINT_H
#define KEYHOLE_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyhole/kstr.h"

#define KH_CKPT_MAX_LOGS 32	/* audit logs tracked (capture follows at most 32) */
#define KH_CKPT_LOG_MAX 1024	/* longest log name kept */
#define KH_CKPT_HEAD_BYTES 4096 /* head hashed to recognise a file after a rename */
#define KH_CKPT_ID_MAX 64	/* auditIDs are UUIDs (36); room for other clients' ids */
#define KH_CKPT_STAGE_MAX 24
#define KH_CKPT_SECTION "keyhole.checkpoint" /* the state file's section name */

/* a file as resume recognises it */
struct kh_file_id {
	uint64_t dev, ino;
	uint64_t head_hash; /* of the first head_len bytes */
	uint32_t head_len;  /* 0: the file was empty or unreadable when first seen */
};

/* one audit log's position */
struct kh_ckpt_entry {
	char log[KH_CKPT_LOG_MAX]; /* the log's name as the apiserver knows it ("replay") */
	struct kh_file_id file;
	uint64_t offset;   /* after the last complete line processed */
	bool offset_known; /* false: offset is an estimate, the auditID decides */
	int64_t time_ns;   /* that line's event time (ns since the epoch) */
	char audit_id[KH_CKPT_ID_MAX + 1];
	char stage[KH_CKPT_STAGE_MAX + 1];
};

/* where a line came from, for pipeline__feed_line (kh_origin.pos) */
struct kh_file_pos {
	const char *log;       /* the log's name (the checkpoint entry's key) */
	const char *host_path; /* where this agent reads it now (to hash a new file's head) */
	uint64_t dev, ino;     /* st_dev / st_ino encoding */
	uint64_t end;	       /* offset just after the line's newline */
	bool end_known;
};

struct kh_checkpoint;

/* Returns NULL with errno set. */
struct kh_checkpoint *checkpoint__new(void);
void checkpoint__free(struct kh_checkpoint *cp);

/*
 * The line at @pos was processed: it becomes the position of @pos->log. A file not seen before
 * under that log has its head hashed now (through host_path, when it still names that inode).
 */
void checkpoint__advance(struct kh_checkpoint *cp, const struct kh_file_pos *pos,
			 struct kstr audit_id, struct kstr stage, int64_t time_ns);

/* the position of @log, or NULL */
const struct kh_ckpt_entry *checkpoint__find(const struct kh_checkpoint *cp, const char *log);
size_t checkpoint__count(const struct kh_checkpoint *cp);
const struct kh_ckpt_entry *checkpoint__entry(const struct kh_checkpoint *cp, size_t i);

/* changes with every advance and restore: the state file saves when it moved */
uint64_t checkpoint__generation(const struct kh_checkpoint *cp);

/* state file section: one entry per log, encoded into @buf (0 when it does not fit) */
size_t checkpoint__encode(const struct kh_ckpt_entry *e, uint8_t *buf, size_t cap);
/* 0, or -EINVAL for an entry that does not decode (the file's checksum passed: a bug) */
int checkpoint__restore(struct kh_checkpoint *cp, const uint8_t *buf, size_t len);
#define KH_CKPT_ENCODED_MAX (49 + KH_CKPT_ID_MAX + KH_CKPT_STAGE_MAX + KH_CKPT_LOG_MAX)

/*
 * Identity of the open file @fd: dev, inode and the hash of its first @head_len bytes (0: as
 * many as it holds, up to KH_CKPT_HEAD_BYTES; fewer when it is shorter than @head_len, which then
 * cannot match). Returns 0 or a negative errno.
 */
int file_id__of_fd(int fd, uint32_t head_len, struct kh_file_id *out);
int file_id__of_path(const char *path, uint32_t head_len, struct kh_file_id *out);

#endif /* KEYHOLE_CHECKPOINT_H */
