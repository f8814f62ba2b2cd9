// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the incident report: every input line goes in both as an audit Event of
 * a log file and as an alert line (jdom, alert_view, the model), then the report is written as
 * HTML and Markdown. Whatever the bytes, the HTML holds exactly one <script (its own), no raw
 * control byte but newline, and the Markdown no '<' at all: user-controlled text stays text.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/report.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

static char *render(const struct kh_report *r, enum kh_report_format fmt, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	CHECK(f);
	CHECK(report__write(r, fmt, f) == 0);
	fclose(f);
	return buf;
}

static size_t count(const char *s, size_t n, const char *needle)
{
	size_t k = 0, m = strlen(needle);

	for (size_t i = 0; i + m <= n; i++)
		k += !memcmp(s + i, needle, m);
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kh_report *r = report__new();
	const char *p = (const char *)data, *end = p + size;
	char *html, *md;
	size_t hl, ml;

	CHECK(r);
	CHECK(report__begin_file(r, "fuzz<&>.log", 0) == 0);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		report__add_event(r, p, n, n > 8 ? (size_t)data[0] % n : 0);
		report__add_alert(r, p, n);
		p += n + 1;
	}
	html = render(r, KH_REPORT_HTML, &hl);
	md = render(r, KH_REPORT_MARKDOWN, &ml);
	CHECK(count(html, hl, "<script") == 1);
	for (size_t i = 0; i < hl; i++)
		CHECK((unsigned char)html[i] >= 0x20 || html[i] == '\n');
	/* the Markdown's own text has no '<': any would be from the input */
	CHECK(memchr(md, '<', ml) == NULL);
	free(html);
	free(md);
	report__free(r);
	return 0;
}
