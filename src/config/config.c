// SPDX-License-Identifier: Apache-2.0
/*
 * config: load the YAML file (libyaml's document API), check every key against the schema and
 * keep the typed values.
 *
 * The walk is driven by the schema, never by the document: a mapping is only entered where a
 * schema key expects one, and every value must be a scalar or a list of scalars, so recursion is
 * bounded by the schema's depth and an alias cycle in the file cannot loop. Errors stop at the
 * first problem and carry its dotted key, line and column.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "config/config_impl.h"
#include "keyhole/config_scalar.h"
#include "keyhole/ring_abi.h" /* the capture bounds the BPF side can honour */

/* a config file is a few KB; refuse anything that cannot be one */
#define CONFIG_MAX_BYTES (1u << 20)

#define T struct kh_config
const struct kh_config_key kh_config_top_keys[] = {
    KH_CFG_STRING_KEY("state_file", T, state_file, 1, 4000,
		      "new-terms history file, kept across restarts (null: not kept)"),
    KH_CFG_DURATION_KEY("state_save_interval", T, state_save_interval_ns, 1, KH_DAY_S,
			"how often live mode saves the history file (it is also saved at exit)"),
    KH_CFG_STRING_KEY("output", T, output, 1, 4000,
		      "alerts: a file (appended) or - for stdout; --output wins"),
    KH_CFG_STRING_KEY("capture.audit_log", T, capture.audit_log, 1, 4000,
		      "the apiserver's audit log (null: from its --audit-log-path)"),
    KH_CFG_STRING_KEY("capture.comm", T, capture.comm, 1, KH_COMM_LEN - 1,
		      "process name of the apiserver the tap follows"),
    KH_CFG_UINT_KEY("capture.max_event_bytes", T, capture.max_event_bytes, KH_AUDIT_CAP_MIN,
		    KH_AUDIT_CAP_MAX,
		    "bytes of one audit line captured whole (past it: head and tail)"),
    KH_CFG_BOOL_KEY("capture.baseline_from_disk", T, capture.baseline_from_disk,
		    "learn history from the rotated audit logs on disk before going live"),
    KH_CFG_BOOL_KEY("capture.audit_guard", T, capture.audit_guard,
		    "report other processes opening the audit log for writing, truncating, renaming "
		    "or removing it (node-audit-log-tamper)"),
    KH_CFG_STRING_KEY("capture.tap", T, capture.tap, 4, 10,
		      "capture path: auto (uprobe in the apiserver's Go binary where it resolves, "
		      "else tracepoints), uprobe, or tracepoint"),
    KH_CFG_UINT_KEY("capture.catchup_max_bytes", T, capture.catchup_max_bytes, 0, UINT64_MAX,
		    "after a restart, catch up at most this many bytes of audit log (the oldest "
		    "are skipped and reported; 0: no bound)"),
    KH_CFG_DURATION_KEY("capture.catchup_max_age", T, capture.catchup_max_age_ns, 0, 366 * KH_DAY_S,
			"after a restart, skip (and report) audit lines older than this (0: no "
			"bound)"),
    KH_CFG_UINT_KEY("capture.catchup_warmup_max_bytes", T, capture.catchup_warmup_max_bytes, 0,
		    UINT64_MAX,
		    "after a restart, re-read at most this many bytes before the checkpoint to "
		    "rebuild windows, incidents and the dedupe (what is cut is reported; 0: no "
		    "bound)"),
    KH_CFG_BOOL_KEY("node.exec_watch", T, node.exec_watch,
		    "watch container exec sessions and the secret files read in them"),
    KH_CFG_STRING_KEY("node.pods_log_dir", T, node.pods_log_dir, 1, 4000,
		      "the kubelet's pod log directory, to name pods from cgroup UIDs"),
    KH_CFG_BOOL_KEY(
	"node.attach_watch", T, node.attach_watch,
	"see kubectl attach sessions (input read from a container's stdin); on: every "
	"read, readv and preadv2 on the node passes two hooks (docs/exec-attribution.md)"),
    KH_CFG_DURATION_KEY("node.attach_idle", T, node.attach_idle_ns, 1, KH_DAY_S,
			"input to an attach session after this long without any opens a new "
			"session (a detach is not seen; the next attach is someone else's)"),
    KH_CFG_STRING_KEY("metrics.listen", T, metrics.listen, 1, 255,
		      "address:port of the Prometheus endpoint (null: none)"),
    KH_CFG_BOOL_KEY("correlate.enabled", T, correlate.enabled,
		    "correlate escalate-then-loot sequences into incidents"),
    KH_CFG_DURATION_KEY("correlate.window", T, correlate.window_ns, 1, KH_DAY_S,
			"event time from an RBAC grant to loot by its subjects"),
    KH_CFG_DURATION_KEY("correlate.actor_window", T, correlate.actor_window_ns, 0, KH_DAY_S,
			"event time from a grant to loot by its actor when not a subject (0: off)"),
    KH_CFG_UINT_KEY("correlate.max_subjects", T, correlate.max_subjects, 1, 10000000,
		    "principals tracked with their grants (oldest evicted, counted)"),
    KH_CFG_UINT_KEY("correlate.max_readers", T, correlate.max_readers, 1, 10000000,
		    "principals remembered as having read secrets before (prior access)"),
    KH_CFG_UINT_KEY("correlate.max_incidents", T, correlate.max_incidents, 1, 1000000,
		    "incidents open at once (oldest written and evicted, counted)"),
    KH_CFG_UINT_KEY("correlate.max_steps", T, correlate.max_steps, 4, 4096,
		    "timeline steps kept per incident (the rest counted)"),
    KH_CFG_BOOL_KEY("correlate.open_on_forbidden", T, correlate.open_on_forbidden,
		    "open an incident on a denied secret read after a grant, too"),
    KH_CFG_BOOL_KEY("correlate.ignore_helm_managed", T, correlate.ignore_helm_managed,
		    "bindings labelled app.kubernetes.io/managed-by: Helm are deploys"),
    KH_CFG_LIST_KEY("correlate.controller_prefixes", T, correlate.controller_prefixes,
		    "username prefixes whose grants and secret reads are routine"),
    KH_CFG_LIST_KEY("correlate.ignore_user_agents", T, correlate.ignore_user_agents,
		    "user-agent globs whose grants and secret reads are deploys"),
    KH_CFG_LIST_KEY("correlate.impersonation_proxies", T, correlate.impersonation_proxies,
		    "username prefixes of authenticating proxies (their impersonation is not "
		    "escalation)"),
    KH_CFG_STRING_KEY("cluster.url", T, cluster.url, 1, 1000,
		      "redis:// or rediss:// URL of the cluster bus (null: single-node mode)"),
    KH_CFG_STRING_KEY("cluster.user", T, cluster.user, 1, 127, "Redis ACL user"),
    KH_CFG_STRING_KEY("cluster.password_file", T, cluster.password_file, 1, 4000,
		      "file whose first line is the Redis password (a mounted Secret)"),
    KH_CFG_STRING_KEY("cluster.name", T, cluster.name, 1, 200,
		      "cluster name, the prefix of every Redis key"),
    KH_CFG_STRING_KEY("cluster.node_name", T, cluster.node_name, 1, 200,
		      "this node's name, in cluster mode and for node-exec-without-audit's "
		      "nodes/proxy check (null: the host name in cluster mode, no check); "
		      "--node-name wins"),
    KH_CFG_STRING_KEY("cluster.role", T, cluster.role, 1, 20,
		      "auto (control-plane when an apiserver is found), control-plane or node"),
    KH_CFG_UINT_KEY("cluster.partitions", T, cluster.partitions, 1, 1024,
		    "fact streams; the unit of correlator ownership (same on every instance)"),
    KH_CFG_DURATION_KEY("cluster.lease", T, cluster.lease_ns, 1, 3600,
			"a dead correlator's partitions move to another within about twice this"),
    KH_CFG_DURATION_KEY("cluster.lag", T, cluster.lag_ns, 0, 3600,
			"facts are held this long to be put in event-time order"),
    KH_CFG_UINT_KEY("cluster.queue_max", T, cluster.queue_max, 1, 10000000,
		    "facts kept in memory while Redis is away (past it: dropped, counted)"),
    KH_CFG_STRING_KEY("cluster.queue_dir", T, cluster.queue_dir, 1, 4000,
		      "directory of the on-disk fact queue: facts Redis has not acknowledged "
		      "survive a restart (null: in memory only)"),
    KH_CFG_UINT_KEY("cluster.queue_max_bytes", T, cluster.queue_max_bytes, 1 << 20, UINT64_MAX,
		    "bytes of facts the disk queue holds (past it: dropped, counted)"),
    KH_CFG_UINT_KEY("cluster.stream_maxlen", T, cluster.stream_maxlen, 1000, 100000000,
		    "facts kept per partition stream: what a new owner rebuilds its state from"),
    KH_CFG_DURATION_KEY("cluster.alert_fence_ttl", T, cluster.alert_fence_ttl_ns, 60,
			365 * KH_DAY_S,
			"how long an alert line's write-once key lives (cover the streams' span)"),
    KH_CFG_STRING_KEY("cluster.tls_ca_file", T, cluster.tls_ca_file, 1, 4000,
		      "rediss://: PEM file of the CA that signs Redis's certificate (null: the "
		      "system store)"),
    KH_CFG_STRING_KEY("cluster.tls_cert_file", T, cluster.tls_cert_file, 1, 4000,
		      "rediss://: client certificate (PEM) for a server with tls-auth-clients"),
    KH_CFG_STRING_KEY("cluster.tls_key_file", T, cluster.tls_key_file, 1, 4000,
		      "rediss://: the client certificate's private key (PEM, unencrypted)"),
    KH_CFG_STRING_KEY("cluster.tls_server_name", T, cluster.tls_server_name, 1, 253,
		      "rediss://: the name Redis's certificate must hold, sent as SNI (null: "
		      "the URL's host)"),
    KH_CFG_END,
};
#undef T

