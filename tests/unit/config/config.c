// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/config/: the YAML loader, its typed scalars, the per-rule keys and how rules
 * take them, and that every error names the key and the line.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "keyhole/config_scalar.h"
#include "keyhole/config.h"
#include "keyhole/ring_abi.h"
#include "rules/rules.h"
#include "keyhole/rule.h"
#include <stdlib.h>

static struct kh_config_error err;

static struct kh_config *load(const char *yaml)
{
	struct kh_config *c = NULL;
	int r = config__load_buf(yaml, strlen(yaml), "test.yaml", rules__config_schema(), &c, &err);

	cr_assert_eq(r, 0, "config refused: line %u: %s: %s", err.line, err.key, err.msg);
	return c;
}

/* the file must be refused, with this key at this line, and a message containing @frag */
static void refused(const char *yaml, const char *key, unsigned line, const char *frag)
{
	struct kh_config *c = NULL;
	int r = config__load_buf(yaml, strlen(yaml), "test.yaml", rules__config_schema(), &c, &err);

	cr_assert_eq(r, -EINVAL, "accepted:\n%s", yaml);
	cr_assert_null(c);
	cr_expect_str_eq(err.key, key, "key: got '%s' (%s)", err.key, err.msg);
	cr_expect_eq(err.line, line, "line: got %u for %s (%s)", err.line, err.key, err.msg);
	cr_expect(strstr(err.msg, frag) != NULL, "message '%s' lacks '%s'", err.msg, frag);
}

Test(config, empty_file_and_null_document_give_every_default)
{
	const char *docs[] = {"", "# only a comment\n", "---\n", "~\n"};

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct kh_config *c = load(docs[i]);

		cr_expect_null(c->state_file);
		cr_expect_eq(c->state_save_interval_ns, 300ll * 1000000000);
		cr_expect_str_eq(c->capture.comm, "kube-apiserver");
		cr_expect_eq(c->capture.max_event_bytes, 1u << 20);
		cr_expect(c->capture.baseline_from_disk);
		cr_expect(c->node.exec_watch);
		cr_expect_str_eq(c->node.pods_log_dir, "/var/log/pods");
		cr_expect(config__rule_enabled(c, "k8s-secret-rapid-get"));
		config__free(c);
	}
	cr_expect(config__rule_enabled(NULL, "k8s-unusual-decision-ua"));
}

Test(config, top_level_keys_are_read)
{
	struct kh_config *c = load("state_file: /var/lib/keyhole/history.khs\n"
				   "state_save_interval: 1h30m\n"
				   "output: /var/log/keyhole/alerts.jsonl\n"
				   "capture:\n"
				   "  audit_log: /var/log/kubernetes/audit.log\n"
				   "  comm: apiserver\n"
				   "  max_event_bytes: 65536\n"
				   "  baseline_from_disk: false\n"
				   "node: {exec_watch: False, pods_log_dir: /host/var/log/pods}\n"
				   "metrics:\n"
				   "  listen: 127.0.0.1:9464\n");

	cr_expect_str_eq(c->state_file, "/var/lib/keyhole/history.khs");
	cr_expect_eq(c->state_save_interval_ns, 5400ll * 1000000000);
	cr_expect_str_eq(c->output, "/var/log/keyhole/alerts.jsonl");
	cr_expect_str_eq(c->capture.audit_log, "/var/log/kubernetes/audit.log");
	cr_expect_str_eq(c->capture.comm, "apiserver");
	cr_expect_eq(c->capture.max_event_bytes, 65536);
	cr_expect(!c->capture.baseline_from_disk);
	cr_expect(!c->node.exec_watch);
	cr_expect_str_eq(c->node.pods_log_dir, "/host/var/log/pods");
	cr_expect_str_eq(c->metrics.listen, "127.0.0.1:9464");
	cr_expect_str_eq(c->path, "test.yaml");
	config__free(c);
}

