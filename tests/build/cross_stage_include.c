// SPDX-License-Identifier: Apache-2.0
/*
 * Must NOT compile: built with exactly the include paths a file of src/rules/ gets, it reaches
 * into the capture stage's private header. tests/build/CMakeLists.txt expects the compiler to
 * say that capture/tap.h is not found.
 */
#include "capture/tap.h"

int kh_probe_cross_stage(void)
{
	return 0;
}
