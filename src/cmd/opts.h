/* SPDX-License-Identifier: Apache-2.0 */
/*
 * opts: each subcommand's options as one table, from which come the parser, `--help`, the man
 * page (keyhole --man) and the bash completion (keyhole --bash-completion). One source, so the
 * four cannot drift apart.
 *
 * The parser takes options anywhere on the line (`replay a.log -o out.json` works), `--opt=VAL`
 * as well as `--opt VAL`, and `--` to end options. An option marked OPT_LIST takes every
 * argument up to the next `--` (`--baseline A B -- C`).
 */
#ifndef KEYHOLE_CMD_OPTS_H
#define KEYHOLE_CMD_OPTS_H

#include <stdio.h>

enum opt_flags {
	OPT_LIST = 1, /* takes FILE... up to a closing -- */
	OPT_FILE = 2, /* its argument is a file name (completion) */
};

struct opt {
	char short_name;       /* 0: long only */
	const char *long_name; /* without the leading -- */
	const char *arg;       /* NULL: a flag; else the argument's name, e.g. "FILE" */
	const char *help;      /* one or more lines, '\n' separated */
	int id;
	int flags;
	const char *choices; /* space-separated values for completion, or NULL */
};

struct cmd_spec {
	const char *name;
	const char *summary;	 /* one line, for `keyhole --help` */
	const char *synopsis;	 /* usage lines after "keyhole NAME ", '\n' separated */
	const char *description; /* paragraphs, '\n\n' separated */
	const char *operand;	 /* "FILE" when it takes input files, else NULL */
	const char *epilog;	 /* e.g. exit status, or NULL */
	const struct opt *opts;	 /* ends with {0}; -h/--help is implicit */
};

/* what one option occurrence carries; for OPT_LIST, list/n_list instead of val */
struct opt_hit {
	const struct opt *o;
	const char *val;
	char **list;
	int n_list;
};

typedef int (*opt_set_fn)(void *ctx, const struct opt_hit *h);

/*
 * Parse argv[1..argc) by @spec. Calls @set once per option, in order; collects the other
 * arguments (operands) into *operands (malloc'd, free it) and *n_operands. Returns 0, 1 when
 * --help was printed (exit 0), or 2 after reporting a usage error (exit 2). @set returns 0 or 2
 * (having reported its error).
 */
int opts__parse(const struct cmd_spec *spec, int argc, char **argv, opt_set_fn set, void *ctx,
		char ***operands, int *n_operands);

void opts__help(const struct cmd_spec *spec, FILE *f);
/* the whole man page, section 1, in roff: every command in @specs (NULL-terminated) */
void opts__man(const struct cmd_spec *const *specs, FILE *f);
/* a bash completion script for `keyhole` */
void opts__bash_completion(const struct cmd_spec *const *specs, FILE *f);

/* every input exists and is readable ('-' always is); reports each one that is not. 0 or 2. */
int opts__check_inputs(char *const *files, int n);

#endif /* KEYHOLE_CMD_OPTS_H */
