/* SPDX-License-Identifier: Apache-2.0 */
/*
 * commands: one function per `keyhole` subcommand, each in src/cmd/cmd_<name>.c, dispatched from
 * the table in src/main.c. Each takes the arguments after the subcommand name (argv[0] is the
 * subcommand) and returns the process exit status: 0 success, 1 runtime failure, 2 usage or
 * unreadable input.
 */
#ifndef KEYHOLE_CMD_COMMANDS_H
#define KEYHOLE_CMD_COMMANDS_H

struct cmd_spec;

int cmd__replay(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd__rules(int argc, char **argv);
int cmd__run(int argc, char **argv);
int cmd__probe(int argc, char **argv);

/* each command's options (src/cmd/opts.h): --help, the man page and completion come from them */
extern const struct cmd_spec run_spec, replay_spec, report_spec, rules_spec, probe_spec;

#endif /* KEYHOLE_CMD_COMMANDS_H */
