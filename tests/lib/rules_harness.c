// SPDX-License-Identifier: Apache-2.0
/*
 * rules_harness: parser + rule engine into memory, alerts read back with json-c.
 */
#include <json-c/json.h>

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/audit_parse.h"
#include "keyhole/emit.h"
#include "keyhole/rules_engine.h"
#include "rules_harness.h"

struct rh *rh_new(const struct kh_rule *const *table)
{
	return rh_new_config(table, NULL);
}

struct rh *rh_new_config(const struct kh_rule *const *table, const struct kh_config *cfg)
{
	struct rh *h = calloc(1, sizeof(*h));

	cr_assert_not_null(h);
	h->table = table ? table : kh_rule_table;
	h->out = open_memstream(&h->buf, &h->len);
	cr_assert_not_null(h->out);
	h->c.alerts_by_rule = h->by_rule;
	h->e = emit__new(h->out, &h->c);
	cr_assert_not_null(h->e);
	h->r = rules__new_table(h->table, cfg, h->e);
	cr_assert_not_null(h->r);
	return h;
}

static void drop_parsed(struct rh *h)
{
	for (size_t i = 0; i < h->n_alerts; i++)
		json_object_put(h->alerts[i]);
	free(h->alerts);
	h->alerts = NULL;
	h->n_alerts = 0;
}

void rh_free(struct rh *h)
{
	rules__free(h->r);
	emit__free(h->e);
	fclose(h->out);
	free(h->buf);
	drop_parsed(h);
	free(h);
}

void rh_feed(struct rh *h, const char *line)
{
	struct kh_parse_error pe = {0, NULL};
	struct audit_event ev;
	int rc = audit_parse__line(line, strlen(line), &ev, &pe);

	cr_assert_eq(rc, 0, "line does not parse (%s at %zu): %s", pe.reason, pe.offset, line);
	rules__on_event(h->r, &ev);
}

void rh_feed_file(struct rh *h, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	cr_assert_not_null(f, "cannot open %s", path);
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (n)
			rh_feed(h, line);
	}
	free(line);
	fclose(f);
}

void rh_flush(struct rh *h)
{
	rules__flush(h->r);
}

size_t rh_alerts(struct rh *h)
{
	char *p, *nl;

	fflush(h->out);
	drop_parsed(h);
	for (p = h->buf; p && *p; p = nl + 1) {
		struct json_tokener *tok = json_tokener_new();
		struct json_object *o;

		nl = strchr(p, '\n');
		cr_assert_not_null(nl, "alert output does not end with a newline");
		o = json_tokener_parse_ex(tok, p, (int)(nl - p));
		cr_assert(o && json_tokener_get_error(tok) == json_tokener_success &&
			      json_object_is_type(o, json_type_object),
			  "alert line is not one JSON object: %.*s", (int)(nl - p), p);
		cr_assert_eq(json_tokener_get_parse_end(tok), (size_t)(nl - p),
			     "trailing bytes after the alert object");
		json_tokener_free(tok);
		h->alerts = realloc(h->alerts, (h->n_alerts + 1) * sizeof(*h->alerts));
		h->alerts[h->n_alerts++] = o;
	}
	return h->n_alerts;
}

static int is_rule(struct json_object *a, const char *rule_id)
{
	const char *id = rh_str(a, "rule.id");

	return !rule_id || (id && !strcmp(id, rule_id));
}

size_t rh_count(struct rh *h, const char *rule_id)
{
	size_t n = 0;

	rh_alerts(h);
	for (size_t i = 0; i < h->n_alerts; i++)
		n += is_rule(h->alerts[i], rule_id);
	return n;
}

struct json_object *rh_alert(struct rh *h, const char *rule_id, size_t n)
{
	rh_alerts(h);
	for (size_t i = 0; i < h->n_alerts; i++)
		if (is_rule(h->alerts[i], rule_id) && n-- == 0)
			return h->alerts[i];
	return NULL;
}

struct json_object *rh_get(struct json_object *o, const char *path)
{
	char key[256];
	const char *p = path;

	while (o && *p) {
		size_t n = strcspn(p, ".");

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		p += n + (p[n] == '.');
	}
	return o;
}

