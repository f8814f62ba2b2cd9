// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for src/output/metrics*.c: the registry's text format, its validation, and the HTTP
 * endpoint scraped over loopback with a plain socket client: counters move between scrapes,
 * /healthz and /readyz follow the agent's state, and the pipeline's counters are exported.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "keyhole/metrics.h"
#include "keyhole/pipeline.h"
#include "keyhole/rule.h"

static char *render(struct kh_metrics *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	cr_assert_eq(metrics__render(m, f), 0);
	fclose(f);
	return text;
}

/* one HTTP/1.0 request over loopback; returns the status, body copied into @body */
static int http(int port, const char *method, const char *path, char *body, size_t cap)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	char req[256], *resp = calloc(1, 1 << 20), *p;
	size_t len = 0;
	ssize_t n;
	int fd, status = -1;

	cr_assert_not_null(resp);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s",
		     strerror(errno));
	snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: localhost\r\n\r\n", method, path);
	cr_assert_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while ((n = read(fd, resp + len, (1 << 20) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	sscanf(resp, "HTTP/1.%*d %d", &status);
	p = strstr(resp, "\r\n\r\n");
	if (body && cap) {
		snprintf(body, cap, "%s", p ? p + 4 : "");
	}
	free(resp);
	return status;
}

/* the value of the sample line starting with @series (name plus labels), or -1 */
static long long sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, series, n) && l[n] == ' ')
			return atoll(l + n + 1);
	return -1;
}

Test(metrics, text_format_groups_escapes_and_reads_live_values)
{
	struct kh_metrics *m = metrics__new();
	uint64_t a = 5, b = 7, c = 1;
	char *t;

	cr_assert_not_null(m);
	cr_assert_eq(metrics__add_counter(m, "t_total", "a counter", &c), 0);
	cr_assert_eq(metrics__add(m, &(struct kh_metric){.name = "t_by_rule_total",
							 .help = "with \\ backslash",
							 .type = KH_METRIC_COUNTER,
							 .label_name = "rule",
							 .label_value = "a\"b\\c\nd",
							 .value = &a}),
		     0);
	cr_assert_eq(metrics__add(m, &(struct kh_metric){.name = "t_by_rule_total",
							 .help = "ignored: first help wins",
							 .type = KH_METRIC_COUNTER,
							 .label_name = "rule",
							 .label_value = "plain",
							 .value = &b}),
		     0);
	c = 42;
	t = render(m);
	cr_assert_not_null(
	    strstr(t, "# HELP t_total a counter\n# TYPE t_total counter\nt_total 42\n"), "%s", t);
	/* one header for the family, then both of its samples, escaped */
	cr_assert_not_null(strstr(t, "# HELP t_by_rule_total with \\\\ backslash\n"
				     "# TYPE t_by_rule_total counter\n"
				     "t_by_rule_total{rule=\"a\\\"b\\\\c\\nd\"} 5\n"
				     "t_by_rule_total{rule=\"plain\"} 7\n"),
			   "%s", t);
	cr_assert_null(strstr(t, "ignored"));
	cr_assert_not_null(strstr(t, "keyhole_build_info{version=\"" KEYHOLE_VERSION "\"} 1\n"));
	cr_assert_not_null(strstr(t, "# TYPE keyhole_ready gauge\nkeyhole_ready 0\n"), "%s", t);
	free(t);
	metrics__free(m);
}

static double half(void *ctx)
{
	return *(double *)ctx / 2;
}

Test(metrics, gauge_functions_are_called_at_scrape_time)
{
	struct kh_metrics *m = metrics__new();
	double v = 3;
	char *t;

	cr_assert_eq(metrics__add(m, &(struct kh_metric){.name = "t_lag_seconds",
							 .help = "lag",
							 .type = KH_METRIC_GAUGE,
							 .fn = half,
							 .ctx = &v}),
		     0);
	t = render(m);
	cr_assert_not_null(strstr(t, "t_lag_seconds 1.5\n"), "%s", t);
	free(t);
	v = 1.0 / 0.0;
	t = render(m);
	cr_assert_not_null(strstr(t, "t_lag_seconds +Inf\n"), "%s", t);
	free(t);
	metrics__free(m);
}

