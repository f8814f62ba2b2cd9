// SPDX-License-Identifier: Apache-2.0
/*
 * log: stderr messages prefixed "keyhole:" with a level, one write per message so lines from
 * different threads never interleave mid-line in the journal.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keyhole/log.h"

static enum kh_log_level log_level = KH_LOG_INFO;

void kh_log_set_level(enum kh_log_level lvl)
{
	log_level = lvl;
}

void kh_log(enum kh_log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	char buf[2048];
	va_list ap;
	int n;

	if (lvl > log_level)
		return;
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

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int kh_ratelimit_ok(struct kh_ratelimit *rl, uint64_t *dropped)
{
	int64_t now = mono_ns();

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
