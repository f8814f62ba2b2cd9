// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for src/capture/gosym.c: syscall.write found in the Go stand-in apiserver built with and
 * without symbols (the stripped one through .gopclntab alone), at the address the symbol table
 * (nm) gives; non-Go files refused with a reason; a damaged function table refused, never read
 * past (this test runs under ASan in the sanitizer build).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyhole/gosym.h"

#define GO_BIN KH_BUILD_DIR "/tests/go-apiserver"
#define GO_STRIPPED KH_BUILD_DIR "/tests/go-apiserver-stripped"

/* the address nm (the ELF symbol table) gives @sym in @path, 0 when absent */
static unsigned long long nm_address(const char *path, const char *sym)
{
	char cmd[512], line[512];
	unsigned long long a = 0, v;
	char t, name[256];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm '%s' 2>/dev/null", path);
	p = popen(cmd, "r");
	cr_assert(p);
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, "%llx %c %255s", &v, &t, name) == 3 && !strcmp(name, sym))
			a = v;
	pclose(p);
	return a;
}

Test(gosym, finds_write_with_symbols_at_the_symbol_table_address)
{
	struct gosym_func f;
	char why[256];
	unsigned long long want = nm_address(GO_BIN, "syscall.write");

	cr_assert_neq(want, 0, "nm finds no syscall.write in %s", GO_BIN);
	cr_assert_eq(gosym__resolve(GO_BIN, GOSYM_WRITE_FUNC, &f, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(f.entry, want, "entry %#llx, symbol table %#llx", (unsigned long long)f.entry,
		     want);
	cr_assert_not(f.stripped);
	cr_assert(f.register_abi);
	cr_assert_eq(f.arch, GOSYM_ARCH_AMD64);
	cr_assert(f.pcln_version >= 118, "pclntab %d", f.pcln_version);
	cr_assert_eq(strncmp(f.go_version, "go1.", 4), 0, "version '%s'", f.go_version);
	cr_assert_gt(f.file_offset, 0);
}

Test(gosym, stripped_binary_resolves_through_gopclntab_alone)
{
	struct gosym_func a, b;
	char why[256];

	cr_assert_eq(nm_address(GO_STRIPPED, "syscall.write"), 0, "not stripped");
	cr_assert_eq(gosym__resolve(GO_BIN, GOSYM_WRITE_FUNC, &a, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(gosym__resolve(GO_STRIPPED, GOSYM_WRITE_FUNC, &b, why, sizeof(why)), 0, "%s",
		     why);
	cr_assert(b.stripped);
	/* the same program linked the same way: -s -w drops tables, not code */
	cr_assert_eq(a.entry, b.entry);
	cr_assert_str_eq(a.go_version, b.go_version);
}

Test(gosym, other_functions_are_found_and_unknown_ones_are_not)
{
	struct gosym_func f;
	char why[256];

	/* found, but its large frame opens with another stack check: refused, not guessed at */
	cr_assert_eq(gosym__resolve(GO_STRIPPED, "main.main", &f, why, sizeof(why)), -ENOTSUP, "%s",
		     why);
	cr_assert(strstr(why, "stack check"), "%s", why);
	cr_assert_neq(f.entry, 0);
	cr_assert_eq(gosym__resolve(GO_STRIPPED, "os.(*File).Write", &f, why, sizeof(why)), 0, "%s",
		     why);
	cr_assert_eq(gosym__resolve(GO_STRIPPED, "syscall.writeNOPE", &f, why, sizeof(why)),
		     -ENOENT);
	cr_assert(strstr(why, "not in the binary's function table"), "%s", why);
	/* a prefix of a real name is not that name */
	cr_assert_eq(gosym__resolve(GO_STRIPPED, "syscall.writ", &f, why, sizeof(why)), -ENOENT);
}

Test(gosym, non_go_files_are_refused_with_a_reason)
{
	struct gosym_func f;
	char why[256];

	cr_assert_eq(gosym__resolve(KH_BUILD_DIR "/tests/kube-apiserver", GOSYM_WRITE_FUNC, &f, why,
				    sizeof(why)),
		     -ENOEXEC);
	cr_assert(strstr(why, ".gopclntab"), "%s", why);
	cr_assert_eq(gosym__resolve(KH_TEST_DATA_DIR "/attack.log", GOSYM_WRITE_FUNC, &f, why,
				    sizeof(why)),
		     -ENOEXEC);
	cr_assert_eq(gosym__resolve("/nonexistent/kube-apiserver", GOSYM_WRITE_FUNC, &f, why,
				    sizeof(why)),
		     -ENOENT);
}

/* where .gopclntab sits in the file at @path: *off and *len */
static void pclntab_span(const char *path, size_t *off, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	Elf_Scn *s = NULL;
	size_t shstrndx;
	Elf *e;

	cr_assert(fp);
	elf_version(EV_CURRENT);
	e = elf_begin(fileno(fp), ELF_C_READ, NULL);
	cr_assert(e);
	cr_assert_eq(elf_getshdrstrndx(e, &shstrndx), 0);
	*len = 0;
	while ((s = elf_nextscn(e, s))) {
		GElf_Shdr sh;

		gelf_getshdr(s, &sh);
		if (!strcmp(elf_strptr(e, shstrndx, sh.sh_name), ".gopclntab")) {
			*off = sh.sh_offset;
			*len = sh.sh_size;
		}
	}
	elf_end(e);
	fclose(fp);
	cr_assert_gt(*len, 64);
}

/* copy @src to a temp file with @n bytes at @at replaced by @bytes; returns its path */
static char *patched(const char *src, size_t at, const void *bytes, size_t n)
{
	static char path[] = "/tmp/kh-gosym-XXXXXX";
	char cmd[512];
	FILE *fp;

	strcpy(path, "/tmp/kh-gosym-XXXXXX");
	close(mkstemp(path));
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src, path);
	cr_assert_eq(system(cmd), 0);
	fp = fopen(path, "r+b");
	cr_assert(fp);
	fseek(fp, (long)at, SEEK_SET);
	fwrite(bytes, 1, n, fp);
	fclose(fp);
	return path;
}

Test(gosym, a_damaged_table_is_refused_not_read_past)
{
	struct gosym_func f;
	size_t off, len;
	char why[256], *p;
	const unsigned char bad_magic[4] = {0x12, 0x34, 0x56, 0x78};
	const unsigned char bad_pad[1] = {7};
	unsigned char huge[8];

	pclntab_span(GO_STRIPPED, &off, &len);
	p = patched(GO_STRIPPED, off, bad_magic, sizeof(bad_magic));
	cr_assert_eq(gosym__resolve(p, GOSYM_WRITE_FUNC, &f, why, sizeof(why)), -ENOTSUP);
	cr_assert(strstr(why, "magic"), "%s", why);
	unlink(p);
	p = patched(GO_STRIPPED, off + 4, bad_pad, sizeof(bad_pad));
	cr_assert_eq(gosym__resolve(p, GOSYM_WRITE_FUNC, &f, why, sizeof(why)), -EINVAL);
	unlink(p);
	/* funcnameOffset (1.18+ layout: the 4th word after the 8-byte head) far outside */
	memset(huge, 0x7f, sizeof(huge));
	p = patched(GO_STRIPPED, off + 8 + 3 * 8, huge, sizeof(huge));
	cr_assert_eq(gosym__resolve(p, GOSYM_WRITE_FUNC, &f, why, sizeof(why)), -EINVAL);
	unlink(p);
	/* nfunc far beyond the table: the walk stops at the table's end */
	p = patched(GO_STRIPPED, off + 8, huge, sizeof(huge));
	cr_assert_eq(gosym__resolve(p, "no.such.func", &f, why, sizeof(why)), -EINVAL);
	unlink(p);
}

/* random damage anywhere in the table: an answer, never a crash (ASan checks the reads) */
Test(gosym, random_damage_never_crashes)
{
	struct gosym_func f;
	size_t off, len;
	char why[256];

	pclntab_span(GO_STRIPPED, &off, &len);
	srand(18);
	for (int i = 0; i < 40; i++) {
		unsigned char junk[16];
		size_t at = off + (size_t)rand() % (i < 20 ? 128 : len - sizeof(junk));
		char *p;
		int r;

		for (size_t k = 0; k < sizeof(junk); k++)
			junk[k] = (unsigned char)rand();
		p = patched(GO_STRIPPED, at, junk, sizeof(junk));
		r = gosym__resolve(p, GOSYM_WRITE_FUNC, &f, why, sizeof(why));
		cr_assert(r == 0 || r == -EINVAL || r == -ENOTSUP || r == -ENOENT || r == -ENOEXEC,
			  "damage at +%zu: %d", at - off, r);
		cr_assert(r == 0 || why[0], "no reason given for %d", r);
		unlink(p);
	}
}
