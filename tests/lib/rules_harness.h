/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rules_harness: run audit lines through the real parser and rule engine into memory, and read
 * the alerts back with json-c (which fails the test if any line is not valid JSON).
 *
 * Also builds audit lines from a few fields (struct ev_spec), in the apiserver's field order,
 * so rule tests state only what they vary. Spec values are inserted as raw JSON string
 * contents: a test can write escapes ("secr\\u0065ts") on purpose.
 */
#ifndef KH_TEST_RULES_HARNESS_H
#define KH_TEST_RULES_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "keyhole/pipeline.h"
#include "keyhole/rule.h"

struct json_object;

struct rh {
	char *buf; /* alert lines so far (open_memstream) */
	size_t len;
	FILE *out;
	struct kh_counters c;
	uint64_t by_rule[16];
	struct kh_emit *e;
	struct kh_rules *r;
	const struct kh_rule *const *table;
	struct json_object **alerts; /* parsed by rh_alerts() */
	size_t n_alerts;
};

/* @table NULL: the real kh_rule_table */
struct rh *rh_new(const struct kh_rule *const *table);
/* the same, tuned by @cfg (which must outlive the harness; NULL: every default) */
struct kh_config;
struct rh *rh_new_config(const struct kh_rule *const *table, const struct kh_config *cfg);
void rh_free(struct rh *h);

/* parse and run one line; asserts that it parses */
void rh_feed(struct rh *h, const char *line);
void rh_feed_file(struct rh *h, const char *path);
void rh_flush(struct rh *h);

/* every alert so far, parsed (asserts each line is one JSON object) */
size_t rh_alerts(struct rh *h);
/* alerts of @rule_id (NULL: all); the n-th of them, or NULL */
size_t rh_count(struct rh *h, const char *rule_id);
struct json_object *rh_alert(struct rh *h, const char *rule_id, size_t n);

/* a dotted path into a json-c object ("kubernetes.audit.verb"); keys with dots can't be reached */
struct json_object *rh_get(struct json_object *o, const char *path);
/* string at @path, or NULL */
const char *rh_str(struct json_object *o, const char *path);

struct ev_spec {
	const char *audit_id;	/* default: a fresh uuid-like id per call */
	const char *stage;	/* default ResponseComplete */
	const char *verb;	/* default get */
	const char *uri;	/* default built from resource/ns/name */
	const char *user;	/* default "alice" */
	const char *groups;	/* raw JSON array; default ["system:authenticated"] */
	const char *pod_name;	/* user.extra pod-name */
	const char *imp_user;	/* impersonatedUser.username */
	const char *ips;	/* raw JSON array; default ["192.0.2.10"]; "-" omits sourceIPs */
	const char *ua;		/* default kubectl; "-" omits userAgent */
	const char *resource;	/* default secrets; "-" omits objectRef */
	const char *ns;		/* default default; "-" omits */
	const char *name;	/* default db-credentials; "-" omits */
	int code;		/* default 200 at later stages */
	const char *decision;	/* default allow at later stages */
	const char *time;	/* requestReceivedTimestamp; default 2026-11-23T10:00:00.000000Z */
	const char *stage_time; /* default = time */
	const char *request_object; /* raw JSON; only written at later stages */
	const char *subresource;    /* objectRef.subresource; default none */
	const char *api_group;	    /* objectRef.apiGroup; default none */
};

/* a complete audit line (malloc'd) */
char *ev_line(const struct ev_spec *s);
/* build and feed */
void rh_ev(struct rh *h, const struct ev_spec *s);
/* feed the request at RequestReceived then ResponseComplete (same auditID) */
void rh_request(struct rh *h, const struct ev_spec *s);

#endif /* KH_TEST_RULES_HARNESS_H */
