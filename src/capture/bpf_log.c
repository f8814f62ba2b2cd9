// SPDX-License-Identifier: Apache-2.0
/*
 * bpf_log: a ring of libbpf's recent messages (see bpf_log.h). One process-wide log, as libbpf's
 * print callback is process-wide.
 */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "capture/bpf_log.h"
#include "keyhole/log.h"

static char kept[BPF_LOG_KEEP];
static size_t kept_len;
static int log_verbose;

static int keep_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];
	int n;
	va_list copy;

	va_copy(copy, ap);
	n = vsnprintf(line, sizeof(line), fmt, copy);
	va_end(copy);
	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (level == LIBBPF_DEBUG && !log_verbose)
		return 0;
	if (log_verbose)
		fputs(line, stderr);
	if (kept_len + n > sizeof(kept)) {
		/* keep the newer half */
		size_t drop = kept_len - sizeof(kept) / 2;

		memmove(kept, kept + drop, kept_len - drop);
		kept_len -= drop;
	}
	memcpy(kept + kept_len, line, n);
	kept_len += n;
	return 0;
}

void bpf_log__install(int verbose)
{
	log_verbose = verbose;
	libbpf_set_print(keep_print);
}

void bpf_log__reset(void)
{
	kept_len = 0;
}

void bpf_log__print_tail(FILE *f, const char *indent, int max_lines)
{
	size_t start = kept_len;
	int lines = 0;

	while (start > 0 && lines <= max_lines) {
		start--;
		if (kept[start] == '\n' && start + 1 < kept_len)
			lines++;
	}
	if (lines > max_lines)
		start++;
	while (start < kept_len) {
		const char *nl = memchr(kept + start, '\n', kept_len - start);
		size_t end = nl ? (size_t)(nl - kept) : kept_len;

		if (end > start)
			fprintf(f, "%s%.*s\n", indent, (int)(end - start), kept + start);
		start = end + 1;
	}
}

int bpf_log__contains(const char *needle)
{
	return memmem(kept, kept_len, needle, strlen(needle)) != NULL;
}

void bpf_log__load_failed(const char *what, int err)
{
	kh_log(KH_LOG_ERROR,
	       "the kernel refused %s's BPF programs (%s); libbpf and the verifier said:", what,
	       strerror(-err));
	bpf_log__print_tail(stderr, "    ", 20);
	if (bpf_log__contains("failed to find BTF") || bpf_log__contains("vmlinux BTF"))
		kh_log(KH_LOG_ERROR, "the kernel's BTF is missing or unreadable: CO-RE needs "
				     "/sys/kernel/btf/vmlinux (see `keyhole probe`)");
}