Test(config, null_unsets_a_string)
{
	struct kh_config *c =
	    load("capture: {comm: kube-apiserver, audit_log: ~}\nstate_file: null\n");

	cr_expect_null(c->capture.audit_log);
	cr_expect_null(c->state_file);
	config__free(c);
}

Test(config, rule_keys_overlay_the_rule_defaults)
{
	struct kh_config *c = load("rules:\n"
				   "  k8s-secret-rapid-get:\n"
				   "    min_distinct_names: 5\n"
				   "    window: 10m\n"
				   "    max_groups: 5000\n"
				   "    excluded_usernames: [ci-bot]\n"
				   "    excluded_source_ips: [10.0.0.0/8, \"fd00::/8\"]\n"
				   "  k8s-unusual-decision-ua:\n"
				   "    enabled: false\n"
				   "    history: 3d\n");
	struct secret_rapid_get_tun t = secret_rapid_get_defaults;
	struct unusual_decision_ua_tun u = unusual_decision_ua_defaults;

	config__rule_apply(c, "k8s-secret-rapid-get", rule_secret_rapid_get.config_keys, &t);
	cr_expect_eq(t.min_distinct_names, 5);
	cr_expect_eq(t.window_ns, 600ll * 1000000000);
	cr_expect_eq(t.max_groups, 5000);
	cr_expect_eq(t.max_requests_per_group, secret_rapid_get_defaults.max_requests_per_group);
	/* a list set in the file replaces the default list whole */
	cr_expect_str_eq(t.allow.usernames[0], "ci-bot");
	cr_expect_null(t.allow.usernames[1]);
	cr_expect_str_eq(t.allow.source_ips[1], "fd00::/8");
	cr_expect_null(t.allow.source_ips[2]);
	/* lists the file did not set keep the seed's */
	cr_expect_str_eq(t.allow.name_prefixes[0], "sh.helm.release.");

	cr_expect(!config__rule_enabled(c, "k8s-unusual-decision-ua"));
	cr_expect(config__rule_enabled(c, "k8s-secret-rapid-get"));
	config__rule_apply(c, "k8s-unusual-decision-ua", rule_unusual_decision_ua.config_keys, &u);
	cr_expect_eq(u.history_ns, 3ll * 86400 * 1000000000);
	cr_expect_eq(u.max_keys, unusual_decision_ua_defaults.max_keys);

	/* another rule's table is never applied with these values */
	t = secret_rapid_get_defaults;
	config__rule_apply(c, "k8s-secret-rapid-get", rule_unusual_decision_ua.config_keys, &t);
	cr_expect_eq(t.min_distinct_names, 3);
	config__free(c);
}

Test(config, the_other_rules_take_their_tunables)
{
	struct kh_config *c =
	    load("rules:\n"
		 "  k8s-secret-suspicious-ua:\n"
		 "    excluded_users: [\"system:serviceaccount:ci:*\"]\n"
		 "  k8s-secret-read-node-or-pod-sa:\n"
		 "    excluded_pods:\n"
		 "      - {username: \"system:serviceaccount:backup:velero\", "
		 "pod_name: \"velero-*\"}\n"
		 "  k8s-secret-configmap-arc-proxy:\n"
		 "    window: 7d\n"
		 "    max_users: 100\n"
		 "  k8s-secret-access-non-controller:\n"
		 "    controller_prefixes: [\"system:serviceaccount:kube-system:\"]\n");
	struct secret_suspicious_ua_tun su = secret_suspicious_ua_defaults;
	struct secret_read_node_or_pod_sa_tun np = secret_read_node_or_pod_sa_defaults;
	struct secret_configmap_arc_proxy_tun ap = secret_configmap_arc_proxy_defaults;
	struct secret_access_non_controller_tun nc = secret_access_non_controller_defaults;

	config__rule_apply(c, "k8s-secret-suspicious-ua", rule_secret_suspicious_ua.config_keys,
			   &su);
	cr_expect_str_eq(su.excluded_users[0], "system:serviceaccount:ci:*");
	cr_expect_str_eq(su.user_agents[0], "curl*"); /* untouched */
	config__rule_apply(c, "k8s-secret-read-node-or-pod-sa",
			   rule_secret_read_node_or_pod_sa.config_keys, &np);
	cr_expect_str_eq(np.excluded_pods[0].username, "system:serviceaccount:backup:velero");
	cr_expect_str_eq(np.excluded_pods[0].pod_name, "velero-*");
	cr_expect_null(np.excluded_pods[1].username);
	config__rule_apply(c, "k8s-secret-configmap-arc-proxy",
			   rule_secret_configmap_arc_proxy.config_keys, &ap);
	cr_expect_eq(ap.window_ns, 7ll * 86400 * 1000000000);
	cr_expect_eq(ap.max_users, 100);
	config__rule_apply(c, "k8s-secret-access-non-controller",
			   rule_secret_access_non_controller.config_keys, &nc);
	cr_expect_null(nc.controller_prefixes[1]);
	config__free(c);
}

