// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/rules/secret_suspicious_ua.c (seed 000): get/list on secrets, a user agent
 * matching the KQL wildcards (case-sensitive, whole value), and a source IP.
 */
#include <json-c/json.h>

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"
#include "rules_harness.h"

#define ID "k8s-secret-suspicious-ua"

static const struct kh_rule *const only[] = {&rule_secret_suspicious_ua, NULL};

/* alerts from one request (RequestReceived + ResponseComplete) described by @s */
static size_t alerts_for(struct ev_spec s)
{
	struct rh *h = rh_new(only);
	size_t n;

	rh_request(h, &s);
	rh_flush(h);
	n = rh_count(h, ID);
	rh_free(h);
	return n;
}

static size_t ua_alerts(const char *ua)
{
	return alerts_for((struct ev_spec){.ua = ua});
}

Test(suspicious_ua, every_pattern_matches_a_real_agent)
{
	static const char *const hits[] = {
	    "curl/8.5.0",
	    "python-requests/2.31.0",
	    "Python-urllib/3.11",
	    "wget/1.21.4",
	    "Go-http-client/1.1",
	    "perl/5.36 libwww-perl/6.72",
	    "java/17.0.9",
	    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
	    "php/8.2 GuzzleHttp/7",
	    "Boto3/1.34.0 lang/python#3.11.8 distrib#kali.2024 Botocore/1.34.0",
	    "kube-hunter/0.6.8 Linux/6.6.15-kali-amd64",
	    "nmap-k8s/7.94 (Linux 6.6.9-kali-arm64; aarch64)",
	    "kali-arm64",
	    "curl", /* a wildcard's * also matches nothing */
	};

	for (size_t i = 0; i < sizeof(hits) / sizeof(hits[0]); i++)
		cr_expect_eq(ua_alerts(hits[i]), 1, "user agent \"%s\" should alert", hits[i]);
}

Test(suspicious_ua, patterns_are_case_sensitive_and_anchored)
{
	static const char *const misses[] = {
	    "Curl/8.4.0",				     /* curl* is case-sensitive */
	    "CURL/8.4.0", "Wget/1.21", "go-http-client/1.1", /* Go-http* */
	    "PYTHON-requests/2.31", "Java/17.0.9", /* java* only: the JDK's own agent is capitalised
						    */
	    "kubectl/v1.30.2 curl/8.5.0",	   /* curl*: a prefix, not a substring */
	    /* *kali-amd64 is a suffix */
	    "Mozilla/5.0 (X11; Linux 6.6.15-kali-amd64) Firefox/115.0", "kali-amd64-extra",
	    "distrib#Kali",					    /* case */
	    "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350", "", /* present but empty */
	};

	for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++)
		cr_expect_eq(ua_alerts(misses[i]), 0, "user agent \"%s\" should not alert",
			     misses[i]);
	cr_expect_eq(ua_alerts("-"), 0, "no userAgent field");
}

Test(suspicious_ua, only_get_and_list_on_secrets)
{
	cr_expect_eq(alerts_for((struct ev_spec){.ua = "curl/8", .verb = "list", .name = "-"}), 1);
	cr_expect_eq(alerts_for((struct ev_spec){.ua = "curl/8", .verb = "watch"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.ua = "curl/8", .verb = "create"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.ua = "curl/8", .verb = "GET"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.ua = "curl/8", .resource = "configmaps"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.ua = "curl/8", .resource = "Secrets"}), 0);
	cr_expect_eq(alerts_for((struct ev_spec){.ua = "curl/8", .resource = "-"}), 0);
}

