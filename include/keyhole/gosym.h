/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gosym: find a function in a Go executable, stripped or not, for a uprobe.
 *
 * Go keeps its own function table (.gopclntab: pcHeader, functab, _func, funcnametab) in every
 * binary because the runtime needs it for stack traces and the garbage collector; `-ldflags=-s
 * -w` strips the ELF symbol table and DWARF, never this. gosym reads it with libelf (mmap, no
 * copy) in the layouts of Go 1.2 (magic 0xfffffffb, only recognised), 1.16/1.17 (0xfffffffa),
 * 1.18/1.19 (0xfffffff0) and 1.20 onwards (0xfffffff1), and the Go version from .go.buildinfo.
 *
 * The result is the function's entry as a file offset (what a uprobe attaches to) and whether
 * the binary passes arguments in registers (Go 1.17+ on amd64, 1.18+ on arm64): the audit tap's
 * uprobe reads them there, so a binary with the older stack ABI is refused, as is one whose
 * function does not start with the stack check the BPF side replays (see audit_tap.bpf.c).
 */
#ifndef KEYHOLE_GOSYM_H
#define KEYHOLE_GOSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* the function the audit tap's uprobe path probes: every stdlib write(2) goes through it */
#define GOSYM_WRITE_FUNC "syscall.write"

enum gosym_arch { GOSYM_ARCH_OTHER = 0, GOSYM_ARCH_AMD64, GOSYM_ARCH_ARM64 };

struct gosym_func {
	uint64_t entry;	       /* virtual address of the function's first instruction */
	uint64_t file_offset;  /* the same in the file */
	uint64_t probe_offset; /* where the uprobe goes in the file: on amd64 the stack check's
				* conditional jump (entry + 4), which the kernel emulates instead of
				* single-stepping; on arm64 the entry */
	enum gosym_arch arch;
	int pcln_version;    /* 12, 116, 118 or 120: the pclntab layout */
	char go_version[32]; /* "go1.19.8" from .go.buildinfo, "" when unreadable */
	bool stripped;	     /* no .symtab: found through .gopclntab alone */
	bool register_abi;   /* arguments in registers: the uprobe can read them */
};

/*
 * Find @func (a full Go name, e.g. "syscall.write") in the executable at @path (a
 * /proc/PID/exe link works). Returns 0 and *out when found in a register-ABI binary whose
 * function starts with the expected stack check; otherwise a negative errno with a one-line
 * reason in @why: -ENOEXEC not an ELF or not a Go binary, -ENOENT no such function, -ENOTSUP
 * an architecture, Go version or prologue the uprobe cannot read, -EINVAL a malformed table.
 */
int gosym__resolve(const char *path, const char *func, struct gosym_func *out, char *why,
		   size_t why_len);

#endif /* KEYHOLE_GOSYM_H */