static const struct kh_config defaults = {
    .path = NULL,
    .state_file = NULL,
    .state_save_interval_ns = 300ll * 1000000000,
    .output = NULL,
    .capture = {NULL, "kube-apiserver", 1u << 20, true, true, "auto", 1ull << 30,
		24ll * 3600 * 1000000000, 64ull << 20},
    .node = {.exec_watch = true,
	     .pods_log_dir = "/var/log/pods",
	     .attach_watch = false,
	     .attach_idle_ns = 300ll * 1000000000},
    .metrics = {NULL},
    .cluster = {.name = "keyhole",
		.role = "auto",
		.partitions = 4,
		.lease_ns = 10ll * 1000000000,
		.lag_ns = 2ll * 1000000000,
		.queue_max = 100000,
		.stream_maxlen = 1000000,
		.alert_fence_ttl_ns = 7ll * 24 * 3600 * 1000000000,
		.queue_max_bytes = 1ull << 30},
    .correlate = {.enabled = true,
		  .window_ns = KH_CORRELATE_DEFAULT_WINDOW_NS,
		  .actor_window_ns = KH_CORRELATE_DEFAULT_ACTOR_WINDOW_NS,
		  .max_subjects = KH_CORRELATE_DEFAULT_MAX_SUBJECTS,
		  .max_readers = KH_CORRELATE_DEFAULT_MAX_READERS,
		  .max_incidents = KH_CORRELATE_DEFAULT_MAX_INCIDENTS,
		  .max_steps = KH_CORRELATE_DEFAULT_MAX_STEPS,
		  .open_on_forbidden = false,
		  .ignore_helm_managed = true,
		  .controller_prefixes = {KH_CORRELATE_DEFAULT_CONTROLLERS, NULL},
		  .ignore_user_agents = {KH_CORRELATE_DEFAULT_IGNORE_UAS, NULL},
		  .impersonation_proxies = {KH_CORRELATE_DEFAULT_PROXIES, NULL}},
    .rules = NULL,
};

