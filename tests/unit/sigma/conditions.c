// SPDX-License-Identifier: Apache-2.0
/*
 * Sigma conditions and load errors (src/sigma/sigma_cond.c, sigma_rule.c, sigma_set.c): the
 * grammar's precedence, quantifiers over patterns and `them`, and that a bad rule is reported
 * as file:line:column and skipped while the others load.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigma_harness.h"

/* selections: get (verb get), secrets (resource secrets), alice (user alice), _x (user bob) */
static size_t hits(const char *cond, const struct ev_spec *s)
{
	char yaml[2048];

	snprintf(
	    yaml, sizeof(yaml),
	    "title: cond\nid: cond\nlogsource:\n  product: kubernetes\n  service: audit\n"
	    "detection:\n  sel_get:\n    verb: get\n  sel_secrets:\n    objectRef.resource: secrets\n"
	    "  alice:\n    user.username: alice\n  _x:\n    user.username: bob\n"
	    "  condition: %s\n",
	    cond);
	return sh_hits(yaml, s);
}

#define YES(c, ...) cr_expect_eq(hits(c, &(struct ev_spec){__VA_ARGS__}), 1, "no match: %s", c)
#define NO(c, ...) cr_expect_eq(hits(c, &(struct ev_spec){__VA_ARGS__}), 0, "matched: %s", c)

Test(sigma_conditions, and_or_not_precedence)
{
	YES("sel_get and sel_secrets");
	NO("sel_get and sel_secrets", .verb = "list");
	YES("sel_get or sel_secrets", .verb = "list");
	NO("sel_get or alice", .verb = "list", .user = "carol");
	/* not binds tighter than and, and tighter than or */
	YES("not sel_get and sel_secrets", .verb = "list");
	NO("not sel_get and sel_secrets");
	/* a or b and c == a or (b and c) */
	YES("alice or sel_get and sel_secrets", .verb = "list");
	NO("(alice or sel_get) and sel_secrets", .resource = "pods");
	YES("alice or sel_get and sel_secrets", .resource = "pods");
	YES("not (sel_get and alice)", .user = "carol");
	YES("not not alice");
	YES("sel_get AND sel_secrets"); /* operators in any case */
}

Test(sigma_conditions, quantifiers)
{
	YES("1 of sel_*", .verb = "list");
	NO("all of sel_*", .verb = "list");
	YES("all of sel_*");
	YES("any of sel_*", .resource = "pods");
	YES("all of them"); /* _x is left out of them */
	YES("1 of them and not _x");
	NO("1 of them", .verb = "list", .resource = "pods", .user = "carol");
	YES("1 of _*", .user = "bob");
	YES("all of sel_* and not 1 of _*");
}

Test(sigma_conditions, list_of_conditions_is_any)
{
	char yaml[] = "title: l\nid: l\nlogsource:\n  product: kubernetes\n  service: audit\n"
		      "detection:\n  a:\n    verb: delete\n  b:\n    verb: get\n"
		      "  condition:\n    - a\n    - b\n";

	cr_expect_eq(sh_hits(yaml, &(struct ev_spec){.verb = "get"}), 1);
	cr_expect_eq(sh_hits(yaml, &(struct ev_spec){.verb = "list"}), 0);
}

Test(sigma_conditions, list_of_maps_is_any)
{
	char yaml[] = "title: l\nid: l\nlogsource:\n  product: kubernetes\n  service: audit\n"
		      "detection:\n  sel:\n    - verb: delete\n      user.username: alice\n"
		      "    - verb: get\n      user.username: bob\n  condition: sel\n";

	cr_expect_eq(sh_hits(yaml, &(struct ev_spec){.verb = "get", .user = "bob"}), 1);
	cr_expect_eq(sh_hits(yaml, &(struct ev_spec){.verb = "get", .user = "alice"}), 0);
	cr_expect_eq(sh_hits(yaml, &(struct ev_spec){.verb = "delete", .user = "alice"}), 1);
}

/* the error text of a rule whose detection is @det, or NULL when it is valid */
static char *error_of(const char *det)
{
	char yaml[2048], *errs = NULL;

	snprintf(yaml, sizeof(yaml),
		 "title: bad\nid: bad\nlogsource:\n  product: kubernetes\n  service: audit\n"
		 "detection:\n%s",
		 det);
	if (!sh_check(yaml, &errs)) {
		free(errs);
		return NULL;
	}
	return errs;
}

static void expect_error(const char *det, const char *where, const char *what)
{
	char *e = error_of(det);

	cr_assert(e, "accepted: %s", det);
	cr_expect(strstr(e, where), "'%s' not in: %s", where, e);
	cr_expect(strstr(e, what), "'%s' not in: %s", what, e);
	free(e);
}

Test(sigma_conditions, errors_name_line_and_column)
{
	expect_error("  sel:\n    verb: get\n  condition: sel and nope\n",
		     "rule.yml:9:22:", "'nope' is not a selection");
	expect_error("  sel:\n    verb: get\n  condition: sel and\n",
		     "rule.yml:9:", "expected a selection name");
	expect_error("  sel:\n    verb: get\n  condition: (sel\n", "rule.yml:9:", "expected ')'");
	expect_error("  sel:\n    verb: get\n  condition: 1 of x*\n",
		     "rule.yml:9:", "names no selection");
	expect_error("  sel:\n    verb: get\n  condition: sel | count() > 5\n",
		     "rule.yml:9:", "correlation rule");
	expect_error("  sel:\n    verb|sometimes: get\n  condition: sel\n",
		     "rule.yml:8:5:", "unknown or unsupported value modifier 'sometimes'");
	expect_error("  sel:\n    verb|re: 'get('\n  condition: sel\n",
		     "rule.yml:8:", "regular expression");
	expect_error("  sel:\n    sourceIPs|cidr: 10.0.0.0/33\n  condition: sel\n",
		     "rule.yml:8:", "prefix length");
	expect_error("  sel:\n    responseStatus.code|gt: many\n  condition: sel\n",
		     "rule.yml:8:", "not a number");
	expect_error("  sel:\n    verb: get\n", "rule.yml:7:3:", "no condition");
	expect_error("  sel:\n    verb: [get\n  condition: sel\n", "rule.yml:", "YAML");
	expect_error("  sel:\n    verb: get\n  condition: sel\n  timeframe: 5m\n",
		     "rule.yml:10:", "correlation rule");
}

