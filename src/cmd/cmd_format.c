// SPDX-License-Identifier: Apache-2.0
/*
 * cmd_format: JSON stays the default; text is for the person at the terminal.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd_common.h"
#include "cmd/cmd_format.h"
#include "keyhole/log.h"
#include "keyhole/report.h"

int cmd_format_opt(const struct opt_hit *h, struct cmd_format *fmt)
{
	if (!strcmp(h->o->long_name, "format")) {
		if (strcmp(h->val, "json") && strcmp(h->val, "text"))
			return cmd__usage_error(NULL, "--format '%s': json or text", h->val);
		fmt->text = !strcmp(h->val, "text");
		return 0;
	}
	if (strcmp(h->val, "auto") && strcmp(h->val, "always") && strcmp(h->val, "never"))
		return cmd__usage_error(NULL, "--color '%s': auto, always or never", h->val);
	fmt->colour = !strcmp(h->val, "always") ? 1 : !strcmp(h->val, "never") ? 0 : -1;
	return 0;
}

int cmd_wrap_text(FILE **out, const struct cmd_format *fmt)
{
	int colour = fmt->colour;
	FILE *t;

	if (!fmt->text)
		return 0;
	if (colour < 0)
		colour = isatty(fileno(*out)) && !getenv("NO_COLOR");
	t = alert_text__open(*out, colour);
	if (!t) {
		kh_log(KH_LOG_ERROR, "cannot set up the text format: %s", strerror(errno));
		return 1;
	}
	*out = t;
	return 0;
}
