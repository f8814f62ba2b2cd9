/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bus: the Redis connection cluster mode uses (hiredis), its URL, login and backoff.
 *
 * One bus per thread (hiredis contexts are not shared). The password comes from the URL or,
 * preferably, a file (a mounted Secret); it is never printed.
 */
#ifndef KEYHOLE_CLUSTER_BUS_H
#define KEYHOLE_CLUSTER_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

struct bus_url {
	char host[256];
	int port;
	int db;
	bool tls;
	char user[128];
	char pass[512];
	/* rediss:// (tls_link.h); NULL: the system store, no client certificate, the URL's host */
	const char *tls_ca_file, *tls_cert_file, *tls_key_file, *tls_server_name;
};

/* redis://[user[:password]@]host[:port][/db], rediss://...; -EINVAL with @err filled */
int bus_url__parse(const char *url, struct bus_url *u, char *err, size_t cap);

/* the password file's first line into u->pass; -errno (or -EINVAL: empty, too long) */
int bus_url__read_password(struct bus_url *u, const char *path, char *err, size_t cap);

enum bus_state { BUS_DOWN = 0, BUS_UP };

/* why a connect failed: worth retrying (down, timeout) or a configuration fault (login, TLS) */
enum bus_fail { BUS_OK = 0, BUS_FAIL_RETRY, BUS_FAIL_CONFIG };

struct bus {
	const struct bus_url *u;
	const char *who; /* "publisher", "correlator": for messages */
	redisContext *ctx;
	int64_t next_try_ns; /* backoff: no attempt before this (monotonic) */
	int64_t backoff_ns;
	uint64_t reconnects;
	bool said_down; /* "unreachable" reported once per outage */
	bool quiet;	/* the caller reports this attempt's failure itself (the first contact) */
	bool ever_up;
	/* rediss://: the TLS session under ctx; NULL for redis:// */
	struct tls_link *link;
};

void bus__init(struct bus *b, const struct bus_url *u, const char *who);
/*
 * Connected, or try to connect when the backoff allows; returns BUS_OK when up. Failures are
 * reported once per outage and the backoff doubles (100 ms to 5 s).
 */
enum bus_fail bus__ensure(struct bus *b, char *err, size_t cap);
/* a command failed at the connection level: drop it, reconnect later */
void bus__drop(struct bus *b);
void bus__fini(struct bus *b);

/* a reply that is an error or absent: drop the connection if it broke; true when bad */
bool bus__bad_reply(struct bus *b, redisReply *r);

#endif /* KEYHOLE_CLUSTER_BUS_H */
