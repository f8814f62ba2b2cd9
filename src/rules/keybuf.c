// SPDX-License-Identifier: Apache-2.0
/*
 * keybuf: composite keys from decoded values (see keybuf.h).
 */
#include <string.h>

#include "rules/keybuf.h"
#include "rules/match.h"

size_t keybuf__copy_decoded(struct kstr s, char *buf, size_t cap)
{
	long n;

	if (!kstr_present(s))
		return 0;
	n = kstr__decode(s, buf, cap);
	if (n < 0)
		return 0;
	return (size_t)n > cap ? cap : (size_t)n;
}

void keybuf__add(struct keybuf *k, struct kstr s, size_t cap)
{
	size_t room = sizeof(k->b) - k->len, n;
	uint16_t n16;
	long full;

	/*
	 * tag ('a' absent, 'p' present, 'c' cut), a 16-bit length, the bytes, and for a cut
	 * value the hash of all of it: length-prefixed, so a NUL inside a value cannot forge a
	 * field boundary
	 */
	if (room < 1 + 2 + 8)
		return;
	if (!kstr_present(s)) {
		k->b[k->len++] = 'a';
		return;
	}
	room -= 1 + 2 + 8;
	if (cap > room)
		cap = room;
	if (cap > UINT16_MAX)
		cap = UINT16_MAX;
	full = kstr__decode(s, k->b + k->len + 3, cap);
	n = full < 0 ? 0 : (size_t)full > cap ? cap : (size_t)full;
	k->b[k->len] = (full < 0 || (size_t)full > cap) ? 'c' : 'p';
	n16 = (uint16_t)n;
	memcpy(k->b + k->len + 1, &n16, 2);
	k->len += 3 + n;
	if (k->b[k->len - 3 - n] == 'c') {
		uint64_t h = match__hash_final(match__hash_kstr(KH_HASH_INIT, s));

		memcpy(k->b + k->len, &h, sizeof(h));
		k->len += sizeof(h);
	}
}
