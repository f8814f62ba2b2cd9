/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state_codec: the bytes of the state file (see keyhole/state_file.h for the format). Decoding
 * is pure and bounded so it can be fuzzed on its own; encoding streams to a file descriptor with
 * the checksum computed on the way.
 */
#ifndef KEYHOLE_STATE_CODEC_H
#define KEYHOLE_STATE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#define STATE_MAGIC "KHSTATE\x1a"
#define STATE_MAGIC_LEN 8
#define STATE_HEADER_LEN 24 /* magic, version, n_sections, saved_at */
#define STATE_NAME_MAX 64
#define STATE_ENTRY_FIXED 18 /* first, last, key_len */
#define STATE_MAX_SECTIONS 256
/* far above any real history (1M keys of 200 bytes), low enough to refuse garbage early */
#define STATE_MAX_BYTES (1ull << 30)

/* why a buffer was refused: foreign files and corrupt ones are told apart for the message */
enum state_verdict {
	STATE_OK = 0,
	STATE_FOREIGN, /* not a keyhole state file at all (magic) */
	STATE_VERSION, /* a keyhole state file of a format this build does not read */
	STATE_CORRUPT, /* ours, but damaged: checksum or structure */
};

struct state_section_view {
	const char *name;
	size_t name_len;
	uint64_t n_entries;
	const uint8_t *entries; /* n_entries packed entries */
	size_t entries_len;
};

struct state_entry_view {
	int64_t first_ns, last_ns;
	const uint8_t *key;
	size_t key_len;
};

/*
 * Check the whole buffer (magic, version, checksum, every length and bound, unique section
 * names). Returns STATE_OK, or a verdict with *@why set to a static reason.
 */
enum state_verdict state_codec__check(const uint8_t *buf, size_t len, const char **why);

/* sections of a checked buffer, in file order: *@off starts at 0; returns 1, or 0 at the end */
int state_codec__next_section(const uint8_t *buf, size_t len, size_t *off,
			      struct state_section_view *v);
/* entries of a section: *@off starts at 0; returns 1, or 0 at the end */
int state_codec__next_entry(const struct state_section_view *v, size_t *off,
			    struct state_entry_view *e);

uint32_t state_codec__version(const uint8_t *buf, size_t len);

/* streaming writer */
struct state_writer {
	int fd;
	int err; /* first errno, 0 while all is well */
	unsigned long crc;
	uint64_t total;
	size_t n;
	uint8_t buf[1 << 16];
};

void state_writer__init(struct state_writer *w, int fd);
void state_writer__header(struct state_writer *w, uint32_t n_sections, int64_t saved_at_ns);
void state_writer__section(struct state_writer *w, const char *name, uint64_t n_entries);
void state_writer__entry(struct state_writer *w, int64_t first_ns, int64_t last_ns, const void *key,
			 size_t key_len);
void state_writer__raw(struct state_writer *w, const void *p, size_t n); /* carried sections */
/* checksum and flush; returns 0 or a negative errno */
int state_writer__finish(struct state_writer *w);

#endif /* KEYHOLE_STATE_CODEC_H */
