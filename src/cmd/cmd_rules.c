// SPDX-License-Identifier: Apache-2.0
/*
 * keyhole rules: list every rule with its id, source rule uuid, name, severity, risk score and
 * MITRE techniques, as a table or (--json) one JSON object per line.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd_common.h"
#include "keyhole/config.h"
#include "keyhole/json_out.h"
#include "keyhole/correlate.h"
#include "keyhole/rule.h"

static const char rules_usage[] =
	"Usage: keyhole rules [--json | --config-reference]\n"
	"\n"
	"List the detection rules keyhole applies.\n"
	"\n"
	"Options:\n"
	"  --json              one JSON object per rule\n"
	"  --config-reference  every config file key: type, default, meaning (Markdown)\n"
	"  -h, --help          this help\n";

static void print_json(const struct kh_rule_info *r)
{
	struct json_out j;

	json_out_init(&j);
	json_obj_begin(&j);
	json_kv_str(&j, "id", r->id);
	json_kv_str(&j, "uuid", r->uuid);
	json_kv_str(&j, "name", r->name);
	json_kv_str(&j, "severity", r->severity);
	json_kv_int(&j, "risk_score", r->risk_score);
	json_key(&j, "techniques");
	json_arr_begin(&j);
	for (int t = 0; t < KH_MAX_TECHNIQUES && r->techniques[t]; t++)
		json_str(&j, r->techniques[t]);
	json_arr_end(&j);
	json_key(&j, "tactics");
	json_arr_begin(&j);
	for (int t = 0; t < KH_MAX_TECHNIQUES && r->tactics[t]; t++)
		json_str(&j, r->tactics[t]);
	json_arr_end(&j);
	json_kv_str(&j, "source", r->source ? r->source : "");
	json_obj_end(&j);
	if (!j.oom)
		printf("%s\n", j.buf);
	json_out_free(&j);
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
	printf("%-34s %-8s %4d  %-36s  %s\n    %s\n", r->id, r->severity, r->risk_score,
	       r->uuid, tech, r->name);
}

int cmd_rules(int argc, char **argv)
{
	int json = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (!strcmp(argv[i], "--config-reference")) {
			config__write_reference(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(rules_usage, stdout);
			return 0;
		} else {
			return cmd_usage_error(rules_usage, "unknown argument '%s'", argv[i]);
		}
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
	return 0;
}
