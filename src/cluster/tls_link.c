// SPDX-License-Identifier: Apache-2.0
/*
 * tls_link: the TLS half of rediss://: the client context (TLS 1.2+, the CA file or the system
 * store, an optional client certificate), the TCP connection, the handshake with its host name
 * check and SNI, and the names of its failures. The relay that then carries hiredis's bytes over
 * the session is tls_relay.c.
 *
 * A plain-text Redis behind a rediss:// URL does not answer a TLS hello: it waits for the end of
 * an inline command. So when the first bytes back are not a TLS record, or when nothing comes
 * back in time and a plain PING on a second connection draws a RESP reply, the server is named
 * as plain text.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "cluster/tls_link.h"
#include "cluster/tls_link_impl.h"
#include "keyhole/clock.h"
#include "keyhole/cluster.h"

#define SETTLE_MS 200	   /* after the handshake: how long a TLS 1.3 refusal may take */
#define PLAIN_PROBE_MS 500 /* after a silent handshake: how long a plain PING's reply may take */

void tls_link__reason(char *buf, size_t cap, const char *fallback)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	if (r)
		snprintf(buf, cap, "%s", r);
	else if (e)
		ERR_error_string_n(e, buf, cap);
	else
		snprintf(buf, cap, "%s", fallback);
}

static const char *name_of(const struct bus_url *u)
{
	return u->tls_server_name ? u->tls_server_name : u->host;
}

static bool is_ip(const char *s)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* ---- the context: what we trust, what we present ----------------------------------------------
 */

static int file_err(char *err, size_t cap, const char *key, const char *file, const char *why)
{
	snprintf(err, cap, "cluster.%s %s: %s", key, file, why);
	ERR_clear_error();
	return -EINVAL;
}

/* a readable file, or its error named (OpenSSL's own words for a missing file are obscure) */
static int readable(const char *key, const char *file, char *err, size_t cap)
{
	FILE *f = fopen(file, "re");

	if (!f)
		return file_err(err, cap, key, file, strerror(errno));
	fclose(f);
	return 0;
}

static int load_err(char *err, size_t cap, const char *key, const char *file)
{
	char why[160];

	tls_link__reason(why, sizeof(why), "cannot be loaded");
	return file_err(err, cap, key, file, why);
}

/* an encrypted key would make OpenSSL prompt on the terminal: refuse it instead */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return 0;
}

/* at depth 0, keep the server certificate's names for a mismatch message */
static void names_of(X509 *c, char *out, size_t cap);

static int verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls_link *l = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *c = X509_STORE_CTX_get_current_cert(x);

	if (l && c && X509_STORE_CTX_get_error_depth(x) == 0 && !l->peer_names[0])
		names_of(c, l->peer_names, sizeof(l->peer_names));
	return ok;
}

static int load_files(SSL_CTX *ctx, const struct bus_url *u, char *err, size_t cap)
{
	if (u->tls_ca_file) {
		if (readable("tls_ca_file", u->tls_ca_file, err, cap))
			return -EINVAL;
		if (!SSL_CTX_load_verify_locations(ctx, u->tls_ca_file, NULL))
			return load_err(err, cap, "tls_ca_file", u->tls_ca_file);
	} else if (!SSL_CTX_set_default_verify_paths(ctx)) {
		return load_err(err, cap, "tls_ca_file", "(unset: the system store)");
	}
	if (!u->tls_cert_file)
		return 0;
	if (readable("tls_cert_file", u->tls_cert_file, err, cap) ||
	    readable("tls_key_file", u->tls_key_file, err, cap))
		return -EINVAL;
	if (!SSL_CTX_use_certificate_chain_file(ctx, u->tls_cert_file))
		return load_err(err, cap, "tls_cert_file", u->tls_cert_file);
	if (!SSL_CTX_use_PrivateKey_file(ctx, u->tls_key_file, SSL_FILETYPE_PEM))
		return load_err(err, cap, "tls_key_file", u->tls_key_file);
	if (!SSL_CTX_check_private_key(ctx))
		return file_err(err, cap, "tls_key_file", u->tls_key_file,
				"does not match cluster.tls_cert_file");
	return 0;
}

