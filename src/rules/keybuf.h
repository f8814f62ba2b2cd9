/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keybuf: composite keys (a group, a new-terms combination) built from decoded field values.
 *
 * Each field is length-prefixed and an absent field is written differently from an empty one,
 * so ("a", "bc") and ("ab", "c") and (absent) and ("") are four keys, as they are four groups in
 * ES|QL, whatever bytes (NULs included) the values hold. A field longer than its cap keeps its
 * first cap bytes followed by a hash of the whole value, so two long values that share a prefix
 * still make two keys.
 */
#ifndef KEYHOLE_RULES_KEYBUF_H
#define KEYHOLE_RULES_KEYBUF_H

#include <stddef.h>

#include "keyhole/kstr.h"

#define KEYBUF_MAX 4000 /* below KEYTAB_MAX_KEY */

struct keybuf {
	size_t len;
	char b[KEYBUF_MAX];
};

static inline void keybuf_init(struct keybuf *k)
{
	k->len = 0;
}

/* append @s, decoded, keeping at most @cap bytes of it (then a hash of the rest) */
void keybuf__add(struct keybuf *k, struct kstr s, size_t cap);

/*
 * Decode @s into @buf (at most @cap bytes). Returns the bytes kept; a longer value is cut at
 * @cap. An absent or malformed value gives 0.
 */
size_t keybuf__copy_decoded(struct kstr s, char *buf, size_t cap);

#endif /* KEYHOLE_RULES_KEYBUF_H */