const struct kh_config *config__defaults(void)
{
	return &defaults;
}

/* ---- arena: every string and list of a config, freed at once ---- */

void *config__alloc(struct config_impl *c, size_t n)
{
	struct cfg_blk *b = calloc(1, sizeof(*b) + n);

	if (!b)
		return NULL;
	b->next = c->arena;
	c->arena = b;
	return b->data;
}

static char *cfg_strdup(struct config_impl *c, const char *s, size_t n)
{
	char *p = config__alloc(c, n + 1);

	if (p)
		memcpy(p, s, n);
	return p;
}

/* ---- errors ---- */

struct loader {
	yaml_document_t *doc;
	struct config_impl *c;
	struct kh_config_error *err;
};

__attribute__((format(printf, 4, 5))) static int fail(struct loader *L, const yaml_node_t *at,
						      const char *key, const char *fmt, ...)
{
	va_list ap;

	snprintf(L->err->key, sizeof(L->err->key), "%s", key ? key : "");
	L->err->line = at ? (unsigned)at->start_mark.line + 1 : 0;
	L->err->column = at ? (unsigned)at->start_mark.column + 1 : 0;
	va_start(ap, fmt);
	vsnprintf(L->err->msg, sizeof(L->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void config__format_error(const struct kh_config_error *err, const char *file, char *buf,
			  size_t cap)
{
	char where[64] = "";

	if (err->line)
		snprintf(where, sizeof(where), ":%u:%u", err->line, err->column);
	snprintf(buf, cap, "%s%s: %s%s%s", file ? file : "config", where, err->key,
		 err->key[0] ? ": " : "", err->msg);
}

/* ---- scalars ---- */

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* plain ~, null or empty: YAML's null */
static bool is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
		!strcmp(v, "NULL"));
}

/* the scalar as a C string, refusing NUL bytes (a "\0" escape) that would cut it short */
static int scalar_str(struct loader *L, const yaml_node_t *n, const char *key, const char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return fail(L, n, key, "expected a string, got %s", node_kind(n));
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return fail(L, n, key, "the value holds a NUL byte");
	*out = (const char *)n->data.scalar.value;
	return 0;
}

/* a short, printable excerpt of a bad value for the message */
static const char *excerpt(const char *s, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; s[i] && i + 4 < cap; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	if (s[i])
		strcpy(buf + (i > 3 ? i - 3 : 0), "...");
	return buf;
}

/* item @i of a list, which must be a non-null scalar */
static int list_item(struct loader *L, const yaml_node_t *list, const yaml_node_t *item, size_t i,
		     const char *key, const char **out)
{
	if (!item || item->type != YAML_SCALAR_NODE || is_null(item))
		return fail(L, item ? item : list, key, "item %zu: expected a string, got %s",
			    i + 1, item && !is_null(item) ? node_kind(item) : "nothing");
	return scalar_str(L, item, key, out);
}

/* a PAIRS item: a mapping with exactly the keys k->sub[0] and k->sub[1] */
static int pair_item(struct loader *L, const yaml_node_t *item, const struct kh_config_key *k,
		     size_t i, const char *key, const char **out)
{
	if (!item || item->type != YAML_MAPPING_NODE)
		return fail(L, item, key, "item %zu: expected a mapping with %s and %s, got %s",
			    i + 1, k->sub[0], k->sub[1], item ? node_kind(item) : "nothing");
	out[0] = out[1] = NULL;
	for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top;
	     p++) {
		const yaml_node_t *kn = yaml_document_get_node(L->doc, p->key);
		const yaml_node_t *vn = yaml_document_get_node(L->doc, p->value);
		const char *name;
		int which, r;

		if (!kn || kn->type != YAML_SCALAR_NODE)
			return fail(L, kn ? kn : item, key, "item %zu: keys must be names", i + 1);
		name = (const char *)kn->data.scalar.value;
		which = !strcmp(name, k->sub[0]) ? 0 : !strcmp(name, k->sub[1]) ? 1 : -1;
		if (which < 0)
			return fail(L, kn, key,
				    "item %zu: unknown key '%.40s' (expected %s and %s)", i + 1,
				    name, k->sub[0], k->sub[1]);
		if (out[which])
			return fail(L, kn, key, "item %zu: %s given twice", i + 1, name);
		if ((r = list_item(L, item, vn, i, key, &out[which])))
			return r;
	}
	if (!out[0] || !out[1])
		return fail(L, item, key, "item %zu: needs both %s and %s", i + 1, k->sub[0],
			    k->sub[1]);
	return 0;
}