static int make_ctx(const struct bus_url *u, SSL_CTX **out, char *err, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	*out = NULL;
	if (!ctx) {
		snprintf(err, cap, "TLS: cannot create a client context (out of memory)");
		ERR_clear_error();
		return -ENOMEM;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
	/* the relay retries a write that would block with the same bytes; partial is fine */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	if (load_files(ctx, u, err, cap)) {
		SSL_CTX_free(ctx);
		return -EINVAL;
	}
	*out = ctx;
	return 0;
}

int tls_link__check(const struct bus_url *u, char *err, size_t cap)
{
	const char *set = u->tls_ca_file       ? "tls_ca_file"
			  : u->tls_cert_file   ? "tls_cert_file"
			  : u->tls_key_file    ? "tls_key_file"
			  : u->tls_server_name ? "tls_server_name"
					       : NULL;
	SSL_CTX *ctx;

	if (!u->tls) {
		if (!set)
			return 0;
		snprintf(err, cap,
			 "cluster.%s is set but the URL is redis:// (plain text): use rediss:// "
			 "for TLS",
			 set);
		return -EINVAL;
	}
	if (!u->tls_cert_file != !u->tls_key_file) {
		snprintf(err, cap,
			 "cluster.tls_cert_file and cluster.tls_key_file go together (the client "
			 "certificate a tls-auth-clients server asks for, and its key)");
		return -EINVAL;
	}
	if (u->tls_server_name && (!*u->tls_server_name || strlen(u->tls_server_name) > 253 ||
				   strpbrk(u->tls_server_name, " \t\r\n/"))) {
		snprintf(err, cap, "cluster.tls_server_name '%.100s': not a host name or address",
			 u->tls_server_name);
		return -EINVAL;
	}
	if (make_ctx(u, &ctx, err, cap))
		return -EINVAL;
	SSL_CTX_free(ctx);
	return 0;
}

int tls_link__configure(struct bus_url *u, const struct kh_cluster_opts *o, char *err, size_t cap)
{
	u->tls_ca_file = o->tls_ca_file;
	u->tls_cert_file = o->tls_cert_file;
	u->tls_key_file = o->tls_key_file;
	u->tls_server_name = o->tls_server_name;
	return tls_link__check(u, err, cap);
}

/* ---- the certificate's names, printable -------------------------------------------------------
 */

static void append(char *out, size_t cap, const char *tag, const unsigned char *s, size_t n)
{
	size_t at = strlen(out), i;

	if (at + strlen(tag) + n + 3 >= cap)
		return;
	at += (size_t)snprintf(out + at, cap - at, "%s%s", at ? ", " : "", tag);
	/* a certificate is the peer's text: only the characters a name can hold */
	for (i = 0; i < n; i++)
		out[at++] =
		    (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-*_:",
			    s[i]) &&
		     s[i])
			? (char)s[i]
			: '?';
	out[at] = 0;
}

static void names_of(X509 *c, char *out, size_t cap)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(c, NID_subject_alt_name, NULL, NULL);
	char ip[INET6_ADDRSTRLEN], cn[128];
	int i, n = gens ? sk_GENERAL_NAME_num(gens) : 0;

	out[0] = 0;
	for (i = 0; i < n && i < 6; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *d;
		int len;

		if (g->type == GEN_DNS) {
			d = ASN1_STRING_get0_data(g->d.dNSName);
			append(out, cap, "DNS:", d, (size_t)ASN1_STRING_length(g->d.dNSName));
		} else if (g->type == GEN_IPADD) {
			d = ASN1_STRING_get0_data(g->d.iPAddress);
			len = ASN1_STRING_length(g->d.iPAddress);
			if ((len == 4 || len == 16) &&
			    inet_ntop(len == 4 ? AF_INET : AF_INET6, d, ip, sizeof(ip)))
				append(out, cap, "IP:", (const unsigned char *)ip, strlen(ip));
		}
	}
	GENERAL_NAMES_free(gens);
	if (!out[0] &&
	    X509_NAME_get_text_by_NID(X509_get_subject_name(c), NID_commonName, cn, sizeof(cn)) > 0)
		append(out, cap, "CN=", (const unsigned char *)cn, strlen(cn));
}

/* ---- the connection -------------------------------------------------------------------------- */