Test(suspicious_ua, needs_a_source_ip)
{
	cr_expect_eq(alerts_for((struct ev_spec){.ua = "curl/8", .ips = "-"}), 0, "no sourceIPs");
	cr_expect_eq(alerts_for((struct ev_spec){.ua = "curl/8", .ips = "[]"}), 0, "empty list");
	cr_expect_eq(alerts_for((struct ev_spec){.ua = "curl/8", .ips = "[\"\"]"}), 0,
		     "first source IP empty");
	cr_expect_eq(alerts_for((struct ev_spec){.ua = "curl/8", .ips = "[\"\",\"192.0.2.1\"]"}), 0,
		     "source.ip is the first of sourceIPs");
	cr_expect_eq(alerts_for((struct ev_spec){.ua = "curl/8", .ips = "[\"127.0.0.1\"]"}), 1,
		     "loopback is a source IP to this rule");
	cr_expect_eq(alerts_for((struct ev_spec){.ua = "curl/8", .ips = "[\"2001:db8::7\"]"}), 1);
}

Test(suspicious_ua, escaped_spellings_are_decoded)
{
	cr_expect_eq(alerts_for((struct ev_spec){.ua = "\\u0063url/8.5.0"}), 1);
	cr_expect_eq(alerts_for((struct ev_spec){.ua = "curl/8", .resource = "secr\\u0065ts"}), 1);
	cr_expect_eq(alerts_for((struct ev_spec){.ua = "curl/8", .verb = "g\\u0065t"}), 1);
	cr_expect_eq(alerts_for((struct ev_spec){.ua = "x distrib\\u0023kali y"}), 1);
	cr_expect_eq(alerts_for((struct ev_spec){.ua = "\\u0043url/8"}), 0, "\\u0043 is 'C'");
}

Test(suspicious_ua, one_alert_per_request_with_the_decision)
{
	struct rh *h = rh_new(only);
	struct json_object *a;

	rh_request(h, &(struct ev_spec){.ua = "curl/8.5.0", .decision = "forbid", .code = 403});
	rh_flush(h);
	cr_assert_eq(rh_count(h, ID), 1);
	a = rh_alert(h, ID, 0);
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.stage"), "ResponseComplete");
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.annotations.authorization_k8s_io/decision"),
			 "forbid");
	cr_expect_str_eq(rh_str(a, "rule.uuid"), "a4c8e901-2b7f-4d6e-9a3c-8e1f0d5b6c2a");
	cr_expect_str_eq(rh_str(a, "rule.severity"), "high");
	cr_expect_eq(json_object_get_int(rh_get(a, "rule.risk_score")), 73);
	cr_expect_str_eq(rh_str(a, "user_agent.original"), "curl/8.5.0");
	cr_expect_str_eq(rh_str(a, "source.ip"), "192.0.2.10");
	cr_expect_str_eq(json_object_get_string(json_object_array_get_idx(
			     rh_get(a, "threat.technique.subtechnique.id"), 0)),
			 "T1552.007");
	rh_free(h);
}

static void *tuned_new(const struct kh_config *cfg)
{
	struct secret_suspicious_ua_tun t = secret_suspicious_ua_defaults;

	(void)cfg;
	t.excluded_users[0] = "system:serviceaccount:ci:*";
	t.excluded_users[1] = NULL;
	t.user_agents[0] = "my-scanner/*";
	t.user_agents[1] = NULL;
	return secret_suspicious_ua__new_with(&t);
}

Test(suspicious_ua, tunables_replace_the_defaults)
{
	struct kh_rule tuned = rule_secret_suspicious_ua;
	const struct kh_rule *const table[] = {&tuned, NULL};
	struct rh *h;

	tuned.state_new = tuned_new;
	h = rh_new(table);
	rh_request(h, &(struct ev_spec){.ua = "curl/8.5.0"});
	rh_request(h,
		   &(struct ev_spec){.ua = "my-scanner/2", .user = "system:serviceaccount:ci:x"});
	rh_request(h, &(struct ev_spec){.ua = "my-scanner/2", .user = "bob"});
	rh_flush(h);
	cr_assert_eq(rh_count(h, ID), 1, "only bob's my-scanner read alerts");
	cr_expect_str_eq(rh_str(rh_alert(h, ID, 0), "user.name"), "bob");
	rh_free(h);
}