/* a folded plain scalar keeps a newline; quoted into the error it is escaped, so the error is
 * still one file:line:column line (found by the fuzzer) */
Test(sigma_conditions, an_error_quoting_a_newline_stays_one_line)
{
	char *e = error_of("  sel:\n    sourceIPs|cidr: 10.0.0.0/8k :w\n\n      x\n"
			   "  condition: sel\n");

	cr_assert(e);
	cr_expect(strstr(e, "bad prefix length in '10.0.0.0/8k :w\\nx'"), "%s", e);
	cr_expect_eq(strchr(e, '\n'), e + strlen(e) - 1, "one line: %s", e);
	free(e);
}

Test(sigma_conditions, bad_rule_skipped_others_load)
{
	const char *yaml =
	    "title: good one\nid: good-1\nlogsource:\n  product: kubernetes\n  service: audit\n"
	    "detection:\n  sel:\n    verb: get\n  condition: sel\n"
	    "---\n"
	    "title: bad one\nid: bad-1\nlogsource:\n  product: kubernetes\n  service: audit\n"
	    "detection:\n  sel:\n    verb: get\n  condition: sel and missing\n"
	    "---\n"
	    "title: windows\nid: win-1\nlogsource:\n  product: windows\n  service: security\n"
	    "detection:\n  sel:\n    EventID: 4624\n  condition: sel\n"
	    "---\n"
	    "title: good two\nid: good-2\nlogsource:\n  product: kubernetes\n  service: audit\n"
	    "detection:\n  sel:\n    verb: get\n  condition: sel\n";
	struct sh *h = sh_new(yaml);
	char *errs = NULL;

	cr_expect_eq(sh_rules(h), 2, "good-1 and good-2 load, bad-1 does not, win-1 is skipped");
	sh_ev(h, &(struct ev_spec){0});
	sh_flush(h);
	cr_expect_eq(sh_count(h, "good-1"), 1);
	cr_expect_eq(sh_count(h, "good-2"), 1);
	cr_expect_eq(sh_count(h, "bad-1"), 0);
	sh_free(h);
	cr_expect_eq(sh_check(yaml, &errs), 1, "one error: %s", errs);
	cr_expect(strstr(errs, "rule.yml:19:"), "%s", errs);
	free(errs);
}

Test(sigma_conditions, alert_envelope)
{
	const char *yaml =
	    "title: Secret read\nid: 11111111-2222-4333-8444-555555555555\nstatus: test\n"
	    "logsource:\n  product: kubernetes\n  service: audit\n"
	    "detection:\n  sel:\n    objectRef.resource: secrets\n  condition: sel\n"
	    "level: critical\ntags:\n  - attack.credential-access\n  - attack.t1552.007\n";
	struct sh *h = sh_new(yaml);
	const char *id = "11111111-2222-4333-8444-555555555555";

	sh_ev(h, &(struct ev_spec){.verb = "get"});
	sh_flush(h);
	cr_assert_eq(sh_count(h, id), 1);
	cr_expect_str_eq(sh_str(h, id, 0, "rule.uuid"), id);
	cr_expect_str_eq(sh_str(h, id, 0, "rule.name"), "Secret read");
	cr_expect_str_eq(sh_str(h, id, 0, "rule.severity"), "critical");
	cr_expect_str_eq(sh_str(h, id, 0, "rule.ruleset"), "sigma");
	cr_expect(strstr(sh_str(h, id, 0, "rule.reference"), "/rule.yml"));
	cr_expect(strstr(sh_line(h, id, 0), "\"risk_score\":99"));
	cr_expect(strstr(sh_line(h, id, 0), "\"subtechnique\":{\"id\":[\"T1552.007\"]}"));
	cr_expect(strstr(sh_line(h, id, 0), "\"tactic\":{\"id\":[\"TA0006\"]}"));
	cr_expect_str_eq(sh_str(h, id, 0, "kubernetes.audit.verb"), "get");
	sh_free(h);
}

Test(sigma_conditions, one_alert_per_request_across_stages)
{
	const char *yaml =
	    "title: s\nid: s\nlogsource:\n  product: kubernetes\n  service: audit\n"
	    "detection:\n  sel:\n    objectRef.resource: secrets\n  condition: sel\n";
	struct sh *h = sh_new(yaml);

	sh_ev(h, &(struct ev_spec){.audit_id = "req-1", .stage = "RequestReceived"});
	sh_ev(h, &(struct ev_spec){.audit_id = "req-1", .decision = "forbid", .code = 403});
	sh_flush(h);
	cr_assert_eq(sh_count(h, "s"), 1);
	/* the later stage's alert, with its decision */
	cr_expect(strstr(sh_line(h, "s", 0), "\"authorization_k8s_io/decision\":\"forbid\""));
	sh_free(h);
}
