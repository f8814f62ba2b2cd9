// SPDX-License-Identifier: Apache-2.0
/*
 * jsonc_reader: the baseline keyhole's replay is measured against. It reads audit lines the way
 * a straightforward agent would (json-c builds the whole tree per line) and applies the
 * k8s-secret-suspicious-ua rule, counting matching requests. Same file, same rule, one run.
 *
 * Usage: jsonc_reader FILE
 */
#include <fnmatch.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *get_str(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
		   ? json_object_get_string(v)
		   : NULL;
}

static int suspicious_ua(const char *ua)
{
	static const char *const pats[] = {"curl*",	     "python*",	    "Python*",
					   "wget*",	     "Go-http*",    "perl*",
					   "java*",	     "node*",	    "php*",
					   "*distrib#kali*", "*kali-amd64", "*kali-arm64*"};

	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
		if (fnmatch(pats[i], ua, 0) == 0)
			return 1;
	return 0;
}

static int matches(json_object *ev)
{
	json_object *ref, *ips, *ip0;
	const char *verb = get_str(ev, "verb"), *ua = get_str(ev, "userAgent"), *res;

	if (!verb || (strcmp(verb, "get") && strcmp(verb, "list")) || !ua || !suspicious_ua(ua))
		return 0;
	if (!json_object_object_get_ex(ev, "objectRef", &ref) ||
	    !(res = get_str(ref, "resource")) || strcmp(res, "secrets"))
		return 0;
	if (!json_object_object_get_ex(ev, "sourceIPs", &ips) ||
	    json_object_array_length(ips) == 0 || !(ip0 = json_object_array_get_idx(ips, 0)))
		return 0;
	return json_object_get_string_len(ip0) > 0;
}

int main(int argc, char **argv)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long long events = 0, hits = 0, bad = 0;

	if (argc != 2 || !(f = fopen(argv[1], "r"))) {
		fprintf(stderr, "usage: jsonc_reader FILE\n");
		return 2;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		json_object *ev = json_tokener_parse(line);

		events++;
		if (!ev) {
			bad++;
			continue;
		}
		hits += (unsigned long long)matches(ev);
		json_object_put(ev);
	}
	printf("%llu events, %llu malformed, %llu suspicious-ua matches (all stages)\n", events,
	       bad, hits);
	free(line);
	fclose(f);
	return 0;
}
