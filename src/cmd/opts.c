// SPDX-License-Identifier: Apache-2.0
/*
 * opts: one option table per subcommand drives the parser, --help, the man page and the bash
 * completion (see opts.h). Generated text is written straight from the tables, so adding an
 * option to a table is the only edit that documents it everywhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/opts.h"
#include "keyhole/log.h"

static const struct opt help_opt = {'h', "help", NULL, "this help", -1, 0, NULL};

static int usage_error(const char *fmt, const char *what)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, what);
	kh_log(KH_LOG_ERROR, "%s (see --help)", msg);
	return 2;
}

/* "-o" or "--output" or "--output=X": the option it names, *inline_val set for the = form */
static const struct opt *find_opt(const struct cmd_spec *spec, const char *a,
				  const char **inline_val)
{
	*inline_val = NULL;
	if (a[1] != '-') {
		if (a[2] != '\0')
			return NULL;
		if (a[1] == 'h')
			return &help_opt;
		for (const struct opt *o = spec->opts; o->long_name; o++)
			if (o->short_name && o->short_name == a[1])
				return o;
		return NULL;
	}
	const char *name = a + 2, *eq = strchr(name, '=');
	size_t n = eq ? (size_t)(eq - name) : strlen(name);

	if (n == 4 && !strncmp(name, "help", 4) && !eq)
		return &help_opt;
	for (const struct opt *o = spec->opts; o->long_name; o++)
		if (strlen(o->long_name) == n && !strncmp(o->long_name, name, n)) {
			if (eq)
				*inline_val = eq + 1;
			return o;
		}
	return NULL;
}

/* one option at argv[*i]; advances *i past what it consumed */
static int take_opt(const struct cmd_spec *spec, int argc, char **argv, int *i, opt_set_fn set,
		    void *ctx)
{
	const char *a = argv[*i], *inl;
	const struct opt *o = find_opt(spec, a, &inl);
	struct opt_hit h = {.o = o};

	if (!o)
		return usage_error("unknown option '%s'", a);
	if (o == &help_opt) {
		opts__help(spec, stdout);
		return 1;
	}
	if (!o->arg) {
		if (inl)
			return usage_error("%s takes no argument", a);
		(*i)++;
		return set(ctx, &h);
	}
	if (o->flags & OPT_LIST) {
		int j = *i + 1;

		while (j < argc && strcmp(argv[j], "--") != 0)
			j++;
		if (j >= argc || inl)
			return usage_error("%s FILE... must end with --", a);
		h.list = argv + *i + 1;
		h.n_list = j - *i - 1;
		*i = j + 1;
		return set(ctx, &h);
	}
	if (inl) {
		h.val = inl;
		(*i)++;
	} else {
		if (*i + 1 >= argc)
			return usage_error("%s needs an argument", a);
		h.val = argv[*i + 1];
		*i += 2;
	}
	return set(ctx, &h);
}

int opts__parse(const struct cmd_spec *spec, int argc, char **argv, opt_set_fn set, void *ctx,
		char ***operands, int *n_operands)
{
	char **ops = calloc((size_t)argc + 1, sizeof(*ops));
	int n = 0, i = 1, r = 0;

	if (!ops)
		return usage_error("%s", strerror(errno));
	while (i < argc && !r) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			/* the rest are operands, even if they start with '-' */
			while (++i < argc)
				ops[n++] = argv[i];
		} else if (a[0] == '-' && a[1] != '\0') {
			r = take_opt(spec, argc, argv, &i, set, ctx);
		} else {
			ops[n++] = argv[i++];
		}
	}
	if (!r && n && !spec->operand)
		r = usage_error("unexpected argument '%s'", ops[0]);
	if (r) {
		free(ops);
		return r;
	}
	*operands = ops;
	*n_operands = n;
	return 0;
}

/* "-o, --output FILE" or "    --json" */
static int opt_label(const struct opt *o, char *buf, size_t sz)
{
	char sh[8] = "    ";

	if (o->short_name)
		snprintf(sh, sizeof(sh), "-%c, ", o->short_name);
	return snprintf(buf, sz, "%s--%s%s%s%s", sh, o->long_name, o->arg ? " " : "",
			o->arg ? o->arg : "", (o->flags & OPT_LIST) ? "... --" : "");
}

