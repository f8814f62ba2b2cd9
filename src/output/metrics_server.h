/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics_server: the HTTP side of metrics (metrics_http.c), kept apart from the registry so the
 * registry and its text format build and test without the HTTP library.
 */
#ifndef KEYHOLE_METRICS_SERVER_H
#define KEYHOLE_METRICS_SERVER_H

struct kh_metrics;
struct metrics_server;

/* start serving @m on @addr in a new thread; NULL with errno set (reported here) on failure */
struct metrics_server *metrics_server__start(struct kh_metrics *m, const char *addr);
/* stop the thread and close the socket; NULL is a no-op */
void metrics_server__stop(struct metrics_server *s);
int metrics_server__port(const struct metrics_server *s);

#endif /* KEYHOLE_METRICS_SERVER_H */
