// SPDX-License-Identifier: Apache-2.0
/*
 * Sigma correlation rules (src/sigma/sigma_corr.c): event_count, value_count, temporal and
 * temporal_ordered on event time, group-by and aliases, generate, chaining, once per request,
 * the upper bounds (lt, lte, neq, ranges) decided when the window closes, and the conditions
 * refused at load.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigma_harness.h"

#define BASE                                                                                       \
	"title: secret get\nname: secret_get\nid: b-get\nlogsource:\n  product: kubernetes\n"      \
	"  service: audit\ndetection:\n  sel:\n    objectRef.resource: secrets\n    verb: get\n"   \
	"  condition: sel\n---\n"                                                                  \
	"title: binding\nname: binding\nid: b-bind\nlogsource:\n  product: kubernetes\n"           \
	"  service: audit\ndetection:\n  sel:\n    objectRef.resource: clusterrolebindings\n"      \
	"    verb: create\n  condition: sel\n---\n"

/* event time: second @s after 10:00:00 */
static const char *at(int s)
{
	static char buf[8][40];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "2026-11-23T10:%02d:%02d.000000Z", s / 60, s % 60);
	return buf[i];
}

static void get(struct sh *h, const char *user, const char *name, int s)
{
	sh_ev(h, &(struct ev_spec){.user = user, .name = name, .time = at(s)});
}

static void bind(struct sh *h, const char *user, int s)
{
	sh_ev(h, &(struct ev_spec){.verb = "create",
				   .resource = "clusterrolebindings",
				   .ns = "-",
				   .name = "b",
				   .user = user,
				   .time = at(s)});
}

Test(sigma_correlation, event_count_window_and_group_by)
{
	struct sh *h = sh_new(BASE "title: many gets\nid: c-count\ncorrelation:\n"
				   "  type: event_count\n  rules: [secret_get]\n"
				   "  group-by: [user.username]\n  timespan: 1m\n"
				   "  condition:\n    gte: 3\nlevel: high\n");

	cr_assert_eq(sh_rules(h), 3);
	get(h, "mallory", "a", 0);
	get(h, "mallory", "b", 10);
	get(h, "alice", "c", 20); /* another group */
	cr_expect_eq(sh_count(h, "c-count"), 0);
	get(h, "mallory", "d", 65); /* 65 s after the first: the first left the window */
	cr_expect_eq(sh_count(h, "c-count"), 0);
	get(h, "mallory", "e", 66); /* 10, 65, 66: three within a minute */
	cr_assert_eq(sh_count(h, "c-count"), 1);
	cr_expect(strstr(sh_line(h, "c-count", 0), "\"group_by\":{\"user.username\":\"mallory\"}"));
	cr_expect(strstr(sh_line(h, "c-count", 0), "\"value\":3"));
	cr_expect(strstr(sh_line(h, "c-count", 0), "\"ruleset\":\"sigma\""));
	/* the base rule is silent: generate defaults to false */
	cr_expect_eq(sh_count(h, "b-get"), 0);
	/* the group starts over after firing */
	get(h, "mallory", "f", 80);
	cr_expect_eq(sh_count(h, "c-count"), 1);
	sh_free(h);
}

Test(sigma_correlation, a_request_counts_once)
{
	struct sh *h =
	    sh_new(BASE "title: many\nid: c-once\ncorrelation:\n  type: event_count\n"
			"  rules: secret_get\n  timespan: 1m\n  condition:\n    gte: 2\n");

	sh_ev(h, &(struct ev_spec){.audit_id = "r1", .stage = "RequestReceived", .time = at(0)});
	sh_ev(h, &(struct ev_spec){.audit_id = "r1", .time = at(0)});
	cr_expect_eq(sh_count(h, "c-once"), 0, "two stages of one request are one event");
	sh_ev(h, &(struct ev_spec){.audit_id = "r2", .time = at(1)});
	cr_expect_eq(sh_count(h, "c-once"), 1);
	sh_free(h);
}

