// SPDX-License-Identifier: Apache-2.0
/*
 * bpf_need: skip loudly or fail (KEYHOLE_REQUIRE_BPF=1) when a BPF test cannot run (see
 * bpf_need.h). One copy for every tests/bpf/ file.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf_need.h"
#include "keyhole/features.h"

void bpf_need(const char *test, const char *why)
{
	const char *req = getenv("KEYHOLE_REQUIRE_BPF");

	if (!why)
		return;
	if (req && !strcmp(req, "1"))
		cr_assert_fail("%s: KEYHOLE_REQUIRE_BPF=1 but: %s", test, why);
	fprintf(stderr, "\n*** SKIPPING %s BPF test: %s ***\n\n", test, why);
	cr_skip_test("%s", why);
}

const char *bpf_need__why_not(void)
{
	static char why[512];
	struct kh_features f;

	why[0] = 0;
	if (geteuid() != 0) {
		snprintf(why, sizeof(why), "not root (euid %u)", (unsigned)geteuid());
	} else {
		features__probe(&f, true);
		features__run_ok(&f, why, sizeof(why));
	}
	return why[0] ? why : NULL;
}
