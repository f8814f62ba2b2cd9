// SPDX-License-Identifier: Apache-2.0
/*
 * The correlator through the real binary: `keyhole replay` on the bundled logs of the rules
 * (tests/data/attack.log: one escalate-then-loot incident; benign-controlplane.log: none) and on
 * the correlator's seed-004 log fed whole, through stdin, and split across two files the way a
 * rotated log set is: every way must give the same incident lines, byte for byte.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RULE "\"rule\":{\"id\":\"k8s-escalate-then-loot\""

/* the incident lines `keyhole replay @args` writes (stdout), joined */
static char *replay(const char *args)
{
	char cmd[2048], *line = NULL, *out = NULL;
	size_t cap = 0, len = 0;
	ssize_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s replay %s 2>/dev/null", KH_KEYHOLE_BIN, args);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	out = calloc(1, 1);
	while ((n = getline(&line, &cap, p)) > 0) {
		if (!strstr(line, RULE))
			continue;
		out = realloc(out, len + (size_t)n + 1);
		memcpy(out + len, line, (size_t)n + 1);
		len += (size_t)n;
	}
	free(line);
	cr_assert_eq(pclose(p), 0, "keyhole replay %s failed", args);
	return out;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static const char *str_at(json_object *o, const char *a, const char *b, const char *c)
{
	const char *k[] = {a, b, c};

	for (int i = 0; i < 3 && k[i] && o; i++)
		if (!json_object_object_get_ex(o, k[i], &o))
			o = NULL;
	return o ? json_object_get_string(o) : NULL;
}

Test(correlate_replay, rules_attack_log_is_one_incident)
{
	char *out = replay(KH_TEST_DATA_DIR "/attack.log");
	char *save = NULL, *id = NULL;
	size_t n = 0;

	for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(l), *inc;
		const char *this_id;

		cr_assert_not_null(o);
		cr_assert(json_object_object_get_ex(o, "keyhole", &inc));
		this_id = str_at(inc, "incident", "id", NULL);
		if (!id)
			id = strdup(this_id);
		cr_assert_str_eq(this_id, id, "one incident: every line carries the same id");
		cr_assert_str_eq(str_at(inc, "incident", "subject", "name"), "attacker-admin");
		n++;
		cr_assert_eq(json_object_get_int(json_object_object_get(
				 json_object_object_get(inc, "incident"), "revision")),
			     (int)n);
		json_object_put(o);
	}
	cr_assert_geq(n, 4, "a revision for each new secret and exec (got %zu)", n);
	free(id);
	free(out);
}

Test(correlate_replay, rules_benign_controlplane_log_is_silent)
{
	char *out = replay(KH_TEST_DATA_DIR "/benign-controlplane.log");

	cr_assert_eq(count_lines(out), 0, "incidents on the benign log:\n%s", out);
	free(out);
}

Test(correlate_replay, file_stdin_and_rotated_halves_agree)
{
	const char *log = KH_TEST_DATA_DIR "/correlate/seed004.log";
	char a[] = "/tmp/kh-corr-a.XXXXXX", b[] = "/tmp/kh-corr-b.XXXXXX", args[1024];
	char *whole, *piped, *split;
	int fa = mkstemp(a), fb = mkstemp(b);

	cr_assert(fa >= 0 && fb >= 0);
	close(fa);
	close(fb);
	/* the first half of the lines (grant and first reads) in one file, the rest in the next */
	snprintf(args, sizeof(args),
		 "sh -c 'n=$(wc -l < %s); head -n $((n/2)) %s > %s; "
		 "tail -n +$((n/2+1)) %s > %s'",
		 log, log, a, log, b);
	cr_assert_eq(system(args), 0);

	whole = replay(log);
	snprintf(args, sizeof(args), "- < %s", log);
	piped = replay(args);
	snprintf(args, sizeof(args), "%s %s", a, b);
	split = replay(args);
	cr_assert_geq(count_lines(whole), 4);
	cr_assert_str_eq(piped, whole);
	cr_assert_str_eq(split, whole);
	unlink(a);
	unlink(b);
	free(whole);
	free(piped);
	free(split);
}
