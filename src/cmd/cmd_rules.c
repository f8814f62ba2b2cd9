// SPDX-License-Identifier: Apache-2.0
/*
 * keyhole rules: list every rule with its id, source rule uuid, name, severity, risk score and
 * MITRE techniques, as a table or (--json) one JSON object per line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd_common.h"
#include "cmd/commands.h"
#include "cmd/opts.h"
#include "keyhole/config.h"
#include "keyhole/json_out.h"
#include "keyhole/correlate.h"
#include "keyhole/rule.h"
#include "keyhole/sigma.h"

enum { O_JSON, O_CONFIG_REF, O_CONFIG, O_RULES };

static const struct opt rules_opts[] = {
    {0, "json", NULL, "one JSON object per rule", O_JSON, 0, NULL},
    {'c', "config", "FILE", "read rules.paths from this configuration file", O_CONFIG, OPT_FILE,
     NULL},
    {'r', "rules", "PATH", "Sigma rules: a file or a directory (repeatable)", O_RULES, OPT_FILE,
     NULL},
    {0, "config-reference", NULL, "every config file key: type, default, meaning (Markdown)",
     O_CONFIG_REF, 0, NULL},
    {0},
};

const struct cmd_spec rules_spec = {
    .name = "rules",
    .summary = "list the detection rules, or check Sigma rule files",
    .synopsis = "[--json] [-c FILE] [-r PATH]...\ncheck PATH...\n--config-reference",
    .description = "List the detection rules keyhole applies: the built-in ones, then the Sigma "
		   "rules of the\nconfig's rules.paths and of each --rules PATH. `check` "
		   "validates Sigma rule files (or\ndirectories of them) and prints each error "
		   "as file:line:column: message.",
    .epilog = "Exit status: 0; for check, 1 when any rule is invalid; 2 usage error.",
    .opts = rules_opts,
};

struct rules_args {
	int json, reference;
	const char *config;
	const char *paths[KH_SIGMA_MAX_PATHS];
	size_t n_paths;
};

static int set_opt(void *ctx, const struct opt_hit *h)
{
	struct rules_args *a = ctx;

	switch (h->o->id) {
	case O_JSON:
		a->json = 1;
		break;
	case O_CONFIG_REF:
		a->reference = 1;
		break;
	case O_CONFIG:
		a->config = h->val;
		break;
	case O_RULES:
		if (a->n_paths == KH_SIGMA_MAX_PATHS)
			return cmd__usage_error(NULL, "at most %d rule paths", KH_SIGMA_MAX_PATHS);
		a->paths[a->n_paths++] = h->val;
		break;
	}
	return 0;
}

static const char rules_usage[] = "Usage: keyhole rules check PATH...\n";

static void print_json(const struct kh_rule_info *r)
{
	struct json_out j;

	json_out__init(&j);
	json_out__obj_begin(&j);
	json_out__kv_str(&j, "id", r->id);
	json_out__kv_str(&j, "uuid", r->uuid);
	json_out__kv_str(&j, "name", r->name);
	json_out__kv_str(&j, "severity", r->severity);
	json_out__kv_int(&j, "risk_score", r->risk_score);
	json_out__key(&j, "techniques");
	json_out__arr_begin(&j);
	for (int t = 0; t < KH_MAX_TECHNIQUES && r->techniques[t]; t++)
		json_out__str(&j, r->techniques[t]);
	json_out__arr_end(&j);
	json_out__key(&j, "tactics");
	json_out__arr_begin(&j);
	for (int t = 0; t < KH_MAX_TECHNIQUES && r->tactics[t]; t++)
		json_out__str(&j, r->tactics[t]);
	json_out__arr_end(&j);
	json_out__kv_str(&j, "source", r->source ? r->source : "");
	json_out__kv_str(&j, "ruleset", r->ruleset ? r->ruleset : "keyhole");
	json_out__obj_end(&j);
	if (!j.oom)
		printf("%s\n", j.buf);
	json_out__free(&j);
}

static void print_row(const struct kh_rule_info *r)
{
	char tech[128] = "";
	/* a rule mapped to a tactic only (seed 002) shows the tactic */
	const char *const *ids = r->techniques[0] ? r->techniques : r->tactics;

	for (int t = 0; t < KH_MAX_TECHNIQUES && ids[t]; t++) {
		if (t)
			strncat(tech, ",", sizeof(tech) - strlen(tech) - 1);
		strncat(tech, ids[t], sizeof(tech) - strlen(tech) - 1);
	}
	printf("%-34s %-8s %4d  %-36s  %s\n    %s\n", r->id, r->severity, r->risk_score, r->uuid,
	       tech, r->name);
}