Test(sigma_correlation, generate_true_keeps_base_alerts)
{
	struct sh *h = sh_new(BASE "title: many\nid: c-gen\ncorrelation:\n  type: event_count\n"
				   "  rules: [secret_get]\n  timespan: 1m\n  generate: true\n"
				   "  condition:\n    gt: 1\n");

	get(h, "m", "a", 0);
	get(h, "m", "b", 1);
	sh_flush(h);
	cr_expect_eq(sh_count(h, "b-get"), 2);
	cr_expect_eq(sh_count(h, "c-gen"), 1);
	sh_free(h);
}

Test(sigma_correlation, value_count_distinct_names)
{
	struct sh *h =
	    sh_new(BASE "title: names\nid: c-vals\ncorrelation:\n  type: value_count\n"
			"  rules: [secret_get]\n  group-by: [user.username]\n"
			"  timespan: 6m\n  condition:\n    field: objectRef.name\n    gte: 3\n");

	get(h, "m", "a", 0);
	get(h, "m", "a", 5);
	get(h, "m", "b", 10);
	get(h, "m", "b", 11);
	cr_expect_eq(sh_count(h, "c-vals"), 0, "two distinct names");
	get(h, "x", "c", 12);
	cr_expect_eq(sh_count(h, "c-vals"), 0, "another user");
	get(h, "m", "c", 13);
	cr_expect_eq(sh_count(h, "c-vals"), 1);
	cr_expect(strstr(sh_line(h, "c-vals", 0), "\"type\":\"value_count\""));
	sh_free(h);
}

Test(sigma_correlation, temporal_any_order_within_window)
{
	struct sh *h = sh_new(BASE "title: both\nid: c-temp\ncorrelation:\n  type: temporal\n"
				   "  rules: [secret_get, binding]\n  group-by: [user.username]\n"
				   "  timespan: 5m\n");

	get(h, "m", "a", 0);
	bind(h, "other", 10);
	cr_expect_eq(sh_count(h, "c-temp"), 0);
	bind(h, "m", 400); /* 400 s after the get: out of the window */
	cr_expect_eq(sh_count(h, "c-temp"), 0);
	get(h, "m", "b", 420); /* the binding came first: temporal does not care */
	cr_expect_eq(sh_count(h, "c-temp"), 1);
	sh_free(h);
}

Test(sigma_correlation, temporal_ordered_needs_the_order)
{
	struct sh *h = sh_new(BASE "title: escalate then loot\nid: c-ord\ncorrelation:\n"
				   "  type: temporal_ordered\n  rules: [binding, secret_get]\n"
				   "  group-by: [user.username]\n  timespan: 5m\n");

	get(h, "m", "a", 0);
	bind(h, "m", 10);
	cr_expect_eq(sh_count(h, "c-ord"), 0, "get before binding is the wrong order");
	get(h, "m", "b", 20);
	cr_expect_eq(sh_count(h, "c-ord"), 1);
	bind(h, "n", 30);
	get(h, "n", "c", 400); /* too late */
	cr_expect_eq(sh_count(h, "c-ord"), 1);
	sh_free(h);
}

Test(sigma_correlation, aliases_join_different_fields)
{
	/* the binding's object name and the reader's user name are the same string here */
	struct sh *h = sh_new(BASE "title: alias\nid: c-alias\ncorrelation:\n  type: temporal\n"
				   "  rules: [binding, secret_get]\n  group-by: [who]\n"
				   "  aliases:\n    who:\n      binding: objectRef.name\n"
				   "      secret_get: user.username\n  timespan: 5m\n");

	bind(h, "admin", 0); /* objectRef.name "b" */
	get(h, "c", "x", 5);
	cr_expect_eq(sh_count(h, "c-alias"), 0);
	get(h, "b", "x", 6);
	cr_expect_eq(sh_count(h, "c-alias"), 1);
	sh_free(h);
}

