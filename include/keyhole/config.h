/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config: the agent's one YAML configuration file, validated against a schema of typed keys.
 *
 * Every key is optional; what the file does not set keeps the seed documents' value. The schema
 * is data: the top-level keys are a table in src/config/, and each rule declares the tunables it
 * accepts under `rules.<rule id>` as a kh_config_key table on its struct kh_rule (config_keys),
 * with offsets into the rule's own tunables struct, handed to the loader as kh_config_rule
 * entries (the rules stage's table: config sits below the rules and never calls them). The loader
 * checks every key of the file against those tables when it loads, so an unknown key, a wrong type
 * or an out-of-range value is an error naming the key and its line before anything runs; a rule
 * then copies what the file set over its defaults with config__rule_apply().
 *
 * A kh_config and every string it hands out live until config__free().
 */
#ifndef KEYHOLE_CONFIG_H
#define KEYHOLE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum kh_cfg_type {
	KH_CFG_BOOL,	 /* bool: true or false */
	KH_CFG_UINT,	 /* uint32_t or uint64_t (by field size): a decimal in [min, max] */
	KH_CFG_DURATION, /* int64_t ns: "90s", "6m", "10d", "1h30m", within [min, max] seconds */
	KH_CFG_STRING,	 /* const char *: any scalar of length [min, max] (max 0: any); ~ is NULL */
	KH_CFG_LIST,	 /* const char *[cap + 1], NULL-terminated (a rule's kh_list) */
	KH_CFG_IPLIST,	 /* the same, every item an IP address or CIDR prefix */
	KH_CFG_PAIRS,	 /* struct { const char *a, *b; }[cap + 1], ended by {NULL, NULL}: a list of
			  * mappings with exactly the keys sub[0] and sub[1] */
};

/*
 * One key of the schema. @name may be dotted ("capture.audit_log"): the file then writes it as a
 * nested mapping (capture: {audit_log: ...}). @offset and @size place the value in the target
 * struct; for lists @max is the capacity, taken from the field's array size by the macros.
 */
struct kh_config_key {
	const char *name;
	enum kh_cfg_type type;
	size_t offset;
	size_t size;
	uint64_t min, max;
	const char *sub[2];
	const char *doc; /* one line, for the reference in the README */
};

#define KH_CFG_FIELD_(T, f) .offset = offsetof(T, f), .size = sizeof(((T *)0)->f)
#define KH_CFG_CAP_(T, f) (sizeof(((T *)0)->f) / sizeof(((T *)0)->f[0]) - 1)

#define KH_CFG_BOOL_KEY(n, T, f, d)                                                                \
	{                                                                                          \
		.name = (n), .type = KH_CFG_BOOL, KH_CFG_FIELD_(T, f), .max = 1, .doc = (d)        \
	}
#define KH_CFG_UINT_KEY(n, T, f, lo, hi, d)                                                        \
	{                                                                                          \
		.name = (n), .type = KH_CFG_UINT, KH_CFG_FIELD_(T, f), .min = (lo), .max = (hi),   \
		.doc = (d)                                                                         \
	}
#define KH_CFG_DURATION_KEY(n, T, f, lo, hi, d)                                                    \
	{                                                                                          \
		.name = (n), .type = KH_CFG_DURATION, KH_CFG_FIELD_(T, f), .min = (lo),            \
		.max = (hi), .doc = (d)                                                            \
	}
#define KH_CFG_STRING_KEY(n, T, f, lo, hi, d)                                                      \
	{                                                                                          \
		.name = (n), .type = KH_CFG_STRING, KH_CFG_FIELD_(T, f), .min = (lo), .max = (hi), \
		.doc = (d)                                                                         \
	}
#define KH_CFG_LIST_KEY(n, T, f, d)                                                                \
	{                                                                                          \
		.name = (n), .type = KH_CFG_LIST, KH_CFG_FIELD_(T, f), .max = KH_CFG_CAP_(T, f),   \
		.doc = (d)                                                                         \
	}
#define KH_CFG_IPLIST_KEY(n, T, f, d)                                                              \
	{                                                                                          \
		.name = (n), .type = KH_CFG_IPLIST, KH_CFG_FIELD_(T, f), .max = KH_CFG_CAP_(T, f), \
		.doc = (d)                                                                         \
	}
