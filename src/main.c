// SPDX-License-Identifier: Apache-2.0
/*
 * keyhole: the command-line entry point. A small dispatch table maps the first argument to one
 * function per subcommand (src/cmd/cmd_<name>.c) and its option table (src/cmd/opts.h), from
 * which --help, the man page (--man) and the bash completion (--bash-completion) are written.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/opts.h"
#include "keyhole/log.h"

struct command {
	const struct cmd_spec *spec;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
    {&run_spec, cmd__run},     {&replay_spec, cmd__replay}, {&report_spec, cmd_report},
    {&rules_spec, cmd__rules}, {&probe_spec, cmd__probe},   {NULL, NULL},
};

static const struct cmd_spec *const specs[] = {&run_spec,   &replay_spec, &report_spec,
					       &rules_spec, &probe_spec,  NULL};

static void usage(FILE *f)
{
	fprintf(f, "Usage: keyhole COMMAND [OPTIONS]\n\n"
		   "keyhole watches a Kubernetes control plane for secret access and\n"
		   "escalate-then-loot, from the kube-apiserver's audit log (live through BPF, or\n"
		   "replayed from files) and from container exec on the node.\n\nCommands:\n");
	for (const struct command *c = commands; c->spec; c++)
		fprintf(f, "  %-8s %s\n", c->spec->name, c->spec->summary);
	fprintf(f,
		"\n`keyhole COMMAND --help` for a command's options; `man keyhole` for all of\n"
		"them (`keyhole --man` writes the page, `keyhole --bash-completion` the\n"
		"completion script). Version %s.\n",
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
	if (!strcmp(argv[1], "--man")) {
		opts__man(specs, stdout);
		return fflush(stdout) ? 1 : 0;
	}
	if (!strcmp(argv[1], "--bash-completion")) {
		opts__bash_completion(specs, stdout);
		return fflush(stdout) ? 1 : 0;
	}
	for (const struct command *c = commands; c->spec; c++)
		if (!strcmp(argv[1], c->spec->name))
			return c->fn(argc - 1, argv + 1);
	kh_log(KH_LOG_ERROR, "unknown command '%s' (see keyhole --help)", argv[1]);
	return 2;
}
