// SPDX-License-Identifier: Apache-2.0
/*
 * disk_queue: the on-disk fact queue (src/cluster/disk_queue.c). Facts come back in order and
 * whole across a close and reopen (a restart), acknowledged ones never; a torn tail, a flipped
 * bit and a damaged cursor are found, counted and cut, never fatal; the byte bound refuses and
 * counts; acknowledged segments are deleted; one directory serves one instance. Then a
 * model-based run: random appends, peeks, acknowledgements and reopens against a plain list.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/disk_queue.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/kh-dq-test.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(disk_queue, .init = setup, .fini = teardown);

/* fact @i: its text and partition, different lengths */
static int fact(unsigned i, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "{\"khFact\":1,\"n\":%u,\"pad\":\"", i);

	for (unsigned k = 0; k < (i * 37) % 300 && (size_t)n + 3 < cap; k++)
		buf[n++] = (char)('a' + (i + k) % 26);
	n += snprintf(buf + n, cap - (size_t)n, "\"}");
	return n;
}

static int32_t part_of(unsigned i)
{
	return i % 5 == 0 ? -1 : (int32_t)(i % 4);
}

static void append_range(struct disk_queue *q, unsigned from, unsigned to)
{
	char buf[512];

	for (unsigned i = from; i < to; i++) {
		int n = fact(i, buf, sizeof(buf));

		cr_assert_eq(dq__append(q, buf, (uint32_t)n, part_of(i)), 0, "append %u", i);
	}
}

/*
 * peek and acknowledge @count facts in batches of @batch, expecting facts from..from+count, and
 * (@end) nothing after them
 */
static void expect_range_(struct disk_queue *q, unsigned from, unsigned count, size_t batch,
			  bool end)
{
	struct dq_rec r[64];
	char buf[512];
	unsigned got = 0;

	while (got < count) {
		size_t n = dq__peek(q, r, batch < count - got ? batch : count - got);

		cr_assert_gt(n, 0, "only %u of %u facts came back", got, count);
		for (size_t i = 0; i < n; i++) {
			int len = fact(from + got + (unsigned)i, buf, sizeof(buf));

			cr_assert_eq(r[i].len, (uint32_t)len, "fact %u", from + got);
			cr_assert_eq(memcmp(r[i].line, buf, (size_t)len), 0);
			cr_assert_eq(r[i].partition, part_of(from + got + (unsigned)i));
			free(r[i].line);
		}
		cr_assert_eq(dq__ack(q, n), 0);
		got += (unsigned)n;
	}
	cr_assert_eq(got, count);
	if (end)
		cr_assert_eq(dq__peek(q, r, 1), 0, "more facts than appended");
}

#define expect_range(q, from, count, batch) expect_range_(q, from, count, batch, false)
#define expect_all(q, from, count, batch) expect_range_(q, from, count, batch, true)

static struct disk_queue *open_q(uint64_t max)
{
	struct disk_queue *q = NULL;

	cr_assert_eq(dq__open(dir, max, &q), 0);
	return q;
}

static int count_segments(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		n += strlen(e->d_name) == 19 && !strcmp(e->d_name + 16, ".kq");
	closedir(d);
	return n;
}

/* the path of the newest segment that holds records */
static void last_data_segment(char *path, size_t cap)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char best[64] = "";
	struct stat st;

	while ((e = readdir(d))) {
		char p[128];

		if (strlen(e->d_name) != 19 || strcmp(e->d_name + 16, ".kq"))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (!stat(p, &st) && st.st_size > 8 && strcmp(e->d_name, best) > 0)
			snprintf(best, sizeof(best), "%s", e->d_name);
	}
	closedir(d);
	cr_assert(best[0]);
	snprintf(path, cap, "%s/%s", dir, best);
}

