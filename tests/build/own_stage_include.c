// SPDX-License-Identifier: Apache-2.0
/*
 * Must compile: the control for cross_stage_include.c. With the same include paths (those of
 * a file of src/rules/), the stage's own private header and another stage's public header
 * resolve, so a failure of the other probe is the private include and nothing else.
 */
#include "keyhole/capture.h"
#include "rules/match.h"

int kh_probe_own_stage(void)
{
	return 0;
}