Test(metrics, rejects_bad_definitions)
{
	struct kh_metrics *m = metrics__new();
	uint64_t v = 0;

	cr_assert_eq(metrics__add_counter(m, "9starts_with_digit", "h", &v), -EINVAL);
	cr_assert_eq(metrics__add_counter(m, "has-dash", "h", &v), -EINVAL);
	cr_assert_eq(metrics__add_counter(m, "x_total", "two\nlines", &v), -EINVAL);
	cr_assert_eq(metrics__add_counter(m, "x_total", "no value", NULL), -EINVAL);
	cr_assert_eq(metrics__add(m, &(struct kh_metric){.name = "x",
							 .help = "h",
							 .label_name = "__reserved",
							 .label_value = "v",
							 .value = &v}),
		     -EINVAL);
	cr_assert_eq(metrics__add_counter(m, "x_total", "h", &v), 0);
	cr_assert_eq(metrics__add_counter(m, "x_total", "h", &v), -EEXIST, "duplicate series");
	cr_assert_eq(metrics__add(m, &(struct kh_metric){.name = "x_total",
							 .help = "h",
							 .type = KH_METRIC_GAUGE,
							 .value = &v}),
		     -EEXIST, "same name, other type");
	cr_assert_eq(metrics__add_counter(NULL, "x_total", "h", &v), 0, "no registry: no-op");
	metrics__free(m);
}

Test(metrics, scrape_over_loopback_sees_counters_move)
{
	struct kh_metrics *m = metrics__new();
	uint64_t events = 0;
	char *body = malloc(1 << 20);
	int port;

	cr_assert_eq(metrics__add_counter(m, "t_events_total", "events", &events), 0);
	cr_assert_eq(metrics__serve(m, "127.0.0.1:0"), 0);
	port = metrics__port(m);
	cr_assert_gt(port, 0);

	cr_assert_eq(http(port, "GET", "/metrics", body, 1 << 20), 200);
	cr_assert_eq(sample(body, "t_events_total"), 0, "%s", body);
	events += 1234;
	cr_assert_eq(http(port, "GET", "/metrics", body, 1 << 20), 200);
	cr_assert_eq(sample(body, "t_events_total"), 1234, "%s", body);

	/* registering while serving works, and shows on the next scrape */
	cr_assert_eq(metrics__add_counter(m, "t_late_total", "late", &events), 0);
	cr_assert_eq(http(port, "GET", "/metrics", body, 1 << 20), 200);
	cr_assert_eq(sample(body, "t_late_total"), 1234);

	cr_assert_eq(http(port, "GET", "/nope", body, 1 << 20), 404);
	cr_assert_eq(http(port, "POST", "/metrics", body, 1 << 20), 405);
	free(body);
	metrics__free(m);
}

Test(metrics, health_and_readiness_follow_the_agent)
{
	struct kh_metrics *m = metrics__new();
	char body[512];
	int port;

	cr_assert_eq(metrics__serve(m, ":0"), 0);
	port = metrics__port(m);

	cr_assert_eq(http(port, "GET", "/healthz", body, sizeof(body)), 200);
	cr_assert_eq(http(port, "GET", "/readyz", body, sizeof(body)), 503);
	cr_assert_not_null(strstr(body, "not attached"), "%s", body);

	metrics__set_attached(m, 1);
	cr_assert_eq(http(port, "GET", "/readyz", body, sizeof(body)), 503);
	cr_assert_not_null(strstr(body, "no kube-apiserver"), "%s", body);

	metrics__set_apiserver(m, KH_APISERVER_FOUND);
	cr_assert_eq(http(port, "GET", "/readyz", body, sizeof(body)), 200, "%s", body);
	cr_assert_eq(http(port, "GET", "/metrics", body, sizeof(body)), 200);
	cr_assert_eq(sample(body, "keyhole_ready"), 1);

	metrics__set_apiserver(m, KH_APISERVER_ABSENT);
	cr_assert_eq(http(port, "GET", "/readyz", body, sizeof(body)), 200, "%s", body);

	/* a main loop that stops beating turns liveness red */
	metrics__set_stall_timeout(m, 1);
	metrics__heartbeat(m);
	cr_assert_eq(http(port, "GET", "/healthz", body, sizeof(body)), 200);
	usleep(1300 * 1000);
	cr_assert_eq(http(port, "GET", "/healthz", body, sizeof(body)), 503);
	cr_assert_not_null(strstr(body, "stalled"), "%s", body);
	metrics__heartbeat(m);
	cr_assert_eq(http(port, "GET", "/healthz", body, sizeof(body)), 200);
	metrics__free(m);
}

