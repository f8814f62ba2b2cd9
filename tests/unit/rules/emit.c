// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/rules/emit.c: the alert every rule writes (fields, names, valid JSON whatever the
 * input bytes, no bodies), one alert per request across stages, the RequestReceived hold, the
 * bounds on dedupe and hold memory, baseline muting and output failures.
 */
#include <json-c/json.h>

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/audit_parse.h"
#include "keyhole/emit.h"
#include "keyhole/rules_engine.h"
#include "rules/rules.h"
#include "rules_harness.h"

/*
 * a test rule: alerts on every event whose verb is "get", except user agent "ignore-me" (no
 * opinion) and "cancel-me" (cancels a held alert); extra evidence for object name "extra"
 */
static const struct kh_rule_info test_info = {
    .id = "test-every-get",
    .uuid = "00000000-0000-4000-8000-0000000000aa",
    .name = "Every get",
    .severity = "low",
    .risk_score = 21,
    .techniques = {"T1552.007", "T1613"},
};

static void every_get(void *state, const struct audit_event *ev, struct kh_emit *e)
{
	struct json_out *j;

	(void)state;
	if (!kstr__eq(ev->verb, "get") || kstr__eq(ev->user_agent, "ignore-me"))
		return;
	if (kstr__eq(ev->user_agent, "cancel-me")) {
		emit__alert_cancel(e, ev);
		return;
	}
	j = emit__alert_begin(e, &test_info, ev);
	if (!j)
		return;
	if (kstr__eq(ev->object_ref.name, "extra")) {
		struct kstr ids[2] = {kstr_lit("id-one", 6), kstr_lit("id-two", 6)};

		json_out__kv_str(j, "note", "rule-specific key");
		emit__alert_end(e, ids, 2);
		return;
	}
	emit__alert_end(e, NULL, 0);
}

static const struct kh_rule test_rule = {.info = &test_info, .on_event = every_get};
static const struct kh_rule *const only[] = {&test_rule, NULL};

#define T0 "2026-11-23T10:00:00.000100Z"

static const char *arr_str(struct json_object *a, const char *path, size_t i)
{
	struct json_object *v = rh_get(a, path);

	if (!v || !json_object_is_type(v, json_type_array) || i >= json_object_array_length(v))
		return NULL;
	return json_object_get_string(json_object_array_get_idx(v, i));
}