static int parse_list(struct loader *L, const yaml_node_t *n, const struct kh_config_key *k,
		      const char *key, struct cfg_val *v)
{
	size_t count, i = 0, width = k->type == KH_CFG_PAIRS ? 2 : 1;
	const char **items;

	if (n->type != YAML_SEQUENCE_NODE)
		return fail(L, n, key, "expected a list (use [] for none), got %s", node_kind(n));
	count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (count > k->max)
		return fail(L, n, key, "at most %llu items, got %zu", (unsigned long long)k->max,
			    count);
	items = config__alloc(L->c, (count * width + 1) * sizeof(*items));
	if (!items)
		return -ENOMEM;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++, i++) {
		const yaml_node_t *item = yaml_document_get_node(L->doc, *it);
		const char **slot = items + i * width;
		struct cfg_ip ip;
		char b[48];
		int r;

		r = k->type == KH_CFG_PAIRS ? pair_item(L, item, k, i, key, slot)
					    : list_item(L, n, item, i, key, slot);
		if (r)
			return r;
		if (k->type == KH_CFG_IPLIST &&
		    config_scalar__parse_ip(*slot, strlen(*slot), true, &ip))
			return fail(L, item, key,
				    "item %zu: '%s' is not an IP address or CIDR prefix", i + 1,
				    excerpt(*slot, b, sizeof(b)));
		for (size_t w = 0; w < width; w++)
			if (!(slot[w] = cfg_strdup(L->c, slot[w], strlen(slot[w]))))
				return -ENOMEM;
	}
	v->items = items;
	v->n = count;
	return 0;
}