#define KH_CFG_PAIRS_KEY(n, T, f, k0, k1, d)                                                       \
	{                                                                                          \
		.name = (n), .type = KH_CFG_PAIRS, KH_CFG_FIELD_(T, f), .max = KH_CFG_CAP_(T, f),  \
		.sub = {(k0), (k1)}, .doc = (d)                                                    \
	}
#define KH_CFG_END                                                                                 \
	{                                                                                          \
		.name = NULL                                                                       \
	}

/* seconds in a day, for duration bounds */
#define KH_DAY_S (24ull * 3600)

/* Where the live audit tap looks and how much of each event it keeps (issue: audit tap). */
struct kh_capture_config {
	const char *audit_log;	  /* NULL: from the apiserver's --audit-log-path */
	const char *comm;	  /* process name of the apiserver */
	uint64_t max_event_bytes; /* capture cap per event line (head and tail kept past it) */
	bool baseline_from_disk;  /* learn history from the rotated logs next to audit_log first */
	bool audit_guard;	  /* report other processes changing the audit log (tamper) */
	const char *tap;	  /* "auto", "uprobe" or "tracepoint": the capture path */
	uint64_t catchup_max_bytes; /* a catch-up after a restart reads at most this (0: all) */
	int64_t catchup_max_age_ns; /* and skips lines older than this (0: none) */
	uint64_t catchup_warmup_max_bytes; /* re-read before the checkpoint at most (0: all) */
};

/* What the node-side watchers do (exec watch). */
struct kh_node_config {
	bool exec_watch;	  /* watch container exec and secret reads inside it */
	const char *pods_log_dir; /* kubelet's /var/log/pods, to name pods from their UID */
	bool attach_watch;	  /* kubectl attach sessions: reads of containers' stdin */
	int64_t attach_idle_ns;	  /* input after this gap in an attach session opens a new one */
};

/* Cluster mode (keyhole run --cluster): the Redis bus and the correlators (docs/cluster.md). */
struct kh_cluster_config {
	const char *url;	   /* redis:// or rediss://; NULL: single-node mode */
	const char *user;	   /* ACL user */
	const char *password_file; /* the password, first line (a mounted Secret) */
	const char *name;	   /* cluster name: prefix of every key */
	const char *node_name;	   /* NULL: the host name */
	const char *role;	   /* auto, control-plane, node */
	uint32_t partitions;
	int64_t lease_ns;
	int64_t lag_ns;
	uint32_t queue_max;
	uint32_t stream_maxlen;
	int64_t alert_fence_ttl_ns;
	const char *tls_ca_file;     /* rediss://: the CA to trust (NULL: the system store) */
	const char *tls_cert_file;   /* rediss://: client certificate (tls-auth-clients) */
	const char *tls_key_file;    /* its private key, unencrypted PEM */
	const char *tls_server_name; /* the name the certificate must hold (NULL: the URL's host) */
	const char *queue_dir;	  /* facts not acknowledged kept on disk here; NULL: memory only */
	uint64_t queue_max_bytes; /* the disk queue's bound */
};

struct kh_metrics_config {
	const char *listen; /* "127.0.0.1:9464"; NULL: no metrics endpoint */
};

/*
 * The escalate-then-loot correlator (src/correlate/). Its defaults are the KH_CORRELATE_*
 * macros below, shared by the correlator (which runs on them without a config) and the config
 * defaults, so they are written once.
 */
#define KH_CORRELATE_LIST_MAX 32
#define KH_CORRELATE_DEFAULT_WINDOW_NS (30ll * 60 * 1000000000)
#define KH_CORRELATE_DEFAULT_ACTOR_WINDOW_NS (5ll * 60 * 1000000000)
#define KH_CORRELATE_DEFAULT_MAX_SUBJECTS 100000
#define KH_CORRELATE_DEFAULT_MAX_READERS 100000
#define KH_CORRELATE_DEFAULT_MAX_INCIDENTS 1024
#define KH_CORRELATE_DEFAULT_MAX_STEPS 64
/* seed 004's filter_controllers, and the control plane's own identities */
#define KH_CORRELATE_DEFAULT_CONTROLLERS                                                           \
	"system:serviceaccount:kube-system:", "system:serviceaccount:cert-manager:",               \
	    "system:serviceaccount:external-secrets:", "system:kube-controller-manager",           \
	    "system:kube-scheduler", "system:apiserver", "system:node:"
#define KH_CORRELATE_DEFAULT_IGNORE_UAS "Helm/*"
#define KH_CORRELATE_DEFAULT_PROXIES "system:serviceaccount:azure-arc:"

