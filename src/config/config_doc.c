// SPDX-License-Identifier: Apache-2.0
/*
 * config_doc: the configuration reference, written from the schema itself: every key, its type
 * and its default read back from the structs the loader fills, so the documentation cannot drift
 * from the code (tests/unit/config.c checks docs/configuration.md against this output).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/config.h"

static const char *type_name(const struct kh_config_key *k)
{
	switch (k->type) {
	case KH_CFG_BOOL:
		return "bool";
	case KH_CFG_UINT:
		return "integer";
	case KH_CFG_DURATION:
		return "duration";
	case KH_CFG_STRING:
		return "string";
	case KH_CFG_LIST:
		return "list of strings";
	case KH_CFG_IPLIST:
		return "list of IPs/CIDRs";
	case KH_CFG_PAIRS:
		return "list of mappings";
	}
	return "?";
}

/* a YAML scalar as the file would hold it: quoted when plain YAML would misread it */
static void scalar(FILE *f, const char *s)
{
	bool plain = *s && !strchr(":#{}[],&*!|>'\"%@`", s[0]) && !strstr(s, ": ") &&
		     !strstr(s, " #") && s[strlen(s) - 1] != ':';

	if (plain && strcmp(s, "true") && strcmp(s, "false") && strcmp(s, "null") &&
	    strcmp(s, "~")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void duration(FILE *f, int64_t ns)
{
	static const struct {
		char u;
		int64_t s;
	} units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
	int64_t s = ns / 1000000000;

	if (s == 0) {
		fputs("0", f);
		return;
	}
	for (size_t i = 0; i < 4; i++)
		if (s >= units[i].s) {
			fprintf(f, "%lld%c", (long long)(s / units[i].s), units[i].u);
			s %= units[i].s;
		}
}

void config__write_value(FILE *f, const struct kh_config_key *k, const void *base)
{
	const char *p = (const char *)base + k->offset;

	switch (k->type) {
	case KH_CFG_BOOL:
		fputs(*(const bool *)p ? "true" : "false", f);
		break;
	case KH_CFG_UINT:
		fprintf(f, "%llu",
			k->size == sizeof(uint32_t) ? (unsigned long long)*(const uint32_t *)p
						    : (unsigned long long)*(const uint64_t *)p);
		break;
	case KH_CFG_DURATION:
		duration(f, *(const int64_t *)p);
		break;
	case KH_CFG_STRING:
		if (*(const char *const *)p)
			scalar(f, *(const char *const *)p);
		else
			fputs("null", f);
		break;
	case KH_CFG_LIST:
	case KH_CFG_IPLIST: {
		const char *const *l = (const char *const *)p;

		fputc('[', f);
		for (size_t i = 0; l && l[i]; i++) {
			if (i)
				fputs(", ", f);
			scalar(f, l[i]);
		}
		fputc(']', f);
		break;
	}
	case KH_CFG_PAIRS:
		fputc('[', f);
		for (const char *const *l = (const char *const *)p; l[0]; l += 2) {
			fprintf(f, "%s{%s: ", l != (const char *const *)p ? ", " : "", k->sub[0]);
			scalar(f, l[0]);
			fprintf(f, ", %s: ", k->sub[1]);
			scalar(f, l[1]);
			fputc('}', f);
		}
		fputc(']', f);
		break;
	}
}

static void row(FILE *f, const char *prefix, const char *name, const char *type,
		const struct kh_config_key *k, const void *base, const char *doc)
{
	fprintf(f, "| `%s%s` | %s | ", prefix, name, type);
	if (k && !base) {
		fputs("(see the rule)", f); /* a rule that names no defaults struct */
	} else {
		fputc('`', f);
		if (k)
			config__write_value(f, k, base);
		else
			fputs("true", f);
		fputc('`', f);
	}
	fprintf(f, " | %s |\n", doc);
}

static void table(FILE *f, const char *prefix, const struct kh_config_key *keys, const void *base,
		  bool enabled)
{
	fputs("| key | type | default | meaning |\n| --- | --- | --- | --- |\n", f);
	if (enabled)
		row(f, prefix, "enabled", "bool", NULL, NULL, "run this rule at all");
	for (const struct kh_config_key *k = keys; k && k->name; k++)
		row(f, prefix, k->name, type_name(k), k, base, k->doc);
}

void config__write_reference(FILE *f, const struct kh_config_rule *rules)
{
	fputs("### Top level\n\n", f);
	table(f, "", kh_config_top_keys, config__defaults(), false);
	/* read by walk_rules() beside the rule ids, so not in the top-level key table */
	fputs("| `rules.paths` | list of strings | `[]` | Sigma rule files or directories, loaded "
	      "before --rules (docs/writing-rules.md) |\n",
	      f);
	for (const struct kh_config_rule *r = rules; r && r->id; r++) {
		fprintf(f, "\n### `rules.%s`\n\n%s (%s).\n\n", r->id, r->name, r->source);
		table(f, "", r->keys, r->defaults, true);
	}
}