Test(config, unknown_keys_name_key_and_line)
{
	refused("state_file: /x\nstatefile: /y\n", "statefile", 2, "unknown key");
	refused("capture:\n  comm: x\n  audit_logs: /a\n", "capture.audit_logs", 3, "unknown key");
	refused("rules:\n  k8s-secret-rapid-get:\n    windw: 5m\n",
		"rules.k8s-secret-rapid-get.windw", 3, "unknown key");
	refused("rules:\n  k8s-nope:\n    enabled: true\n", "rules.k8s-nope", 2, "unknown rule");
	/* a key of one rule is unknown to another */
	refused("rules:\n  k8s-secret-suspicious-ua:\n    window: 5m\n",
		"rules.k8s-secret-suspicious-ua.window", 3, "unknown key");
	refused("rules:\n  k8s-secret-read-node-or-pod-sa:\n    excluded_pods:\n"
		"      - {username: a, pod: b}\n",
		"rules.k8s-secret-read-node-or-pod-sa.excluded_pods", 4, "unknown key 'pod'");
}

Test(config, wrong_types_name_key_and_line)
{
	refused("capture:\n  baseline_from_disk: yes\n", "capture.baseline_from_disk", 2,
		"true or false");
	refused("capture:\n  max_event_bytes: lots\n", "capture.max_event_bytes", 2,
		"whole number");
	refused("capture:\n  max_event_bytes: \"65536\"\n", "capture.max_event_bytes", 2,
		"quoted string");
	refused("capture:\n  max_event_bytes: 100\n", "capture.max_event_bytes", 2, "from 8192 to");
	refused("capture:\n  max_event_bytes: -5\n", "capture.max_event_bytes", 2, "whole number");
	refused("\nstate_save_interval: 5 minutes\n", "state_save_interval", 2, "duration");
	refused("state_save_interval: 0\n", "state_save_interval", 1, "from 1s");
	refused("capture: 5\n", "capture", 1, "expected a mapping");
	refused("state_file: [a, b]\n", "state_file", 1, "expected a string, got a list");
	refused("capture:\n  comm: kube-apiserver-long-name\n", "capture.comm", 2, "at most 15");
	refused("rules:\n  k8s-secret-rapid-get:\n    excluded_usernames: alice\n",
		"rules.k8s-secret-rapid-get.excluded_usernames", 3, "expected a list");
	refused(
	    "rules:\n  k8s-secret-rapid-get:\n    excluded_usernames:\n      - a\n      - [b]\n",
	    "rules.k8s-secret-rapid-get.excluded_usernames", 5, "item 2: expected a string");
	refused("rules:\n  k8s-secret-rapid-get:\n    excluded_source_ips: [10.0.0.0/33]\n",
		"rules.k8s-secret-rapid-get.excluded_source_ips", 3, "not an IP address");
	refused("rules:\n  k8s-secret-rapid-get:\n    enabled: 1\n",
		"rules.k8s-secret-rapid-get.enabled", 3, "true or false");
	refused("rules:\n  k8s-secret-rapid-get:\n    min_distinct_names: 1\n",
		"rules.k8s-secret-rapid-get.min_distinct_names", 3, "from 2 to 1024");
	refused("rules:\n  k8s-secret-rapid-get: true\n", "rules.k8s-secret-rapid-get", 2,
		"expected a mapping");
	refused("rules:\n  k8s-secret-read-node-or-pod-sa:\n    excluded_pods:\n"
		"      - {username: a}\n",
		"rules.k8s-secret-read-node-or-pod-sa.excluded_pods", 4, "needs both");
	refused("output: \"a\\0b\"\n", "output", 1, "NUL");
}