Test(disk_queue, in_order_and_whole)
{
	struct disk_queue *q = open_q(64 << 20);
	struct dq_stats s;

	append_range(q, 0, 1000);
	dq__stats(q, &s);
	cr_assert_eq(s.pending, 1000);
	cr_assert_gt(s.bytes, 1000 * 12);
	expect_all(q, 0, 1000, 64);
	dq__stats(q, &s);
	cr_assert_eq(s.pending, 0);
	cr_assert_eq(s.bytes, 0);
	cr_assert_eq(dq__sync(q), 1000);
	dq__close(q);
	q = open_q(64 << 20);
	dq__stats(q, &s);
	cr_assert_eq(s.recovered, 0, "acknowledged facts came back");
	cr_assert_eq(s.corrupt, 0);
	dq__close(q);
}

Test(disk_queue, a_restart_publishes_what_was_not_acknowledged)
{
	struct disk_queue *q = open_q(64 << 20);
	struct dq_rec r[64];
	struct dq_stats s;
	size_t n;

	append_range(q, 0, 300);
	expect_range(q, 0, 100, 50);
	n = dq__peek(q, r, 20); /* peeked, sent, never acknowledged: a crash before the reply */
	cr_assert_eq(n, 20);
	for (size_t i = 0; i < n; i++)
		free(r[i].line);
	dq__close(q);
	q = open_q(64 << 20);
	dq__stats(q, &s);
	cr_assert_eq(s.recovered, 200);
	append_range(q, 300, 350); /* the new run's facts follow the old ones */
	expect_all(q, 100, 250, 64);
	dq__close(q);
}

Test(disk_queue, a_torn_tail_is_cut_and_counted)
{
	struct disk_queue *q = open_q(64 << 20);
	char path[160];
	struct stat st;
	struct dq_stats s;

	append_range(q, 0, 50);
	dq__close(q);
	last_data_segment(path, sizeof(path));
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(truncate(path, st.st_size - 5), 0); /* the last record cut by a crash */
	q = open_q(64 << 20);
	dq__stats(q, &s);
	cr_assert_eq(s.corrupt, 1);
	cr_assert_eq(s.recovered, 49);
	cr_assert_gt(s.cut_bytes, 0);
	append_range(q, 49, 60); /* appends go on after the cut */
	expect_all(q, 0, 60, 16);
	dq__close(q);
	q = open_q(64 << 20);
	dq__stats(q, &s);
	cr_assert_eq(s.corrupt, 0, "the cut was not made for good");
	dq__close(q);
}

Test(disk_queue, a_flipped_bit_ends_its_segment_there)
{
	struct disk_queue *q = open_q(64 << 20);
	char path[160];
	struct dq_stats s;
	char c;
	int fd;

	append_range(q, 0, 10);
	dq__close(q);
	last_data_segment(path, sizeof(path));
	fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0);
	/* a byte inside fact 3's text: header 8, then records of 12 + len */
	{
		char buf[512];
		off_t off = 8;

		for (unsigned i = 0; i < 3; i++)
			off += 12 + fact(i, buf, sizeof(buf));
		off += 12 + 5;
		cr_assert_eq(pread(fd, &c, 1, off), 1);
		c ^= 0x20;
		cr_assert_eq(pwrite(fd, &c, 1, off), 1);
	}
	close(fd);
	q = open_q(64 << 20);
	dq__stats(q, &s);
	cr_assert_eq(s.corrupt, 1);
	cr_assert_eq(s.recovered, 3);
	expect_all(q, 0, 3, 8);
	dq__close(q);
}

Test(disk_queue, a_damaged_cursor_rereads_from_the_oldest)
{
	struct disk_queue *q = open_q(64 << 20);
	char path[160];
	struct dq_stats s;
	int fd;

	append_range(q, 0, 40);
	expect_range(q, 0, 10, 10); /* in the same segment: it stays */
	dq__close(q);
	snprintf(path, sizeof(path), "%s/cursor", dir);
	fd = open(path, O_WRONLY);
	cr_assert_eq(pwrite(fd, "XX", 2, 10), 2);
	close(fd);
	q = open_q(64 << 20);
	dq__stats(q, &s);
	cr_assert_eq(s.corrupt, 1);
	cr_assert_eq(s.recovered, 40, "from the oldest segment: twice rather than never");
	expect_all(q, 0, 40, 64);
	dq__close(q);
}

