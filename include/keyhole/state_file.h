/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state_file: the histories of the rules on disk, so a restart does not forget ten days of
 * "seen before" and alert on everything again.
 *
 * Format (version 1, little-endian), written whole and replaced atomically (temporary file,
 * fsync, rename, fsync of the directory), so a crash leaves the old file or the new one:
 *
 *   "KHSTATE\x1a"  u32 version  u32 n_sections  i64 saved_at_ns (wall clock)
 *   n_sections x { u8 name_len, name (the rule id),  u64 n_entries,
 *                  n_entries x { i64 first_ns, i64 last_ns, u16 key_len, key } }
 *   u32 crc32 (zlib) of every byte before it
 *
 * A file that fails any check (magic, version, checksum, bounds) is never trusted, not even in
 * part: it is reported, renamed to <path>.corrupt-<unix seconds> and the agent starts with empty
 * history. A section whose rule is not running (disabled or unknown) is kept as it is and written
 * back, so disabling a rule for a day does not erase its memory.
 */
#ifndef KEYHOLE_STATE_FILE_H
#define KEYHOLE_STATE_FILE_H

#include <stdint.h>

struct kh_history;
struct kh_state;

#define KH_STATE_VERSION 1

struct kh_state_stats {
	uint64_t loaded_entries;  /* entries read back at start */
	uint64_t loaded_sections; /* sections that matched a running rule */
	uint64_t kept_sections;	  /* sections carried over for rules not running */
	uint64_t set_aside;	  /* corrupt or foreign files renamed away */
	uint64_t saves, save_failures;
	uint64_t last_save_bytes;
	uint64_t loaded_positions; /* audit log positions (checkpoint entries) read back */
};

/* Returns NULL with errno set. @path is copied. */
struct kh_state *state__new(const char *path);
void state__free(struct kh_state *s);

/* save and load @h under @name (a rule id, at most 64 bytes); 0, -EEXIST, -EINVAL or -ENOMEM */
int state__attach(struct kh_state *s, const char *name, struct kh_history *h);

/*
 * Save and load the audit logs' positions (keyhole/checkpoint.h) with the histories, as one
 * more section: the history and the position always come from the same save. Before load.
 */
struct kh_checkpoint;
int state__attach_checkpoint(struct kh_state *s, struct kh_checkpoint *cp);

/*
 * Read the file into the attached histories. A missing file is a fresh start (0); a corrupt or
 * foreign one is reported with a warning, set aside and ignored (0). Returns a negative errno
 * only when memory ran out.
 */
int state__load(struct kh_state *s);

/* Write every history now. Returns 0 or a negative errno, reported here with the path. */
int state__save(struct kh_state *s);

/*
 * Save if a history changed since the load or the last save (what the file holds is otherwise
 * already what a save would write, but for its timestamp). For the end of a run.
 */
int state__save_changed(struct kh_state *s);

/*
 * Save if a history changed since the last save and at least @interval_ns passed since then on
 * the monotonic clock (the first call only starts the clock). For the live loop.
 */
int state__maybe_save(struct kh_state *s, int64_t interval_ns);

/*
 * The state of a running engine: attach the history of every enabled rule that keeps one (under
 * its rule id) and load @path into them. NULL with errno set only when memory ran out; a bad
 * file is reported and set aside, never fatal.
 */
struct kh_rules;
struct kh_state *state__open_for_rules(const char *path, struct kh_rules *r,
				       struct kh_checkpoint *cp);

const struct kh_state_stats *state__stats(const struct kh_state *s);
const char *state__path(const struct kh_state *s);

#endif /* KEYHOLE_STATE_FILE_H */
