// SPDX-License-Identifier: Apache-2.0
/*
 * bus: connect to Redis, log in, pick the database, back off while it is away.
 *
 * rediss:// runs over our own TLS session (tls_link.h), since Debian 12's hiredis has none. A
 * refused login, an untrusted or mismatched certificate, a refused handshake and a server that
 * speaks the other protocol (plain text or TLS) are configuration faults, named as such;
 * everything else (refused connection, timeout, a dropped link) is an outage, retried with a
 * doubling backoff and reported once per outage so a long one does not flood the log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/bus.h"
#include "cluster/tls_link.h"
#include "keyhole/clock.h"
#include "keyhole/log.h"

#define BACKOFF_MIN_NS (100ll * 1000000)
#define BACKOFF_MAX_NS (5000ll * 1000000)

static int url_err(char *err, size_t cap, const char *url, const char *why)
{
	snprintf(err, cap,
		 "cluster URL '%.200s': %s (expected redis://[user[:password]@]host"
		 "[:port][/db] or rediss://...)",
		 url, why);
	return -EINVAL;
}

static int copy_part(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return -1;
	memcpy(dst, s, n);
	dst[n] = 0;
	return 0;
}

static int parse_port_db(const char *url, struct bus_url *u, const char *p, char *err, size_t cap)
{
	char *end;
	long v;

	if (*p == ':') {
		v = strtol(p + 1, &end, 10);
		if (end == p + 1 || v < 1 || v > 65535)
			return url_err(err, cap, url, "bad port");
		u->port = (int)v;
		p = end;
	}
	if (*p == '/' && p[1]) {
		v = strtol(p + 1, &end, 10);
		if (end == p + 1 || *end || v < 0 || v > 1000)
			return url_err(err, cap, url, "bad database number");
		u->db = (int)v;
	} else if (*p && strcmp(p, "/")) {
		return url_err(err, cap, url, "unexpected text after the host");
	}
	return 0;
}

int bus_url__parse(const char *url, struct bus_url *u, char *err, size_t cap)
{
	const char *p, *at, *host, *hend;

	memset(u, 0, sizeof(*u));
	u->port = 6379;
	if (!strncmp(url, "redis://", 8)) {
		p = url + 8;
	} else if (!strncmp(url, "rediss://", 9)) {
		p = url + 9;
		u->tls = true;
	} else {
		return url_err(err, cap, url, "the scheme must be redis:// or rediss://");
	}
	at = strchr(p, '@');
	if (at && (!strchr(p, '/') || at < strchr(p, '/'))) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		size_t ulen = colon ? (size_t)(colon - p) : (size_t)(at - p);

		if (copy_part(u->user, sizeof(u->user), p, ulen) ||
		    (colon &&
		     copy_part(u->pass, sizeof(u->pass), colon + 1, (size_t)(at - colon - 1))))
			return url_err(err, cap, url, "user or password too long");
		p = at + 1;
	}
	host = p;
	if (*host == '[') { /* [::1] */
		hend = strchr(host, ']');
		if (!hend)
			return url_err(err, cap, url, "unclosed [ in the host");
		if (copy_part(u->host, sizeof(u->host), host + 1, (size_t)(hend - host - 1)))
			return url_err(err, cap, url, "host too long");
		p = hend + 1;
	} else {
		hend = host + strcspn(host, ":/");
		if (copy_part(u->host, sizeof(u->host), host, (size_t)(hend - host)))
			return url_err(err, cap, url, "host too long");
		p = hend;
	}
	if (!u->host[0])
		return url_err(err, cap, url, "no host");
	return parse_port_db(url, u, p, err, cap);
}

int bus_url__read_password(struct bus_url *u, const char *path, char *err, size_t cap)
{
	FILE *f = fopen(path, "re");
	size_t n;
	int e;

	if (!f) {
		e = errno;
		snprintf(err, cap, "cluster password file %s: %s", path, strerror(e));
		return -e;
	}
	if (!fgets(u->pass, sizeof(u->pass), f)) {
		fclose(f);
		snprintf(err, cap, "cluster password file %s: empty", path);
		return -EINVAL;
	}
	fclose(f);
	n = strcspn(u->pass, "\r\n");
	if (n == sizeof(u->pass) - 1) {
		snprintf(err, cap, "cluster password file %s: longer than %zu bytes", path,
			 sizeof(u->pass) - 2);
		return -EINVAL;
	}
	u->pass[n] = 0;
	return 0;
}

void bus__init(struct bus *b, const struct bus_url *u, const char *who)
{
	memset(b, 0, sizeof(*b));
	b->u = u;
	b->who = who;
}

void bus__drop(struct bus *b)
{
	if (b->ctx)
		redisFree(b->ctx);
	b->ctx = NULL;
	tls_link__close(b->link); /* after redisFree closed hiredis's end: the relay has ended */
	b->link = NULL;
}

/* why a command got no reply: the TLS session's end when there is one, else hiredis's words */
static const char *lost_why(struct bus *b, bool *refused)
{
	const char *tls = tls_link__error(b->link, refused);

	return tls ? tls : b->ctx ? b->ctx->errstr : "no connection";
}

