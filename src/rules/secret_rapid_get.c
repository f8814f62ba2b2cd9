// SPDX-License-Identifier: Apache-2.0
/*
 * k8s-secret-rapid-get: Elastic "Kubernetes Rapid Secret GET Activity Against Multiple Objects"
 * (seed 001; rules/elastic/credential_access_kubernetes_multiple_secret_retrieval_burst.toml,
 * rule_id b4c8e2a1-9f3d-4e7c-a2b1-0d5e6f7a8b9c), an ES|QL query over the last 6 minutes:
 *
 *   WHERE event.action == "get" AND objectRef.resource == "secrets"
 *     AND source.ip IS NOT NULL AND user.name IS NOT NULL
 *     AND NOT source.ip IN ("127.0.0.1", "::1")
 *     AND NOT user.name IN ("system:kube-controller-manager", "system:kube-scheduler")
 *     AND NOT objectRef.name LIKE "sh.helm.release.*"
 *     AND NOT user.username IN (flux kustomize/helm/source controllers, trivy-operator)
 *   STATS count_distinct(objectRef.name), values(name), values(namespace), values(decision)
 *     BY user.name, user.username, source.ip, user_agent.original
 *   WHERE count_distinct >= 3
 *
 * Here the 6 minutes slide over event time instead of being the lookback of a scheduled query:
 * a group (username, source IP, user agent; user.name and user.username are both the audit
 * user.username) alerts when the requests it made within 6 minutes of its latest request, both
 * ends included, name at least 3 distinct secrets. Request time is requestReceivedTimestamp, the
 * same at every stage, so a request logged at RequestReceived and again at ResponseComplete is
 * one request (deduped by its request key) at one time. Denied requests count like allowed ones.
 *
 * One alert per burst: once a group has alerted it stays quiet while its window keeps holding
 * >= 3 distinct names, and alerts again only after a request at which its window (that request
 * included) holds fewer than 3 distinct names, i.e. after it went quiet long enough for older
 * names to leave the window. The one exception is the request that alerted: its later stage
 * renders the alert again so that the alert carries the decision (emit replaces the held
 * RequestReceived alert; an alert already written is not repeated).
 *
 * ES|QL null semantics: a row with no objectRef.name fails `NOT name LIKE ...` and is dropped,
 * and user.name must be present; source.ip must be an address, so an empty one is absent.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules/allowlist.h"
#include "keyhole/emit.h"
#include "rules/keybuf.h"
#include "rules/rules.h"
#include "keyhole/keytab.h"

static const struct kh_rule_info info = {
    .id = "k8s-secret-rapid-get",
    .uuid = "b4c8e2a1-9f3d-4e7c-a2b1-0d5e6f7a8b9c",
    .name = "Kubernetes Rapid Secret GET Activity Against Multiple Objects",
    .severity = "high",
    .risk_score = 73,
    .techniques = {"T1552", "T1552.007"},
    .source = "seed 001 (Elastic rule credential_access_kubernetes_multiple_secret_retrieval_"
	      "burst.toml)",
};

const struct secret_rapid_get_tun secret_rapid_get_defaults = {
    .allow =
	{
	    /* user.name IN (...) and kubernetes.audit.user.username IN (...): both
	     * are the audit user.username */
	    .usernames = {"system:kube-controller-manager", "system:kube-scheduler",
			  "system:serviceaccount:flux-system:kustomize-controller",
			  "system:serviceaccount:flux-system:helm-controller",
			  "system:serviceaccount:flux-system:source-controller",
			  "system:serviceaccount:security:trivy-operator"},
	    .name_prefixes = {"sh.helm.release."}, /* LIKE "sh.helm.release.*" */
	    .source_ips = {"127.0.0.1", "::1"},
	},
    .min_distinct_names = 3,
    .window_ns = 6ll * 60 * 1000000000, /* from = "now-6m" */
    /* 100,000 clients reading secrets within 6 minutes is far past any real cluster */
    .max_groups = 100000,
    /* requests kept per group; duplicates of a name go first, so distinct names survive */
    .max_requests_per_group = 64,
};

