// SPDX-License-Identifier: Apache-2.0
/*
 * state_codec: encode and check the state file. Every length read from the file is checked
 * against what is left before it is used, and the checksum is verified before anything else is
 * believed, so a damaged or hostile file costs one pass over its bytes and nothing more.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "keyhole/keytab.h"
#include "state/state_codec.h"

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* zlib's crc32 takes a uInt length: feed large buffers in pieces */
static unsigned long crc_of(unsigned long crc, const uint8_t *p, size_t n)
{
	while (n) {
		uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;

		crc = crc32(crc, p, k);
		p += k;
		n -= k;
	}
	return crc;
}

uint32_t state_codec__version(const uint8_t *buf, size_t len)
{
	return len >= 12 ? (uint32_t)get_le(buf + 8, 4) : 0;
}

/* one section at *off within [0, end): fills @v and advances, or returns -1 */
static int take_section(const uint8_t *buf, size_t end, size_t *off, struct state_section_view *v,
			const char **why)
{
	size_t o = *off, eoff = 0;
	struct state_entry_view e;

	if (end - o < 1 + 8)
		return *why = "section header runs past the end", -1;
	v->name_len = buf[o];
	if (v->name_len == 0 || v->name_len > STATE_NAME_MAX || end - o - 1 < v->name_len + 8)
		return *why = "bad section name length", -1;
	v->name = (const char *)buf + o + 1;
	if (memchr(v->name, '\0', v->name_len))
		return *why = "section name holds a NUL byte", -1;
	o += 1 + v->name_len;
	v->n_entries = get_le(buf + o, 8);
	o += 8;
	if (v->n_entries > (end - o) / STATE_ENTRY_FIXED)
		return *why = "entry count larger than the file", -1;
	v->entries = buf + o;
	v->entries_len = end - o; /* provisional: walk the entries to find the real end */
	for (uint64_t i = 0; i < v->n_entries; i++) {
		size_t before = eoff;

		if (v->entries_len - eoff < STATE_ENTRY_FIXED)
			return *why = "entry runs past the end", -1;
		e.key_len = (size_t)get_le(v->entries + eoff + 16, 2);
		if (e.key_len > KEYTAB_MAX_KEY ||
		    v->entries_len - eoff - STATE_ENTRY_FIXED < e.key_len)
			return *why = "entry key runs past the end", -1;
		if ((int64_t)get_le(v->entries + eoff, 8) >
		    (int64_t)get_le(v->entries + eoff + 8, 8))
			return *why = "entry first seen after last seen", -1;
		eoff = before + STATE_ENTRY_FIXED + e.key_len;
	}
	v->entries_len = eoff;
	*off = o + eoff;
	return 0;
}

enum state_verdict state_codec__check(const uint8_t *buf, size_t len, const char **why)
{
	struct state_section_view v;
	const char *names[STATE_MAX_SECTIONS];
	size_t name_lens[STATE_MAX_SECTIONS];
	size_t off = STATE_HEADER_LEN, end;
	uint32_t n_sections;

	if (len < STATE_MAGIC_LEN || memcmp(buf, STATE_MAGIC, STATE_MAGIC_LEN))
		return *why = "not a keyhole state file (wrong magic bytes)", STATE_FOREIGN;
	if (len < STATE_HEADER_LEN + 4)
		return *why = "shorter than a header", STATE_CORRUPT;
	if (state_codec__version(buf, len) != 1)
		return *why = "format version not readable by this build", STATE_VERSION;
	if (len > STATE_MAX_BYTES)
		return *why = "larger than any state file", STATE_CORRUPT;
	end = len - 4;
	if (crc_of(crc32(0, Z_NULL, 0), buf, end) != (unsigned long)get_le(buf + end, 4))
		return *why = "checksum mismatch", STATE_CORRUPT;
	n_sections = (uint32_t)get_le(buf + 12, 4);
	if (n_sections > STATE_MAX_SECTIONS)
		return *why = "too many sections", STATE_CORRUPT;
	for (uint32_t i = 0; i < n_sections; i++) {
		if (take_section(buf, end, &off, &v, why))
			return STATE_CORRUPT;
		for (uint32_t j = 0; j < i; j++)
			if (name_lens[j] == v.name_len && !memcmp(names[j], v.name, v.name_len))
				return *why = "section name repeated", STATE_CORRUPT;
		names[i] = v.name;
		name_lens[i] = v.name_len;
	}
	if (off != end)
		return *why = "bytes after the last section", STATE_CORRUPT;
	*why = NULL;
	return STATE_OK;
}