/* parse @n as the value of schema key @k into @v */
static int parse_value(struct loader *L, const yaml_node_t *n, const struct kh_config_key *k,
		       const char *key, struct cfg_val *v)
{
	const char *s = NULL; /* set by scalar_str; -O3 cannot see it */
	char b[48];
	uint64_t u, hi;
	int r;

	memset(v, 0, sizeof(*v));
	v->set = true;
	if (k->type == KH_CFG_LIST || k->type == KH_CFG_IPLIST || k->type == KH_CFG_PAIRS)
		return parse_list(L, n, k, key, v);
	if (n->type != YAML_SCALAR_NODE)
		return fail(L, n, key, "expected %s, got %s",
			    k->type == KH_CFG_STRING ? "a string" : "a single value", node_kind(n));
	if (k->type == KH_CFG_STRING && is_null(n))
		return 0; /* explicitly unset */
	if ((r = scalar_str(L, n, key, &s)))
		return r;
	/* a quoted "true" or "10" is a string: only plain scalars are booleans and numbers */
	if (k->type != KH_CFG_STRING && n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
	    k->type != KH_CFG_DURATION)
		return fail(L, n, key, "expected %s, got the quoted string \"%s\"",
			    k->type == KH_CFG_BOOL ? "true or false" : "a whole number",
			    excerpt(s, b, sizeof(b)));
	switch (k->type) {
	case KH_CFG_BOOL:
		if (config_scalar__parse_bool(s, &v->b))
			return fail(L, n, key, "expected true or false, got '%s'",
				    excerpt(s, b, sizeof(b)));
		return 0;
	case KH_CFG_UINT:
		hi = k->size == sizeof(uint32_t) && k->max > UINT32_MAX ? UINT32_MAX : k->max;
		if (config_scalar__parse_uint(s, &u) || u < k->min || u > hi)
			return fail(L, n, key,
				    "expected a whole number from %llu to %llu, got '%s'",
				    (unsigned long long)k->min, (unsigned long long)hi,
				    excerpt(s, b, sizeof(b)));
		v->u = u;
		return 0;
	case KH_CFG_DURATION:
		if (config_scalar__parse_duration(s, &u) || u < k->min || u > k->max)
			return fail(
			    L, n, key,
			    "expected a duration such as 90s, 6m, 1h30m or 10d, from %llus to "
			    "%llus, got '%s'",
			    (unsigned long long)k->min, (unsigned long long)k->max,
			    excerpt(s, b, sizeof(b)));
		v->d = (int64_t)u * 1000000000;
		return 0;
	case KH_CFG_STRING:
		if (k->max && strlen(s) > k->max)
			return fail(L, n, key, "at most %llu characters, got %zu",
				    (unsigned long long)k->max, strlen(s));
		if (strlen(s) < k->min)
			return fail(L, n, key, "must not be empty");
		return (v->s = cfg_strdup(L->c, s, strlen(s))) ? 0 : -ENOMEM;
	default:
		return fail(L, n, key, "internal: key type %d", (int)k->type);
	}
}

