// SPDX-License-Identifier: Apache-2.0
/*
 * tls_relay: the thread that carries hiredis's bytes over a TLS session.
 *
 * hiredis holds one end of a socketpair and reads and writes it as if it were Redis; the relay
 * holds the other end and the TLS connection, both non-blocking, and moves bytes both ways
 * through one 16 KiB buffer per direction, so its memory is fixed. It polls only what can make
 * progress: hiredis's end while the outgoing buffer is empty, the TLS socket for what OpenSSL
 * last asked for. It ends when hiredis closes its end (redisFree on a drop or a stop) or when
 * the session ends, and in the second case shuts the way to hiredis so its read sees the loss
 * after the reason is recorded for the bus's message.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>

#include "cluster/tls_link_impl.h"
#include "keyhole/caps.h"

#define RELAY_BUF 16384

struct half {
	unsigned char b[RELAY_BUF];
	size_t off, len; /* bytes b[off, len) wait to go on */
};

enum step { IDLE, MOVED, DONE };

/* the session ended: say why, once, before hiredis can see the loss */
static void ended(struct tls_link *l, int e, int sys_errno)
{
	unsigned long code = ERR_peek_last_error();
	char why[160];

	l->fatal = e != SSL_ERROR_ZERO_RETURN;
	tls_link__reason(why, sizeof(why), sys_errno ? strerror(sys_errno) : "connection closed");
	if (e == SSL_ERROR_ZERO_RETURN) {
		snprintf(l->err, sizeof(l->err), "the server closed the TLS session");
	} else if (code && ERR_GET_LIB(code) == ERR_LIB_SSL &&
		   ERR_GET_REASON(code) >= SSL_AD_REASON_OFFSET) {
		/* an alert: TLS 1.3 servers refuse a client certificate after the handshake */
		l->refused = true;
		snprintf(l->err, sizeof(l->err), "the server ended the TLS session: %s", why);
	} else {
		snprintf(l->err, sizeof(l->err), "the TLS session broke: %s", why);
	}
	ERR_clear_error();
	atomic_store_explicit(&l->ended, true, memory_order_release);
}

/* an SSL_read or SSL_write that moved nothing: what it waits for, or false when the session ended
 */
static bool waits(struct tls_link *l, int r, short *ev)
{
	int e = SSL_get_error(l->ssl, r), sys = errno;

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		*ev = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		return true;
	}
	ended(l, e, e == SSL_ERROR_SYSCALL ? sys : 0);
	return false;
}

/* hiredis -> TLS */
static enum step outgoing(struct tls_link *l, struct half *h, short *wants)
{
	enum step s = IDLE;
	ssize_t n;
	int r;

	if (!h->len) {
		n = recv(l->mine, h->b, sizeof(h->b), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return DONE; /* hiredis closed its end */
		if (n > 0) {
			h->off = 0;
			h->len = (size_t)n;
			s = MOVED;
		}
	}
	if (h->len) {
		ERR_clear_error();
		r = SSL_write(l->ssl, h->b + h->off, (int)(h->len - h->off));
		if (r > 0) {
			h->off += (size_t)r;
			if (h->off == h->len)
				h->len = 0;
			s = MOVED;
		} else if (!waits(l, r, wants)) {
			return DONE;
		}
	}
	return s;
}

/* TLS -> hiredis */
static enum step incoming(struct tls_link *l, struct half *h, short *wants)
{
	enum step s = IDLE;
	ssize_t n;
	int r;

	if (!h->len) {
		ERR_clear_error();
		r = SSL_read(l->ssl, h->b, sizeof(h->b));
		if (r > 0) {
			h->off = 0;
			h->len = (size_t)r;
			s = MOVED;
		} else if (!waits(l, r, wants)) {
			return DONE;
		}
	}
	if (h->len) {
		n = send(l->mine, h->b + h->off, h->len - h->off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return DONE;
		if (n > 0) {
			h->off += (size_t)n;
			if (h->off == h->len)
				h->len = 0;
			s = MOVED;
		}
	}
	return s;
}

static void relay(struct tls_link *l, struct half *up, struct half *down)
{
	short up_wants = POLLOUT, down_wants = POLLIN;
	bool tcp_hup = false;
	enum step a, b;

	for (;;) {
		do {
			a = outgoing(l, up, &up_wants);
			b = a == DONE ? DONE : incoming(l, down, &down_wants);
		} while (a == MOVED || b == MOVED);
		if (a == DONE || b == DONE)
			return;
		struct pollfd p[2] = {
		    {l->mine, (short)((up->len ? 0 : POLLIN) | (down->len ? POLLOUT : 0)), 0},
		    {l->tcp, (short)((up->len ? up_wants : 0) | (down->len ? 0 : down_wants)), 0},
		};
		/* a closed TLS socket polls ready at once: leave it until hiredis took what is here
		 */
		if (tcp_hup && down->len)
			p[1].fd = -1;
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return;
		if (p[0].revents & (POLLHUP | POLLERR))
			return; /* hiredis is gone: what it had not read is moot */
		tcp_hup = p[1].revents & (POLLHUP | POLLERR);
	}
}

static void *relay_main(void *arg)
{
	struct tls_link *l = arg;
	struct half up, down; /* 32 KiB of the thread's stack (8 MiB) */

	caps__drop_thread(); /* see caps.h */
	up.off = up.len = down.off = down.len = 0;
	relay(l, &up, &down);
	if (!l->fatal)
		SSL_shutdown(l->ssl); /* close_notify, best effort, never waited for */
	ERR_clear_error();
	/* hiredis reads the end; its writes still land (unread), so none raises SIGPIPE */
	shutdown(l->mine, SHUT_WR);
	return NULL;
}

int tls_relay__start(struct tls_link *l)
{
	sigset_t all, old;
	int e;

	/* the signals are the main thread's to take */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&l->relay, NULL, relay_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	l->relay_started = !e;
	return -e;
}