/* 0 when @fd is ready for @events before @deadline (monotonic ns), else ETIMEDOUT or errno */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = {fd, events, 0};
	int64_t left;
	int r;

	for (;;) {
		left = (deadline - clock__ns(CLOCK_MONOTONIC)) / 1000000;
		if (left <= 0)
			return ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r == 0)
			return ETIMEDOUT;
		if (errno != EINTR)
			return errno;
	}
}

static int try_addr(const struct addrinfo *a, int64_t deadline, int *fd)
{
	int s = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
	int e = 0, one = 1;
	socklen_t len = sizeof(e);

	if (s < 0)
		return errno;
	if (connect(s, a->ai_addr, a->ai_addrlen) && errno != EINPROGRESS)
		e = errno;
	else if (!(e = wait_fd(s, POLLOUT, deadline)) &&
		 getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &len))
		e = errno;
	if (e) {
		close(s);
		return e;
	}
	/* hiredis's commands are small and pipelined: no Nagle delay on the relayed bytes */
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fd = s;
	return 0;
}

static enum bus_fail tcp_connect(const struct bus_url *u, int64_t deadline, int *fd, char *err,
				 size_t cap)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *a;
	char port[8];
	int rc, e = EHOSTUNREACH;

	snprintf(port, sizeof(port), "%d", u->port);
	rc = getaddrinfo(u->host, port, &hints, &res);
	if (rc) {
		snprintf(err, cap, "cannot reach redis at %s:%d: %s", u->host, u->port,
			 gai_strerror(rc));
		return BUS_FAIL_RETRY;
	}
	for (a = res; a; a = a->ai_next)
		if (!(e = try_addr(a, deadline, fd)))
			break;
	freeaddrinfo(res);
	if (e) {
		snprintf(err, cap, "cannot reach redis at %s:%d: %s", u->host, u->port,
			 e == ETIMEDOUT ? "Connection timed out" : strerror(e));
		return BUS_FAIL_RETRY;
	}
	return BUS_OK;
}

/* ---- the handshake and its failures -----------------------------------------------------------
 */

static enum bus_fail plain_text(const struct bus_url *u, char *err, size_t cap)
{
	snprintf(err, cap,
		 "redis %s:%d speaks plain text, not TLS: it is not a TLS port (use redis:// "
		 "for it, or rediss:// to the server's tls-port)",
		 u->host, u->port);
	return BUS_FAIL_CONFIG;
}

/* the first byte waiting on @fd is not a TLS record's (handshake, alert, ...: 20 to 24) */
static bool not_tls(int fd)
{
	unsigned char b;

	return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1 && (b < 20 || b > 24);
}

/* a second connection's PING draws a RESP reply ("+PONG", "-NOAUTH ...") */
static bool answers_plain(const struct bus_url *u)
{
	int64_t deadline = clock__ns(CLOCK_MONOTONIC) + PLAIN_PROBE_MS * 1000000ll;
	char scratch[256];
	unsigned char b = 0;
	bool plain;
	int fd;

	if (tcp_connect(u, deadline, &fd, scratch, sizeof(scratch)) != BUS_OK)
		return false;
	plain = send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6 && !wait_fd(fd, POLLIN, deadline) &&
		recv(fd, &b, 1, MSG_DONTWAIT) == 1 && (b == '+' || b == '-');
	close(fd);
	return plain;
}

/*
 * Nothing came back. A plain-text Redis reads a TLS hello as an inline command, which ends at a
 * newline that the hello's NUL bytes hide, so it waits in silence: ask it in its own words.
 */
static enum bus_fail silent(const struct bus_url *u, int timeout_ms, char *err, size_t cap)
{
	if (answers_plain(u))
		return plain_text(u, err, cap);
	snprintf(err, cap, "redis %s:%d: no TLS answer within %d ms (is it the server's tls-port?)",
		 u->host, u->port, timeout_ms);
	return BUS_FAIL_RETRY;
}

