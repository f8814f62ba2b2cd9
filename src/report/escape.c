// SPDX-License-Identifier: Apache-2.0
/*
 * escape: one UTF-8 walk for both targets. Markdown renderers pass inline HTML through, so a
 * Markdown cell gets the HTML escapes as well as its own.
 */
#include <string.h>

#include "report/escape.h"

/* length of the valid UTF-8 sequence at @s (1..4), or 0 when invalid */
static size_t utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

static void esc(FILE *f, const char *str, size_t max, int md)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t done = 0;

	while (*s) {
		size_t n = utf8_len(s);

		if (done >= max) {
			fputs("\xe2\x80\xa6", f); /* ... */
			return;
		}
		if (n == 0) {
			fputs("\xef\xbf\xbd", f);
			s++, done++;
			continue;
		}
		if (n > 1) {
			fwrite(s, 1, n, f);
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(f, "\\x%02x", *s);
		} else if (*s == '&') {
			fputs("&amp;", f);
		} else if (*s == '<') {
			fputs("&lt;", f);
		} else if (*s == '>') {
			fputs("&gt;", f);
		} else if (*s == '"') {
			fputs("&quot;", f);
		} else if (*s == '\'') {
			fputs("&#39;", f);
		} else if (md && strchr("|`*_[]\\#~", *s)) {
			fprintf(f, "&#%d;", *s);
		} else {
			fputc(*s, f);
		}
		s += n;
		done += n;
	}
}

void esc_html(FILE *f, const char *s, size_t max)
{
	esc(f, s, max, 0);
}

void esc_md(FILE *f, const char *s, size_t max)
{
	esc(f, s, max, 1);
}