int state_codec__next_section(const uint8_t *buf, size_t len, size_t *off,
			      struct state_section_view *v)
{
	const char *why;

	if (*off == 0)
		*off = STATE_HEADER_LEN;
	if (len < STATE_HEADER_LEN + 4 || *off >= len - 4)
		return 0;
	return take_section(buf, len - 4, off, v, &why) == 0;
}

int state_codec__next_entry(const struct state_section_view *v, size_t *off,
			    struct state_entry_view *e)
{
	const uint8_t *p = v->entries + *off;

	if (*off >= v->entries_len)
		return 0;
	e->first_ns = (int64_t)get_le(p, 8);
	e->last_ns = (int64_t)get_le(p + 8, 8);
	e->key_len = (size_t)get_le(p + 16, 2);
	e->key = p + STATE_ENTRY_FIXED;
	*off += STATE_ENTRY_FIXED + e->key_len;
	return 1;
}

/* ---- writer ---- */

static void flush(struct state_writer *w)
{
	size_t done = 0;

	while (!w->err && done < w->n) {
		ssize_t r = write(w->fd, w->buf + done, w->n - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			w->err = r < 0 ? errno : EIO;
		else
			done += (size_t)r;
	}
	w->n = 0;
}

void state_writer__raw(struct state_writer *w, const void *data, size_t n)
{
	const uint8_t *p = data;

	w->crc = crc_of(w->crc, p, n);
	w->total += n;
	while (n) {
		size_t k = sizeof(w->buf) - w->n;

		if (k > n)
			k = n;
		memcpy(w->buf + w->n, p, k);
		w->n += k;
		p += k;
		n -= k;
		if (w->n == sizeof(w->buf))
			flush(w);
	}
}

static void put_int(struct state_writer *w, uint64_t v, int n)
{
	uint8_t b[8];

	put_le(b, v, n);
	state_writer__raw(w, b, (size_t)n);
}

void state_writer__init(struct state_writer *w, int fd)
{
	w->fd = fd;
	w->err = 0;
	w->crc = crc32(0, Z_NULL, 0);
	w->total = 0;
	w->n = 0;
}

void state_writer__header(struct state_writer *w, uint32_t n_sections, int64_t saved_at_ns)
{
	state_writer__raw(w, STATE_MAGIC, STATE_MAGIC_LEN);
	put_int(w, 1, 4);
	put_int(w, n_sections, 4);
	put_int(w, (uint64_t)saved_at_ns, 8);
}

void state_writer__section(struct state_writer *w, const char *name, uint64_t n_entries)
{
	size_t n = strlen(name);

	put_int(w, n, 1);
	state_writer__raw(w, name, n);
	put_int(w, n_entries, 8);
}

void state_writer__entry(struct state_writer *w, int64_t first_ns, int64_t last_ns, const void *key,
			 size_t key_len)
{
	put_int(w, (uint64_t)first_ns, 8);
	put_int(w, (uint64_t)last_ns, 8);
	put_int(w, key_len, 2);
	state_writer__raw(w, key, key_len);
}

int state_writer__finish(struct state_writer *w)
{
	uint8_t b[4];

	put_le(b, w->crc, 4);
	/* written raw: the checksum does not cover itself */
	if (w->n + 4 > sizeof(w->buf))
		flush(w);
	memcpy(w->buf + w->n, b, 4);
	w->n += 4;
	w->total += 4;
	flush(w);
	return -w->err;
}