Test(sigma_correlation, chaining)
{
	struct sh *h = sh_new(BASE "title: burst\nname: burst\nid: c-burst\ncorrelation:\n"
				   "  type: event_count\n  rules: [secret_get]\n"
				   "  group-by: [user.username]\n  timespan: 1m\n  condition:\n"
				   "    gte: 2\n---\n"
				   "title: bind then burst\nid: c-chain\ncorrelation:\n"
				   "  type: temporal_ordered\n  rules: [binding, burst]\n"
				   "  group-by: [user.username]\n  timespan: 10m\n");

	cr_assert_eq(sh_rules(h), 4);
	bind(h, "m", 0);
	get(h, "m", "a", 10);
	get(h, "m", "b", 11);
	cr_expect_eq(sh_count(h, "c-chain"), 1);
	cr_expect_eq(sh_count(h, "c-burst"), 0, "burst is referenced without generate");
	sh_free(h);
}

Test(sigma_correlation, refused_at_load)
{
	char *errs = NULL;

	cr_expect_eq(sh_check(BASE "title: x\nid: x\ncorrelation:\n  type: event_count\n"
				   "  rules: [nope]\n  timespan: 1m\n  condition:\n    gte: 2\n",
			      &errs),
		     1);
	cr_expect(strstr(errs, "no rule named 'nope'"), "%s", errs);
	free(errs);
	/* an upper bound on an ordered sequence means nothing: refused (event_count takes it) */
	cr_expect_eq(sh_check(BASE "title: x\nid: x\ncorrelation:\n  type: temporal_ordered\n"
				   "  rules: [secret_get, binding]\n  timespan: 1m\n  condition:\n"
				   "    lt: 2\n",
			      &errs),
		     1);
	cr_expect(strstr(errs, "lt, lte and neq"), "%s", errs);
	free(errs);
	cr_expect_eq(sh_check(BASE "title: x\nid: x\ncorrelation:\n  type: event_count\n"
				   "  rules: [secret_get]\n  timespan: 5 minutes\n  condition:\n"
				   "    gte: 2\n",
			      &errs),
		     1);
	cr_expect(strstr(errs, "rule.yml:30:13: timespan"), "%s", errs);
	free(errs);
	cr_expect_eq(sh_check(BASE
			      "title: x\nid: x\ncorrelation:\n  type: value_count\n"
			      "  rules: [secret_get]\n  timespan: 5m\n  condition:\n    gte: 2\n",
			      &errs),
		     1);
	cr_expect(strstr(errs, "condition.field"), "%s", errs);
	free(errs);
}

Test(sigma_correlation, groups_are_bounded)
{
	struct sh *h = sh_new(BASE "title: many\nid: c-bound\ncorrelation:\n  type: event_count\n"
				   "  rules: [secret_get]\n  group-by: [user.username]\n"
				   "  timespan: 1h\n  condition:\n    gte: 2\n");
	char user[32];

	/* 5000 users (more than the 4096 groups kept), then the first again: it was evicted */
	for (int i = 0; i < 5000; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		get(h, user, "a", i % 3000);
	}
	get(h, "u0", "b", 3001);
	cr_expect_eq(sh_count(h, "c-bound"), 0);
	get(h, "u4999", "b", 3002); /* a recent group is still there */
	cr_expect_eq(sh_count(h, "c-bound"), 1);
	cr_expect_geq(sh_evictions(h), 1);
	sh_free(h);
}

/* lt: a group whose window closes with fewer matches fires then, not before; more do not */
Test(sigma_correlation, lt_decided_when_the_window_closes)
{
	struct sh *h = sh_new(BASE "title: few gets\nid: c-lt\ncorrelation:\n"
				   "  type: event_count\n  rules: [secret_get]\n"
				   "  group-by: [user.username]\n  timespan: 1m\n"
				   "  condition:\n    lt: 3\nlevel: low\n");

	cr_assert_eq(sh_rules(h), 3);
	get(h, "alice", "a", 0);
	get(h, "alice", "b", 30);
	get(h, "mallory", "a", 5);
	get(h, "mallory", "b", 10);
	get(h, "mallory", "c", 20);
	cr_expect_eq(sh_count(h, "c-lt"), 0, "decided before the window closed");
	bind(h, "bob", 60); /* any event moves event time; alice's window is 0 s .. 60 s */
	cr_expect_eq(sh_count(h, "c-lt"), 0, "alice's window is still open");
	bind(h, "bob", 70); /* both windows closed: alice had 2 (< 3), mallory 3 */
	cr_expect_eq(sh_count(h, "c-lt"), 1);
	cr_expect(strstr(sh_line(h, "c-lt", 0), "\"group_by\":{\"user.username\":\"alice\"}"), "%s",
		  sh_line(h, "c-lt", 0));
	cr_expect_str_eq(sh_str(h, "c-lt", 0, "sigma.correlation.type"), "event_count");
	/* a new window for alice opens with her next match and closes at the end of input */
	get(h, "alice", "c", 100);
	sh_flush(h);
	cr_expect_eq(sh_count(h, "c-lt"), 2);
	sh_free(h);
}

