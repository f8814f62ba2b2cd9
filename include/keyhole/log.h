/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log: the agent's own messages (not alerts) to stderr, and a rate limiter for messages that
 * input can trigger at line rate, so a flood of bad lines cannot flood the journal.
 */
#ifndef KEYHOLE_LOG_H
#define KEYHOLE_LOG_H

#include <stdint.h>

enum kh_log_level { KH_LOG_ERROR, KH_LOG_WARN, KH_LOG_INFO, KH_LOG_DEBUG };

void log__set_level(enum kh_log_level lvl);
void kh_log(enum kh_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* a token bucket on the monotonic clock: `burst` messages, then `per_sec` a second */
struct kh_ratelimit {
	double tokens;
	double burst;
	double per_sec;
	int64_t last_ns;
	uint64_t suppressed; /* messages dropped since the last one let through */
};

#define KH_RATELIMIT_INIT(burst_, per_sec_)                                                        \
	{                                                                                          \
		(burst_), (burst_), (per_sec_), 0, 0                                               \
	}

/*
 * Returns nonzero when a message may be written now. When it returns nonzero after dropping some,
 * *dropped (if non-NULL) gets how many were dropped so the message can say so.
 */
int log__ratelimit_ok(struct kh_ratelimit *rl, uint64_t *dropped);

#endif /* KEYHOLE_LOG_H */