Test(emit, alert_carries_the_shared_fields)
{
	struct rh *h = rh_new(only);
	struct json_object *a;

	rh_request(h, &(struct ev_spec){.audit_id = "5f0e9a3c-1b2d-4e6f-8a7b-9c0d1e2f3a4b",
					.user = "system:serviceaccount:prod:web",
					.groups =
					    "[\"system:serviceaccounts\",\"system:authenticated\"]",
					.pod_name = "web-1",
					.imp_user = "bob",
					.ips = "[\"10.244.1.9\",\"10.0.0.1\"]",
					.ua = "curl/8.5.0",
					.ns = "prod",
					.name = "db",
					.time = T0,
					.code = 200,
					.stage_time = "2026-11-23T10:00:00.004100Z"});
	rh_flush(h);
	cr_assert_eq(rh_count(h, NULL), 1);
	a = rh_alert(h, NULL, 0);
	cr_expect_str_eq(rh_str(a, "@timestamp"), T0, "the request's own time");
	cr_expect_str_eq(rh_str(a, "event.kind"), "alert");
	cr_expect_str_eq(rh_str(a, "event.action"), "get");
	cr_expect_eq(json_object_get_int(rh_get(a, "event.severity")), 21);
	cr_expect_str_eq(rh_str(a, "rule.id"), "test-every-get");
	cr_expect_str_eq(rh_str(a, "rule.uuid"), "00000000-0000-4000-8000-0000000000aa");
	cr_expect_str_eq(rh_str(a, "rule.name"), "Every get");
	cr_expect_str_eq(rh_str(a, "rule.severity"), "low");
	cr_expect_eq(json_object_get_int(rh_get(a, "rule.risk_score")), 21);
	cr_expect_str_eq(rh_str(a, "threat.framework"), "MITRE ATT&CK");
	cr_expect_str_eq(arr_str(a, "threat.technique.id", 0), "T1552", "parent of T1552.007");
	cr_expect_str_eq(arr_str(a, "threat.technique.id", 1), "T1613");
	cr_expect_str_eq(arr_str(a, "threat.technique.subtechnique.id", 0), "T1552.007");
	cr_expect_str_eq(rh_str(a, "user.name"), "system:serviceaccount:prod:web");
	cr_expect_str_eq(rh_str(a, "user.effective.name"), "bob");
	cr_expect_str_eq(rh_str(a, "source.ip"), "10.244.1.9");
	cr_expect_str_eq(rh_str(a, "user_agent.original"), "curl/8.5.0");
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.auditID"),
			 "5f0e9a3c-1b2d-4e6f-8a7b-9c0d1e2f3a4b");
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.stage"), "ResponseComplete");
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.level"), "Metadata");
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.verb"), "get");
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.requestURI"),
			 "/api/v1/namespaces/prod/secrets/db");
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.user.username"),
			 "system:serviceaccount:prod:web");
	cr_expect_str_eq(arr_str(a, "kubernetes.audit.user.groups", 1), "system:authenticated");
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.impersonatedUser.username"), "bob");
	cr_expect_str_eq(arr_str(a, "kubernetes.audit.sourceIPs", 1), "10.0.0.1");
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.userAgent"), "curl/8.5.0");
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.objectRef.resource"), "secrets");
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.objectRef.namespace"), "prod");
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.objectRef.name"), "db");
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.objectRef.apiVersion"), "v1");
	cr_expect_eq(json_object_get_int(rh_get(a, "kubernetes.audit.responseStatus.code")), 200);
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.requestReceivedTimestamp"), T0);
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.stageTimestamp"),
			 "2026-11-23T10:00:00.004100Z");
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.annotations.authorization_k8s_io/decision"),
			 "allow");
	cr_expect_str_eq(rh_str(a, "kubernetes.audit.annotations.authorization_k8s_io/reason"), "");
	cr_expect_str_eq(arr_str(a, "evidence.audit_ids", 0),
			 "5f0e9a3c-1b2d-4e6f-8a7b-9c0d1e2f3a4b");
	cr_expect_eq(json_object_array_length(rh_get(a, "evidence.audit_ids")), 1);
	rh_free(h);
}

Test(emit, rule_keys_and_extra_evidence)
{
	struct rh *h = rh_new(only);
	struct json_object *a;

	rh_ev(h, &(struct ev_spec){.audit_id = "main-id", .name = "extra"});
	cr_assert_eq(rh_count(h, NULL), 1);
	a = rh_alert(h, NULL, 0);
	cr_expect_str_eq(rh_str(a, "note"), "rule-specific key");
	cr_expect_eq(json_object_array_length(rh_get(a, "evidence.audit_ids")), 3);
	cr_expect_str_eq(arr_str(a, "evidence.audit_ids", 0), "main-id");
	cr_expect_str_eq(arr_str(a, "evidence.audit_ids", 2), "id-two");
	rh_free(h);
}

Test(emit, absent_fields_are_left_out_not_invented)
{
	struct rh *h = rh_new(only);
	struct json_object *a;
	char *line = strdup("{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":"
			    "\"Metadata\",\"auditID\":\"bare\",\"stage\":\"ResponseComplete\","
			    "\"requestURI\":\"/api\",\"verb\":\"get\",\"user\":{}}");

	rh_feed(h, line);
	cr_assert_eq(rh_count(h, NULL), 1);
	a = rh_alert(h, NULL, 0);
	cr_expect_null(rh_get(a, "@timestamp"), "no event time: no wall clock either");
	cr_expect_null(rh_get(a, "source"));
	cr_expect_null(rh_get(a, "user_agent"));
	cr_expect_null(rh_get(a, "kubernetes.audit.objectRef"));
	cr_expect_null(rh_get(a, "kubernetes.audit.responseStatus"));
	cr_expect_null(rh_get(a, "kubernetes.audit.annotations"));
	cr_expect_str_eq(arr_str(a, "evidence.audit_ids", 0), "bare");
	free(line);
	rh_free(h);
}

Test(emit, request_and_response_bodies_never_reach_an_alert)
{
	struct rh *h = rh_new(only);

	rh_request(h, &(struct ev_spec){.request_object =
					    "{\"kind\":\"Secret\",\"data\":{\"password\":"
					    "\"U0VDUkVULVZBTFVFLVhZWg==\"},\"stringData\":{"
					    "\"token\":\"SECRET-VALUE-XYZ\"}}"});
	rh_flush(h);
	cr_assert_eq(rh_count(h, NULL), 1);
	fflush(h->out);
	cr_expect_null(strstr(h->buf, "SECRET-VALUE-XYZ"));
	cr_expect_null(strstr(h->buf, "U0VDUkVULVZBTFVFLVhZWg"));
	cr_expect_null(strstr(h->buf, "requestObject"));
	rh_free(h);
}

