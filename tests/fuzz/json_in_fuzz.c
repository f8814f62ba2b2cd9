// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for json_in, the one JSON reader: over any bytes, every read stays inside the
 * span (the input is copied to a buffer of exactly its size, so ASan sees one byte past it), the
 * cursor only moves forward, a skip that succeeds moved, a failed one at a stray byte did not,
 * and a decoded string is never longer than its raw form, in place or not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/json_in.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

static void strings(struct json_in *r)
{
	char buf[64];
	struct kstr k;
	const char *before = r->p;

	if (!json_in__str(r, &k))
		return;
	CHECK(r->p > before && r->p <= r->end);
	long n = json_in__decode(k.p, k.len, buf, sizeof(buf), JSON_IN_NUL_FFFD);

	CHECK(n < 0 || (size_t)n <= k.len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1);
	struct json_in r, v;
	long long i;

	if (!s)
		return 0;
	memcpy(s, data, size);
	/* every value in turn, as the walkers step through a body */
	r = json_in__span(s, size);
	for (int steps = 0; r.p < r.end && steps < 4096; steps++) {
		const char *before = r.p;

		strings(&r);
		if (json_in__int(&r, &i))
			continue;
		if (json_in__skip(&r)) {
			CHECK(r.p > before && r.p <= r.end);
			continue;
		}
		CHECK(r.p >= before && r.p <= r.end);
		if (r.p < r.end)
			r.p++; /* the stray byte the skip refused */
	}
	/* member lookup, and the value it finds */
	r = json_in__span(s, size);
	if (json_in__member(&r, "kind", &v)) {
		CHECK(v.p >= s && v.p <= r.end);
		strings(&v);
	}
	if (json_in__member_first(&r, "auditID", &v)) {
		CHECK(v.p >= s && v.p <= r.end);
		strings(&v);
	}
	/* in place, as the report's DOM decodes */
	r = json_in__span(s, size);
	r.strict = true;
	{
		struct kstr k;

		if (json_in__str(&r, &k)) {
			long n = json_in__decode(k.p, k.len, (char *)k.p, k.len, 0);

			CHECK(n < 0 || (size_t)n <= k.len);
		}
	}
	free(s);
	return 0;
}