#define T struct secret_rapid_get_tun
static const struct kh_config_key config_keys[] = {
    KH_CFG_ALLOWLIST_KEYS(T, allow),
    KH_CFG_UINT_KEY("min_distinct_names", T, min_distinct_names, 2, 1024,
		    "distinct secret names within the window that make an alert"),
    KH_CFG_DURATION_KEY("window", T, window_ns, 1, KH_DAY_S, "sliding window of event time"),
    KH_CFG_UINT_KEY("max_groups", T, max_groups, 1, 10000000,
		    "client fingerprints tracked at once (oldest evicted, counted)"),
    KH_CFG_UINT_KEY("max_requests_per_group", T, max_requests_per_group, 2, 1024,
		    "requests remembered per fingerprint within the window"),
    KH_CFG_END,
};
#undef T

/* field caps: Kubernetes bounds names to 253 and namespaces to 63 bytes */
#define NAME_CAP 253
#define NS_CAP 63
#define DEC_CAP 32
#define ID_CAP 64
#define ID_UUID                                                                                    \
	0x80 /* id_len flag: the auditID is a canonical lowercase UUID, kept as 16 bytes           \
	      */
#define USER_CAP 1024
#define IP_CAP 64
#define UA_CAP 2048

/*
 * A group's requests, oldest first, packed: header then name, namespace, decision, auditID.
 * Packed because 100,000 groups must fit in a few tens of MB.
 */
struct rec {
	int64_t t_ns;
	uint64_t req; /* emit__request_key: equal at every stage of one request */
	uint8_t name_len, ns_len, dec_len, id_len;
};
#define REC_HDR 20 /* the header's packed size */

struct group {
	uint8_t *recs;
	uint32_t len, cap;  /* bytes used and allocated */
	uint16_t n;	    /* records */
	uint8_t in_burst;   /* alerted, and the window has held the threshold since */
	int64_t newest_ns;  /* latest request time of the group */
	uint64_t alert_req; /* the request that alerted */
};

struct rapid_state {
	struct secret_rapid_get_tun t;
	struct keytab *groups; /* keyed by a 128-bit digest of the fingerprint */
	uint8_t digest_key[2][16];
	int64_t now_ns; /* latest request time over all groups */
};

static void group_drop(void *value, void *arg)
{
	(void)arg;
	free(((struct group *)value)->recs);
}

static void state_free(void *p)
{
	struct rapid_state *s = p;

	if (!s)
		return;
	keytab__free(s->groups);
	free(s);
}

void *secret_rapid_get__new_with(const struct secret_rapid_get_tun *t)
{
	struct rapid_state *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->t = *t;
	/* the threshold must fit in a group, or a burst could never be seen whole */
	if (s->t.max_requests_per_group < s->t.min_distinct_names)
		s->t.max_requests_per_group = s->t.min_distinct_names;
	if (s->t.max_requests_per_group > UINT16_MAX)
		s->t.max_requests_per_group = UINT16_MAX;
	s->groups = keytab__new(sizeof(struct group), s->t.max_groups ? s->t.max_groups : 1,
				group_drop, NULL);
	keytab__random_key(s->digest_key[0]);
	keytab__random_key(s->digest_key[1]);
	if (!s->groups) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

static void *state_new(const struct kh_config *cfg)
{
	struct secret_rapid_get_tun t = secret_rapid_get_defaults;

	config__rule_apply(cfg, info.id, config_keys, &t);
	return secret_rapid_get__new_with(&t);
}

/* ---- records ---- */

static void rec_get(const uint8_t *p, struct rec *r)
{
	memcpy(&r->t_ns, p, 8);
	memcpy(&r->req, p + 8, 8);
	r->name_len = p[16];
	r->ns_len = p[17];
	r->dec_len = p[18];
	r->id_len = p[19];
}

/* bytes the auditID takes in the record */
static size_t id_bytes(uint8_t id_len)
{
	return id_len & ID_UUID ? 16 : id_len;
}

static size_t rec_size(const struct rec *r)
{
	return REC_HDR + (size_t)r->name_len + r->ns_len + r->dec_len + id_bytes(r->id_len);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * The apiserver's auditIDs are lowercase UUIDs: 36 characters that pack into 16 bytes, and
 * 100,000 groups of 2 requests save 8 MB that way. Anything else (a client-set Audit-ID) is kept
 * as it is. Returns the id_len to store, the bytes in @out.
 */
static uint8_t pack_id(const char *id, size_t len, char *out)
{
	uint8_t b[16] = {0};
	size_t nib = 0;

	if (len != 36)
		return (uint8_t)len; /* already in @out as text */
	for (size_t i = 0; i < 36; i++) {
		int v = hexval(id[i]);

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (id[i] != '-')
				return (uint8_t)len;
			continue;
		}
		if (v < 0)
			return (uint8_t)len;
		b[nib / 2] |= (uint8_t)(nib % 2 ? v : v << 4);
		nib++;
	}
	memcpy(out, b, 16);
	return ID_UUID | 16;
}

/* the auditID of a record as text, into @buf (ID_CAP + 1); returns its length */
static size_t unpack_id(const char *p, uint8_t id_len, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	if (!(id_len & ID_UUID)) {
		memcpy(buf, p, id_len);
		return id_len;
	}
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf[n++] = '-';
		buf[n++] = hex[(uint8_t)p[i] >> 4];
		buf[n++] = hex[(uint8_t)p[i] & 15];
	}
	return n;
}