struct kh_correlate_config {
	bool enabled;
	int64_t window_ns;
	int64_t actor_window_ns;
	uint32_t max_subjects;
	uint32_t max_readers;
	uint32_t max_incidents;
	uint32_t max_steps;
	bool open_on_forbidden;
	bool ignore_helm_managed;
	const char *controller_prefixes[KH_CORRELATE_LIST_MAX + 1];
	const char *ignore_user_agents[KH_CORRELATE_LIST_MAX + 1];
	const char *impersonation_proxies[KH_CORRELATE_LIST_MAX + 1];
};

struct kh_config_rules; /* per-rule values, read through config__rule_*() */

/*
 * What the loader knows of one rule: its id and the keys it accepts under `rules.<id>`. The
 * caller hands the loader these (the rules stage's table, rules__config_schema() in
 * keyhole/rule.h), so config never reaches up into the rules: an array ended by a NULL id.
 */
struct kh_config_rule {
	const char *id;
	const char *name, *source;	  /* for the reference */
	const struct kh_config_key *keys; /* may be NULL: only `enabled` */
	const void *defaults;		  /* with keys: the seed's values (for the reference) */
};

struct kh_config {
	const char *path;		/* the file it was loaded from; NULL for the defaults */
	const char *state_file;		/* new-terms history file; NULL: history is not kept */
	int64_t state_save_interval_ns; /* live mode saves the history this often */
	const char *output;		/* alerts: file path or "-" (stdout); --output wins */
	const char *log_level;		/* error, warn, info, debug */
	struct kh_capture_config capture;
	struct kh_node_config node;
	struct kh_metrics_config metrics;
	struct kh_correlate_config correlate;
	struct kh_cluster_config cluster;
	struct kh_config_rules *rules;
	/* rules.paths: Sigma rule files or directories (KH_SIGMA_MAX_PATHS in keyhole/sigma.h) */
	const char *rule_paths[32 + 1];
};

/* where and why a file was refused; line and column are 1-based, 0 when not known */
struct kh_config_error {
	char key[128]; /* dotted key path, "" when the error is not about one key */
	unsigned line, column;
	char msg[256];
};

/*
 * Load @path (or the @len bytes at @buf, named @name in messages), checking `rules.<id>` against
 * @rules (NULL: no rule ids are known). Returns 0 and a new config in *@out, or a negative errno
 * (-EINVAL for a bad file, -ENOENT etc. when unreadable, -ENOMEM) with @err filled in. Nothing is
 * reported here: the caller prints the error once.
 */
int config__load(const char *path, const struct kh_config_rule *rules, struct kh_config **out,
		 struct kh_config_error *err);
int config__load_buf(const char *buf, size_t len, const char *name,
		     const struct kh_config_rule *rules, struct kh_config **out,
		     struct kh_config_error *err);
void config__free(const struct kh_config *cfg);

/* "file:line:column: key: message" into @buf (always terminated) */
void config__format_error(const struct kh_config_error *err, const char *file, char *buf,
			  size_t cap);

/* the defaults every key has (static; never freed) */
const struct kh_config *config__defaults(void);

/* @cfg NULL means every default: rules are enabled unless the file says `enabled: false` */
bool config__rule_enabled(const struct kh_config *cfg, const char *rule_id);

/*
 * Copy every key the file set under rules.<@rule_id> onto @target, using @keys (the rule's own
 * table, the one the loader validated against). Keys the file did not set keep what @target
 * holds, which is the rule's seed default. @cfg NULL changes nothing.
 */
void config__rule_apply(const struct kh_config *cfg, const char *rule_id,
			const struct kh_config_key *keys, void *target);

/*
 * The configuration reference in Markdown: every key of the top level and of each rule, its type,
 * default and meaning, written from the schema and the defaults the loader fills.
 */
void config__write_reference(FILE *f, const struct kh_config_rule *rules);
/* the value of key @k in the struct at @base, as YAML (flow style) */
void config__write_value(FILE *f, const struct kh_config_key *k, const void *base);

/* the top-level schema, for documentation and tests */
extern const struct kh_config_key kh_config_top_keys[];

/*
 * Is the address @ip (text, @len bytes) in @list, a NULL-terminated list of addresses and CIDR
 * prefixes as KH_CFG_IPLIST validates them? An address that does not parse matches nothing.
 */
bool config__ip_in_list(const char *const *list, const char *ip, size_t len);

#endif /* KEYHOLE_CONFIG_H */