/* no reply at all to the first command on a plain connection: a TLS port drops clear text */
static enum bus_fail first_reply_lost(struct bus *b, char *err, size_t cap)
{
	const struct bus_url *u = b->u;
	bool refused;
	const char *why = lost_why(b, &refused);

	if (!u->tls && (b->ctx->err == REDIS_ERR_EOF || strstr(why, "reset"))) {
		snprintf(err, cap,
			 "redis %s:%d closed the connection at the first command (%s): if it is "
			 "a TLS port, use rediss://",
			 u->host, u->port, why);
		return BUS_FAIL_CONFIG;
	}
	snprintf(err, cap, "redis %s:%d: %s", u->host, u->port, why);
	return refused ? BUS_FAIL_CONFIG : BUS_FAIL_RETRY;
}

void bus__fini(struct bus *b)
{
	bus__drop(b);
}

static void backoff(struct bus *b)
{
	b->backoff_ns = b->backoff_ns ? b->backoff_ns * 2 : BACKOFF_MIN_NS;
	if (b->backoff_ns > BACKOFF_MAX_NS)
		b->backoff_ns = BACKOFF_MAX_NS;
	b->next_try_ns = clock__ns(CLOCK_MONOTONIC) + b->backoff_ns;
}

/* AUTH and SELECT; BUS_FAIL_CONFIG when Redis refuses the login */
static enum bus_fail login(struct bus *b, char *err, size_t cap)
{
	const struct bus_url *u = b->u;
	redisReply *r = NULL;

	if (u->pass[0])
		r = u->user[0] ? redisCommand(b->ctx, "AUTH %s %s", u->user, u->pass)
			       : redisCommand(b->ctx, "AUTH %s", u->pass);
	else
		r = redisCommand(b->ctx, "PING");
	if (!r)
		return first_reply_lost(b, err, cap);
	if (r->type == REDIS_REPLY_ERROR) {
		/* WRONGPASS, NOAUTH, NOPERM: Redis's own words, never the password */
		snprintf(err, cap, "redis %s:%d refused the login of user '%s': %.200s", u->host,
			 u->port, u->user[0] ? u->user : "default", r->str);
		freeReplyObject(r);
		return BUS_FAIL_CONFIG;
	}
	freeReplyObject(r);
	if (u->db) {
		r = redisCommand(b->ctx, "SELECT %d", u->db);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			snprintf(err, cap, "redis %s:%d: cannot select database %d: %.200s",
				 u->host, u->port, u->db, r ? r->str : b->ctx->errstr);
			if (r)
				freeReplyObject(r);
			return r ? BUS_FAIL_CONFIG : BUS_FAIL_RETRY;
		}
		freeReplyObject(r);
	}
	return BUS_OK;
}

static enum bus_fail connect_once(struct bus *b, char *err, size_t cap)
{
	struct timeval tv = {2, 0};
	enum bus_fail f;

	if (b->u->tls) {
		/* Debian 12's hiredis (0.14) has no hiredis_ssl: the TLS session is ours */
		f = tls_link__connect(b->u, 3000, &b->ctx, &b->link, err, cap);
		if (f != BUS_OK)
			return f;
	} else {
		b->ctx = redisConnectWithTimeout(b->u->host, b->u->port, tv);
	}
	if (!b->ctx || b->ctx->err) {
		snprintf(err, cap, "cannot reach redis at %s:%d: %s", b->u->host, b->u->port,
			 b->ctx ? b->ctx->errstr : "out of memory");
		bus__drop(b);
		return BUS_FAIL_RETRY;
	}
	redisSetTimeout(b->ctx, tv);
	f = login(b, err, cap);
	if (f != BUS_OK)
		bus__drop(b);
	return f;
}

enum bus_fail bus__ensure(struct bus *b, char *err, size_t cap)
{
	enum bus_fail f;

	if (b->ctx)
		return BUS_OK;
	if (clock__ns(CLOCK_MONOTONIC) < b->next_try_ns) {
		snprintf(err, cap, "waiting to reconnect");
		return BUS_FAIL_RETRY;
	}
	f = connect_once(b, err, cap);
	if (f == BUS_OK) {
		if (b->ever_up)
			b->reconnects++;
		if (b->said_down)
			kh_log(KH_LOG_INFO, "cluster %s: connected to redis at %s:%d again", b->who,
			       b->u->host, b->u->port);
		b->ever_up = true;
		b->said_down = false;
		b->backoff_ns = 0;
		return BUS_OK;
	}
	if (!b->quiet && (!b->said_down || f == BUS_FAIL_CONFIG))
		kh_log(f == BUS_FAIL_CONFIG ? KH_LOG_ERROR : KH_LOG_WARN,
		       "cluster %s: %s; retrying with backoff", b->who, err);
	b->said_down = true;
	backoff(b);
	return f;
}

bool bus__bad_reply(struct bus *b, redisReply *r)
{
	bool refused;

	if (!r) {
		if (!b->said_down)
			kh_log(KH_LOG_WARN, "cluster %s: lost redis at %s:%d: %s", b->who,
			       b->u->host, b->u->port, lost_why(b, &refused));
		b->said_down = true;
		bus__drop(b);
		backoff(b);
		return true;
	}
	return r->type == REDIS_REPLY_ERROR;
}
