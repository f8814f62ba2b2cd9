// SPDX-License-Identifier: Apache-2.0
/*
 * tls_link: the rediss:// settings (which combinations are refused, and how each names its
 * setting and file), the cluster.tls_* configuration keys, and the relay itself against a real
 * TLS-only redis-server the test starts with certificates the openssl CLI makes: a 1 MiB value
 * both ways through the 16 KiB relay buffers, a long pipeline, and reconnects that leave no
 * descriptor or thread behind. tests/e2e/cluster_tls.sh runs cluster mode over it.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster/bus.h"
#include "cluster/tls_link.h"
#include "keyhole/cluster.h"
#include "keyhole/config.h"

static struct bus_url tls_url(const char *url)
{
	struct bus_url u;
	char err[256];

	cr_assert_eq(bus_url__parse(url, &u, err, sizeof(err)), 0, "%s", err);
	return u;
}

/* @u is refused by tls_link__check with a message holding @frag */
static void refused(const struct bus_url *u, const char *frag)
{
	char err[512] = "";

	cr_assert_eq(tls_link__check(u, err, sizeof(err)), -EINVAL, "accepted (wanted '%s')", frag);
	cr_expect(strstr(err, frag) != NULL, "'%s' lacks '%s'", err, frag);
}

Test(tls_settings, only_with_rediss)
{
	struct bus_url u = tls_url("redis://127.0.0.1:6379");
	char err[256];

	cr_expect_eq(tls_link__check(&u, err, sizeof(err)), 0, "%s", err);
	u.tls_ca_file = "/etc/hostname";
	refused(&u, "cluster.tls_ca_file is set but the URL is redis://");
	u.tls_ca_file = NULL;
	u.tls_server_name = "redis.test";
	refused(&u, "cluster.tls_server_name is set but the URL is redis://");
}

Test(tls_settings, system_store_by_default)
{
	struct bus_url u = tls_url("rediss://redis.example");
	char err[256];

	cr_expect(u.tls);
	cr_expect_eq(u.port, 6379);
	cr_expect_eq(tls_link__check(&u, err, sizeof(err)), 0, "%s", err);
}

Test(tls_settings, files_named)
{
	struct bus_url u = tls_url("rediss://127.0.0.1:6380/1");
	char path[] = "/tmp/kh-tls-unit.XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "not a certificate\n", 18), 18);
	close(fd);
	u.tls_ca_file = "/nonexistent/ca.crt";
	refused(&u, "cluster.tls_ca_file /nonexistent/ca.crt: No such file or directory");
	u.tls_ca_file = path;
	refused(&u, "cluster.tls_ca_file /tmp/kh-tls-unit.");
	u.tls_ca_file = NULL;
	u.tls_cert_file = path;
	refused(&u, "cluster.tls_cert_file and cluster.tls_key_file go together");
	u.tls_key_file = "/nonexistent/client.key";
	refused(&u, "cluster.tls_key_file /nonexistent/client.key: No such file");
	u.tls_key_file = path;
	refused(&u, "cluster.tls_cert_file /tmp/kh-tls-unit.");
	u.tls_cert_file = NULL;
	refused(&u, "go together");
	unlink(path);
}

Test(tls_settings, server_name_checked)
{
	struct bus_url u = tls_url("rediss://10.0.0.7");

	u.tls_server_name = "redis service";
	refused(&u, "cluster.tls_server_name 'redis service': not a host name");
	u.tls_server_name = "";
	refused(&u, "not a host name");
}

Test(tls_settings, configured_from_the_config_file)
{
	static const char yaml[] = "cluster:\n"
				   "  url: rediss://redis.kube-system.svc:6380\n"
				   "  tls_ca_file: /etc/keyhole/redis-ca.crt\n"
				   "  tls_cert_file: /etc/keyhole/client.crt\n"
				   "  tls_key_file: /etc/keyhole/client.key\n"
				   "  tls_server_name: redis.kube-system.svc\n";
	struct kh_config_error cerr;
	struct kh_config *c = NULL;
	struct kh_cluster_opts o;
	struct bus_url u = tls_url("rediss://10.96.0.20:6380");
	char err[512] = "";

	cr_assert_eq(config__load_buf(yaml, strlen(yaml), "t.yaml", NULL, &c, &cerr), 0, "%s",
		     cerr.msg);
	cluster_opts__from_config(&o, c);
	cr_expect_str_eq(o.tls_ca_file, "/etc/keyhole/redis-ca.crt");
	cr_expect_str_eq(o.tls_cert_file, "/etc/keyhole/client.crt");
	cr_expect_str_eq(o.tls_key_file, "/etc/keyhole/client.key");
	cr_expect_str_eq(o.tls_server_name, "redis.kube-system.svc");
	/* taken into the URL, then checked: the CA file does not exist here */
	cr_expect_eq(tls_link__configure(&u, &o, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(u.tls_server_name, "redis.kube-system.svc");
	cr_expect(strstr(err, "/etc/keyhole/redis-ca.crt") != NULL, "%s", err);
	config__free(c);
	cluster_opts__defaults(&o);
	cr_expect_null(o.tls_ca_file);
}

/* ---- the relay, against a real redis-server ------------------------------------------------- */

static char dir[] = "/tmp/kh-tls-relay.XXXXXX";
static pid_t redis_pid;

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	cr_assert(!bind(s, (struct sockaddr *)&a, sizeof(a)));
	cr_assert(!getsockname(s, (struct sockaddr *)&a, &len));
	port = ntohs(a.sin_port);
	close(s);
	return port;
}

static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
}