static const char *rec_name(const uint8_t *p)
{
	return (const char *)p + REC_HDR;
}

static const char *rec_ns(const uint8_t *p, const struct rec *r)
{
	return (const char *)p + REC_HDR + r->name_len;
}

static const char *rec_dec(const uint8_t *p, const struct rec *r)
{
	return rec_ns(p, r) + r->ns_len;
}

static const char *rec_id(const uint8_t *p, const struct rec *r)
{
	return rec_dec(p, r) + r->dec_len;
}

static void rec_delete(struct group *g, size_t off)
{
	struct rec r;
	size_t sz;

	rec_get(g->recs + off, &r);
	sz = rec_size(&r);
	memmove(g->recs + off, g->recs + off + sz, g->len - off - sz);
	g->len -= (uint32_t)sz;
	g->n--;
}

/* drop the requests that left the window ending at @ref_ns */
static void prune(struct group *g, int64_t cutoff_ns)
{
	size_t off = 0;
	struct rec r;

	while (off < g->len) {
		rec_get(g->recs + off, &r);
		if (r.t_ns < cutoff_ns)
			rec_delete(g, off);
		else
			off += rec_size(&r);
	}
}

static long find_req(const struct group *g, uint64_t req)
{
	struct rec r;

	for (size_t off = 0; off < g->len; off += rec_size(&r)) {
		rec_get(g->recs + off, &r);
		if (r.req == req)
			return (long)off;
	}
	return -1;
}

static bool same_name(const uint8_t *a, const struct rec *ra, const uint8_t *b,
		      const struct rec *rb)
{
	return ra->name_len == rb->name_len && !memcmp(rec_name(a), rec_name(b), ra->name_len);
}

/*
 * Make room for one more request: the oldest request whose name a newer request repeats goes
 * first, so that padding a burst with re-reads of one secret cannot push distinct names out.
 * Only a group holding max distinct names (far past any threshold) loses a distinct name.
 */
static void evict_one(struct group *g)
{
	struct rec r, q;

	for (size_t off = 0; off < g->len; off += rec_size(&r)) {
		rec_get(g->recs + off, &r);
		for (size_t o2 = off + rec_size(&r); o2 < g->len; o2 += rec_size(&q)) {
			rec_get(g->recs + o2, &q);
			if (same_name(g->recs + off, &r, g->recs + o2, &q)) {
				rec_delete(g, off);
				return;
			}
		}
	}
	rec_delete(g, 0);
}

struct req_fields {
	char name[NAME_CAP], ns[NS_CAP], dec[DEC_CAP], id[ID_CAP];
	struct rec r;
};

