// SPDX-License-Identifier: GPL-2.0
/*
 * selftest_bpf: two tiny BPF programs for the harness self-test, built twice by selftest/run:
 * without BAD, a program every kernel's verifier accepts; with BAD, one that reads far past
 * its context, which every verifier rejects, so the matrix must name it in the verifier column.
 * No headers: it must build with clang alone.
 */
#define SEC(name) __attribute__((section(name), used))

#ifdef BAD
SEC("tracepoint/syscalls/sys_enter_write")
int selftest_bad_read(void *ctx)
{
	return *(volatile int *)((char *)ctx + 100000);
}
#else
SEC("tracepoint/syscalls/sys_enter_write")
int selftest_good(void *ctx)
{
	return 0;
}
#endif

char LICENSE[] SEC("license") = "GPL";
