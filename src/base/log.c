// SPDX-License-Identifier: Apache-2.0
/*
 * log: stderr messages prefixed "keyhole:" with a level, one write per message so lines from
 * different threads never interleave mid-line in the journal. When stderr is the journal
 * (systemd sets JOURNAL_STREAM to its device:inode), the prefix is the sd-daemon priority
 * "<N>" instead, so `journalctl -p warning` selects by level and the identifier is not doubled.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "keyhole/clock.h"
#include "keyhole/log.h"

static enum kh_log_level log_level = KH_LOG_INFO;

void log__set_level(enum kh_log_level lvl)
{
	log_level = lvl;
}

/* is stderr the journal's stream? (checked once: stderr does not change under us) */
static int stderr_is_journal(void)
{
	static int journal = -1;
	unsigned long long dev, ino;
	const char *js;
	struct stat st;

	if (journal < 0) {
		js = getenv("JOURNAL_STREAM");
		journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
			  !fstat(STDERR_FILENO, &st) && st.st_dev == dev && st.st_ino == ino;
	}
	return journal;
}

void kh_log(enum kh_log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	static const int syslog_prio[] = {3, 4, 6, 7}; /* LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG
							*/
	char buf[2048];
	va_list ap;
	int n;

	if (lvl > log_level)
		return;
	if (stderr_is_journal())
		n = snprintf(buf, sizeof(buf), "<%d>%s: ", syslog_prio[lvl], names[lvl]);
	else
		n = snprintf(buf, sizeof(buf), "keyhole: %s: ", names[lvl]);
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, (size_t)n) < 0)
		return; /* nowhere left to report it */
}

int log__ratelimit_ok(struct kh_ratelimit *rl, uint64_t *dropped)
{
	int64_t now = clock__ns(CLOCK_MONOTONIC);

	if (rl->last_ns) {
		rl->tokens += (double)(now - rl->last_ns) / 1e9 * rl->per_sec;
		if (rl->tokens > rl->burst)
			rl->tokens = rl->burst;
	}
	rl->last_ns = now;
	if (rl->tokens < 1.0) {
		rl->suppressed++;
		return 0;
	}
	rl->tokens -= 1.0;
	if (dropped)
		*dropped = rl->suppressed;
	rl->suppressed = 0;
	return 1;
}
