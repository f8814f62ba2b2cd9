/* SPDX-License-Identifier: Apache-2.0 */
/*
 * escape: user-controlled strings into HTML and Markdown. Whatever the bytes, the output is inert
 * text: markup characters become entities, control bytes become a visible \xNN, invalid UTF-8
 * becomes U+FFFD, and a string over @max bytes is cut with an ellipsis.
 */
#ifndef KEYHOLE_REPORT_ESCAPE_H
#define KEYHOLE_REPORT_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* for element text and double- or single-quoted attribute values */
void esc_html(FILE *f, const char *s, size_t max);
/* for a Markdown table cell: as esc_html, and | ` * _ [ ] escaped too */
void esc_md(FILE *f, const char *s, size_t max);

#endif /* KEYHOLE_REPORT_ESCAPE_H */
