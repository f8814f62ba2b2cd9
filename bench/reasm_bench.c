// SPDX-License-Identifier: Apache-2.0
/*
 * reasm_bench: the cost of rebuilding lines from the tap's chunk records (src/capture/reasm.c),
 * per write, in this thread's CPU time (best of five rounds), for the three shapes its per-file
 * stream table meets:
 *
 *     build/bench/reasm_bench [WRITES]        (default 2,000,000)
 *
 *   one-file:   one-chunk writes of one whole 1 KB line each to one file (the apiserver's case:
 *               the line is cut straight from the record, no copy);
 *   8-files:    writes that each end mid-line, round robin over 8 files (rotation overlap, every
 *               write finds another file's stream and appends to its pending line);
 *   100-files:  the same over 100 files, more than the table's 64 streams (every new file evicts
 *               one; the partial lines lost are counted).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyhole/reasm.h"

static uint64_t lines_seen;

static void on_line(void *ctx, const struct reasm_line *l)
{
	(void)ctx;
	(void)l;
	lines_seen++;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* @n writes of @len bytes, round robin over @files files; ns per write */
static double run(long n, int files, size_t len, int newline_every)
{
	static struct kh_audit_chunk c;
	struct reasm_opts o = {.fn = on_line};
	struct reasm *r = reasm__new(&o);
	double t0;

	if (!r)
		exit(1);
	memset(c.data, 'x', len);
	t0 = cpu_s();
	for (long i = 0; i < n; i++) {
		c.hdr.type = KH_REC_AUDIT_CHUNK;
		c.hdr.size = (uint32_t)(KH_AUDIT_CHUNK_HDR_SIZE + len);
		c.write_id = (uint64_t)i + 1;
		c.dev = 42;
		c.ino = 1000 + (uint64_t)(i % files);
		c.offset = 0;
		c.total = len;
		c.tgid = c.tid = 7;
		c.seq = 0;
		c.len = (uint32_t)len;
		c.file_id = (uint32_t)(i % files);
		c.flags = KH_CHUNK_LAST;
		/* a newline every @newline_every writes of a file (1: each write is whole lines) */
		c.data[len - 1] = (i / files) % newline_every == newline_every - 1 ? '\n' : 'x';
		reasm__chunk(r, &c, KH_AUDIT_CHUNK_HDR_SIZE + len);
	}
	t0 = cpu_s() - t0;
	reasm__free(r);
	return t0 * 1e9 / (double)n;
}

static double best(long n, int files, size_t len, int every)
{
	double b = 1e30;

	for (int k = 0; k < 5; k++) {
		double x = run(n, files, len, every);

		if (x < b)
			b = x;
	}
	return b;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;

	if (n < 1)
		return 1;
	printf("one-file:  %.1f ns/write (1 KB, one whole line each)\n", best(n, 1, 1024, 1));
	printf("8-files:   %.1f ns/write (512 B, a line every 4 writes of a file)\n",
	       best(n, 8, 512, 4));
	printf("100-files: %.1f ns/write (512 B, a line every 4 writes; 64 streams)\n",
	       best(n, 100, 512, 4));
	printf("(%llu lines)\n", (unsigned long long)lines_seen);
	return 0;
}