static void help_opt_line(const struct opt *o, FILE *f)
{
	char label[128];
	int w = opt_label(o, label, sizeof(label));
	const char *h = o->help;

	fprintf(f, "  %s", label);
	if (w >= 26)
		fprintf(f, "\n%28s", "");
	else
		fprintf(f, "%*s", 26 - w, "");
	for (; *h; h++) {
		fputc(*h, f);
		if (*h == '\n')
			fprintf(f, "%28s", "");
	}
	fputc('\n', f);
}

void opts__help(const struct cmd_spec *spec, FILE *f)
{
	const char *s = spec->synopsis;

	fprintf(f, "Usage: ");
	while (*s) {
		size_t n = strcspn(s, "\n");

		fprintf(f, "%skeyhole %s %.*s\n", s == spec->synopsis ? "" : "       ", spec->name,
			(int)n, s);
		s += n + (s[n] == '\n');
	}
	fprintf(f, "\n%s\n\nOptions:\n", spec->description);
	for (const struct opt *o = spec->opts; o->long_name; o++)
		help_opt_line(o, f);
	help_opt_line(&help_opt, f);
	if (spec->epilog)
		fprintf(f, "\n%s\n", spec->epilog);
}

/* roff text: backslashes and dashes escaped, no line starting with a control character */
static void roff(const char *s, FILE *f)
{
	int bol = 1;

	for (; *s; s++) {
		if (bol && (*s == '.' || *s == '\''))
			fputs("\\&", f);
		bol = *s == '\n';
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

static void man_command(const struct cmd_spec *c, FILE *f)
{
	const char *s = c->synopsis, *d;

	fprintf(f, ".SS \"keyhole %s\"\n", c->name);
	while (*s) {
		size_t n = strcspn(s, "\n");
		char line[512];

		snprintf(line, sizeof(line), "%.*s", (int)n, s);
		fprintf(f, ".B keyhole %s\n", c->name);
		roff(line, f);
		fputs("\n.br\n", f);
		s += n + (s[n] == '\n');
	}
	fputs(".PP\n", f);
	for (d = c->description; *d;) {
		const char *para = strstr(d, "\n\n");
		size_t n = para ? (size_t)(para - d) : strlen(d);
		char buf[2048];

		snprintf(buf, sizeof(buf), "%.*s", (int)n, d);
		roff(buf, f);
		fputs("\n.PP\n", f);
		d += n + (para ? 2 : 0);
	}
	for (const struct opt *o = c->opts; o->long_name; o++) {
		fputs(".TP\n", f);
		if (o->short_name)
			fprintf(f, "\\fB\\-%c\\fR, ", o->short_name);
		fputs("\\fB\\-\\-", f);
		roff(o->long_name, f);
		fputs("\\fR", f);
		if (o->arg) {
			fputs(" \\fI", f);
			roff(o->arg, f);
			fputs((o->flags & OPT_LIST) ? "\\fR... \\-\\-" : "\\fR", f);
		}
		fputc('\n', f);
		roff(o->help, f);
		fputc('\n', f);
	}
	fputs(".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nthis help\n", f);
	if (c->epilog) {
		fputs(".PP\n", f);
		roff(c->epilog, f);
		fputc('\n', f);
	}
}

void opts__man(const struct cmd_spec *const *specs, FILE *f)
{
	fprintf(f,
		".\\\" generated by `keyhole --man` from the option tables; do not edit\n"
		".TH KEYHOLE 1 \"\" \"keyhole %s\" \"User Commands\"\n"
		".SH NAME\nkeyhole \\- Kubernetes control\\-plane sensor for secret access and "
		"escalate\\-then\\-loot\n"
		".SH SYNOPSIS\n.B keyhole\n.I COMMAND\n[\\fIOPTIONS\\fR] [\\fIFILE\\fR...]\n.br\n"
		".B keyhole\n\\-\\-help | \\-\\-version | \\-\\-man | \\-\\-bash\\-completion\n"
		".SH DESCRIPTION\nkeyhole watches a Kubernetes control plane for secret access and "
		"escalate\\-then\\-loot, from the kube\\-apiserver's audit log (live through BPF, "
		"or replayed from files) and from container exec on the node. Options may come "
		"anywhere on the line, as \\fB\\-\\-opt VALUE\\fR or \\fB\\-\\-opt=VALUE\\fR; "
		"\\fB\\-\\-\\fR ends them. Every input file is checked before any is read.\n"
		".SH COMMANDS\n",
		KEYHOLE_VERSION);
	for (; *specs; specs++)
		man_command(*specs, f);
	fputs(".SH SEE ALSO\nThe README and docs/ of the keyhole source tree.\n", f);
}

static void bash_words(const struct cmd_spec *c, int want, FILE *f)
{
	/* want: 0 every option, 1 those taking a file, 2 those taking another argument */
	for (const struct opt *o = c->opts; o->long_name; o++) {
		int file = o->arg && (o->flags & (OPT_FILE | OPT_LIST));

		if (want == 1 && !file)
			continue;
		if (want == 2 && (!o->arg || file))
			continue;
		if (o->short_name)
			fprintf(f, " -%c", o->short_name);
		fprintf(f, " --%s", o->long_name);
	}
	if (want == 0)
		fputs(" -h --help", f);
}

void opts__bash_completion(const struct cmd_spec *const *specs, FILE *f)
{
	fputs("# bash completion for keyhole; generated by `keyhole --bash-completion` from the\n"
	      "# option tables; do not edit\n"
	      "_keyhole() {\n"
	      "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	      "\tlocal opts= fileopts= argopts= files=0\n"
	      "\tCOMPREPLY=()\n"
	      "\tif ((COMP_CWORD == 1)); then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"",
	      f);
	for (const struct cmd_spec *const *s = specs; *s; s++)
		fprintf(f, "%s ", (*s)->name);
	fputs("--help --version\" -- \"$cur\"))\n\t\treturn\n\tfi\n\tcase ${COMP_WORDS[1]} in\n",
	      f);
	for (const struct cmd_spec *const *s = specs; *s; s++) {
		fprintf(f, "\t%s)\n\t\topts=\"", (*s)->name);
		bash_words(*s, 0, f);
		fputs("\"\n\t\tfileopts=\"", f);
		bash_words(*s, 1, f);
		fputs("\"\n\t\targopts=\"", f);
		bash_words(*s, 2, f);
		fprintf(f, "\"\n\t\tfiles=%d\n", (*s)->operand != NULL);
		for (const struct opt *o = (*s)->opts; o->long_name; o++)
			if (o->choices)
				fprintf(
				    f,
				    "\t\t[[ $prev == --%s ]] && { COMPREPLY=($(compgen -W \"%s\" "
				    "-- \"$cur\")); return; }\n",
				    o->long_name, o->choices);
		fputs("\t\t;;\n", f);
	}
	fputs("\t*) return ;;\n\tesac\n"
	      "\tif [[ \" $fileopts \" == *\" $prev \"* ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	      "\telif [[ \" $argopts \" == *\" $prev \"* ]]; then\n"
	      "\t\treturn\n"
	      "\telif [[ $cur == -* ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
	      "\telif ((files)); then\n"
	      "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	      "\tfi\n"
	      "}\n"
	      "complete -o filenames -F _keyhole keyhole\n",
	      f);
}

int opts__check_inputs(char *const *files, int n)
{
	int bad = 0;

	for (int i = 0; i < n; i++) {
		struct stat st;

		if (!strcmp(files[i], "-"))
			continue;
		if (stat(files[i], &st) != 0 || access(files[i], R_OK) != 0) {
			kh_log(KH_LOG_ERROR, "cannot read %s: %s", files[i], strerror(errno));
			bad++;
		} else if (S_ISDIR(st.st_mode)) {
			kh_log(KH_LOG_ERROR, "%s is a directory; give the files in it", files[i]);
			bad++;
		}
	}
	if (bad)
		kh_log(KH_LOG_ERROR, "%d of %d input(s) cannot be read; nothing was read", bad, n);
	return bad ? 2 : 0;
}
