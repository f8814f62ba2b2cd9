// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the state file's decoder: each input is a whole state file. Beyond "no
 * crash, no leak, no sanitizer report": each input is tried as it is and with its checksum made
 * right (so mutations reach the structure checks behind it); a file the checks accept is walked
 * section by section and
 * entry by entry, within its bytes, into small histories (so eviction runs too), and those
 * histories written back out must pass the same checks: what the agent saves it can load.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "keyhole/history.h"
#include "state/state_codec.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

#define SECTIONS_MAX 8

static int write_entry(const void *key, size_t len, int64_t first_ns, int64_t last_ns, void *arg)
{
	state_writer__entry(arg, first_ns, last_ns, key, len);
	return 0;
}

/* re-encode the histories through a memfd and check the result */
static void round_trip(struct kh_history **h, char names[][STATE_NAME_MAX + 1], size_t n)
{
	static struct state_writer w;
	int fd = memfd_create("state", 0);
	uint8_t *buf;
	const char *why;
	off_t len;

	CHECK(fd >= 0);
	state_writer__init(&w, fd);
	state_writer__header(&w, (uint32_t)n, 0);
	for (size_t i = 0; i < n; i++) {
		state_writer__section(&w, names[i], history__count(h[i]));
		history__for_each(h[i], write_entry, &w);
	}
	CHECK(state_writer__finish(&w) == 0);
	len = lseek(fd, 0, SEEK_END);
	CHECK(len > 0);
	buf = malloc((size_t)len);
	CHECK(buf && pread(fd, buf, (size_t)len, 0) == len);
	CHECK(state_codec__check(buf, (size_t)len, &why) == STATE_OK);
	free(buf);
	close(fd);
}

static void one(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed;
	unsigned long crc;

	one(data, size);
	if (size < STATE_HEADER_LEN + 4)
		return 0;
	fixed = malloc(size);
	CHECK(fixed);
	memcpy(fixed, data, size);
	crc = crc32(crc32(0, Z_NULL, 0), fixed, (uInt)(size - 4));
	for (int i = 0; i < 4; i++)
		fixed[size - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
	one(fixed, size);
	free(fixed);
	return 0;
}

static void one(const uint8_t *data, size_t size)
{
	struct kh_history *h[SECTIONS_MAX];
	char names[SECTIONS_MAX][STATE_NAME_MAX + 1];
	struct state_section_view v;
	struct state_entry_view e;
	const char *why = NULL;
	size_t off = 0, n = 0;

	if (state_codec__check(data, size, &why) != STATE_OK) {
		CHECK(why && *why);
		return;
	}
	while (state_codec__next_section(data, size, &off, &v)) {
		size_t eoff = 0, entries = 0;

		CHECK(off <= size - 4);
		CHECK(v.name_len >= 1 && v.name_len <= STATE_NAME_MAX);
		CHECK(v.entries >= data && v.entries + v.entries_len <= data + size - 4);
		while (state_codec__next_entry(&v, &eoff, &e)) {
			CHECK(e.key + e.key_len <= v.entries + v.entries_len);
			CHECK(e.first_ns <= e.last_ns);
			if (n < SECTIONS_MAX) {
				if (entries == 0) {
					h[n] = history__new(16);
					CHECK(h[n]);
					memcpy(names[n], v.name, v.name_len);
					names[n][v.name_len] = '\0';
				}
				CHECK(history__restore(h[n], e.key, e.key_len, e.first_ns,
						       e.last_ns) == 0);
			}
			entries++;
		}
		CHECK(entries == v.n_entries);
		if (n < SECTIONS_MAX && entries) {
			CHECK(history__count(h[n]) >= 1 && history__count(h[n]) <= 16);
			n++;
		}
	}
	round_trip(h, names, n);
	for (size_t i = 0; i < n; i++)
		history__free(h[i]);
}