static int rec_append(struct group *g, const struct req_fields *f)
{
	size_t sz = rec_size(&f->r);
	uint8_t *p;

	if (g->len + sz > g->cap) {
		/* exact fit: most groups hold one or two requests, and a group is one allocation */
		size_t cap = g->len + sz;

		p = realloc(g->recs, cap);
		if (!p)
			return -ENOMEM;
		g->recs = p;
		g->cap = (uint32_t)cap;
	}
	p = g->recs + g->len;
	memcpy(p, &f->r.t_ns, 8);
	memcpy(p + 8, &f->r.req, 8);
	p[16] = f->r.name_len;
	p[17] = f->r.ns_len;
	p[18] = f->r.dec_len;
	p[19] = f->r.id_len;
	p += REC_HDR;
	memcpy(p, f->name, f->r.name_len);
	memcpy(p += f->r.name_len, f->ns, f->r.ns_len);
	memcpy(p += f->r.ns_len, f->dec, f->r.dec_len);
	memcpy(p + f->r.dec_len, f->id, id_bytes(f->r.id_len));
	g->len += (uint32_t)sz;
	g->n++;
	return 0;
}

/* ---- counting and the alert ---- */

/*
 * Distinct names among requests at or after @from_ns, counting no further than @limit: the
 * caller only asks "at least the threshold?", which keeps a long burst at O(n * threshold).
 */
static unsigned count_distinct(const struct group *g, int64_t from_ns, unsigned limit)
{
	const uint8_t *seen[1024];
	struct rec seen_r[1024], r;
	unsigned n = 0;

	if (limit > 1024)
		limit = 1024;
	for (size_t off = 0; off < g->len && n < limit; off += rec_size(&r)) {
		bool dup = false;

		rec_get(g->recs + off, &r);
		if (r.t_ns < from_ns)
			continue;
		for (unsigned i = 0; i < n && !dup; i++)
			dup = same_name(seen[i], &seen_r[i], g->recs + off, &r);
		if (!dup) {
			seen[n] = g->recs + off;
			seen_r[n++] = r;
		}
	}
	return n;
}

/* which field of a record a distinct list is about */
enum field { F_NAME, F_NS, F_DEC };

static struct kstr rec_field(const uint8_t *p, const struct rec *r, enum field f)
{
	switch (f) {
	case F_NAME:
		return kstr_lit(rec_name(p), r->name_len);
	case F_NS:
		return kstr_lit(rec_ns(p, r), r->ns_len);
	default:
		return kstr_lit(rec_dec(p, r), r->dec_len);
	}
}

/*
 * The distinct non-empty values of field @f among in-window requests, in order of first
 * appearance, into @out (at most @cap); @skip (if present) is left out. Returns the count.
 */
static size_t distinct(const struct group *g, int64_t from_ns, enum field f, struct kstr *out,
		       size_t cap, struct kstr skip)
{
	size_t n = 0;
	struct rec r;

	for (size_t off = 0; off < g->len && n < cap; off += rec_size(&r)) {
		struct kstr v;
		bool dup = false;

		rec_get(g->recs + off, &r);
		v = rec_field(g->recs + off, &r, f);
		if (r.t_ns < from_ns || v.len == 0)
			continue;
		dup = kstr_present(skip) && skip.len == v.len && !memcmp(skip.p, v.p, v.len);
		for (size_t i = 0; i < n && !dup; i++)
			dup = out[i].len == v.len && !memcmp(out[i].p, v.p, v.len);
		if (!dup)
			out[n++] = v;
	}
	return n;
}

/*
 * The distinct auditIDs of in-window requests as text (in @txt, g->n of them), @skip left out,
 * into @out (g->n room). Returns the count.
 */
static size_t audit_ids(const struct group *g, int64_t from_ns, char (*txt)[ID_CAP + 1],
			struct kstr *out, struct kstr skip)
{
	size_t n = 0;
	struct rec r;