/*
 * The capture keys take exactly what the BPF side can honour (ring_abi.h), so a value that loads
 * is one `run` accepts: 6000 once passed here and was refused later by the tap.
 */
Test(config, capture_bounds_are_the_abi_constants)
{
	char yaml[128], frag[64];
	struct kh_config *c;

	snprintf(frag, sizeof(frag), "from %u to %u", KH_AUDIT_CAP_MIN, KH_AUDIT_CAP_MAX);
	refused("capture:\n  max_event_bytes: 6000\n", "capture.max_event_bytes", 2, frag);
	snprintf(yaml, sizeof(yaml), "capture:\n  max_event_bytes: %u\n", KH_AUDIT_CAP_MIN - 1);
	refused(yaml, "capture.max_event_bytes", 2, frag);
	snprintf(yaml, sizeof(yaml), "capture:\n  max_event_bytes: %u\n", KH_AUDIT_CAP_MAX + 1);
	refused(yaml, "capture.max_event_bytes", 2, frag);
	for (unsigned v = KH_AUDIT_CAP_MIN; v; v = v == KH_AUDIT_CAP_MIN ? KH_AUDIT_CAP_MAX : 0) {
		snprintf(yaml, sizeof(yaml), "capture:\n  max_event_bytes: %u\n", v);
		c = load(yaml);
		cr_expect_eq(c->capture.max_event_bytes, v);
		config__free(c);
	}
	/* a comm the kernel keeps whole (TASK_COMM_LEN with its NUL), and one byte more */
	c = load("capture:\n  comm: abcdefghijklmno\n");
	cr_expect_eq(strlen(c->capture.comm), KH_COMM_LEN - 1);
	config__free(c);
	refused("capture:\n  comm: abcdefghijklmnop\n", "capture.comm", 2, "at most 15");
}

Test(config, too_long_a_list_is_refused)
{
	char yaml[2048];
	int n =
	    snprintf(yaml, sizeof(yaml), "rules:\n  k8s-secret-suspicious-ua:\n    user_agents: [");

	for (int i = 0; i < 33; i++)
		n += snprintf(yaml + n, sizeof(yaml) - (size_t)n, "%sua%d*", i ? ", " : "", i);
	snprintf(yaml + n, sizeof(yaml) - (size_t)n, "]\n");
	refused(yaml, "rules.k8s-secret-suspicious-ua.user_agents", 3, "at most 32 items, got 33");
}

Test(config, structure_errors)
{
	refused("state_file: /a\nstate_file: /b\n", "state_file", 2,
		"duplicate key (first at line 1)");
	refused("- a\n- b\n", "", 1, "must be a mapping");
	refused("state_file: /a\n---\nstate_file: /b\n", "", 3, "only one YAML document");
	refused("capture:\n  comm: [unclosed\n", "", 3, "not valid YAML");
	refused("? [a, b]\n: c\n", "", 1, "plain name");
}