static enum bus_fail bad_certificate(struct tls_link *l, const struct bus_url *u, long vr,
				     char *err, size_t cap)
{
	const char *why = X509_verify_cert_error_string(vr);

	switch (vr) {
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		snprintf(err, cap,
			 "TLS: host name mismatch: the certificate of redis %s:%d is not for '%s' "
			 "(it names %s); use a name it holds in the URL or cluster.tls_server_name",
			 u->host, u->port, name_of(u),
			 l->peer_names[0] ? l->peer_names : "nothing");
		break;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		snprintf(err, cap,
			 "TLS: the certificate of redis %s:%d is not trusted (%s) by %s%s; set "
			 "cluster.tls_ca_file to the CA that signed it",
			 u->host, u->port, why,
			 u->tls_ca_file ? "cluster.tls_ca_file " : "the system store",
			 u->tls_ca_file ? u->tls_ca_file : "");
		break;
	default:
		snprintf(err, cap, "TLS: the certificate of redis %s:%d was rejected: %s", u->host,
			 u->port, why);
	}
	return BUS_FAIL_CONFIG;
}

static enum bus_fail failed(struct tls_link *l, const struct bus_url *u, int e, char *err,
			    size_t cap)
{
	unsigned long code = ERR_peek_last_error();
	long vr = SSL_get_verify_result(l->ssl);
	int reason = ERR_GET_REASON(code);
	char why[160];

	if (vr != X509_V_OK && reason == SSL_R_CERTIFICATE_VERIFY_FAILED)
		return bad_certificate(l, u, vr, err, cap);
	/* the server's answer came with our hello and was not a TLS record */
	if (ERR_GET_LIB(code) == ERR_LIB_SSL && reason == SSL_R_WRONG_VERSION_NUMBER)
		return plain_text(u, err, cap);
	tls_link__reason(why, sizeof(why), "the connection was closed");
	if (code && ERR_GET_LIB(code) == ERR_LIB_SSL && reason >= SSL_AD_REASON_OFFSET) {
		/* the server's alert: a protocol version, a cipher or a certificate it refuses */
		snprintf(err, cap, "redis %s:%d refused the TLS handshake: %s", u->host, u->port,
			 why);
		return BUS_FAIL_CONFIG;
	}
	if (!code || e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
	    || reason == SSL_R_UNEXPECTED_EOF_WHILE_READING
#endif
	) {
		snprintf(err, cap, "redis %s:%d closed the connection during the TLS handshake",
			 u->host, u->port);
		return BUS_FAIL_RETRY;
	}
	snprintf(err, cap, "TLS handshake with redis %s:%d failed: %s", u->host, u->port, why);
	return BUS_FAIL_CONFIG;
}