void config__store(const struct kh_config_key *k, void *target, const struct cfg_val *v)
{
	char *p = (char *)target + k->offset;

	switch (k->type) {
	case KH_CFG_BOOL:
		*(bool *)p = v->b;
		break;
	case KH_CFG_UINT:
		if (k->size == sizeof(uint32_t))
			*(uint32_t *)p = (uint32_t)v->u; /* the schema's max keeps it in range */
		else
			*(uint64_t *)p = v->u;
		break;
	case KH_CFG_DURATION:
		*(int64_t *)p = v->d;
		break;
	case KH_CFG_STRING:
		*(const char **)p = v->s;
		break;
	case KH_CFG_LIST:
	case KH_CFG_IPLIST:
		/* a list set in the file replaces the default list whole */
		memcpy(p, v->items, v->n * sizeof(char *));
		((const char **)p)[v->n] = NULL;
		break;
	case KH_CFG_PAIRS:
		memcpy(p, v->items, 2 * v->n * sizeof(char *));
		((const char **)p)[2 * v->n] = NULL;
		((const char **)p)[2 * v->n + 1] = NULL;
		break;
	}
}

/* ---- mappings ---- */

/* a section being walked: its schema, and where each value goes */
struct section {
	const char *display; /* prefix of key paths in messages ("rules.<id>.") */
	const struct kh_config_key *keys;
	void *target;	      /* store straight into this struct, or */
	struct cfg_val *vals; /* keep per key index (rules: applied later) */
	int *enabled;	      /* rules only: the implicit `enabled` key (-1 unset) */
	bool top;	      /* the document root: `rules` is a section of its own */
};

static int walk_rules(struct loader *L, const yaml_node_t *map);

/* is @path ("allow") the parent of some schema key ("allow.usernames")? */
static bool is_parent_key(const struct kh_config_key *keys, const char *path)
{
	size_t n = strlen(path);

	for (; keys && keys->name; keys++)
		if (!strncmp(keys->name, path, n) && keys->name[n] == '.')
			return true;
	return false;
}

static const struct kh_config_key *find_key(const struct kh_config_key *keys, const char *path)
{
	for (; keys && keys->name; keys++)
		if (!strcmp(keys->name, path))
			return keys;
	return NULL;
}

/* the key node of @p, which must be a scalar without NULs */
static int pair_key(struct loader *L, const yaml_node_t *map, const yaml_node_pair_t *p,
		    const char *where, const yaml_node_t **kn, const char **name)
{
	*kn = yaml_document_get_node(L->doc, p->key);
	if (!*kn || !yaml_document_get_node(L->doc, p->value))
		return fail(L, map, where, "malformed mapping");
	if ((*kn)->type != YAML_SCALAR_NODE)
		return fail(L, *kn, where, "a key must be a plain name, got %s", node_kind(*kn));
	return scalar_str(L, *kn, where, name);
}

/* keys repeat in a mapping only by mistake; libyaml keeps both, so look back */
static int check_duplicate(struct loader *L, const yaml_node_t *map, const yaml_node_pair_t *p,
			   const yaml_node_t *kn, const char *name, const char *shown)
{
	for (const yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
		const yaml_node_t *qk = yaml_document_get_node(L->doc, q->key);

		if (qk && qk->type == YAML_SCALAR_NODE &&
		    !strcmp((const char *)qk->data.scalar.value, name))
			return fail(L, kn, shown, "duplicate key (first at line %zu)",
				    qk->start_mark.line + 1);
	}
	return 0;
}

