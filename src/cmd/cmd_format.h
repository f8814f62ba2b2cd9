/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_format: the --format and --color options `run` and `replay` share, and the text format
 * wrapped around the alert output when asked for.
 */
#ifndef KEYHOLE_CMD_FORMAT_H
#define KEYHOLE_CMD_FORMAT_H

#include <stdio.h>

#include "cmd/opts.h"

/* the two option table entries, with the ids the command gives them */
#define CMD_FORMAT_OPTS(id_format, id_color)                                                       \
	{'f',                                                                                      \
	 "format",                                                                                 \
	 "FORMAT",                                                                                 \
	 "json (default): one JSON object per alert, for a SIEM;\n"                                \
	 "text: one line per alert, for a person",                                                 \
	 (id_format),                                                                              \
	 0,                                                                                        \
	 "json text"},                                                                             \
	{                                                                                          \
		0, "color", "WHEN", "colour the text format: auto (on a terminal), always, never", \
		    (id_color), 0, "auto always never"                                             \
	}

struct cmd_format {
	int text;
	int colour; /* -1 auto, 0 never, 1 always */
};

#define CMD_FORMAT_INIT                                                                            \
	{                                                                                          \
		0, -1                                                                              \
	}

/* take a --format or --color occurrence; 0, or 2 after a usage error */
int cmd_format_opt(const struct opt_hit *h, struct cmd_format *fmt);

/*
 * With the text format, replace *out by a FILE * writing text lines to it (colour when asked,
 * or on auto when *out is a terminal and NO_COLOR is unset). fclose() the new one before the
 * old. Returns 0, or 1 after reporting a failure.
 */
int cmd_wrap_text(FILE **out, const struct cmd_format *fmt);

#endif /* KEYHOLE_CMD_FORMAT_H */