static enum bus_fail handshake(struct tls_link *l, const struct bus_url *u, int64_t deadline,
			       int timeout_ms, char *err, size_t cap)
{
	bool heard = false; /* the server's first bytes were looked at */
	int r, e;

	for (;;) {
		ERR_clear_error();
		r = SSL_connect(l->ssl);
		if (r == 1)
			return BUS_OK;
		e = SSL_get_error(l->ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			return failed(l, u, e, err, cap);
		if (wait_fd(l->tcp, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
			if (heard) {
				snprintf(err, cap, "TLS handshake with redis %s:%d timed out",
					 u->host, u->port);
				return BUS_FAIL_RETRY;
			}
			return silent(u, timeout_ms, err, cap);
		}
		if (e == SSL_ERROR_WANT_READ && !heard) {
			heard = true;
			if (not_tls(l->tcp))
				return plain_text(u, err, cap);
		}
	}
}

/*
 * A TLS 1.3 server checks the client's certificate after the client has finished its handshake,
 * so a refusal (tls-auth-clients with no or a wrong certificate) arrives as an alert after
 * SSL_connect succeeded. Read it here, briefly: AUTH written into a session the server already
 * closed meets a reset that can hide the alert, and the user would read "connection reset"
 * instead of the cause. A server that accepted sends its session tickets at once (or nothing).
 */
static enum bus_fail settle(struct tls_link *l, const struct bus_url *u, char *err, size_t cap)
{
	char b, why[160];
	int r, e;

	if (SSL_version(l->ssl) < TLS1_3_VERSION ||
	    wait_fd(l->tcp, POLLIN, clock__ns(CLOCK_MONOTONIC) + SETTLE_MS * 1000000LL))
		return BUS_OK;
	ERR_clear_error();
	r = SSL_peek(l->ssl, &b, 1);
	e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(l->ssl, r);
	if (e == SSL_ERROR_NONE || e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return BUS_OK;
	if (e == SSL_ERROR_SSL && ERR_GET_LIB(ERR_peek_last_error()) == ERR_LIB_SSL &&
	    ERR_GET_REASON(ERR_peek_last_error()) >= SSL_AD_REASON_OFFSET) {
		tls_link__reason(why, sizeof(why), "an alert");
		snprintf(err, cap, "redis %s:%d: the server ended the TLS session: %s", u->host,
			 u->port, why);
		return BUS_FAIL_CONFIG;
	}
	return failed(l, u, e, err, cap);
}

static enum bus_fail new_session(struct tls_link *l, const struct bus_url *u, char *err, size_t cap)
{
	const char *name = name_of(u);

	l->ssl = SSL_new(l->ctx);
	if (!l->ssl || !SSL_set_fd(l->ssl, l->tcp)) {
		snprintf(err, cap, "TLS: cannot create a session (out of memory)");
		return BUS_FAIL_RETRY;
	}
	SSL_set_app_data(l->ssl, l);
	/* an address is checked against the certificate's IP names and sent as no SNI */
	if (is_ip(name) ? !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(l->ssl), name)
			: !SSL_set_tlsext_host_name(l->ssl, name) || !SSL_set1_host(l->ssl, name)) {
		snprintf(err, cap, "TLS: cannot check the certificate against '%s'", name);
		return BUS_FAIL_CONFIG;
	}
	return BUS_OK;
}

static void free_link(struct tls_link *l)
{
	SSL_free(l->ssl);
	SSL_CTX_free(l->ctx);
	if (l->tcp >= 0)
		close(l->tcp);
	if (l->mine >= 0)
		close(l->mine);
	free(l);
	ERR_clear_error();
}

/* the socketpair, the relay on one end, hiredis on the other */
static enum bus_fail hand_over(struct tls_link *l, redisContext **ctx, char *err, size_t cap)
{
	int pair[2], e;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair)) {
		snprintf(err, cap, "TLS relay: socketpair: %s", strerror(errno));
		return BUS_FAIL_RETRY;
	}
	l->mine = pair[0];
	e = fcntl(pair[0], F_SETFL, O_NONBLOCK) ? -errno : tls_relay__start(l);
	if (e) {
		close(pair[1]);
		snprintf(err, cap, "TLS relay: cannot start: %s", strerror(-e));
		return BUS_FAIL_RETRY;
	}
	*ctx = redisConnectFd(pair[1]);
	if (!*ctx) {
		close(pair[1]); /* the relay sees its peer gone and ends */
		snprintf(err, cap, "TLS relay: out of memory");
		return BUS_FAIL_RETRY;
	}
	return BUS_OK;
}

enum bus_fail tls_link__connect(const struct bus_url *u, int timeout_ms, redisContext **ctx,
				struct tls_link **link, char *err, size_t cap)
{
	int64_t deadline = clock__ns(CLOCK_MONOTONIC) + timeout_ms * 1000000ll;
	struct tls_link *l = calloc(1, sizeof(*l));
	enum bus_fail f;

	*ctx = NULL;
	*link = NULL;
	if (!l) {
		snprintf(err, cap, "TLS: out of memory");
		return BUS_FAIL_RETRY;
	}
	l->tcp = l->mine = -1;
	if (make_ctx(u, &l->ctx, err, cap))
		f = BUS_FAIL_CONFIG;
	else if ((f = tcp_connect(u, deadline, &l->tcp, err, cap)) == BUS_OK &&
		 (f = new_session(l, u, err, cap)) == BUS_OK &&
		 (f = handshake(l, u, deadline, timeout_ms, err, cap)) == BUS_OK &&
		 (f = settle(l, u, err, cap)) == BUS_OK)
		f = hand_over(l, ctx, err, cap);
	if (f != BUS_OK) {
		tls_link__close(l);
		return f;
	}
	*link = l;
	return BUS_OK;
}

const char *tls_link__error(struct tls_link *l, bool *refused)
{
	*refused = false;
	if (!l || !atomic_load_explicit(&l->ended, memory_order_acquire) || !l->err[0])
		return NULL;
	*refused = l->refused;
	return l->err;
}

void tls_link__close(struct tls_link *l)
{
	if (!l)
		return;
	if (l->relay_started)
		pthread_join(l->relay, NULL);
	free_link(l);
}