Test(disk_queue, the_bound_refuses_and_counts)
{
	struct disk_queue *q = open_q(1 << 20);
	char buf[512];
	struct dq_stats s;
	unsigned i = 0;
	int err;

	while ((err = dq__append(q, buf, (uint32_t)fact(i, buf, sizeof(buf)), part_of(i))) == 0)
		i++;
	cr_assert_eq(err, -ENOSPC);
	dq__stats(q, &s);
	cr_assert_leq(s.bytes, 1 << 20);
	cr_assert_eq(s.full, 1);
	cr_assert_eq(s.pending, i);
	expect_range(q, 0, 100, 50); /* room again */
	cr_assert_eq(dq__append(q, buf, (uint32_t)fact(i, buf, sizeof(buf)), part_of(i)), 0);
	dq__close(q);
}

Test(disk_queue, acknowledged_segments_are_deleted)
{
	struct disk_queue *q = open_q(4 << 20); /* segments of 1 MiB */

	append_range(q, 0, 12000); /* about 2.6 MB: three segments or more */
	cr_assert_geq(count_segments(), 3);
	expect_all(q, 0, 12000, 64);
	cr_assert_eq(count_segments(), 1, "acknowledged segments were kept");
	dq__close(q);
	q = open_q(4 << 20);
	cr_assert_leq(count_segments(), 2);
	dq__close(q);
}

Test(disk_queue, one_directory_one_instance)
{
	struct disk_queue *q = open_q(1 << 20), *q2 = NULL;

	cr_assert_eq(dq__open(dir, 1 << 20, &q2), -EBUSY);
	dq__close(q);
}

Test(disk_queue, a_foreign_file_is_set_aside)
{
	char path[160];
	struct disk_queue *q;
	struct dq_stats s;
	FILE *f;

	snprintf(path, sizeof(path), "%s/0000000000000001.kq", dir);
	f = fopen(path, "w");
	fputs("not a queue at all", f);
	fclose(f);
	q = open_q(1 << 20);
	dq__stats(q, &s);
	cr_assert_eq(s.corrupt, 1);
	cr_assert_eq(s.recovered, 0);
	strcat(path, ".corrupt");
	cr_assert_eq(access(path, F_OK), 0, "the foreign file was not kept aside");
	append_range(q, 0, 5);
	expect_all(q, 0, 5, 5);
	dq__close(q);
}

/* random appends, peeks, partial acknowledgements and reopens against a list */
Test(disk_queue, model)
{
	struct disk_queue *q = open_q(2 << 20);
	unsigned next = 0, head = 0; /* the model: facts head..next-1 are queued */
	struct dq_rec r[64];
	char buf[512];

	srand(14);
	for (int step = 0; step < 8000; step++) {
		int op = rand() % 100;

		if (op < 55) {
			int n = fact(next, buf, sizeof(buf));
			int err = dq__append(q, buf, (uint32_t)n, part_of(next));

			if (err == 0)
				next++;
			else
				cr_assert_eq(err, -ENOSPC);
			if (err) /* the model skips a refused fact: number the next one after it */
				continue;
		} else if (op < 98) {
			size_t want = 1 + (size_t)(rand() % 64), n = dq__peek(q, r, want);
			size_t ack = n ? (size_t)rand() % (n + 1) : 0;

			cr_assert_eq(n, next - head < want ? next - head : want);
			for (size_t i = 0; i < n; i++) {
				int len = fact(head + (unsigned)i, buf, sizeof(buf));

				cr_assert_eq(r[i].len, (uint32_t)len);
				cr_assert_eq(memcmp(r[i].line, buf, (size_t)len), 0);
				free(r[i].line);
			}
			cr_assert_eq(dq__ack(q, ack), 0);
			head += (unsigned)ack;
		} else {
			struct dq_stats s;

			dq__close(q);
			q = open_q(2 << 20);
			dq__stats(q, &s);
			cr_assert_eq(s.recovered, next - head);
			cr_assert_eq(s.corrupt, 0);
		}
	}
	dq__close(q);
}