Test(emit, hostile_bytes_still_give_valid_json)
{
	static const char *const uas[] = {
	    "quote \\\" backslash \\\\ slash \\/ tab \\t newline \\n cr \\r",
	    "controls \\u0000 \\u0001 \\u001f \\u007f",
	    "lone surrogates \\ud800 \\udfff and a pair \\ud83d\\ude00",
	    "raw invalid utf-8 \xff\xfe \xc3\x28 \xe2\x82 overlong \xc0\xaf end",
	    "raw valid utf-8 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
	    "html <script>&amp;</script> \\u2028 \\u2029",
	};
	struct rh *h = rh_new(only);

	for (size_t i = 0; i < sizeof(uas) / sizeof(uas[0]); i++)
		rh_ev(h, &(struct ev_spec){.ua = uas[i], .user = uas[i], .name = uas[i]});
	/* rh_alerts asserts every line is exactly one JSON object */
	cr_assert_eq(rh_count(h, NULL), sizeof(uas) / sizeof(uas[0]));
	cr_expect_str_eq(rh_str(rh_alert(h, NULL, 0), "user_agent.original"),
			 "quote \" backslash \\ slash / tab \t newline \n cr \r");
	cr_expect_str_eq(rh_str(rh_alert(h, NULL, 4), "user.name"),
			 "raw valid utf-8 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* one alert per line: no raw newline or control byte escaped the string escaping */
	fflush(h->out);
	for (const char *p = h->buf; *p; p++)
		cr_assert((unsigned char)*p >= 0x20 || *p == '\n', "raw control byte %#x in output",
			  (unsigned char)*p);
	rh_free(h);
}

Test(emit, one_alert_per_request_across_stages)
{
	struct rh *h = rh_new(only);
	struct ev_spec s = {.audit_id = "req-1", .time = T0};

	s.stage = "RequestReceived";
	rh_ev(h, &s);
	s.stage = "ResponseStarted";
	rh_ev(h, &s);
	s.stage = "ResponseComplete";
	rh_ev(h, &s);
	rh_ev(h, &s); /* the same line twice */
	rh_flush(h);
	cr_assert_eq(rh_count(h, NULL), 1);
	cr_expect_str_eq(rh_str(rh_alert(h, NULL, 0), "kubernetes.audit.stage"), "ResponseStarted",
			 "the first stage with a decision replaces the held RequestReceived");
	cr_expect_eq(h->c.dedup_suppressed, 2);
	cr_expect_eq(h->c.alerts, 1);
	cr_expect_eq(h->by_rule[0], 1);
	rh_free(h);
}

Test(emit, a_reused_audit_id_does_not_silence_another_request)
{
	struct rh *h = rh_new(only);

	/* clients may set Audit-ID themselves */
	rh_request(h, &(struct ev_spec){.audit_id = "same", .name = "aws-credentials"});
	rh_request(h, &(struct ev_spec){.audit_id = "same", .name = "db-credentials"});
	rh_request(h,
		   &(struct ev_spec){.audit_id = "same", .name = "db-credentials", .user = "eve"});
	rh_flush(h);
	cr_expect_eq(rh_count(h, NULL), 3);
	rh_free(h);
}

Test(emit, request_received_is_held_until_its_request_ends)
{
	struct rh *h = rh_new(only);

	rh_ev(h, &(struct ev_spec){.audit_id = "held", .stage = "RequestReceived", .time = T0});
	cr_expect_eq(rh_count(h, NULL), 0);
	/* another request's events do not end the hold, time within 60 s does not either */
	rh_request(h, &(struct ev_spec){.verb = "list", .time = "2026-11-23T10:00:59.000000Z"});
	cr_expect_eq(rh_count(h, NULL), 0);
	rh_ev(h, &(struct ev_spec){.audit_id = "held",
				   .stage = "ResponseComplete",
				   .time = T0,
				   .stage_time = "2026-11-23T10:00:00.200000Z",
				   .decision = "forbid",
				   .code = 403});
	cr_assert_eq(rh_count(h, NULL), 1, "written at the later stage, without waiting for flush");
	cr_expect_str_eq(rh_str(rh_alert(h, NULL, 0),
				"kubernetes.audit.annotations.authorization_k8s_io/decision"),
			 "forbid");
	rh_free(h);
}

Test(emit, a_hold_ends_after_sixty_seconds_of_event_time)
{
	struct rh *h = rh_new(only);

	rh_ev(h, &(struct ev_spec){.audit_id = "lost", .stage = "RequestReceived", .time = T0});
	rh_ev(h, &(struct ev_spec){.verb = "list", .time = "2026-11-23T10:01:00.000100Z"});
	cr_expect_eq(rh_count(h, NULL), 0, "exactly 60 s: still held");
	rh_ev(h, &(struct ev_spec){.verb = "list", .time = "2026-11-23T10:01:00.000101Z"});
	cr_assert_eq(rh_count(h, NULL), 1);
	cr_expect_str_eq(rh_str(rh_alert(h, NULL, 0), "kubernetes.audit.stage"), "RequestReceived");
	/* its ResponseComplete, late (a long watch), does not alert again */
	rh_ev(h, &(struct ev_spec){
		     .audit_id = "lost", .time = T0, .stage_time = "2026-11-23T10:05:00.000000Z"});
	cr_expect_eq(rh_count(h, NULL), 1);
	cr_expect_eq(h->c.held_written_early, 0);
	rh_free(h);
}

Test(emit, a_later_stage_without_an_alert_ends_the_hold)
{
	struct rh *h = rh_new(only);

	/* the rule has no opinion on the later stage: the held alert is written right then */
	rh_ev(h, &(struct ev_spec){.audit_id = "x", .stage = "RequestReceived", .ua = "a"});
	rh_ev(h, &(struct ev_spec){.audit_id = "x", .ua = "ignore-me"});
	cr_assert_eq(rh_count(h, NULL), 1);
	cr_expect_str_eq(rh_str(rh_alert(h, NULL, 0), "kubernetes.audit.stage"), "RequestReceived");
	/* the rule cancels at the later stage: nothing is written, even at flush */
	rh_ev(h, &(struct ev_spec){.audit_id = "y", .stage = "RequestReceived", .ua = "a"});
	rh_ev(h, &(struct ev_spec){.audit_id = "y", .ua = "cancel-me"});
	rh_flush(h);
	cr_expect_eq(rh_count(h, NULL), 1);
	rh_free(h);
}

Test(emit, full_pending_table_writes_the_oldest_early)
{
	struct rh *h = rh_new(only);
	char id[32];

	for (int i = 0; i <= KH_EMIT_PENDING_MAX; i++) {
		snprintf(id, sizeof(id), "p-%d", i);
		rh_ev(h, &(struct ev_spec){.audit_id = id, .stage = "RequestReceived", .time = T0});
	}
	cr_assert_eq(rh_count(h, NULL), 1);
	cr_expect_str_eq(rh_str(rh_alert(h, NULL, 0), "kubernetes.audit.auditID"), "p-0");
	cr_expect_eq(h->c.held_written_early, 1);
	rh_flush(h);
	cr_expect_eq(rh_count(h, NULL), KH_EMIT_PENDING_MAX + 1, "nothing lost");
	rh_free(h);
}

Test(emit, dedupe_memory_is_bounded)
{
	struct rh *h = rh_new(only);
	char id[32];

	for (int i = 0; i <= KH_EMIT_DONE_MAX; i++) {
		snprintf(id, sizeof(id), "d-%d", i);
		rh_ev(h, &(struct ev_spec){.audit_id = id,
					   .ua = "-",
					   .ips = "-",
					   .resource = "-",
					   .uri = "/x",
					   .time = T0});
	}
	cr_expect_eq(h->c.alerts, KH_EMIT_DONE_MAX + 1);
	cr_expect_eq(h->c.dedup_evictions, 1);
	/* the forgotten one alerts again; the most recent is still remembered */
	rh_ev(h, &(struct ev_spec){.audit_id = "d-0",
				   .ua = "-",
				   .ips = "-",
				   .resource = "-",
				   .uri = "/x",
				   .time = T0});
	snprintf(id, sizeof(id), "d-%d", KH_EMIT_DONE_MAX);
	rh_ev(h,
	      &(struct ev_spec){
		  .audit_id = id, .ua = "-", .ips = "-", .resource = "-", .uri = "/x", .time = T0});
	cr_expect_eq(h->c.alerts, KH_EMIT_DONE_MAX + 2);
	rh_free(h);
}

Test(emit, muted_writes_nothing_but_first_writes_what_it_held)
{
	struct rh *h = rh_new(only);

	rh_ev(h, &(struct ev_spec){.audit_id = "before", .stage = "RequestReceived"});
	emit__set_muted(h->e, 1);
	cr_expect_eq(rh_count(h, NULL), 1, "the held alert was real: written before muting");
	rh_request(h, &(struct ev_spec){.audit_id = "during"});
	rh_flush(h);
	cr_expect_eq(rh_count(h, NULL), 1);
	emit__set_muted(h->e, 0);
	rh_request(h, &(struct ev_spec){.audit_id = "after"});
	cr_expect_eq(rh_count(h, NULL), 2);
	rh_free(h);
}

Test(emit, output_failure_is_counted_not_fatal)
{
	FILE *full = fopen("/dev/full", "w");
	struct kh_counters c = {0};
	struct kh_emit *e;
	struct kh_rules *r;
	char *line = ev_line(&(struct ev_spec){.audit_id = "f"});
	struct audit_event ev;

	cr_assert_not_null(full);
	e = emit__new(full, &c);
	r = rules__new_table(only, NULL, e);
	cr_assert_eq(audit_parse__line(line, strlen(line), &ev, NULL), 0);
	rules__on_event(r, &ev);
	cr_expect_eq(c.output_errors, 1);
	cr_expect_eq(c.alerts, 0);
	rules__free(r);
	emit__free(e);
	fclose(full);
	free(line);
}

Test(emit, replay_is_byte_identical)
{
	struct rh *a = rh_new(NULL), *b = rh_new(NULL);

	rh_feed_file(a, KH_TEST_DATA_DIR "/attack.log");
	rh_flush(a);
	rh_feed_file(b, KH_TEST_DATA_DIR "/attack.log");
	rh_flush(b);
	fflush(a->out);
	fflush(b->out);
	cr_assert_gt(a->len, 0);
	cr_expect_eq(a->len, b->len);
	cr_expect_eq(memcmp(a->buf, b->buf, a->len), 0);
	rh_free(a);
	rh_free(b);
}

/*
 * A previous run's alert line is keyed by its rule.id and kubernetes.audit.auditID, read with
 * the JSON reader: a key named auditID elsewhere (annotations, user.extra, a string) is not the
 * request's.
 */
Test(emit, written_line_key_reads_the_alerts_own_audit_id)
{
#define ALERT(extra, id)                                                                           \
	"{\"@timestamp\":\"2026-11-23T10:00:00Z\",\"message\":\"x \\\"rule\\\":{\\\"id\\\":"       \
	"\\\"evil\\\"}\",\"rule\":{\"name\":\"n\",\"id\":\"r1\"},\"kubernetes\":{\"audit\":{"      \
	"\"annotations\":{\"auditID\":\"" extra "\"},\"user\":{\"extra\":{\"auditID\":[\"" extra   \
	"\"]}},\"note\":\"\\\"auditID\\\":\\\"" extra "\\\"\",\"auditID\":\"" id "\"}}}"
	const char *a = ALERT("fake-1", "real-1");
	const char *same = ALERT("fake-2", "real-1");
	const char *other = ALERT("fake-1", "real-2");
	const char *bare = "{\"rule\":{\"id\":\"r1\"},\"kubernetes\":{\"audit\":{\"auditID\":"
			   "\"real-1\"}}}";
	const char *no_id = "{\"rule\":{\"id\":\"r1\"},\"kubernetes\":{\"audit\":{\"annotations\":"
			    "{\"auditID\":\"real-1\"}}}}";
#undef ALERT

	cr_expect_eq(emit_line_key(a, strlen(a)), emit_line_key(same, strlen(same)),
		     "auditID keys elsewhere in the alert changed its key");
	cr_expect_eq(emit_line_key(a, strlen(a)), emit_line_key(bare, strlen(bare)),
		     "the key is the rule id and the auditID, nothing else");
	cr_expect_neq(emit_line_key(a, strlen(a)), emit_line_key(other, strlen(other)),
		      "two requests' alerts share a key");
	cr_expect_neq(emit_line_key(no_id, strlen(no_id)), emit_line_key(bare, strlen(bare)),
		      "an annotation named auditID was taken for the request's");
}
