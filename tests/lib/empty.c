// SPDX-License-Identifier: Apache-2.0
/* Keeps the test helper library non-empty before any helper exists. */
int kh_testlib_present;
