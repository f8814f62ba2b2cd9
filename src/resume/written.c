// SPDX-License-Identifier: Apache-2.0
/*
 * written: what the last run already wrote to the output file, read back at a resume (issue 19).
 *
 * The state (history and checkpoint) is saved at most every 200 ms after alerts, so a SIGKILL
 * leaves alerts written after the last save, and a clean stop writes held RequestReceived
 * alerts whose later stage the next run's catch-up reads. When the output is a regular file,
 * its last KH_RESUME_TAIL_BYTES are read once before the catch-ups and each whole alert line is
 * noted (pipeline__note_written): the catch-up then does not write those alerts again. Syslog
 * and stdout cannot be read back; there a restart stays at-least-once.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyhole/log.h"
#include "keyhole/pipeline.h"
#include "resume/resume_impl.h"

size_t resume__note_written(struct kh_resume *r, const char *path)
{
	char *buf = NULL, *p, *nl, *end;
	struct stat st;
	size_t want, n = 0;
	int fd;

	/* stdout and syslog cannot be read back */
	if (!r->nloaded || !path || !strcmp(path, "-") || !strncmp(path, "syslog", 6))
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    !st.st_size)
		goto out;
	want = st.st_size < KH_RESUME_TAIL_BYTES ? (size_t)st.st_size : KH_RESUME_TAIL_BYTES;
	if (!(buf = malloc(want)) ||
	    pread(fd, buf, want, st.st_size - (off_t)want) != (ssize_t)want) {
		kh_log(KH_LOG_WARN, "catch-up: cannot read back the output file: alerts written "
				    "after the last save may be written again");
		goto out;
	}
	p = buf;
	end = buf + want;
	if (want < (size_t)st.st_size && (nl = memchr(p, '\n', want))) /* a partial first line */
		p = nl + 1;
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		if (nl > p && !pipeline__note_written(r->p, p, (size_t)(nl - p)))
			n++;
		p = nl + 1;
	}
	r->st.written_noted = n;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return n;
}

void resume__forget_written(struct kh_resume *r)
{
	pipeline__forget_written(r->p);
}