	for (size_t off = 0; off < g->len; off += rec_size(&r)) {
		struct kstr v;
		bool dup;

		rec_get(g->recs + off, &r);
		if (r.t_ns < from_ns || !r.id_len)
			continue;
		v = kstr_lit(txt[n], unpack_id(rec_id(g->recs + off, &r), r.id_len, txt[n]));
		dup = kstr_present(skip) && skip.len == v.len && !memcmp(skip.p, v.p, v.len);
		for (size_t i = 0; i < n && !dup; i++)
			dup = out[i].len == v.len && !memcmp(out[i].p, v.p, v.len);
		if (!dup)
			out[n++] = v;
	}
	return n;
}

static void put_list(struct json_out *j, const char *key, const struct kstr *v, size_t n)
{
	json_out__key(j, key);
	json_out__arr_begin(j);
	for (size_t i = 0; i < n; i++)
		json_out__kstr(j, v[i]);
	json_out__arr_end(j);
}

static void alert(struct rapid_state *s, struct group *g, const struct audit_event *ev,
		  int64_t ref_ns, struct kh_emit *e)
{
	int64_t from = ref_ns - s->t.window_ns, start = ref_ns;
	struct kstr *v = malloc(sizeof(*v) * g->n);
	char(*txt)[ID_CAP + 1] = malloc(sizeof(*txt) * g->n);
	struct kstr own = {0};
	struct json_out *j;
	size_t n, requests = 0;
	struct rec r;
	char idbuf[ID_CAP];

	if (!v || !txt)
		goto out;
	for (size_t off = 0; off < g->len; off += rec_size(&r)) {
		rec_get(g->recs + off, &r);
		if (r.t_ns >= from) {
			requests++;
			if (r.t_ns < start)
				start = r.t_ns;
		}
	}
	j = emit__alert_begin(e, &info, ev);
	if (!j)
		goto out;
	json_out__key(j, "Esql"); /* the seed's output fields, by their names */
	json_out__obj_begin(j);
	n = distinct(g, from, F_NAME, v, g->n, own);
	json_out__kv_int(j, "unique_credentials", (long long)n);
	put_list(j, "secrets_names", v, n);
	put_list(j, "namespaces", v, distinct(g, from, F_NS, v, g->n, own));
	put_list(j, "outcome", v, distinct(g, from, F_DEC, v, g->n, own));
	json_out__obj_end(j);
	json_out__key(j, "keyhole");
	json_out__obj_begin(j);
	json_out__key(j, "window");
	json_out__obj_begin(j);
	json_out__key(j, "start");
	json_out__time_ns(j, start);
	json_out__key(j, "end");
	json_out__time_ns(j, ref_ns);
	json_out__kv_int(j, "requests", (long long)requests);
	json_out__obj_end(j);
	json_out__obj_end(j);
	/* evidence: every request of the window; the triggering one is written by emit__alert_end
	 */
	own = kstr_lit(idbuf, keybuf__copy_decoded(ev->audit_id, idbuf, sizeof(idbuf)));
	emit__alert_end(e, v, audit_ids(g, from, txt, v, own));
out:
	free(txt);
	free(v);
}

/* ---- the event ---- */

static bool matches(const struct secret_rapid_get_tun *t, const struct audit_event *ev)
{
	return kstr__eq(ev->verb, "get") && kstr__eq(ev->object_ref.resource, "secrets") &&
	       kstr_nonempty(match__source_ip(ev)) && kstr_present(ev->user.username) &&
	       kstr_present(ev->object_ref.name) && !allowlist__match(&t->allow, ev);
}

/* forget the groups whose every request left the window: they are not in a burst */
static void prune_groups(struct rapid_state *s)
{
	struct group *g;

	while ((g = keytab__oldest(s->groups)) && g->newest_ns < s->now_ns - s->t.window_ns)
		keytab__remove(s->groups, g);
}

static struct group *find_group(struct rapid_state *s, const struct audit_event *ev,
				struct kh_emit *e)
{
	struct keybuf k;
	uint64_t evictions = keytab__evictions(s->groups);
	struct group *g;
	bool created;

	uint64_t digest[2];