Test(config, format_error_names_file_line_column_key)
{
	char msg[512];

	refused("capture:\n  comm: x\n  bogus: 1\n", "capture.bogus", 3, "unknown key");
	config__format_error(&err, "/etc/keyhole/config.yaml", msg, sizeof(msg));
	cr_expect_str_eq(msg, "/etc/keyhole/config.yaml:3:3: capture.bogus: unknown key");
}

Test(config, files_that_cannot_be_read)
{
	struct kh_config *c;
	char path[] = "/tmp/kh-config-XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_expect_eq(config__load("/nonexistent/keyhole.yaml", rules__config_schema(), &c, &err),
		     -ENOENT);
	cr_expect(strstr(err.msg, "cannot read") != NULL);
	cr_expect_eq(config__load("/tmp", rules__config_schema(), &c, &err), -EINVAL);
	cr_expect(write(fd, "rules:\n  k8s-secret-rapid-get:\n    window: 90s\n", 46) == 46);
	close(fd);
	cr_assert_eq(config__load(path, rules__config_schema(), &c, &err), 0, "%s", err.msg);
	cr_expect_str_eq(c->path, path);
	config__free(c);
	unlink(path);
}

Test(config_scalar, durations)
{
	uint64_t s;

	cr_expect_eq(config_scalar__parse_duration("90s", &s), 0);
	cr_expect_eq(s, 90);
	cr_expect_eq(config_scalar__parse_duration("1h30m", &s), 0);
	cr_expect_eq(s, 5400);
	cr_expect_eq(config_scalar__parse_duration("10d", &s), 0);
	cr_expect_eq(s, 864000);
	cr_expect_eq(config_scalar__parse_duration("0", &s), 0);
	cr_expect_eq(s, 0);
	cr_expect_eq(config_scalar__parse_duration("6", &s), -EINVAL);
	cr_expect_eq(config_scalar__parse_duration("m", &s), -EINVAL);
	cr_expect_eq(config_scalar__parse_duration("5w", &s), -EINVAL);
	cr_expect_eq(config_scalar__parse_duration("", &s), -EINVAL);
	cr_expect_eq(config_scalar__parse_duration("99999999999999999999d", &s), -ERANGE);
	cr_expect_eq(config_scalar__parse_duration("9999999999999d", &s), -ERANGE);
}

Test(config_scalar, ip_prefixes)
{
	const char *const list[] = {"10.0.0.0/8", "fd00::/8", "192.0.2.7", "::1", NULL};

	cr_expect(config__ip_in_list(list, "10.1.2.3", 8));
	cr_expect(config__ip_in_list(list, "::ffff:10.9.9.9", 15)); /* mapped IPv4 is IPv4 */
	cr_expect(config__ip_in_list(list, "fd12:3456::1", 12));
	cr_expect(config__ip_in_list(list, "192.0.2.7", 9));
	cr_expect(config__ip_in_list(list, "0:0:0:0:0:0:0:1", 15));
	cr_expect(!config__ip_in_list(list, "11.0.0.1", 8));
	cr_expect(!config__ip_in_list(list, "192.0.2.8", 9));
	cr_expect(!config__ip_in_list(list, "fe80::1", 7));
	cr_expect(!config__ip_in_list(list, "not-an-ip", 9));
	cr_expect(!config__ip_in_list(list, "10.0.0.0/8", 10)); /* an event IP is an address */
}

#define SOURCE_DIR KH_TEST_DATA_DIR "/../.."