Test(metrics, bad_or_busy_address_is_an_error)
{
	struct kh_metrics *m = metrics__new(), *m2 = metrics__new();
	char addr[32];

	cr_assert_eq(metrics__serve(m, "localhost:9400"), -EINVAL, "names are never resolved");
	cr_assert_eq(metrics__serve(m, "127.0.0.1:99999"), -EINVAL);
	cr_assert_eq(metrics__serve(m, "[::1"), -EINVAL);
	cr_assert_eq(metrics__serve(m, "127.0.0.1:0"), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", metrics__port(m));
	cr_assert_eq(metrics__serve(m2, addr), -EADDRINUSE);
	cr_assert_eq(metrics__port(m2), 0);
	metrics__free(m2);
	metrics__free(m);
}

Test(metrics, pipeline_counters_move_as_lines_flow)
{
	static const char get_secret[] =
	    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
	    "\"auditID\":\"6d1f0c1e-0000-4000-8000-00000000m001\",\"stage\":\"ResponseComplete\","
	    "\"requestURI\":\"/api/v1/namespaces/prod/secrets/db\",\"verb\":\"get\","
	    "\"user\":{\"username\":\"eve\",\"groups\":[\"system:authenticated\"]},"
	    "\"sourceIPs\":[\"198.51.100.7\"],\"userAgent\":\"curl/8.5.0\","
	    "\"objectRef\":{\"resource\":\"secrets\",\"namespace\":\"prod\",\"name\":\"db\","
	    "\"apiVersion\":\"v1\"},\"responseStatus\":{\"metadata\":{},\"code\":200},"
	    "\"requestReceivedTimestamp\":\"2026-11-20T10:00:01.000000Z\","
	    "\"stageTimestamp\":\"2026-11-20T10:00:01.004000Z\","
	    "\"annotations\":{\"authorization.k8s.io/decision\":\"allow\"}}";
	static const char garbage[] = "{\"kind\":\"Event\", this is not json";
	struct kh_origin o = {.source = "test", .line_no = 1};
	FILE *devnull = fopen("/dev/null", "w");
	struct kh_pipeline *p = pipeline__new(&(struct kh_pipeline_opts){.out = devnull});
	struct kh_metrics *m = metrics__new();
	char *body = malloc(1 << 20);
	int port;

	cr_assert_not_null(p);
	cr_assert_eq(metrics__add_pipeline(m, pipeline__counters(p)), 0);
	cr_assert_eq(metrics__serve(m, "127.0.0.1:0"), 0);
	port = metrics__port(m);

	cr_assert_eq(http(port, "GET", "/metrics", body, 1 << 20), 200);
	cr_assert_eq(sample(body, "keyhole_events_total"), 0, "%s", body);
	/* every rule has its series from the start */
	for (size_t i = 0; kh_rule_table[i]; i++) {
		char series[160];

		snprintf(series, sizeof(series), "keyhole_alerts_total{rule=\"%s\"}",
			 kh_rule_table[i]->info->id);
		cr_assert_eq(sample(body, series), 0, "%s missing", series);
	}

	cr_assert_eq(pipeline__feed_line(p, get_secret, strlen(get_secret), &o), 0);
	o.line_no++;
	cr_assert_eq(pipeline__feed_line(p, garbage, strlen(garbage), &o), 0);
	fflush(devnull);

	cr_assert_eq(http(port, "GET", "/metrics", body, 1 << 20), 200);
	cr_assert_eq(sample(body, "keyhole_events_total"), 2, "%s", body);
	cr_assert_eq(sample(body, "keyhole_events_parsed_total"), 1);
	cr_assert_eq(sample(body, "keyhole_events_malformed_total"), 1);
	cr_assert_eq(sample(body, "keyhole_alerts_total{rule=\"k8s-secret-suspicious-ua\"}"), 1,
		     "%s", body);
	cr_assert_eq(sample(body,
			    "keyhole_alerts_total{rule=\"k8s-secret-access-non-controller\"}"),
		     1, "%s", body);
	/* a first (decision, user, user agent) combination is new to an empty history */
	cr_assert_eq(sample(body, "keyhole_alerts_total{rule=\"k8s-unusual-decision-ua\"}"), 1,
		     "%s", body);
	for (size_t i = 0; kh_rule_table[i]; i++) {
		const char *id = kh_rule_table[i]->info->id;
		char series[160];

		if (!strcmp(id, "k8s-secret-suspicious-ua") ||
		    !strcmp(id, "k8s-secret-access-non-controller") ||
		    !strcmp(id, "k8s-unusual-decision-ua"))
			continue;
		snprintf(series, sizeof(series), "keyhole_alerts_total{rule=\"%s\"}", id);
		cr_assert_eq(sample(body, series), 0, "%s moved", series);
	}
	metrics__free(m);
	pipeline__free(p);
	fclose(devnull);
	free(body);
}
