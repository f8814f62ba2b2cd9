/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics_server: the HTTP side of metrics (metrics_http.c), kept apart from the registry so the
 * registry and its text format build and test without the HTTP library. The calls run one way:
 * the registry starts the server and hands it the three pages to serve, so metrics_http.c calls
 * nothing of metrics.c.
 */
#ifndef KEYHOLE_METRICS_SERVER_H
#define KEYHOLE_METRICS_SERVER_H

#include <stddef.h>
#include <stdio.h>

struct kh_metrics;
struct metrics_server;

/* what the server serves, each called on the server's thread with the @m given to start */
struct metrics_server_pages {
	int (*render)(struct kh_metrics *m, FILE *out);		     /* GET /metrics */
	int (*healthy)(struct kh_metrics *m, char *buf, size_t len); /* GET /healthz */
	int (*ready)(struct kh_metrics *m, char *buf, size_t len);   /* GET /readyz */
};

/* start serving @pages of @m on @addr in a new thread; NULL with errno set (reported here) */
struct metrics_server *metrics_server__start(const struct metrics_server_pages *pages,
					     struct kh_metrics *m, const char *addr);
/* stop the thread and close the socket; NULL is a no-op */
void metrics_server__stop(struct metrics_server *s);
int metrics_server__port(const struct metrics_server *s);

#endif /* KEYHOLE_METRICS_SERVER_H */