Test(config, example_config_loads)
{
	struct kh_config *c;

	cr_assert_eq(config__load(SOURCE_DIR "/deploy/keyhole.example.yaml", rules__config_schema(),
				  &c, &err),
		     0, "deploy/keyhole.example.yaml:%u: %s: %s", err.line, err.key, err.msg);
	cr_expect_str_eq(c->state_file, "/var/lib/keyhole/history.khs");
	config__free(c);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

Test(config, docs_reference_is_current)
{
	static const char begin[] = "<!-- BEGIN keyhole rules --config-reference -->\n";
	char *doc = slurp(SOURCE_DIR "/docs/configuration.md"), *gen = NULL, *from, *to;
	size_t len = 0;
	FILE *m = open_memstream(&gen, &len);

	config__write_reference(m, rules__config_schema());
	fclose(m);
	from = strstr(doc, begin);
	cr_assert_not_null(from, "docs/configuration.md lacks its generated section");
	from += strlen(begin);
	to = strstr(from, "<!-- END keyhole rules --config-reference -->");
	cr_assert_not_null(to);
	*to = '\0';
	cr_expect_str_eq(from, gen,
			 "docs/configuration.md is stale: regenerate its reference section with "
			 "`keyhole rules --config-reference`");
	free(doc);
	free(gen);
}

/* the field of @k at @a and @b hold the same value */
static bool same_value(const struct kh_config_key *k, const void *a, const void *b)
{
	const char *pa = (const char *)a + k->offset, *pb = (const char *)b + k->offset;
	const char *const *la = (const char *const *)pa, *const *lb = (const char *const *)pb;
	size_t i;

	switch (k->type) {
	case KH_CFG_STRING:
		return (!*la && !*lb) || (*la && *lb && !strcmp(*la, *lb));
	case KH_CFG_LIST:
	case KH_CFG_IPLIST:
	case KH_CFG_PAIRS:
		for (i = 0; la[i] && lb[i]; i++)
			if (strcmp(la[i], lb[i]))
				return false;
		return !la[i] && !lb[i];
	default:
		return !memcmp(pa, pb, k->size);
	}
}

enum where { IN_RULE, TOP };

/*
 * Write key @k of table @keys with its default (from @defaults) as the reference renders it,
 * under rule @id or at the top level; load that file and check that the value it
 * gives back is the default.
 */
static void round_trip(enum where w, const char *id, const struct kh_config_key *keys,
		       const struct kh_config_key *k, const void *defaults)
{
	static char target[1 << 16];
	const char *dot = strchr(k->name, '.');
	char *yaml = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&yaml, &len);
	struct kh_config *c = NULL;

	if (w == IN_RULE)
		fprintf(m, "rules:\n  %s:\n    %s: ", id, k->name);
	else if (dot)
		fprintf(m, "%.*s:\n  %s: ", (int)(dot - k->name), k->name, dot + 1);
	else
		fprintf(m, "%s: ", k->name);
	config__write_value(m, k, defaults);
	fputc('\n', m);
	fclose(m);
	cr_assert_eq(config__load_buf(yaml, len, "ref", rules__config_schema(), &c, &err), 0,
		     "%s %s: %s\n%s", id, k->name, err.msg, yaml);
	memset(target, 0, sizeof(target));
	if (w == IN_RULE)
		config__rule_apply(c, id, keys, target);
	cr_expect(same_value(k, w == TOP ? (const void *)c : target, defaults),
		  "%s %s does not load back as its default:\n%s", id, k->name, yaml);
	config__free(c);
	free(yaml);
}

Test(config, every_default_in_the_reference_loads_back_as_itself)
{
	size_t n = 0;

	for (const struct kh_config_key *k = kh_config_top_keys; k->name; k++, n++)
		round_trip(TOP, "", kh_config_top_keys, k, config__defaults());
	for (size_t i = 0; kh_rule_table[i]; i++) {
		const struct kh_rule *r = kh_rule_table[i];

		cr_assert(!r->config_keys || r->config_defaults,
			  "%s has config_keys but no config_defaults", r->info->id);
		for (const struct kh_config_key *k = r->config_keys; k && k->name; k++, n++)
			round_trip(IN_RULE, r->info->id, r->config_keys, k, r->config_defaults);
	}
	cr_expect_gt(n, 40, "only %zu keys checked", n);
}