static int start_redis(void)
{
	int port = free_port();
	char p[16], cert[128], key[128], ca[128];

	cr_assert_not_null(mkdtemp(dir));
	sh("cd %s && openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=kh-unit-ca "
	   "-keyout ca.key -out ca.crt 2>/dev/null && "
	   "openssl req -newkey rsa:2048 -nodes -subj /CN=kh-unit -keyout srv.key -out srv.csr "
	   "2>/dev/null && printf 'subjectAltName=IP:127.0.0.1\\n' > ext && "
	   "openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 "
	   "-extfile ext -out srv.crt 2>/dev/null",
	   dir);
	snprintf(p, sizeof(p), "%d", port);
	snprintf(cert, sizeof(cert), "%s/srv.crt", dir);
	snprintf(key, sizeof(key), "%s/srv.key", dir);
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	redis_pid = fork();
	cr_assert_geq(redis_pid, 0);
	if (!redis_pid) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execlp("redis-server", "redis-server", "--port", "0", "--tls-port", p, "--bind",
		       "127.0.0.1", "--save", "", "--tls-cert-file", cert, "--tls-key-file", key,
		       "--tls-ca-cert-file", ca, "--tls-auth-clients", "no", "--dir", dir, NULL);
		_exit(127);
	}
	return port;
}

static void stop_redis(void)
{
	if (redis_pid > 0) {
		kill(redis_pid, SIGKILL);
		waitpid(redis_pid, NULL, 0);
	}
	sh("rm -rf %s", dir);
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static void connect_bus(struct bus *b)
{
	char err[512] = "";
	int i;

	for (i = 0; i < 100; i++) {
		b->next_try_ns = 0;
		if (bus__ensure(b, err, sizeof(err)) == BUS_OK)
			return;
		usleep(100000);
	}
	cr_assert_fail("no TLS connection to redis-server in 10 s: %s", err);
}

Test(tls_relay, carries_big_values_pipelines_and_reconnects, .fini = stop_redis, .timeout = 120)
{
	struct bus_url u;
	struct bus b;
	char url[64], ca[128];
	size_t big = 1 << 20, i;
	char *val = malloc(big);
	redisReply *r;
	int port = start_redis(), fds;

	snprintf(url, sizeof(url), "rediss://127.0.0.1:%d", port);
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	u = tls_url(url);
	u.tls_ca_file = ca;
	bus__init(&b, &u, "test");
	connect_bus(&b);
	cr_assert_not_null(b.link, "a rediss:// bus has a TLS link");

	/* 1 MiB of every byte value, out through the relay and back */
	for (i = 0; i < big; i++)
		val[i] = (char)(i * 7 + i / 251);
	r = redisCommand(b.ctx, "SET big %b", val, big);
	cr_assert(r && r->type == REDIS_REPLY_STATUS, "SET: %s", r ? r->str : b.ctx->errstr);
	freeReplyObject(r);
	r = redisCommand(b.ctx, "GET big");
	cr_assert(r && r->type == REDIS_REPLY_STRING && r->len == big);
	cr_expect(!memcmp(r->str, val, big), "the value came back changed");
	freeReplyObject(r);

	/* 5000 pipelined commands, the replies in order */
	for (i = 0; i < 5000; i++)
		redisAppendCommand(b.ctx, "INCR n");
	for (i = 0; i < 5000; i++) {
		cr_assert_eq(redisGetReply(b.ctx, (void **)&r), REDIS_OK, "%s", b.ctx->errstr);
		cr_expect_eq(r->integer, (long long)i + 1);
		freeReplyObject(r);
	}

	/* each reconnect is a new handshake and relay; none leaves a descriptor behind */
	bus__drop(&b);
	fds = open_fds();
	for (i = 0; i < 30; i++) {
		connect_bus(&b);
		r = redisCommand(b.ctx, "GET n");
		cr_assert(r && r->type == REDIS_REPLY_STRING && !strcmp(r->str, "5000"));
		freeReplyObject(r);
		bus__drop(&b);
	}
	cr_expect_eq(open_fds(), fds, "descriptors leaked over 30 reconnects");

	/* the server going away: the loss is seen, and the next attempt is an outage, not a fault
	 */
	connect_bus(&b);
	kill(redis_pid, SIGKILL);
	waitpid(redis_pid, NULL, 0);
	redis_pid = 0;
	r = redisCommand(b.ctx, "GET n");
	cr_expect(bus__bad_reply(&b, r), "a command on a dead server got a reply");
	if (r)
		freeReplyObject(r);
	{
		char err[512] = "";

		b.next_try_ns = 0;
		cr_expect_eq(bus__ensure(&b, err, sizeof(err)), BUS_FAIL_RETRY, "%s", err);
		cr_expect(strstr(err, "cannot reach redis") != NULL, "%s", err);
	}
	bus__fini(&b);
	free(val);
}
