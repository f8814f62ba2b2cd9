// SPDX-License-Identifier: Apache-2.0
/*
 * keyhole: the command-line entry point. A small dispatch table maps the first argument to one
 * function per subcommand (src/cmd/cmd_<name>.c).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "keyhole/log.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{"run", cmd_run, "capture the apiserver's audit writes live (BPF) and alert"},
	{"replay", cmd_replay, "apply the rules to audit log files (plain, gzip, or stdin)"},
	{"rules", cmd_rules, "list the detection rules"},
	{"probe", cmd_probe, "tell what this kernel supports and whether `run` will work"},
	{NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: keyhole COMMAND [OPTIONS]\n\n"
		   "keyhole watches a Kubernetes control plane for secret access and\n"
		   "escalate-then-loot, from the kube-apiserver's audit log (live through BPF, or\n"
		   "replayed from files) and from container exec on the node.\n\nCommands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->help);
	fprintf(f, "\n`keyhole COMMAND --help` for a command's options. Version %s.\n",
		KEYHOLE_VERSION);
}

int main(int argc, char **argv)
{
	/* a closed output pipe must be an error we report, not a silent death by SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("keyhole %s\n", KEYHOLE_VERSION);
		return 0;
	}
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c->fn(argc - 1, argv + 1);
	kh_log(KH_LOG_ERROR, "unknown command '%s' (see keyhole --help)", argv[1]);
	return 2;
}
