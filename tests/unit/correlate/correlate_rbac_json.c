// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/correlate/rbac_json.c: subjects, roleRef, Helm markers and rule scopes read from
 * binding and role bodies as the apiserver logs them (create/update objects, merge patches, JSON
 * patches), escapes, the subject bound, and refusal of malformed or too-deep spans.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/rbac_json.h"

static struct kstr span(const char *s)
{
	return kstr_lit(s, strlen(s));
}

static void expect(struct kstr s, const char *want)
{
	char buf[512];
	long n = kstr__decode(s, buf, sizeof(buf));

	cr_assert(kstr_present(s), "want \"%s\", absent", want);
	cr_assert(n == (long)strlen(want) && !memcmp(buf, want, (size_t)n),
		  "want \"%s\", got \"%.*s\"", want, (int)(n > 0 ? n : 0), buf);
}

Test(correlate_rbac_json, cluster_role_binding_as_kubectl_creates_it)
{
	/* the requestObject of `kubectl create clusterrolebinding` (key order as kubectl sends) */
	const char *o =
	    "{\"kind\":\"ClusterRoleBinding\",\"apiVersion\":\"rbac.authorization.k8s.io/v1\","
	    "\"metadata\":{\"name\":\"attacker-admin\",\"creationTimestamp\":null},"
	    "\"subjects\":[{\"kind\":\"User\",\"apiGroup\":\"rbac.authorization.k8s.io\","
	    "\"name\":\"attacker-admin\"},{\"kind\":\"Group\",\"name\":\"oncall\"},"
	    "{\"kind\":\"ServiceAccount\",\"name\":\"ci\",\"namespace\":\"build\"}],"
	    "\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\","
	    "\"name\":\"cluster-admin\"}}";
	struct kh_rbac_object r;

	cr_assert_eq(rbac_json__read(span(o), &r), 0);
	expect(r.kind, "ClusterRoleBinding");
	expect(r.name, "attacker-admin");
	expect(r.role_kind, "ClusterRole");
	expect(r.role_name, "cluster-admin");
	cr_assert_eq(r.n_subjects, 3);
	cr_assert_eq(r.total_subjects, 3);
	expect(r.subjects[0].kind, "User");
	expect(r.subjects[0].name, "attacker-admin");
	cr_assert(!kstr_present(r.subjects[0].namespace_));
	expect(r.subjects[1].kind, "Group");
	expect(r.subjects[1].name, "oncall");
	expect(r.subjects[2].kind, "ServiceAccount");
	expect(r.subjects[2].namespace_, "build");
	cr_assert(r.flags & KH_RBAC_SUBJECTS_SEEN);
	cr_assert(!(r.flags & (KH_RBAC_HELM | KH_RBAC_JSON_PATCH | KH_RBAC_PARTIAL)));
}

Test(correlate_rbac_json, helm_markers_and_unrelated_values_skipped)
{
	/* values of every JSON type in places the walker must step over */
	const char *o =
	    "{\"metadata\":{\"name\":\"op\",\"namespace\":\"mon\",\"labels\":{"
	    "\"app.kubernetes.io/managed-by\":\"Helm\",\"x\":\"y\"},\"annotations\":{"
	    "\"other\":\"{\\\"subjects\\\":[]}\"},\"finalizers\":[1,2.5e-3,true,null]},"
	    "\"subjects\":[{\"kind\":\"ServiceAccount\",\"name\":\"op\",\"extra\":{\"a\":[[]]}}],"
	    "\"roleRef\":{\"kind\":\"Role\",\"name\":\"r\"}}";
	struct kh_rbac_object r;

	cr_assert_eq(rbac_json__read(span(o), &r), 0);
	cr_assert(r.flags & KH_RBAC_HELM);
	expect(r.namespace_, "mon");
	cr_assert_eq(r.n_subjects, 1);
	expect(r.subjects[0].name, "op");

	o = "{\"metadata\":{\"annotations\":{\"meta.helm.sh/release-name\":\"op\"}}}";
	cr_assert_eq(rbac_json__read(span(o), &r), 0);
	cr_assert(r.flags & KH_RBAC_HELM);
	cr_assert(!(r.flags & KH_RBAC_SUBJECTS_SEEN), "no subjects key: nothing seen");
}

