// SPDX-License-Identifier: Apache-2.0
/*
 * line_sink: fopencookie(3) with a growing line buffer. The FILE is unbuffered, so every fwrite
 * reaches the callback at once and a fflush() by the caller means what it says.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/line_sink.h"

struct sink {
	line_sink_fn fn;
	void (*done)(void *ctx);
	void *ctx;
	char *buf;
	size_t len, cap;
	int skipping; /* inside a line over LINE_SINK_MAX: drop until its newline */
};

static int append(struct sink *s, const char *p, size_t n)
{
	if (s->skipping)
		return 0;
	if (s->len + n > LINE_SINK_MAX) {
		s->skipping = 1;
		s->len = 0;
		return 0;
	}
	if (s->len + n > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *nb;

		while (cap < s->len + n)
			cap *= 2;
		nb = realloc(s->buf, cap);
		if (!nb)
			return -1;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return 0;
}

static ssize_t sink_write(void *c, const char *p, size_t n)
{
	struct sink *s = c;
	size_t done = 0;

	while (done < n) {
		const char *nl = memchr(p + done, '\n', n - done);
		size_t k = nl ? (size_t)(nl - (p + done)) : n - done;

		if (append(s, p + done, k))
			return -1;
		done += k;
		if (!nl)
			break;
		done++;
		if (!s->skipping && s->fn(s->ctx, s->buf ? s->buf : "", s->len))
			return -1;
		s->len = 0;
		s->skipping = 0;
	}
	return (ssize_t)n;
}

static int sink_close(void *c)
{
	struct sink *s = c;
	int r = 0;

	if (s->len && !s->skipping)
		r = s->fn(s->ctx, s->buf, s->len);
	if (s->done)
		s->done(s->ctx);
	free(s->buf);
	free(s);
	return r ? EOF : 0;
}

FILE *line_sink__open(line_sink_fn fn, void (*done)(void *ctx), void *ctx)
{
	cookie_io_functions_t io = {.write = sink_write, .close = sink_close};
	struct sink *s = calloc(1, sizeof(*s));
	FILE *f;

	if (!s)
		return NULL;
	s->fn = fn;
	s->done = done;
	s->ctx = ctx;
	f = fopencookie(s, "w", io);
	if (!f) {
		free(s);
		return NULL;
	}
	setvbuf(f, NULL, _IONBF, 0);
	return f;
}
