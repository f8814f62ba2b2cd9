// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the Sigma rule loader (src/sigma/): each input is one rule file (YAML,
 * several documents allowed). Beyond "no crash, no leak, no sanitizer report": every error is
 * one "fuzz.yml:LINE:COLUMN: message" line, and a set that loads runs over a few audit events
 * (every modifier, prefilter and correlation path the rules reach) and its end-of-input flush,
 * writing well-formed alert lines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/audit_parse.h"
#include "keyhole/emit.h"
#include "keyhole/pipeline.h"
#include "keyhole/sigma.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

/* events the rules are run over: varied verbs, resources, users, bodies, escapes, times */
static const char *const events[] = {
    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"RequestResponse\","
    "\"auditID\":\"f1\",\"stage\":\"ResponseComplete\",\"requestURI\":\"/api/v1/namespaces/"
    "kube-system/pods/p/exec?command=sh&command=-c&command=curl+169.254.169.254\","
    "\"verb\":\"create\",\"user\":{\"username\":\"system:anonymous\",\"groups\":["
    "\"system:unauthenticated\",\"system:masters\"]},\"impersonatedUser\":{\"username\":"
    "\"system:admin\",\"groups\":[\"system:masters\"]},\"sourceIPs\":[\"10.1.2.3\",\"::1\"],"
    "\"userAgent\":\"kubectl/v1.31\",\"objectRef\":{\"resource\":\"pods\",\"subresource\":"
    "\"exec\",\"namespace\":\"kube-system\",\"name\":\"p\",\"apiGroup\":\"\",\"apiVersion\":"
    "\"v1\"},\"responseStatus\":{\"code\":403},\"requestObject\":{\"spec\":{\"hostPID\":true,"
    "\"containers\":[{\"securityContext\":{\"privileged\":true,\"capabilities\":{\"add\":["
    "\"SYS_ADMIN\"]}}}],\"volumes\":[{\"hostPath\":{\"path\":\"/\"}}]},\"rules\":[{\"verbs\":"
    "[\"*\"],\"resources\":[\"*\"]}],\"roleRef\":{\"name\":\"cluster-admin\"}},"
    "\"requestReceivedTimestamp\":\"2026-01-01T00:00:00.000000Z\",\"stageTimestamp\":"
    "\"2026-01-01T00:00:00.100000Z\",\"annotations\":{\"authorization.k8s.io/decision\":"
    "\"allow\",\"authorization.k8s.io/reason\":\"RBAC\"}}",
    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
    "\"auditID\":\"f2\",\"stage\":\"ResponseComplete\",\"requestURI\":\"/api/v1/secrets\","
    "\"verb\":\"LIST\",\"user\":{\"username\":\"Alice\\u0040corp\",\"groups\":[\"a\"],"
    "\"extra\":{\"k\":[\"v\"]}},\"sourceIPs\":[\"127.0.0.1\"],\"objectRef\":{\"resource\":"
    "\"s\\u0065crets\"},\"responseStatus\":{\"code\":200},\"requestReceivedTimestamp\":"
    "\"2026-01-01T00:00:30.000000Z\",\"stageTimestamp\":\"2026-01-01T00:00:30.000000Z\"}",
    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Request\","
    "\"auditID\":\"f3\",\"stage\":\"RequestReceived\",\"requestURI\":\"/healthz\","
    "\"verb\":\"delete\",\"user\":{\"username\":\"system:serviceaccount:kube-system:x\"},"
    "\"objectRef\":{\"resource\":\"events\",\"namespace\":\"default\"},"
    "\"requestReceivedTimestamp\":\"2026-01-01T00:05:00.000000Z\",\"stageTimestamp\":"
    "\"2026-01-01T00:05:00.000000Z\"}",
};

static char *out_buf;
static size_t out_len;
static FILE *out, *errs;
static char *err_buf;
static size_t err_len;
static struct kh_counters counters;
static uint64_t by_rule[1024];

/* each line of @buf (@len bytes) is checked by @ok */
static void each_line(const char *buf, size_t len, int (*ok)(const char *, const char *))
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		CHECK(nl);
		CHECK(ok(p, nl));
		p = nl + 1;
	}
}

/* "fuzz.yml:LINE:COLUMN: message" (a message may hold the input's bytes, but not a newline) */
static int error_ok(const char *p, const char *nl)
{
	const char *q = p + 9;

	if (nl - p < 14 || memcmp(p, "fuzz.yml:", 9))
		return 0;
	for (int field = 0; field < 2; field++) {
		const char *d = q;

		while (q < nl && *q >= '0' && *q <= '9')
			q++;
		if (q == d || q >= nl || *q != ':')
			return 0;
		q++;
	}
	return q < nl && *q == ' ';
}

static int alert_ok(const char *p, const char *nl)
{
	if (nl - p < 2 || p[0] != '{' || nl[-1] != '}')
		return 0;
	for (const char *q = p; q < nl; q++)
		if ((unsigned char)*q < 0x20)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kh_sigma *s;
	struct kh_emit *emit;
	size_t n_errors = 0;

	if (!out) {
		out = open_memstream(&out_buf, &out_len);
		errs = open_memstream(&err_buf, &err_len);
		CHECK(out && errs);
		counters.alerts_by_rule = by_rule;
	}
	rewind(errs);
	fflush(errs);
	s = sigma__load_mem((const char *)data, size, "fuzz.yml", errs, &n_errors);
	if (!s)
		return 0; /* out of memory only */
	fflush(errs);
	CHECK((n_errors == 0) == (err_len == 0));
	each_line(err_buf, err_len, error_ok);
	for (size_t i = 0; i < sigma__n(s); i++) {
		const struct kh_rule_info *info = sigma__info(s, i);

		CHECK(info && info->id && info->name && sigma__kind(s, i));
	}
	emit = emit__new(out, &counters);
	CHECK(emit);
	sigma__attach(s, emit, 0, 0);
	for (size_t k = 0; k < sizeof(events) / sizeof(events[0]); k++) {
		struct audit_event ev;

		if (audit_parse__line(events[k], strlen(events[k]), &ev, NULL) == 0)
			sigma__on_event(s, &ev);
	}
	sigma__flush(s);
	emit__flush(emit);
	fflush(out);
	each_line(out_buf, out_len, alert_ok);
	rewind(out);
	fflush(out);
	emit__free(emit);
	sigma__free(s);
	return 0;
}