Test(correlate_rbac_json, escaped_keys_and_values_are_decoded)
{
	const char *o = "{\"sub\\u006aects\":[{\"kind\":\"U\\u0073er\",\"name\":\"al\\\"ice\"}],"
			"\"roleRef\":{\"name\":\"cluster\\u002dadmin\",\"kind\":\"ClusterRole\"}}";
	struct kh_rbac_object r;

	cr_assert_eq(rbac_json__read(span(o), &r), 0);
	cr_assert_eq(r.n_subjects, 1);
	cr_assert(kstr__eq(r.subjects[0].kind, "User"));
	expect(r.subjects[0].name, "al\"ice");
	cr_assert(kstr__eq(r.role_name, "cluster-admin"));
}

Test(correlate_rbac_json, json_patch_subject_ops)
{
	/* kubectl patch --type=json: one subject appended, one list replaced, one field edited */
	const char *o =
	    "[{\"op\":\"add\",\"path\":\"/subjects/-\",\"value\":{\"kind\":\"User\","
	    "\"name\":\"eve\"}},{\"value\":[{\"kind\":\"Group\",\"name\":\"g1\"},"
	    "{\"kind\":\"ServiceAccount\",\"name\":\"s\",\"namespace\":\"n\"}],\"op\":\"replace\","
	    "\"path\":\"/subjects\"},{\"op\":\"replace\",\"path\":\"/subjects/0/name\","
	    "\"value\":\"mallory\"},{\"op\":\"remove\",\"path\":\"/subjects/1\"},"
	    "{\"op\":\"test\",\"path\":\"/subjects/0\",\"value\":{\"kind\":\"User\",\"name\":\"x\"}}]";
	struct kh_rbac_object r;

	cr_assert_eq(rbac_json__read(span(o), &r), 0);
	cr_assert(r.flags & KH_RBAC_JSON_PATCH);
	cr_assert(r.flags & KH_RBAC_SUBJECTS_SEEN);
	cr_assert_eq(r.n_subjects, 3, "add + replace(2); field edits, remove and test add none");
	expect(r.subjects[0].name, "eve");
	expect(r.subjects[1].name, "g1");
	expect(r.subjects[2].namespace_, "n");
}

Test(correlate_rbac_json, json_patch_rules_and_merge_patch_rules)
{
	const char *jp = "[{\"op\":\"add\",\"path\":\"/rules/-\",\"value\":{\"apiGroups\":[\"*\"],"
			 "\"resources\":[\"*\"],\"verbs\":[\"*\"]}}]";
	const char *mp =
	    "{\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"pods\",\"secrets\"],"
	    "\"verbs\":[\"get\"]},{\"resources\":[\"configmaps\"],\"verbs\":[\"*\"]}]}";
	const char *none = "{\"rules\":[{\"resources\":[\"secrets\"],\"verbs\":[\"create\"]},"
			   "{\"resources\":[\"pods\"],\"verbs\":[\"get\",\"list\"]}]}";
	struct kh_rbac_object r;

	cr_assert_eq(rbac_json__read(span(jp), &r), 0);
	cr_assert(r.flags & KH_RBAC_RULES_WILDCARD);
	cr_assert(r.flags & KH_RBAC_RULES_SECRETS);
	cr_assert_eq(rbac_json__read(span(mp), &r), 0);
	cr_assert(!(r.flags & KH_RBAC_RULES_WILDCARD));
	cr_assert(r.flags & KH_RBAC_RULES_SECRETS);
	cr_assert_eq(rbac_json__read(span(none), &r), 0);
	cr_assert(!(r.flags & (KH_RBAC_RULES_WILDCARD | KH_RBAC_RULES_SECRETS)),
		  "create on secrets and reads of pods do not read secrets");
}

