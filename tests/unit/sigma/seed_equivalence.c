// SPDX-License-Identifier: Apache-2.0
/*
 * Seed 000 and seed 004 written as Sigma rules give exactly the built-in rules' alerts (same
 * requests, same stage, same time) on every bundled log.
 *
 * Seed 000 is a KQL query on keyword fields: exact, case-sensitive values, so every value here
 * is |cased (plain Sigma values would also take "Curl/8" and "GET"). Its `source.ip:*` is the
 * first source IP present and not empty: `sourceIPs.0: '?*'`. Seed 004 is Sigma already: its
 * selection is Sigma's default, case-insensitive; its allowlist is |cased, as the built-in rule
 * does (an OIDC user SYSTEM:SERVICEACCOUNT:KUBE-SYSTEM:x is not a kube-system service account).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <glob.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyhole/pipeline.h"
#include "rules_harness.h"
#include "sigma_harness.h"

static const char seed000[] =
    "title: Kubernetes Secret get or list with Suspicious User Agent (Sigma)\n"
    "id: seed000-sigma\n"
    "logsource:\n  product: kubernetes\n  service: audit\n"
    "detection:\n"
    "  selection:\n"
    "    verb|cased: [get, list]\n"
    "    objectRef.resource|cased: secrets\n"
    "    userAgent|cased: ['curl*', 'python*', 'Python*', 'wget*', 'Go-http*', 'perl*',\n"
    "                      'java*', 'node*', 'php*', '*distrib#kali*', '*kali-amd64',\n"
    "                      '*kali-arm64*']\n"
    "    sourceIPs.0: '?*'\n"
    "  condition: selection\n"
    "level: high\n"
    "tags: [attack.credential-access, attack.t1552.007]\n";

static const char seed004[] = "title: Kubernetes Secret Access / Exfiltration (Sigma)\n"
			      "id: seed004-sigma\n"
			      "logsource:\n  product: kubernetes\n  service: audit\n"
			      "detection:\n"
			      "  selection:\n"
			      "    objectRef.resource: 'secrets'\n"
			      "    verb:\n      - 'get'\n      - 'list'\n      - 'watch'\n"
			      "  filter_controllers:\n"
			      "    user.username|startswith|cased:\n"
			      "      - 'system:serviceaccount:kube-system:'\n"
			      "      - 'system:serviceaccount:cert-manager:'\n"
			      "      - 'system:serviceaccount:external-secrets:'\n"
			      "  condition: selection and not filter_controllers\n"
			      "level: high\n"
			      "tags: [attack.credential_access, attack.t1552.007]\n";

/* "auditID stage @timestamp" per alert of @rule_id, in output order, one per line */
static char *keys_of(const char *out, size_t len, const char *rule_id)
{
	char *copy = strndup(out, len), *save = NULL, *l, *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);

	for (l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(l), *rule, *id, *audit, *v;

		cr_assert(o, "not JSON: %s", l);
		if (json_object_object_get_ex(o, "rule", &rule) &&
		    json_object_object_get_ex(rule, "id", &id) &&
		    !strcmp(json_object_get_string(id), rule_id)) {
			const char *ts = json_object_object_get_ex(o, "@timestamp", &v)
					     ? json_object_get_string(v)
					     : "-";
			json_object *ai = NULL, *st = NULL;

			cr_assert(json_object_object_get_ex(o, "kubernetes", &audit));
			cr_assert(json_object_object_get_ex(audit, "audit", &audit));
			json_object_object_get_ex(audit, "auditID", &ai);
			json_object_object_get_ex(audit, "stage", &st);
			fprintf(f, "%s %s %s\n", ai ? json_object_get_string(ai) : "-",
				st ? json_object_get_string(st) : "-", ts);
		}
		json_object_put(o);
	}
	fclose(f);
	free(copy);
	return buf;
}