/* keyhole rules check PATH...: every error on stderr, exit 1 if any */
static int rules_check(int argc, char **argv)
{
	size_t errors;

	if (argc < 3)
		return cmd__usage_error(rules_usage, "rules check needs a file or directory");
	if (argc - 2 > KH_SIGMA_MAX_PATHS)
		return cmd__usage_error(rules_usage, "at most %d paths", KH_SIGMA_MAX_PATHS);
	errors = sigma__check((const char *const *)argv + 2, (size_t)argc - 2, stderr);
	if (errors)
		fprintf(stderr, "keyhole: %zu error%s\n", errors, errors == 1 ? "" : "s");
	return errors ? 1 : 0;
}

static void print_sigma(const char *const *paths, size_t n, int json)
{
	struct kh_sigma *s;

	if (!n)
		return;
	s = sigma__load(paths, n, NULL);
	for (size_t i = 0; s && i < sigma__n(s); i++) {
		if (json)
			print_json(sigma__info(s, i));
		else
			print_row(sigma__info(s, i));
	}
	sigma__free(s);
}

int cmd__rules(int argc, char **argv)
{
	struct rules_args a = {0};
	const char **paths = a.paths;
	const struct kh_config *cfg = NULL;
	size_t n_paths;
	int json, r;
	char **ops;
	int n;

	if (argc > 1 && !strcmp(argv[1], "check"))
		return rules_check(argc, argv);
	r = opts__parse(&rules_spec, argc, argv, set_opt, &a, &ops, &n);
	if (r)
		return r == 1 ? 0 : 2;
	if (n) {
		r = cmd__usage_error(NULL, "unexpected argument '%s' (did you mean `rules check`?)",
				     ops[0]);
		free(ops);
		return r;
	}
	free(ops);
	if (a.reference) {
		config__write_reference(stdout, rules__config_schema());
		return 0;
	}
	json = a.json;
	n_paths = a.n_paths;
	if (cmd__load_config(a.config, &cfg))
		return 2;
	if (cfg) { /* the config's paths first, as run and replay load them */
		size_t k = 0;

		while (cfg->rule_paths[k])
			k++;
		k = k > KH_SIGMA_MAX_PATHS - n_paths ? KH_SIGMA_MAX_PATHS - n_paths : k;
		memmove(paths + k, paths, n_paths * sizeof(*paths));
		memcpy(paths, cfg->rule_paths, k * sizeof(*paths));
		n_paths += k;
	}
	if (!json)
		printf("%-34s %-8s %4s  %-36s  %s\n    %s\n", "ID", "SEVERITY", "RISK",
		       "SOURCE RULE UUID", "MITRE", "NAME");
	for (size_t i = 0; kh_rule_table[i]; i++) {
		if (json)
			print_json(kh_rule_table[i]->info);
		else
			print_row(kh_rule_table[i]->info);
	}
	/* the correlator's incidents come after the per-event rules */
	if (json)
		print_json(&kh_rule_escalate_then_loot);
	else
		print_row(&kh_rule_escalate_then_loot);
	print_sigma(paths, n_paths, json);
	cmd__free_config(cfg);
	return 0;
}
