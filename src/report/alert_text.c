// SPDX-License-Identifier: Apache-2.0
/*
 * alert_text: `--format text`, one line per alert a person can scan:
 *   TIME SEVERITY RULE user=U src=IP ua="UA" VERB OBJECT [incident ID rN]
 * Every field comes from user-controlled input, so control bytes (a terminal escape sequence in a
 * user agent) are written as \xNN and long fields are cut, before any colour is added.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/report.h"
#include "report/alert_view.h"
#include "report/jdom.h"
#include "keyhole/line_sink.h"

struct text_out {
	FILE *under;
	int colour;
};

/* @s with control bytes escaped, cut to @max bytes (plus "..."), into @buf */
static const char *clean(const char *s, size_t max, char *buf, size_t sz)
{
	size_t w = 0, i;

	for (i = 0; s[i] && w + 5 < sz; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= max) {
			memcpy(buf + w, "...", 3);
			w += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f)
			w += (size_t)snprintf(buf + w, sz - w, "\\x%02x", c);
		else
			buf[w++] = (char)c;
	}
	buf[w] = '\0';
	return buf;
}

static const char *sev_colour(const char *sev)
{
	switch (alert_view__sev_rank(sev)) {
	case 3:
		return "\033[1;97;41m";
	case 2:
		return "\033[1;31m";
	case 1:
		return "\033[33m";
	case 0:
		return "\033[36m";
	default:
		return "";
	}
}

void alert_text__format(const char *line, size_t len, int colour, FILE *out)
{
	struct jdoc d;
	struct alert_view v;
	char b[7][640];
	char sev[16];

	if (jdoc_parse(&d, line, len) || alert_view__read(&d, &v)) {
		/* not an alert: keep its head, made safe for a terminal */
		char *copy = strndup(line, len < 1024 ? len : 1024);
		char buf[1024 * 4 + 8];

		if (copy)
			fprintf(out, "%s\n", clean(copy, 1023, buf, sizeof(buf)));
		free(copy);
		if (d.text)
			jdoc_free(&d);
		return;
	}
	snprintf(sev, sizeof(sev), "%-8.8s", v.severity);
	for (char *p = sev; *p && *p != ' '; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	fprintf(out, "%s %s%s%s %s%s%s user=%s src=%s ua=\"%s\" %s %s",
		clean(v.time, 32, b[0], sizeof(b[0])), colour ? sev_colour(v.severity) : "", sev,
		colour ? "\033[0m" : "", colour ? "\033[1m" : "", clean(v.rule, 64, b[1], 128),
		colour ? "\033[0m" : "", clean(v.user, 80, b[2], sizeof(b[2])),
		clean(v.ip, 48, b[3], sizeof(b[3])), clean(v.ua, 80, b[4], sizeof(b[4])),
		clean(v.verb, 40, b[5], sizeof(b[5])), clean(v.object, 120, b[6], sizeof(b[6])));
	if (v.incident[0])
		fprintf(out, " %s[incident %s r%lld]%s", colour ? "\033[35m" : "",
			clean(v.incident, 80, b[0], sizeof(b[0])), v.revision,
			colour ? "\033[0m" : "");
	fputc('\n', out);
	jdoc_free(&d);
}

static int text_line(void *ctx, const char *line, size_t len)
{
	struct text_out *t = ctx;

	if (!len)
		return 0;
	alert_text__format(line, len, t->colour, t->under);
	/* the caller's fflush() reaches only this FILE: pass each alert on at once */
	return fflush(t->under) || ferror(t->under) ? -1 : 0;
}

FILE *alert_text__open(FILE *under, int colour)
{
	struct text_out *t = calloc(1, sizeof(*t));
	FILE *f;

	if (!t)
		return NULL;
	t->under = under;
	t->colour = colour;
	f = line_sink__open(text_line, free, t);
	if (!f)
		free(t);
	return f;
}
