// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for cluster mode's disk queue reader (src/cluster/disk_queue.c): each input
 * is what a crash, a bad disk or another program could leave in a queue directory. Its first
 * byte picks the layout: the rest is one segment file, or the first 28 bytes are the cursor and
 * the rest two segments split at a point the second byte picks. The queue is opened the way
 * keyhole run opens it at start. Beyond "no crash, no leak, no sanitizer report":
 *   - every fact it reads back is whole (the length it claims, NUL-terminated);
 *   - what the open cut is cut for good: a second open finds nothing damaged, and the same facts
 *     still pending;
 *   - the queue still works: a fact appended after the damage comes back last, whole.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/disk_queue.h"
#include "keyhole/log.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

static char dir[64];

static void put(const char *name, const uint8_t *d, size_t n)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, d, n) == (ssize_t)n);
	close(fd);
}

static void clear(void)
{
	static const char *const names[] = {"cursor",
					    "lock",
					    "0000000000000001.kq",
					    "0000000000000002.kq",
					    "0000000000000003.kq",
					    "0000000000000001.kq.corrupt",
					    "0000000000000002.kq.corrupt"};
	char path[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
}

static void cleanup(void)
{
	clear();
	rmdir(dir);
}

/* read every pending fact, each checked whole; returns how many */
static uint64_t drain(struct disk_queue *q, bool ack, const char *last)
{
	struct dq_rec r[32];
	uint64_t total = 0;
	const char *seen = NULL;
	size_t n;

	while ((n = dq__peek(q, r, 32)) > 0) {
		for (size_t i = 0; i < n; i++) {
			CHECK(r[i].len <= DQ_REC_MAX);
			CHECK(r[i].line[r[i].len] == 0);
			seen =
			    last && r[i].len == strlen(last) && !memcmp(r[i].line, last, r[i].len)
				? last
				: NULL;
			free(r[i].line);
		}
		total += n;
		if (!ack)
			break; /* a peek without an acknowledgement rereads the same facts */
		dq__ack(q, n);
	}
	if (last)
		CHECK(seen == last);
	return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char fact[] = "{\"khFact\":1,\"after\":\"the damage\"}";
	struct disk_queue *q = NULL;
	struct dq_stats s1, s2;

	if (!dir[0]) {
		/* tmpfs when there is one: the queue's fdatasync is then nearly free */
		snprintf(dir, sizeof(dir), "%s/kh-dq-fuzz.XXXXXX",
			 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
		CHECK(mkdtemp(dir));
		atexit(cleanup);
		log__set_level(KH_LOG_ERROR);
	}
	clear();
	if (size < 2 || size > (1u << 20))
		return 0;
	if (data[0] & 1 && size >= 30) {
		size_t rest = size - 30, cut = rest * data[1] / 255;

		put("cursor", data + 2, 28);
		put("0000000000000001.kq", data + 30, cut);
		put("0000000000000002.kq", data + 30 + cut, rest - cut);
	} else {
		put("0000000000000001.kq", data + 1, size - 1);
	}
	if (dq__open(dir, 64ull << 20, &q))
		return 0;
	dq__stats(q, &s1);
	CHECK(s1.recovered == s1.pending);
	dq__close(q);
	CHECK(dq__open(dir, 64ull << 20, &q) == 0);
	dq__stats(q, &s2);
	CHECK(s2.corrupt == 0);
	CHECK(s2.recovered == s1.recovered);
	CHECK(dq__append(q, fact, sizeof(fact) - 1, -1) == 0);
	CHECK(drain(q, false, NULL) <= s2.recovered + 1);
	CHECK(drain(q, true, fact) == s2.recovered + 1);
	dq__close(q);
	return 0;
}
