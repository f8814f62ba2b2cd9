// SPDX-License-Identifier: Apache-2.0
/*
 * keyhole probe: what this kernel and this process offer the BPF side, one line per capability
 * (as `bpftool feature` prints), and whether `keyhole run` will work here and if not, why.
 * Probing changes nothing: it does not mount tracefs (run does).
 */
#include <stdio.h>
#include <string.h>

#include "keyhole/features.h"
#include "cmd/cmd_common.h"
#include "cmd/commands.h"

static const char probe_usage[] =
	"Usage: keyhole probe [--json]\n"
	"\n"
	"Tell what this kernel supports for live capture (privileges, BTF, tracefs, the\n"
	"tracepoints the audit tap uses, the BPF ring buffer, lockdown, bpffs) and whether\n"
	"`keyhole run` will work here.\n"
	"\n"
	"Options:\n"
	"  --json      one JSON object instead of text\n"
	"  -h, --help  this help\n"
	"\n"
	"Exit status: 0 when `run` will work, 1 when it will not, 2 usage error.\n";

static const char *state_name(enum kh_feat_state s)
{
	return s == KH_FEAT_YES ? "yes" : s == KH_FEAT_NO ? "no" : "unknown";
}

/* the probe's strings are ours and ASCII; escape quotes, backslashes and controls anyway */
static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void print_json(const struct kh_features *ft, bool ok, const char *why)
{
	printf("{\"kernel\":");
	json_string(stdout, ft->kernel);
	printf(",\"features\":{");
	for (int i = 0; i < KH_FEAT__NR; i++) {
		const struct kh_feature *f = &ft->f[i];

		printf("%s\"%s\":{\"state\":\"%s\",\"required\":%s,\"detail\":", i ? "," : "",
		       f->name, state_name(f->state), f->required ? "true" : "false");
		json_string(stdout, f->detail);
		printf("}");
	}
	printf("},\"run_ok\":%s,\"why\":", ok ? "true" : "false");
	json_string(stdout, ok ? "" : why);
	printf("}\n");
}

static void print_text(const struct kh_features *ft, bool ok, const char *why)
{
	printf("kernel: %s\n", ft->kernel);
	for (int i = 0; i < KH_FEAT__NR; i++) {
		const struct kh_feature *f = &ft->f[i];

		printf("%-12s %-7s %s%s\n", f->name, state_name(f->state), f->detail,
		       f->required ? "" : " [optional]");
	}
	if (ok)
		printf("keyhole run: will work here\n");
	else
		printf("keyhole run: will NOT work here: %s\n", why);
}

int cmd_probe(int argc, char **argv)
{
	struct kh_features ft;
	bool json = false, ok;
	char why[512] = "";

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(probe_usage, stdout);
			return 0;
		} else {
			return cmd_usage_error(probe_usage, "unknown option '%s'", argv[i]);
		}
	}
	features__probe(&ft, false);
	ok = features__run_ok(&ft, why, sizeof(why));
	/* run mounts a missing tracefs itself when privileged: not a reason it would fail */
	if (!ok && ft.f[KH_FEAT_TRACEFS].state != KH_FEAT_YES &&
	    ft.f[KH_FEAT_PRIV].state == KH_FEAT_YES) {
		struct kh_features again = ft;

		again.f[KH_FEAT_TRACEFS].state = KH_FEAT_YES;
		again.f[KH_FEAT_TRACEPOINTS].state = KH_FEAT_YES;
		ok = features__run_ok(&again, why, sizeof(why));
		if (ok)
			snprintf(ft.f[KH_FEAT_TRACEFS].detail, sizeof(ft.f[KH_FEAT_TRACEFS].detail),
				 "not mounted; `keyhole run` mounts it at /sys/kernel/tracing");
	}
	if (json)
		print_json(&ft, ok, why);
	else
		print_text(&ft, ok, why);
	return ok ? 0 : 1;
}