const char *rh_str(struct json_object *o, const char *path)
{
	struct json_object *v = rh_get(o, path);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static unsigned long ev_counter;

static void later_stage_fields(FILE *f, const struct ev_spec *s)
{
	fprintf(f, ",\"responseStatus\":{\"metadata\":{},\"code\":%d}", s->code ? s->code : 200);
	if (s->request_object)
		fprintf(f, ",\"requestObject\":%s", s->request_object);
}

char *ev_line(const struct ev_spec *s)
{
	const char *stage = s->stage ? s->stage : "ResponseComplete";
	const char *res = s->resource ? s->resource : "secrets";
	const char *ns = s->ns ? s->ns : "default";
	const char *name = s->name ? s->name : "db-credentials";
	const char *time = s->time ? s->time : "2026-11-23T10:00:00.000000Z";
	int later = strcmp(stage, "RequestReceived") != 0;
	char id[64], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (s->audit_id)
		snprintf(id, sizeof(id), "%s", s->audit_id);
	else
		snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012lu", ++ev_counter);
	fprintf(f,
		"{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
		"\"auditID\":\"%s\",\"stage\":\"%s\",\"requestURI\":\"",
		id, stage);
	if (s->uri)
		fputs(s->uri, f);
	else
		fprintf(f, "/api/v1/%s%s%s%s%s", strcmp(ns, "-") ? "namespaces/" : "",
			strcmp(ns, "-") ? ns : "", strcmp(ns, "-") ? "/" : "", res,
			strcmp(name, "-") ? "/" : "");
	if (!s->uri && strcmp(name, "-"))
		fputs(name, f);
	fprintf(f, "\",\"verb\":\"%s\",\"user\":{\"username\":\"%s\",\"groups\":%s",
		s->verb ? s->verb : "get", s->user ? s->user : "alice",
		s->groups ? s->groups : "[\"system:authenticated\"]");
	if (s->pod_name)
		fprintf(f, ",\"extra\":{\"authentication.kubernetes.io/pod-name\":[\"%s\"]}",
			s->pod_name);
	fputc('}', f);
	if (s->imp_user && later)
		fprintf(f,
			",\"impersonatedUser\":{\"username\":\"%s\",\"groups\":"
			"[\"system:authenticated\"]}",
			s->imp_user);
	if (!s->ips || strcmp(s->ips, "-"))
		fprintf(f, ",\"sourceIPs\":%s", s->ips ? s->ips : "[\"192.0.2.10\"]");
	if (!s->ua || strcmp(s->ua, "-"))
		fprintf(f, ",\"userAgent\":\"%s\"",
			s->ua ? s->ua : "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350");
	if (strcmp(res, "-")) {
		fprintf(f, ",\"objectRef\":{\"resource\":\"%s\"", res);
		if (strcmp(ns, "-"))
			fprintf(f, ",\"namespace\":\"%s\"", ns);
		if (strcmp(name, "-"))
			fprintf(f, ",\"name\":\"%s\"", name);
		if (s->subresource)
			fprintf(f, ",\"subresource\":\"%s\"", s->subresource);
		if (s->api_group)
			fprintf(f, ",\"apiGroup\":\"%s\"", s->api_group);
		fputs(",\"apiVersion\":\"v1\"}", f);
	}
	if (later)
		later_stage_fields(f, s);
	fprintf(f, ",\"requestReceivedTimestamp\":\"%s\",\"stageTimestamp\":\"%s\"", time,
		s->stage_time ? s->stage_time : time);
	if (later)
		fprintf(f,
			",\"annotations\":{\"authorization.k8s.io/decision\":\"%s\","
			"\"authorization.k8s.io/reason\":\"\"}",
			s->decision ? s->decision : "allow");
	fputc('}', f);
	fclose(f);
	return buf;
}

void rh_ev(struct rh *h, const struct ev_spec *s)
{
	char *line = ev_line(s);

	rh_feed(h, line);
	free(line);
}

void rh_request(struct rh *h, const struct ev_spec *s)
{
	struct ev_spec rr = *s, rc = *s;
	char id[64];

	if (!s->audit_id) {
		snprintf(id, sizeof(id), "00000000-0000-4000-9000-%012lu", ++ev_counter);
		rr.audit_id = rc.audit_id = id;
	}
	rr.stage = "RequestReceived";
	rc.stage = "ResponseComplete";
	rh_ev(h, &rr);
	rh_ev(h, &rc);
}