Test(correlate_rbac_json, subjects_past_the_bound_are_counted)
{
	char o[8192];
	size_t n = (size_t)snprintf(o, sizeof(o), "{\"subjects\":[");
	struct kh_rbac_object r;

	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(o + n, sizeof(o) - n,
				      "%s{\"kind\":\"User\",\"name\":\"u%d\"}", i ? "," : "", i);
	snprintf(o + n, sizeof(o) - n, "]}");
	cr_assert_eq(rbac_json__read(span(o), &r), 0);
	cr_assert_eq(r.n_subjects, KH_RBAC_MAX_SUBJECTS);
	cr_assert_eq(r.total_subjects, 40);
	expect(r.subjects[KH_RBAC_MAX_SUBJECTS - 1].name, "u15");
}

Test(correlate_rbac_json, malformed_spans_keep_what_was_read)
{
	static const char *const bad[] = {
	    "{\"subjects\":[{\"kind\":\"User\",\"name\":\"a\"}],\"roleRef\":{\"name\":",
	    "{\"subjects\":[{\"kind\":\"User\",\"name\":\"a\"}] \"x\":1}",
	    "{\"subjects\":[{\"kind\":\"User\",\"name\":\"a\"}],\"s\":\"unterminated",
	    "{\"subjects\":[{\"kind\":\"User\",\"name\":\"a\"}],\"e\":\"bad\\",
	};
	struct kh_rbac_object r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(rbac_json__read(span(bad[i]), &r), -EINVAL, "case %zu", i);
		cr_assert(r.flags & KH_RBAC_PARTIAL);
		cr_assert_eq(r.n_subjects, 1, "case %zu: the subject before the damage stays", i);
	}
	cr_assert_eq(rbac_json__read((struct kstr){0}, &r), -EINVAL);
	cr_assert_eq(rbac_json__read(span("\"str\""), &r), -EINVAL);
	cr_assert_eq(rbac_json__read(span(""), &r), -EINVAL);
}

/* issue 13: a field nested 10,000 deep beside the subjects must not hide them */
Test(correlate_rbac_json, deep_values_are_stepped_over)
{
	enum { DEEP = 10000 };
	char *o = malloc(4 * DEEP + 256);
	size_t n = 0;
	struct kh_rbac_object r;

	cr_assert(o);
	n += (size_t)sprintf(o + n, "{\"metadata\":{\"junk\":");
	for (int i = 0; i < DEEP; i++)
		n += (size_t)sprintf(o + n, i % 2 ? "[" : "{\"a\":");
	o[n++] = '1';
	for (int i = DEEP - 1; i >= 0; i--)
		o[n++] = i % 2 ? ']' : '}';
	sprintf(o + n, "},\"subjects\":[{\"kind\":\"User\",\"name\":\"mallory\"}],"
		       "\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"cluster-admin\"}}");
	cr_assert_eq(rbac_json__read(span(o), &r), 0);
	cr_assert_eq(r.n_subjects, 1);
	cr_assert(kstr__eq(r.subjects[0].name, "mallory"));
	cr_assert(kstr__eq(r.role_name, "cluster-admin"));
	cr_assert(!(r.flags & KH_RBAC_PARTIAL));
	free(o);
}

/* brackets that do not close within the span still stop the walk */
Test(correlate_rbac_json, unclosed_deep_value_stops_the_walk)
{
	char o[4096];
	size_t n = 0;
	struct kh_rbac_object r;

	n += (size_t)snprintf(o + n, sizeof(o) - n, "{\"a\":");
	for (int i = 0; i < 200; i++)
		o[n++] = '[';
	snprintf(o + n, sizeof(o) - n, ",\"roleRef\":{\"name\":\"x\"}}");
	cr_assert_eq(rbac_json__read(span(o), &r), -EINVAL);
	cr_assert(r.flags & KH_RBAC_PARTIAL);
}
