// SPDX-License-Identifier: Apache-2.0
/*
 * state_rules: bind the state file to the rules of an engine. Each rule that keeps a history
 * says so through struct kh_rule.history; its section in the file is named by its rule id, so
 * reordering the rule table or adding rules never mixes histories up.
 */
#include <errno.h>

#include "keyhole/log.h"
#include "keyhole/state_file.h"
#include "keyhole/rules_engine.h"

struct kh_state *state__open_for_rules(const char *path, struct kh_rules *r,
				       struct kh_checkpoint *cp)
{
	struct kh_state *s = state__new(path);
	int err;

	if (!s)
		return NULL;
	for (size_t i = 0; i < rules__n(r); i++) {
		struct kh_history *h = rules__history(r, i);

		if (h && (err = state__attach(s, rules__rule(r, i)->info->id, h)))
			goto fail;
	}
	if (cp && (err = state__attach_checkpoint(s, cp)))
		goto fail;
	if ((err = state__load(s)))
		goto fail;
	return s;
fail:
	state__free(s);
	errno = -err;
	return NULL;
}