static int walk_map(struct loader *L, const yaml_node_t *map, const char *prefix,
		    const struct section *sec)
{
	for (const yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *kn, *vn = yaml_document_get_node(L->doc, p->value);
		const struct kh_config_key *k;
		const char *name;
		char path[160], shown[200];
		struct cfg_val v;
		int r;

		snprintf(shown, sizeof(shown), "%s%s", sec->display, prefix);
		if ((r = pair_key(L, map, p, shown, &kn, &name)))
			return r;
		if (snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", name) >=
		    (int)sizeof(path))
			return fail(L, kn, shown, "key too long");
		snprintf(shown, sizeof(shown), "%s%s", sec->display, path);
		if ((r = check_duplicate(L, map, p, kn, name, shown)))
			return r;
		if (sec->top && !strcmp(path, "rules")) {
			if ((r = walk_rules(L, vn)))
				return r;
		} else if (sec->enabled && !strcmp(path, "enabled")) {
			static const struct kh_config_key ek = {.name = "enabled",
								.type = KH_CFG_BOOL};

			if ((r = parse_value(L, vn, &ek, shown, &v)))
				return r;
			*sec->enabled = v.b;
		} else if ((k = find_key(sec->keys, path))) {
			if ((r = parse_value(L, vn, k, shown, &v)))
				return r;
			if (sec->vals)
				sec->vals[k - sec->keys] = v;
			else
				config__store(k, sec->target, &v);
		} else if (is_parent_key(sec->keys, path)) {
			if (vn->type != YAML_MAPPING_NODE)
				return fail(L, vn, shown, "expected a mapping, got %s",
					    node_kind(vn));
			if ((r = walk_map(L, vn, path, sec)))
				return r;
		} else {
			return fail(L, kn, shown, "unknown key");
		}
	}
	return 0;
}

static int walk_rules(struct loader *L, const yaml_node_t *map)
{
	struct kh_config_rules *rs = L->c->pub.rules;

	if (map->type != YAML_MAPPING_NODE)
		return fail(L, map, "rules", "expected a mapping of rule ids, got %s",
			    node_kind(map));
	for (const yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *kn, *vn = yaml_document_get_node(L->doc, p->value);
		struct cfg_rule *rv = NULL;
		const char *id;
		char shown[160];
		int r;

		if ((r = pair_key(L, map, p, "rules", &kn, &id)))
			return r;
		snprintf(shown, sizeof(shown), "rules.%s", id);
		if ((r = check_duplicate(L, map, p, kn, id, shown)))
			return r;
		if (!strcmp(id, "paths")) { /* Sigma rule files and directories, not a rule id */
			static const struct kh_config_key pk =
			    KH_CFG_LIST_KEY("paths", struct kh_config, rule_paths,
					    "Sigma rule files or directories");
			struct cfg_val v;

			if ((r = parse_value(L, vn, &pk, shown, &v)))
				return r;
			config__store(&pk, &L->c->pub, &v);
			continue;
		}
		for (size_t i = 0; i < rs->n; i++)
			if (!strcmp(rs->v[i].id, id))
				rv = &rs->v[i];
		if (!rv)
			return fail(L, kn, shown, "unknown rule id (`keyhole rules` lists them)");
		if (vn->type != YAML_MAPPING_NODE)
			return fail(L, vn, shown, "expected a mapping of settings, got %s",
				    node_kind(vn));
		snprintf(shown, sizeof(shown), "rules.%s.", id);
		struct section sec = {shown, rv->keys, NULL, rv->vals, &rv->enabled, false};

		if ((r = walk_map(L, vn, "", &sec)))
			return r;
	}
	return 0;
}

/* ---- load ---- */

static struct config_impl *impl_new(const struct kh_config_rule *rules)
{
	struct config_impl *c = calloc(1, sizeof(*c));
	size_t n = 0;

	if (!c)
		return NULL;
	c->pub = defaults;
	while (rules && rules[n].id)
		n++;
	c->pub.rules = config__alloc(c, sizeof(*c->pub.rules) + n * sizeof(struct cfg_rule));
	if (!c->pub.rules)
		goto err;
	c->pub.rules->n = n;
	for (size_t i = 0; i < n; i++) {
		struct cfg_rule *rv = &c->pub.rules->v[i];
		size_t nk = 0;

		rv->id = rules[i].id;
		rv->keys = rules[i].keys;
		rv->enabled = -1;
		while (rv->keys && rv->keys[nk].name)
			nk++;
		rv->vals = config__alloc(c, (nk + 1) * sizeof(*rv->vals));
		if (!rv->vals)
			goto err;
	}
	return c;
err:
	config__free(&c->pub);
	return NULL;
}

