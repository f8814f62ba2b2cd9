/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls_link: rediss:// for a hiredis without TLS (Debian 12's 0.14 has no hiredis_ssl).
 *
 * keyhole opens the TCP connection and does the TLS handshake itself with OpenSSL (TLS 1.2 or
 * later, the server certificate verified against cluster.tls_ca_file or the system store, its
 * host name or IP checked, SNI sent), then hands hiredis one end of a socketpair; a relay thread
 * carries the bytes between that socketpair and the TLS session. hiredis sees a plain socket and
 * needs nothing else. Each connection (and each reconnect) is a new link: a new handshake, a new
 * relay, the certificate files read again (so a rotated certificate is picked up).
 *
 * Failures are named: a certificate not trusted, a host name mismatch, a handshake the server
 * refused, a plain-text server behind a rediss:// URL. None of them prints the password.
 */
#ifndef KEYHOLE_CLUSTER_TLS_LINK_H
#define KEYHOLE_CLUSTER_TLS_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

#include "cluster/bus.h"

struct tls_link;
struct kh_cluster_opts;

/* take @o's tls_* settings into @u and check them (tls_link__check); 0 or -EINVAL with @err */
int tls_link__configure(struct bus_url *u, const struct kh_cluster_opts *o, char *err, size_t cap);

/*
 * Check u's TLS settings without connecting: TLS files only with a rediss:// URL, a client
 * certificate only with its key, and the files load (CA, certificate, key match). 0 or -EINVAL
 * with @err naming the setting and the file.
 */
int tls_link__check(const struct bus_url *u, char *err, size_t cap);

/*
 * Connect to u->host:u->port, handshake (within @timeout_ms), start the relay and give hiredis
 * its end: *@ctx and *@link on BUS_OK. BUS_FAIL_CONFIG for what retrying will not fix (an
 * untrusted or mismatched certificate, a refused handshake, a plain-text server), BUS_FAIL_RETRY
 * for an outage (refused, unreachable, timed out); @err says which.
 */
enum bus_fail tls_link__connect(const struct bus_url *u, int timeout_ms, redisContext **ctx,
				struct tls_link **link, char *err, size_t cap);

/*
 * Why the relay ended the session (the server's TLS alert, its close), NULL while it runs or
 * when nothing was said; *@refused when the server refused us (an alert: a client certificate it
 * wanted, or did not trust). Call after hiredis reported the connection lost.
 */
const char *tls_link__error(struct tls_link *l, bool *refused);

/* after redisFree() closed hiredis's end: stop the relay, close the session; NULL is a no-op */
void tls_link__close(struct tls_link *l);

#endif /* KEYHOLE_CLUSTER_TLS_LINK_H */