static size_t lines_in(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* run @log through one pipeline with the built-in rules and @rules_file; compare */
static size_t compare(const char *log, const char *rules_file, size_t *n000, size_t *n004)
{
	const char *paths[] = {rules_file};
	struct kh_pipeline_opts po = {0};
	struct kh_origin o = {.source = log};
	char *out = NULL, *line = NULL, *a, *b;
	size_t olen = 0, cap = 0;
	ssize_t n;
	FILE *in = fopen(log, "r");

	cr_assert(in, "%s", log);
	po.out = open_memstream(&out, &olen);
	po.rule_paths = paths;
	po.n_rule_paths = 1;
	struct kh_pipeline *p = pipeline__new(&po);

	cr_assert(p);
	while ((n = getline(&line, &cap, in)) > 0) {
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		o.line_no++;
		pipeline__feed_line(p, line, (size_t)n, &o);
	}
	pipeline__flush(p);
	pipeline__free(p);
	fclose(in);
	free(line);
	fclose(po.out);
	a = keys_of(out, olen, "k8s-secret-suspicious-ua");
	b = keys_of(out, olen, "seed000-sigma");
	cr_expect_str_eq(b, a, "%s: seed 000 as Sigma differs from the built-in rule", log);
	*n000 += lines_in(a);
	free(a);
	free(b);
	a = keys_of(out, olen, "k8s-secret-access-non-controller");
	b = keys_of(out, olen, "seed004-sigma");
	cr_expect_str_eq(b, a, "%s: seed 004 as Sigma differs from the built-in rule", log);
	*n004 += lines_in(a);
	free(a);
	free(b);
	free(out);
	return 1;
}

Test(sigma_seed_equivalence, every_bundled_log)
{
	static const char *const patterns[] = {
	    KH_TEST_DATA_DIR "/*.log",
	    KH_SAMPLES_DIR "/*/*.log",
	    KH_SAMPLES_DIR "/*/*.jsonl",
	};
	char dir[] = "/tmp/kh-seed-XXXXXX", file[96];
	size_t logs = 0, n000 = 0, n004 = 0;
	FILE *f;

	cr_assert(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/seeds.yml", dir);
	f = fopen(file, "w");
	cr_assert(f);
	fprintf(f, "%s---\n%s", seed000, seed004);
	fclose(f);
	for (size_t k = 0; k < sizeof(patterns) / sizeof(patterns[0]); k++) {
		glob_t g;

		if (glob(patterns[k], 0, NULL, &g))
			continue;
		for (size_t i = 0; i < g.gl_pathc; i++)
			logs += compare(g.gl_pathv[i], file, &n000, &n004);
		globfree(&g);
	}
	unlink(file);
	rmdir(dir);
	cr_expect_geq(logs, 8, "bundled logs found: %zu", logs);
	/* the comparison must be about something: both rules alert on the bundled logs */
	cr_expect_geq(n000, 5, "seed 000 alerts: %zu", n000);
	cr_expect_geq(n004, 10, "seed 004 alerts: %zu", n004);
	fprintf(stderr,
		"sigma_seed_equivalence: %zu logs, seed 000 %zu alerts, seed 004 %zu "
		"alerts, identical\n",
		logs, n000, n004);
}

Test(sigma_seed_equivalence, the_cased_allowlist_matters)
{
	/* the OIDC look-alike: the built-in rule and the |cased Sigma rule alert ... */
	const struct ev_spec oidc = {.user = "SYSTEM:SERVICEACCOUNT:KUBE-SYSTEM:x"};
	struct rh *h = rh_new(NULL);
	char *loose = strdup(seed004), *p;

	rh_ev(h, &oidc);
	rh_flush(h);
	cr_expect_eq(rh_count(h, "k8s-secret-access-non-controller"), 1);
	rh_free(h);
	cr_expect_eq(sh_hits(seed004, &oidc), 1);
	/* ... while the allowlist without |cased lets it read secrets unseen */
	p = strstr(loose, "|cased");
	memmove(p, p + 6, strlen(p + 6) + 1);
	cr_expect_eq(sh_hits(loose, &oidc), 0);
	free(loose);
}
