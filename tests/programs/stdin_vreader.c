// SPDX-License-Identifier: Apache-2.0
/*
 * stdin_vreader: a container process that takes its input the way a shell's read(2) would not,
 * for the attach tests (tests/bpf/exec_attach.c). Linked statically: it runs inside the tests'
 * busybox-only container.
 *
 * Usage: stdin_vreader readv|preadv2 DIR
 *
 * First it tries pread64(2) and preadv(2) on fd 0 and writes what they returned to DIR/pread
 * ("pread=ESPIPE preadv=ESPIPE" on a pipe or terminal, which is why the exec watch does not hook
 * them), then touches DIR/reading, takes one chunk of input from fd 0 with readv(2) (two iovecs)
 * or preadv2(2) at offset -1 (the current position), and runs it as `sh -c CHUNK`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

static const char *result(ssize_t n)
{
	if (n >= 0)
		return "ok";
	return errno == ESPIPE ? "ESPIPE" : "other-error";
}

static void touch(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

int main(int argc, char **argv)
{
	char a[8], b[504], cmd[sizeof(a) + sizeof(b) + 1], probe[8], line[64];
	struct iovec v[2] = {{a, sizeof(a)}, {b, sizeof(b)}}, pv = {probe, sizeof(probe)};
	ssize_t n, p1, p2;

	if (argc != 3 || (strcmp(argv[1], "readv") && strcmp(argv[1], "preadv2"))) {
		fprintf(stderr, "usage: stdin_vreader readv|preadv2 DIR\n");
		return 2;
	}
	p1 = pread(0, probe, sizeof(probe), 0);
	snprintf(line, sizeof(line), "pread=%s ", result(p1));
	p2 = preadv(0, &pv, 1, 0);
	snprintf(line + strlen(line), sizeof(line) - strlen(line), "preadv=%s\n", result(p2));
	touch(argv[2], "pread", line);
	touch(argv[2], "reading", "");
	if (!strcmp(argv[1], "readv"))
		n = readv(0, v, 2);
	else
		n = preadv2(0, v, 2, -1, 0);
	if (n <= 0) {
		perror("stdin_vreader: reading stdin");
		return 1;
	}
	memcpy(cmd, a, n < (ssize_t)sizeof(a) ? (size_t)n : sizeof(a));
	if (n > (ssize_t)sizeof(a))
		memcpy(cmd + sizeof(a), b, (size_t)n - sizeof(a));
	cmd[n] = 0;
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	perror("stdin_vreader: /bin/sh");
	return 127;
}
