// SPDX-License-Identifier: Apache-2.0
/*
 * metrics_http: the `--metrics ADDR:PORT` endpoint. GET /metrics (Prometheus text), /healthz
 * (liveness) and /readyz (readiness), served by libevent's evhttp in a thread of its own so a
 * slow scraper never stalls capture.
 *
 * Why libevent and not libmicrohttpd: the container image and the kernel matrix run the static
 * build, and Debian's libmicrohttpd.a cannot be linked statically (it is built with GnuTLS,
 * whose static archive needs p11-kit, of which Debian ships no static library). libevent's
 * archives link statically with nothing else, so one implementation serves both builds.
 *
 * The socket is made here (numeric address, no name resolution, so the static binary needs no
 * NSS) and handed to evhttp. Signals are blocked in the server thread: SIGHUP and SIGTERM go to
 * the agent's main thread, and a scraper hanging up mid-reply gives EPIPE, not a dead agent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

#include "keyhole/caps.h"
#include "keyhole/log.h"
#include "output/metrics_server.h"

/* a scrape or a probe is one small request: anything slower or bigger is not a client of ours */
#define KH_HTTP_TIMEOUT_SEC 10
#define KH_HTTP_MAX_HEADERS 8192

struct metrics_server {
	struct kh_metrics *m;
	const struct metrics_server_pages *pages;
	struct event_base *base;
	struct evhttp *http;
	struct event *stop; /* activated from the agent's thread to end the loop */
	pthread_t thread;
	int port;
	int fd_owned; /* evhttp took the listening socket (and will close it) */
};

union kh_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

/* "HOST:PORT", "[V6]:PORT", ":PORT" (any IPv4) or "PORT" (127.0.0.1); numeric only */
static int parse_addr(const char *addr, union kh_sockaddr *sa, socklen_t *len)
{
	char host[64];
	const char *colon, *port_s;
	char *end;
	long port;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':' || (size_t)(close - addr - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, addr + 1, (size_t)(close - addr - 1));
		host[close - addr - 1] = '\0';
		port_s = close + 2;
	} else if ((colon = strrchr(addr, ':'))) {
		if ((size_t)(colon - addr) >= sizeof(host))
			return -EINVAL;
		memcpy(host, addr, (size_t)(colon - addr));
		host[colon - addr] = '\0';
		if (!host[0])
			strcpy(host, "0.0.0.0");
		port_s = colon + 1;
	} else {
		strcpy(host, "127.0.0.1");
		port_s = addr;
	}
	errno = 0;
	port = strtol(port_s, &end, 10);
	if (!*port_s || *end || errno || port < 0 || port > 65535)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, host, &sa->in4.sin_addr) == 1) {
		sa->in4.sin_family = AF_INET;
		sa->in4.sin_port = htons((uint16_t)port);
		*len = sizeof(sa->in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sa->in6.sin6_addr) == 1) {
		sa->in6.sin6_family = AF_INET6;
		sa->in6.sin6_port = htons((uint16_t)port);
		*len = sizeof(sa->in6);
		return 0;
	}
	return -EINVAL;
}

/* a listening socket on @addr; returns the fd (and the bound port in *port) or negative errno */
static int listen_on(const char *addr, int *port)
{
	union kh_sockaddr sa;
	socklen_t len;
	int one = 1, fd, err = parse_addr(addr, &sa, &len);

	if (err) {
		kh_log(KH_LOG_ERROR,
		       "--metrics %s: not an address; give HOST:PORT with a numeric host, e.g. "
		       "127.0.0.1:9400, [::1]:9400 or :9400 for every IPv4 address",
		       addr);
		return err;
	}
	fd = socket(sa.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* a restarted agent must rebind at once, not wait out TIME_WAIT */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &sa.sa, len) || listen(fd, 16))
		goto fail;
	len = sizeof(sa);
	if (getsockname(fd, &sa.sa, &len))
		goto fail;
	*port = ntohs(sa.sa.sa_family == AF_INET ? sa.in4.sin_port : sa.in6.sin6_port);
	return fd;
fail:
	err = -errno;
	kh_log(KH_LOG_ERROR, "--metrics %s: cannot listen: %s (is another process on that port?)",
	       addr, strerror(errno));
	if (fd >= 0)
		close(fd);
	return err;
}

static void reply(struct evhttp_request *req, int code, const char *reason, const char *ctype,
		  const char *body, size_t len)
{
	struct evbuffer *buf = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (!buf) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	evbuffer_add(buf, body, len);
	evhttp_send_reply(req, code, reason, buf);
	evbuffer_free(buf);
}