/* the spec's range (AND of comparisons), lte, and neq; on value_count and temporal too */
Test(sigma_correlation, ranges_lte_and_neq)
{
	struct sh *h = sh_new(BASE "title: range\nid: c-range\ncorrelation:\n"
				   "  type: event_count\n  rules: [secret_get]\n"
				   "  group-by: [user.username]\n  timespan: 1m\n"
				   "  condition:\n    gt: 1\n    lte: 3\n---\n"
				   "title: names\nid: c-names\ncorrelation:\n  type: value_count\n"
				   "  rules: [secret_get]\n  group-by: [user.username]\n"
				   "  timespan: 1m\n  condition:\n    field: objectRef.name\n"
				   "    lte: 1\n---\n"
				   "title: not two\nid: c-neq\ncorrelation:\n  type: temporal\n"
				   "  rules: [secret_get, binding]\n  group-by: [user.username]\n"
				   "  timespan: 1m\n  condition:\n    neq: 2\n");
	int s = 0;

	cr_assert_eq(sh_rules(h), 5);
	/* u1: 1 get (below the range), u2: 2 gets of one name, u3: 4 gets, u4: a get, a bind */
	get(h, "u1", "a", s++);
	get(h, "u2", "a", s++);
	get(h, "u2", "a", s++);
	for (int i = 0; i < 4; i++)
		get(h, "u3", i % 2 ? "a" : "b", s++);
	get(h, "u4", "a", s++);
	bind(h, "u4", s++);
	sh_flush(h);
	cr_expect_eq(sh_count(h, "c-range"), 1, "u2 alone has 2 or 3 gets");
	cr_expect(strstr(sh_line(h, "c-range", 0), "\"user.username\":\"u2\""));
	cr_expect_eq(sh_count(h, "c-names"), 3, "u1, u2 and u4 read one name");
	cr_expect_eq(sh_count(h, "c-neq"), 3, "u1, u2, u3 matched one rule; u4 both");
	for (size_t i = 0; i < sh_count(h, "c-neq"); i++)
		cr_expect(!strstr(sh_line(h, "c-neq", i), "\"user.username\":\"u4\""));
	sh_free(h);
}

Test(sigma_correlation, windowed_refused_where_it_cannot_work)
{
	char *errs = NULL;

	/* a window decided at its end has no event to hand a chained correlation */
	cr_expect_eq(sh_check(BASE "title: few\nname: few\nid: few\ncorrelation:\n"
				   "  type: event_count\n  rules: [secret_get]\n  timespan: 1m\n"
				   "  condition:\n    lt: 2\n---\n"
				   "title: y\nid: y\ncorrelation:\n  type: event_count\n"
				   "  rules: [few]\n  timespan: 1h\n  condition:\n    gte: 2\n",
			      &errs),
		     1);
	cr_expect(strstr(errs, "cannot be chained"), "%s", errs);
	free(errs);
	cr_expect_eq(sh_check(BASE "title: z\nid: z\ncorrelation:\n  type: event_count\n"
				   "  rules: [secret_get]\n  timespan: 1m\n  condition:\n"
				   "    lt: 2\n    lt: 3\n",
			      &errs),
		     1);
	cr_expect(strstr(errs, "given twice"), "%s", errs);
	free(errs);
}