static int load_doc(struct loader *L, yaml_parser_t *parser)
{
	yaml_document_t extra;
	yaml_node_t *root = yaml_document_get_root_node(L->doc);
	struct section top = {"", kh_config_top_keys, &L->c->pub, NULL, NULL, true};
	int r;

	if (root && !(root->type == YAML_SCALAR_NODE && is_null(root))) {
		if (root->type != YAML_MAPPING_NODE)
			return fail(L, root, "", "the file must be a mapping of keys, got %s",
				    node_kind(root));
		if ((r = walk_map(L, root, "", &top)))
			return r;
	}
	/* a second document would be ignored silently: refuse it */
	if (!yaml_parser_load(parser, &extra))
		return fail(L, NULL, "", "%s", parser->problem ? parser->problem : "YAML error");
	root = yaml_document_get_root_node(&extra);
	r = root ? fail(L, root, "", "only one YAML document is allowed") : 0;
	yaml_document_delete(&extra);
	return r;
}

int config__load_buf(const char *buf, size_t len, const char *name,
		     const struct kh_config_rule *rules, struct kh_config **out,
		     struct kh_config_error *err)
{
	struct kh_config_error scratch;
	struct config_impl *c;
	yaml_parser_t parser;
	yaml_document_t doc;
	struct loader L;
	int r;

	err = err ? err : &scratch;
	memset(err, 0, sizeof(*err));
	*out = NULL;
	if (!(c = impl_new(rules)))
		return -ENOMEM;
	if (name && !(c->pub.path = cfg_strdup(c, name, strlen(name)))) {
		config__free(&c->pub);
		return -ENOMEM;
	}
	L = (struct loader){&doc, c, err};
	if (!yaml_parser_initialize(&parser)) {
		config__free(&c->pub);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err->msg, sizeof(err->msg), "not valid YAML: %s%s%s",
			 parser.problem ? parser.problem : "parse error", parser.context ? " " : "",
			 parser.context ? parser.context : "");
		err->line = (unsigned)parser.problem_mark.line + 1;
		err->column = (unsigned)parser.problem_mark.column + 1;
		r = parser.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
	} else {
		r = load_doc(&L, &parser);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	if (r) {
		config__free(&c->pub);
		return r;
	}
	*out = &c->pub;
	return 0;
}

int config__load(const char *path, const struct kh_config_rule *rules, struct kh_config **out,
		 struct kh_config_error *err)
{
	struct kh_config_error scratch;
	struct stat st;
	char *buf = NULL;
	ssize_t got = 0;
	int fd, r;

	err = err ? err : &scratch;
	memset(err, 0, sizeof(*err));
	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		r = -errno;
		snprintf(err->msg, sizeof(err->msg), "cannot read: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CONFIG_MAX_BYTES) {
		r = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		snprintf(err->msg, sizeof(err->msg), "%s",
			 S_ISREG(st.st_mode) ? "larger than 1 MB: not a keyhole config"
					     : "not a regular file");
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	while (got < st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)(st.st_size - got));

		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			snprintf(err->msg, sizeof(err->msg), "cannot read: %s",
				 n < 0 ? strerror(errno) : "file shrank while reading");
			goto out;
		}
		got += n;
	}
	r = config__load_buf(buf, (size_t)got, path, rules, out, err);
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return r;
}

void config__free(const struct kh_config *cfg)
{
	struct config_impl *c;
	struct cfg_blk *b;

	if (!cfg || cfg == &defaults)
		return;
	c = (struct config_impl *)cfg;
	while ((b = c->arena)) {
		c->arena = b->next;
		free(b);
	}
	free(c);
}

/* ---- what rules read ---- */

static const struct cfg_rule *rule_vals(const struct kh_config *cfg, const char *rule_id)
{
	if (!cfg || !cfg->rules || !rule_id)
		return NULL;
	for (size_t i = 0; i < cfg->rules->n; i++)
		if (!strcmp(cfg->rules->v[i].id, rule_id))
			return &cfg->rules->v[i];
	return NULL;
}

bool config__rule_enabled(const struct kh_config *cfg, const char *rule_id)
{
	const struct cfg_rule *rv = rule_vals(cfg, rule_id);

	return !rv || rv->enabled != 0;
}

void config__rule_apply(const struct kh_config *cfg, const char *rule_id,
			const struct kh_config_key *keys, void *target)
{
	const struct cfg_rule *rv = rule_vals(cfg, rule_id);

	/* the values were parsed against the rule's own table: apply only with that table */
	if (!rv || rv->keys != keys)
		return;
	for (size_t i = 0; keys[i].name; i++)
		if (rv->vals[i].set)
			config__store(&keys[i], target, &rv->vals[i]);
}