static int get_only(struct evhttp_request *req)
{
	enum evhttp_cmd_type t = evhttp_request_get_command(req);

	if (t == EVHTTP_REQ_GET || t == EVHTTP_REQ_HEAD)
		return 1;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
	evhttp_send_error(req, 405, "Method Not Allowed");
	return 0;
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct metrics_server *s = arg;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	if (!get_only(req))
		return;
	f = open_memstream(&text, &len);
	if (!f) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	err = s->pages->render(s->m, f);
	if (fclose(f) || err)
		evhttp_send_error(req, 500, "cannot render metrics");
	else
		reply(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", text, len);
	free(text);
}

static void on_health(struct evhttp_request *req, void *arg, int ready)
{
	struct metrics_server *s = arg;
	char msg[160];
	int ok;

	if (!get_only(req))
		return;
	ok = ready ? s->pages->ready(s->m, msg, sizeof(msg) - 1)
		   : s->pages->healthy(s->m, msg, sizeof(msg) - 1);
	strcat(msg, "\n");
	reply(req, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", "text/plain; charset=utf-8",
	      msg, strlen(msg));
}

static void on_healthz(struct evhttp_request *req, void *arg)
{
	on_health(req, arg, 0);
}

static void on_readyz(struct evhttp_request *req, void *arg)
{
	on_health(req, arg, 1);
}

static void on_other(struct evhttp_request *req, void *arg)
{
	static const char body[] = "not found: try /metrics, /healthz or /readyz\n";

	(void)arg;
	reply(req, 404, "Not Found", "text/plain; charset=utf-8", body, sizeof(body) - 1);
}

static void *serve_thread(void *arg)
{
	struct metrics_server *s = arg;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	/* serving HTTP attaches nothing: what the main thread keeps only permitted for its
	 * attaches (run --late-uprobes: CAP_SYS_ADMIN) this thread gives up */
	caps__narrow_thread();
	event_base_dispatch(s->base);
	return NULL;
}

/*
 * event_base_loopbreak() from another thread is lost if the loop has not started yet (the loop
 * clears the flag on entry); an activated event is not, so stopping goes through one.
 */
static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static void threads_init(void)
{
	/* lets metrics_server__stop() break the loop from the agent's thread */
	if (evthread_use_pthreads())
		kh_log(KH_LOG_WARN, "libevent without thread support: metrics stop may hang");
}

static int server_setup(struct metrics_server *s, int fd)
{
	s->base = event_base_new();
	if (!s->base)
		return -ENOMEM;
	s->stop = event_new(s->base, -1, 0, on_stop, s->base);
	s->http = evhttp_new(s->base);
	if (!s->stop || !s->http)
		return -ENOMEM;
	evhttp_set_timeout(s->http, KH_HTTP_TIMEOUT_SEC);
	evhttp_set_max_headers_size(s->http, KH_HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(s->http, 0);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
						EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_cb(s->http, "/metrics", on_metrics, s);
	evhttp_set_cb(s->http, "/healthz", on_healthz, s);
	evhttp_set_cb(s->http, "/readyz", on_readyz, s);
	evhttp_set_gencb(s->http, on_other, s);
	/* evhttp owns the socket from here on and closes it in evhttp_free() */
	if (!evhttp_accept_socket_with_handle(s->http, fd))
		return -ENOMEM;
	s->fd_owned = 1;
	return 0;
}

struct metrics_server *metrics_server__start(const struct metrics_server_pages *pages,
					     struct kh_metrics *m, const char *addr)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct metrics_server *s;
	int fd, err;

	pthread_once(&once, threads_init);
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->m = m;
	s->pages = pages;
	fd = listen_on(addr, &s->port);
	if (fd < 0) {
		free(s);
		errno = -fd;
		return NULL;
	}
	err = server_setup(s, fd);
	if (!err)
		err = -pthread_create(&s->thread, NULL, serve_thread, s);
	if (err) {
		kh_log(KH_LOG_ERROR, "--metrics %s: cannot start the server: %s", addr,
		       strerror(-err));
		if (!s->fd_owned)
			close(fd);
		if (s->http)
			evhttp_free(s->http);
		if (s->stop)
			event_free(s->stop);
		if (s->base)
			event_base_free(s->base);
		free(s);
		errno = -err;
		return NULL;
	}
	kh_log(KH_LOG_INFO, "metrics: serving /metrics, /healthz and /readyz on %s (port %d)", addr,
	       s->port);
	return s;
}

void metrics_server__stop(struct metrics_server *s)
{
	if (!s)
		return;
	event_active(s->stop, EV_READ, 0);
	pthread_join(s->thread, NULL);
	evhttp_free(s->http);
	event_free(s->stop);
	event_base_free(s->base);
	free(s);
}

int metrics_server__port(const struct metrics_server *s)
{
	return s->port;
}
