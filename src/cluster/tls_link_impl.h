/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls_link internals shared by the handshake (tls_link.c) and the relay (tls_relay.c).
 *
 * The owner (a publisher or correlator thread) creates the link and, once the relay runs, only
 * joins it; the relay alone touches the SSL object until it returns. It ends when hiredis closes
 * its end of the socketpair (redisFree) or when the server ends the session, recording why first.
 */
#ifndef KEYHOLE_CLUSTER_TLS_LINK_IMPL_H
#define KEYHOLE_CLUSTER_TLS_LINK_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <openssl/ssl.h>

struct tls_link {
	SSL_CTX *ctx;
	SSL *ssl;
	int tcp;  /* the TLS connection to Redis, non-blocking */
	int mine; /* the relay's end of the socketpair, non-blocking; hiredis holds the other */
	pthread_t relay;
	bool relay_started;
	bool fatal;	      /* the session broke: no close_notify may be sent */
	bool refused;	      /* the server ended it with an alert */
	atomic_bool ended;    /* set (release) once err is final */
	char err[256];	      /* why the session ended, for the bus's messages */
	char peer_names[256]; /* the server certificate's names, for a host name mismatch */
};

/* start the relay thread (all signals blocked in it); 0 or -errno */
int tls_relay__start(struct tls_link *l);

/* OpenSSL's reason for the last error of this thread, or @fallback */
void tls_link__reason(char *buf, size_t cap, const char *fallback);

#endif /* KEYHOLE_CLUSTER_TLS_LINK_IMPL_H */
