// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for src/base/log.c's two forms: "keyhole: level: msg" on an ordinary stderr, and the
 * sd-daemon priority prefix when stderr is the journal (JOURNAL_STREAM names stderr's
 * device:inode, as systemd sets it). Each test runs in its own process (Criterion forks), so
 * log.c's once-only check sees the stderr the test arranged.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyhole/log.h"

/* point stderr at a pipe; with @journal, tell log.c that pipe is the journal */
static int capture_stderr(int journal, const char *stream_override)
{
	int fds[2];
	struct stat st;
	char js[64];

	cr_assert_eq(pipe(fds), 0);
	cr_assert(dup2(fds[1], STDERR_FILENO) >= 0);
	close(fds[1]);
	unsetenv("JOURNAL_STREAM");
	if (journal) {
		cr_assert_eq(fstat(STDERR_FILENO, &st), 0);
		snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
		setenv("JOURNAL_STREAM", stream_override ? stream_override : js, 1);
	}
	return fds[0];
}

static char *read_all(int fd)
{
	static char buf[4096];
	ssize_t n;

	close(STDERR_FILENO); /* the pipe's last writer: read() sees the end */
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

Test(log, plain_stderr_names_keyhole_and_the_level)
{
	int fd = capture_stderr(0, NULL);

	kh_log(KH_LOG_WARN, "disk %d%% full", 93);
	kh_log(KH_LOG_ERROR, "cannot open %s", "x");
	cr_assert_str_eq(read_all(fd), "keyhole: warning: disk 93% full\n"
				       "keyhole: error: cannot open x\n");
}

Test(log, journal_gets_syslog_priorities)
{
	int fd = capture_stderr(1, NULL);

	kh_log(KH_LOG_ERROR, "e");
	kh_log(KH_LOG_WARN, "w");
	kh_log(KH_LOG_INFO, "i");
	kh_log(KH_LOG_DEBUG, "not shown at the default level");
	cr_assert_str_eq(read_all(fd), "<3>error: e\n<4>warning: w\n<6>info: i\n");
}

Test(log, another_stream_in_journal_stream_is_not_the_journal)
{
	/* inherited from a parent whose stderr was the journal, but ours is redirected */
	int fd = capture_stderr(1, "1:1");

	kh_log(KH_LOG_INFO, "i");
	cr_assert_str_eq(read_all(fd), "keyhole: info: i\n");
}