	keybuf_init(&k);
	keybuf__add(&k, ev->user.username, USER_CAP);
	keybuf__add(&k, match__source_ip(ev), IP_CAP);
	keybuf__add(&k, ev->user_agent, UA_CAP);
	/*
	 * The group is found by a 128-bit digest of the fingerprint under a random key, not by the
	 * fingerprint's ~100 bytes: the alert takes user, IP and agent from the event, and at
	 * 100,000 groups this saves 10 MB. Two fingerprints share a group only on a 128-bit
	 * collision of a keyed hash, which an attacker who cannot read the key cannot aim for.
	 */
	digest[0] = siphash__24(s->digest_key[0], k.b, k.len);
	digest[1] = siphash__24(s->digest_key[1], k.b, k.len);
	g = keytab__upsert(s->groups, digest, sizeof(digest), &created);
	if (keytab__evictions(s->groups) != evictions)
		emit__count_state_eviction(e);
	return g;
}

static void fill_fields(struct req_fields *f, const struct audit_event *ev, int64_t t)
{
	f->r.t_ns = t;
	f->r.req = emit__request_key(ev);
	f->r.name_len = (uint8_t)keybuf__copy_decoded(ev->object_ref.name, f->name, NAME_CAP);
	f->r.ns_len = (uint8_t)keybuf__copy_decoded(ev->object_ref.namespace_, f->ns, NS_CAP);
	f->r.dec_len = (uint8_t)keybuf__copy_decoded(ev->decision, f->dec, DEC_CAP);
	f->r.id_len = pack_id(f->id, keybuf__copy_decoded(ev->audit_id, f->id, ID_CAP), f->id);
}

/* add the request, or complete the one already there; false when memory ran out */
static bool record(struct rapid_state *s, struct group *g, struct req_fields *f, struct kh_emit *e)
{
	long at = find_req(g, f->r.req);
	struct rec old;

	if (at >= 0) {
		rec_get(g->recs + at, &old);
		if (old.dec_len || !f->r.dec_len)
			return true; /* nothing new in this stage */
		f->r.t_ns = old.t_ns;
		rec_delete(g, (size_t)at); /* re-added below with the decision */
	} else if (g->n >= s->t.max_requests_per_group) {
		evict_one(g);
		emit__count_state_eviction(e);
	}
	return rec_append(g, f) == 0;
}

static void on_event(void *state, const struct audit_event *ev, struct kh_emit *e)
{
	struct rapid_state *s = state;
	struct req_fields f;
	struct group *g;
	int64_t t = ev->request_received_ns ? ev->request_received_ns : ev->stage_ns;
	int64_t ref;
	unsigned n;

	if (!t || !matches(&s->t, ev))
		return;
	if (t > s->now_ns)
		s->now_ns = t;
	prune_groups(s);
	g = find_group(s, ev, e);
	if (!g)
		return;
	ref = t > g->newest_ns ? t : g->newest_ns;
	if (t < ref - s->t.window_ns)
		return; /* arrived after its window had passed */
	g->newest_ns = ref;
	prune(g, ref - s->t.window_ns);
	fill_fields(&f, ev, t);
	if (!record(s, g, &f, e))
		return;
	n = count_distinct(g, ref - s->t.window_ns, s->t.min_distinct_names);
	if (n < s->t.min_distinct_names) {
		g->in_burst = 0; /* the burst, if any, is over: the next one alerts */
		return;
	}
	if (!g->in_burst) {
		g->in_burst = 1;
		g->alert_req = f.r.req;
		alert(s, g, ev, ref, e);
	} else if (g->alert_req == f.r.req) {
		alert(s, g, ev, ref, e); /* a later stage of the alerting request: fuller alert */
	}
}

static int64_t window_ns(const void *state)
{
	return ((const struct rapid_state *)state)->t.window_ns;
}

const struct kh_rule rule_secret_rapid_get = {
    .info = &info,
    .state_new = state_new,
    .state_free = state_free,
    .on_event = on_event,
    .config_keys = config_keys,
    .config_defaults = &secret_rapid_get_defaults,
    .window_ns = window_ns,
};
