// SPDX-License-Identifier: Apache-2.0
/*
 * The report stage's small parts: jdom (keyhole's alert JSON read back), the HTML and Markdown
 * escapes every user-controlled string goes through, the text format's line, the line sink.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/report.h"
#include "report/escape.h"
#include "report/jdom.h"
#include "keyhole/line_sink.h"

static int parse(struct jdoc *d, const char *s)
{
	return jdoc_parse(d, s, strlen(s));
}

Test(jdom, paths_types_and_escapes)
{
	struct jdoc d;

	cr_assert_eq(parse(&d, " {\"a\":{\"b\":[1,2],\"s\":\"x\\u00e9\\ud83d\\ude00\\n\\\"\"},"
			       "\"n\":-12.5e1,\"t\":true,\"z\":null,\"k\":\"\\u0000\"} "),
		     0);
	cr_assert_str_eq(jstr(&d, NULL, "a.s", NULL), "x\xc3\xa9\xf0\x9f\x98\x80\n\"");
	cr_assert_eq(jget(&d, NULL, "a.b")->n, 2);
	cr_assert_str_eq(jfirst(&d, jget(&d, NULL, "a.b"))->s, "1");
	cr_assert_str_eq(jstr(&d, NULL, "n", NULL), "-12.5e1");
	cr_assert_str_eq(jstr(&d, NULL, "t", NULL), "true");
	cr_assert_null(jstr(&d, NULL, "z", NULL));
	cr_assert_str_eq(jstr(&d, NULL, "k", NULL), "\xef\xbf\xbd"); /* \u0000: U+FFFD */
	cr_assert_null(jget(&d, NULL, "a.b.c"));
	cr_assert_null(jget(&d, NULL, "a.missing"));
	cr_assert_eq(jint(&d, NULL, "a.nope", 7), 7);
	jdoc_free(&d);
}

Test(jdom, rejects_bad_json_and_bounds_depth)
{
	static const char *const bad[] = {"{",	       "{\"a\":}",   "{\"a\":1,}",	"[1 2]",
					  "\"abc",     "{\"a\":1}x", "{'a':1}",		"\"\\x\"",
					  "\"\\u12\"", "",	     "{\"a\":\"\x01\"}"};
	struct jdoc d;
	char deep[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_neq(parse(&d, bad[i]), 0, "accepted %s", bad[i]);
	memset(deep, '[', 65);
	memset(deep + 65, ']', 65);
	deep[130] = '\0';
	cr_expect_neq(parse(&d, deep), 0, "65 levels accepted");
	deep[64] = '\0';
	memset(deep, '[', 32);
	memset(deep + 32, ']', 32);
	cr_assert_eq(parse(&d, deep), 0, "32 levels rejected");
	jdoc_free(&d);
}

/* a NUL byte is never JSON: inside a number it once passed the scalar scan (strchr finds the
 * terminator), and the report then copied an incident by strndup, shorter than its length */
Test(jdom, nul_byte_in_a_number_is_refused)
{
	static const char line[] = "{\"a\":9\0009}";
	struct jdoc d;

	cr_expect_neq(jdoc_parse(&d, line, sizeof(line) - 1), 0, "NUL inside a number accepted");
	cr_expect_neq(jdoc_parse(&d, "\0", 1), 0, "a lone NUL accepted");
}

static char *esc(void (*fn)(FILE *, const char *, size_t), const char *s, size_t max)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, s, max);
	fclose(f);
	return buf;
}

Test(escape, html_is_inert)
{
	char *o = esc(esc_html, "<script>\"x\" & 'y'</script>\x01\x1b\x7f", 1000);

	cr_assert_str_eq(o, "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
			    "\\x01\\x1b\\x7f");
	free(o);
	o = esc(esc_html, "ok \xc3\xa9 \xf0\x9f\x98\x80 bad \xc3 \xed\xa0\x80 \xff", 1000);
	cr_assert_str_eq(o, "ok \xc3\xa9 \xf0\x9f\x98\x80 bad \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd"
			    "\xef\xbf\xbd \xef\xbf\xbd");
	free(o);
	o = esc(esc_html, "abcdefgh", 3);
	cr_assert_str_eq(o, "abc\xe2\x80\xa6");
	free(o);
}

Test(escape, markdown_cells_keep_their_shape)
{
	char *o = esc(esc_md, "a|b `c` *d* [e](f) <i>", 1000);

	cr_assert_null(strchr(o, '|'));
	cr_assert_null(strchr(o, '`'));
	cr_assert_null(strchr(o, '<'));
	cr_assert_str_eq(o, "a&#124;b &#96;c&#96; &#42;d&#42; &#91;e&#93;(f) &lt;i&gt;");
	free(o);
}

static const char alert[] =
    "{\"@timestamp\":\"2026-11-23T14:20:39.739071Z\",\"rule\":{\"id\":\"k8s-secret-suspicious-ua\","
    "\"severity\":\"high\",\"risk_score\":73},\"user\":{\"name\":\"mallory\"},\"source\":{\"ip\":"
    "\"203.0.113.77\"},\"user_agent\":{\"original\":\"curl/"
    "8\\u001b[2J\"},\"kubernetes\":{\"audit\":"
    "{\"verb\":\"get\",\"auditID\":\"a1\",\"objectRef\":{\"resource\":\"secrets\",\"namespace\":"
    "\"prod\",\"name\":\"db\"}}},\"keyhole\":{\"incident\":{\"id\":\"etl-1\",\"revision\":3}}}";

Test(alert_text, one_line_with_its_fields)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	alert_text__format(alert, strlen(alert), 0, f);
	alert_text__format(alert, strlen(alert), 1, f);
	alert_text__format("not json \x1b", 10, 1, f);
	fclose(f);
	cr_assert_str_eq(
	    buf, "2026-11-23T14:20:39.739071Z HIGH     k8s-secret-suspicious-ua user=mallory "
		 "src=203.0.113.77 ua=\"curl/8\\x1b[2J\" get prod/secrets/db [incident etl-1 r3]\n"
		 "2026-11-23T14:20:39.739071Z \033[1;31mHIGH    \033[0m \033[1m"
		 "k8s-secret-suspicious-ua\033[0m user=mallory src=203.0.113.77 "
		 "ua=\"curl/8\\x1b[2J\" get prod/secrets/db \033[35m[incident etl-1 r3]\033[0m\n"
		 "not json \\x1b\n");
	free(buf);
}

struct lines {
	char got[8][64];
	int n, done;
};

static int on_line(void *ctx, const char *l, size_t len)
{
	struct lines *x = ctx;

	snprintf(x->got[x->n++], 64, "%.*s", (int)len, l);
	return 0;
}

static void on_done(void *ctx)
{
	((struct lines *)ctx)->done = 1;
}

Test(line_sink, lines_across_writes_and_the_last_at_close)
{
	struct lines x = {0};
	FILE *f = line_sink__open(on_line, on_done, &x);

	fputs("one\ntw", f);
	fprintf(f, "o\n%s", "thr");
	fputs("ee", f);
	cr_assert_eq(x.n, 2);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(x.n, 3);
	cr_assert(x.done);
	cr_assert_str_eq(x.got[0], "one");
	cr_assert_str_eq(x.got[1], "two");
	cr_assert_str_eq(x.got[2], "three");
}
