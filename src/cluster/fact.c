// SPDX-License-Identifier: Apache-2.0
/*
 * fact: encode an audit event's fact, route it to its partition.
 *
 * Strings go through json_out, which decodes each slice and escapes it once, so the correlator
 * reads back the values the capturing instance read. An RBAC requestObject is not copied: it is
 * read (rbac_json, as the correlator reads it) and rewritten with only what that reading found,
 * so its annotations (last-applied-configuration can hold anything) never leave the node.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/fact.h"
#include "cluster/hash.h"
#include "keyhole/correlate.h"

static void kv_opt(struct json_out *j, const char *k, struct kstr s)
{
	if (kstr_present(s))
		json_out__kv_kstr(j, k, s);
}

static void put_list(struct json_out *j, const char *k, const struct kstr *v, uint32_t n)
{
	json_out__key(j, k);
	json_out__arr_begin(j);
	for (uint32_t i = 0; i < n; i++)
		json_out__kstr(j, v[i]);
	json_out__arr_end(j);
}

static void put_user(struct json_out *j, const char *k, const struct kh_user *u)
{
	json_out__key(j, k);
	json_out__obj_begin(j);
	kv_opt(j, "username", u->username);
	kv_opt(j, "uid", u->uid);
	if (u->groups.n)
		put_list(j, "groups", u->groups.v, u->groups.n);
	/* credential id, bound node and pod: identifiers the alerts name, never a credential */
	if (kstr_present(u->extra)) {
		json_out__key(j, "extra");
		json_out__raw(j, u->extra.p, u->extra.len);
	}
	json_out__obj_end(j);
}

static void put_ref(struct json_out *j, const struct kh_object_ref *r)
{
	json_out__key(j, "objectRef");
	json_out__obj_begin(j);
	kv_opt(j, "resource", r->resource);
	kv_opt(j, "subresource", r->subresource);
	kv_opt(j, "namespace", r->namespace_);
	kv_opt(j, "name", r->name);
	kv_opt(j, "apiGroup", r->api_group);
	kv_opt(j, "apiVersion", r->api_version);
	json_out__obj_end(j);
}

static bool rbac_body(const struct audit_event *ev)
{
	return kstr_present(ev->request_object) &&
	       kstr__eq(ev->object_ref.api_group, "rbac.authorization.k8s.io");
}

int fact__encode(const struct audit_event *ev, const char *node, uint32_t partitions,
		 struct json_out *j)
{
	json_out__reset(j);
	json_out__obj_begin(j);
	/* the header the correlator reads without parsing the rest: keep these first */
	json_out__kv_int(j, "khFact", KH_FACT_VERSION);
	json_out__kv_int(j, "khT", audit_event_time_ns(ev));
	json_out__kv_int(j, "khP", fact__partition(ev, partitions));
	json_out__kv_int(j, "khB", fact__broadcast(ev));
	json_out__kv_str(j, "khNode", node);
	kv_opt(j, "kind", ev->kind);
	kv_opt(j, "apiVersion", ev->api_version);
	kv_opt(j, "level", ev->level);
	kv_opt(j, "auditID", ev->audit_id);
	kv_opt(j, "stage", ev->stage);
	kv_opt(j, "requestURI", ev->request_uri);
	kv_opt(j, "verb", ev->verb);
	if (ev->user.present)
		put_user(j, "user", &ev->user);
	if (ev->impersonated_user.present)
		put_user(j, "impersonatedUser", &ev->impersonated_user);
	if (ev->source_ips.n)
		put_list(j, "sourceIPs", ev->source_ips.v, ev->source_ips.n);
	kv_opt(j, "userAgent", ev->user_agent);
	if (ev->object_ref_present)
		put_ref(j, &ev->object_ref);
	if (ev->response_code >= 0) {
		json_out__key(j, "responseStatus");
		json_out__obj_begin(j);
		json_out__kv_int(j, "code", ev->response_code);
		json_out__obj_end(j);
	}
	kv_opt(j, "requestReceivedTimestamp", ev->request_received_timestamp);
	kv_opt(j, "stageTimestamp", ev->stage_timestamp);
	kv_opt(j, "timestamp", ev->legacy_timestamp);
	if (rbac_body(ev)) {
		json_out__key(j, "requestObject");
		correlate__write_rbac_summary(ev->request_object, j);
	}
	if (kstr_present(ev->decision) || kstr_present(ev->reason)) {
		json_out__key(j, "annotations");
		json_out__obj_begin(j);
		kv_opt(j, "authorization.k8s.io/decision", ev->decision);
		kv_opt(j, "authorization.k8s.io/reason", ev->reason);
		json_out__obj_end(j);
	}
	json_out__obj_end(j);
	if (j->oom)
		return -ENOMEM;
	return j->len > KH_FACT_MAX_BYTES ? -E2BIG : 0;
}

bool fact__broadcast(const struct audit_event *ev)
{
	return correlate__is_escalation(ev);
}

uint32_t fact__partition(const struct audit_event *ev, uint32_t partitions)
{
	char buf[512];
	long n = kstr_present(ev->user.username) ? kstr__decode(ev->user.username, buf, sizeof(buf))
						 : -1;
	uint64_t h;

	/* the decoded name, as the rules compare it; a longer or broken one by its raw bytes */
	if (n >= 0 && (size_t)n <= sizeof(buf))
		h = cluster_hash(CLUSTER_HASH_INIT, buf, (size_t)n);
	else
		h = cluster_hash(CLUSTER_HASH_INIT ^ 1, ev->user.username.p,
				 ev->user.username.p ? ev->user.username.len : 0);
	return partitions ? (uint32_t)(h % partitions) : 0;
}

/* the integer after "<key>": at *pos; advances past it and the comma */
static int header_int(const char *line, size_t len, size_t *pos, const char *key, int64_t *v)
{
	size_t k = strlen(key), i;
	int neg = 0;

	if (*pos + k >= len || memcmp(line + *pos, key, k))
		return -1;
	i = *pos + k;
	if (i < len && line[i] == '-')
		neg = 1, i++;
	if (i >= len || line[i] < '0' || line[i] > '9')
		return -1;
	for (*v = 0; i < len && line[i] >= '0' && line[i] <= '9'; i++) {
		if (*v > (INT64_MAX - (line[i] - '0')) / 10)
			return -1; /* not a number a fact holds (a stream entry is input too) */
		*v = *v * 10 + (line[i] - '0');
	}
	if (neg)
		*v = -*v;
	if (i >= len || line[i] != ',')
		return -1;
	*pos = i + 1;
	return 0;
}

int fact__header(const char *line, size_t len, struct fact_header *h)
{
	size_t pos = 1;
	int64_t v, p, b;

	if (!len || line[0] != '{' || header_int(line, len, &pos, "\"khFact\":", &v) ||
	    header_int(line, len, &pos, "\"khT\":", &h->t_ns) ||
	    header_int(line, len, &pos, "\"khP\":", &p) ||
	    header_int(line, len, &pos, "\"khB\":", &b))
		return -EINVAL;
	if (v != KH_FACT_VERSION || p < 0 || p > UINT32_MAX)
		return -EPROTO;
	h->version = (int)v;
	h->partition = (uint32_t)p;
	h->broadcast = b != 0;
	return 0;
}
