// SPDX-License-Identifier: Apache-2.0
/*
 * gosym: Go's function table read from the executable (see gosym.h). The file is mapped by
 * libelf (ELF_C_READ_MMAP) and every table is read in place with bounds checks: a malformed or
 * hostile binary yields -EINVAL and a reason, never a read past the mapping.
 *
 * The layouts, from Go's runtime/symtab.go and debug/gosym (read for the facts):
 *   pcHeader: magic u32, two zero bytes, minLC u8 (1, 2 or 4), ptrSize u8 (4 or 8), then
 *     ptrSize-wide words: nfunc, nfiles, [textStart: 1.18+], funcnameOffset, cuOffset,
 *     filetabOffset, pctabOffset, pclnOffset (offsets from the header).
 *   functab at pclnOffset, nfunc entries: 1.18+ (entryoff u32 from textStart, funcoff u32);
 *     1.16 (entry word, funcoff word); the _func at pclnOffset + funcoff starts with its entry
 *     (u32 offset, or a word) followed by nameoff i32 into funcnametab, NUL-terminated names.
 *   Go 1.2-1.15: nfunc at 8, functab at 8 + ptrSize, offsets from the table's start.
 * .go.buildinfo: "\xff Go buildinf:", ptrSize u8, flags u8; flags & 2 (1.18+): the version
 *   string inline at 32 (uvarint length, bytes); before: a pointer at 16 to a string header.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyhole/gosym.h"

#define GO_MAGIC_12 0xfffffffbu
#define GO_MAGIC_116 0xfffffffau
#define GO_MAGIC_118 0xfffffff0u
#define GO_MAGIC_120 0xfffffff1u
#define BUILDINFO_MAGIC "\xff Go buildinf:"
#define BUILDINFO_HDR 32

/* the mapped file and the parts of it gosym reads */
struct img {
	Elf *e;
	const uint8_t *raw; /* the whole file */
	size_t size;
	enum gosym_arch arch;
};

/* a pclntab being read: header fields, as offsets within d[0, n) */
struct pcln {
	const uint8_t *d;
	uint64_t n;
	int ver;
	unsigned ps;
	uint64_t nfunc, text, fname, ftab;
};

static uint64_t rd(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++) /* little endian: amd64 and arm64 */
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* true when [off, off + len) lies inside [0, n) */
static bool in(uint64_t off, uint64_t len, uint64_t n)
{
	return off <= n && len <= n - off;
}

/* the file bytes of section @name: *data and *len, and its address; false when absent */
static bool img_section(const struct img *m, const char *name, const uint8_t **data, uint64_t *len,
			uint64_t *addr)
{
	size_t shstrndx;
	Elf_Scn *s = NULL;

	if (elf_getshdrstrndx(m->e, &shstrndx))
		return false;
	while ((s = elf_nextscn(m->e, s))) {
		GElf_Shdr sh;
		const char *n;

		if (!gelf_getshdr(s, &sh) || !(n = elf_strptr(m->e, shstrndx, sh.sh_name)))
			continue;
		if (strcmp(n, name) || sh.sh_type == SHT_NOBITS ||
		    !in(sh.sh_offset, sh.sh_size, m->size))
			continue;
		*data = m->raw + sh.sh_offset;
		*len = sh.sh_size;
		if (addr)
			*addr = sh.sh_addr;
		return true;
	}
	return false;
}

/* file offset of virtual address @va through the PT_LOAD segments; false when unmapped */
static bool img_va_off(const struct img *m, uint64_t va, uint64_t *off)
{
	size_t n;

	if (elf_getphdrnum(m->e, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(m->e, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (va >= ph.p_vaddr && va - ph.p_vaddr < ph.p_filesz) {
			*off = va - ph.p_vaddr + ph.p_offset;
			return *off < m->size;
		}
	}
	return false;
}

static int pcln_open(struct pcln *p, const uint8_t *d, uint64_t n, uint64_t text_addr, char *why,
		     size_t wn)
{
	uint32_t magic;
	unsigned w;

	memset(p, 0, sizeof(*p));
	if (n < 16) {
		snprintf(why, wn, ".gopclntab is too short");
		return -EINVAL;
	}
	magic = (uint32_t)rd(d, 4);
	p->d = d;
	p->n = n;
	p->ps = d[7];
	if (d[4] || d[5] || (d[6] != 1 && d[6] != 2 && d[6] != 4) || (p->ps != 4 && p->ps != 8)) {
		snprintf(why, wn, ".gopclntab header is malformed");
		return -EINVAL;
	}
	switch (magic) {
	case GO_MAGIC_12:
		p->ver = 12;
		break;
	case GO_MAGIC_116:
		p->ver = 116;
		break;
	case GO_MAGIC_118:
		p->ver = 118;
		break;
	case GO_MAGIC_120:
		p->ver = 120;
		break;
	default:
		snprintf(why, wn, ".gopclntab magic %#x is not a Go layout this agent knows",
			 magic);
		return -ENOTSUP;
	}
	w = p->ps;
	if (!in(8, 8 * (uint64_t)w, n))
		return snprintf(why, wn, ".gopclntab header is truncated"), -EINVAL;
	p->nfunc = rd(d + 8, w);
	if (p->ver == 12) {
		p->ftab = 8 + w;
	} else if (p->ver == 116) {
		p->fname = rd(d + 8 + 2 * w, w);
		p->ftab = rd(d + 8 + 6 * w, w);
	} else {
		p->text = rd(d + 8 + 2 * w, w);
		p->fname = rd(d + 8 + 3 * w, w);
		p->ftab = rd(d + 8 + 7 * w, w);
		/* a PIE binary leaves textStart to a relocation: .text is where it points */
		if (!p->text)
			p->text = text_addr;
	}
	if (p->fname >= n || p->ftab >= n) {
		snprintf(why, wn, ".gopclntab offsets point outside it");
		return -EINVAL;
	}
	return 0;
}

/* function @i's entry address and name; false when its entries point outside the table */
static bool pcln_func(const struct pcln *p, uint64_t i, uint64_t *entry, const char **name,
		      uint64_t *name_max)
{
	uint64_t fo, noff, base = p->ver == 12 ? 0 : p->ftab;
	unsigned w = p->ps;

	if (p->ver >= 118) {
		if (!in(p->ftab + 8 * i, 8, p->n))
			return false;
		*entry = p->text + rd(p->d + p->ftab + 8 * i, 4);
		fo = rd(p->d + p->ftab + 8 * i + 4, 4);
		if (!in(base + fo, 8, p->n))
			return false;
		noff = (uint64_t)(int64_t)(int32_t)rd(p->d + base + fo + 4, 4);
	} else {
		if (!in(p->ftab + 2 * w * i, 2 * w, p->n))
			return false;
		*entry = rd(p->d + p->ftab + 2 * w * i, w);
		fo = rd(p->d + p->ftab + 2 * w * i + w, w);
		if (!in(base + fo, w + 4, p->n))
			return false;
		noff = (uint64_t)(int64_t)(int32_t)rd(p->d + base + fo + w, 4);
	}
	noff += p->fname;
	if (noff >= p->n)
		return false;
	*name = (const char *)p->d + noff;
	*name_max = p->n - noff;
	return true;
}

static int pcln_find(const struct pcln *p, const char *func, uint64_t *entry)
{
	size_t flen = strlen(func);

	for (uint64_t i = 0; i < p->nfunc; i++) {
		const char *name;
		uint64_t max;

		if (!pcln_func(p, i, entry, &name, &max))
			return -EINVAL;
		if (max > flen && !memcmp(name, func, flen) && name[flen] == 0)
			return 0;
	}
	return -ENOENT;
}

/* "go1.21.5" (or "devel go1.22-abc") -> 21; 0 when not a go1.N version */
static int go_minor(const char *v)
{
	const char *p = strstr(v, "go1.");

	return p ? atoi(p + 4) : 0;
}

/* the Go version string from .go.buildinfo into @out ("" when absent or unreadable) */
static void buildinfo_version(const struct img *m, char *out, size_t n)
{
	const uint8_t *d, *s;
	uint64_t len, va, off, slen = 0;
	unsigned w, shift = 0;

	out[0] = 0;
	if (!img_section(m, ".go.buildinfo", &d, &len, NULL) || len < BUILDINFO_HDR ||
	    memcmp(d, BUILDINFO_MAGIC, 14) || (d[14] != 4 && d[14] != 8))
		return;
	w = d[14];
	if (d[15] & 2) { /* inline strings: uvarint length, then the bytes */
		uint64_t i = BUILDINFO_HDR;

		for (; i < len && i < BUILDINFO_HDR + 10; i++, shift += 7) {
			slen |= (uint64_t)(d[i] & 0x7f) << shift;
			if (!(d[i] & 0x80))
				break;
		}
		if (i >= len || !in(i + 1, slen, len))
			return;
		s = d + i + 1;
	} else { /* a pointer to runtime.buildVersion's string header */
		va = rd(d + 16, w);
		if (!img_va_off(m, va, &off) || !in(off, 2 * w, m->size))
			return;
		slen = rd(m->raw + off + w, w);
		if (!img_va_off(m, rd(m->raw + off, w), &off) || !in(off, slen, m->size))
			return;
		s = m->raw + off;
	}
	snprintf(out, n, "%.*s", (int)(slen < n ? slen : n - 1), (const char *)s);
}

/*
 * The function must open with the stack check the BPF side replays: amd64 CMPQ SP, 16(R14)
 * (49 3b 66 10) then JBE; arm64 MOVD 16(g), R16 (ldr x16, [x28, #16]: f9400b90). Anything else
 * (a large frame's check, a different compiler) is refused rather than guessed at.
 */
static bool prologue_ok(const struct img *m, uint64_t off, enum gosym_arch arch)
{
	static const uint8_t amd64[] = {0x49, 0x3b, 0x66, 0x10};

	if (!in(off, 8, m->size))
		return false;
	/*
	 * 0xcc at the JBE is the uprobe already there (ours, on this binary for an earlier
	 * process): the kernel shows it in every executable mapping of the file, libelf's too
	 */
	if (arch == GOSYM_ARCH_AMD64)
		return !memcmp(m->raw + off, amd64, sizeof(amd64)) &&
		       (m->raw[off + 4] == 0x76 || m->raw[off + 4] == 0xcc ||
			(m->raw[off + 4] == 0x0f && m->raw[off + 5] == 0x86));
	return arch == GOSYM_ARCH_ARM64 && rd(m->raw + off, 4) == 0xf9400b90u;
}

static bool abi_registers(const struct gosym_func *f)
{
	int minor = go_minor(f->go_version);

	if (f->pcln_version >= 118)
		return true;
	/* 1.16 layout: Go 1.17 brought registers to amd64 only */
	return f->pcln_version == 116 && f->arch == GOSYM_ARCH_AMD64 && minor >= 17;
}

static int resolve(struct img *m, const char *func, struct gosym_func *out, char *why, size_t wn)
{
	const uint8_t *d, *sym;
	uint64_t n, text_addr = 0, symlen;
	struct pcln p;
	GElf_Ehdr eh;
	int err;

	if (!gelf_getehdr(m->e, &eh) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return snprintf(why, wn, "not a 64-bit little-endian ELF executable"), -ENOEXEC;
	m->arch = eh.e_machine == EM_X86_64    ? GOSYM_ARCH_AMD64
		  : eh.e_machine == EM_AARCH64 ? GOSYM_ARCH_ARM64
					       : GOSYM_ARCH_OTHER;
	out->arch = m->arch;
	out->stripped = !img_section(m, ".symtab", &sym, &symlen, NULL);
	buildinfo_version(m, out->go_version, sizeof(out->go_version));
	img_section(m, ".text", &d, &n, &text_addr);
	if (!img_section(m, ".gopclntab", &d, &n, NULL))
		return snprintf(why, wn,
				"no .gopclntab section: not a Go binary (or a PIE build "
				"that hides it)"),
		       -ENOEXEC;
	err = pcln_open(&p, d, n, text_addr, why, wn);
	if (err)
		return err;
	out->pcln_version = p.ver;
	err = pcln_find(&p, func, &out->entry);
	if (err == -EINVAL)
		return snprintf(why, wn, ".gopclntab function table points outside it"), err;
	if (err)
		return snprintf(why, wn,
				"%s is not in the binary's function table (%llu "
				"functions)",
				func, (unsigned long long)p.nfunc),
		       err;
	if (!img_va_off(m, out->entry, &out->file_offset))
		return snprintf(why, wn, "%s at %#llx is in no loaded segment", func,
				(unsigned long long)out->entry),
		       -EINVAL;
	out->register_abi = abi_registers(out);
	if (m->arch == GOSYM_ARCH_OTHER)
		return snprintf(why, wn,
				"ELF machine %u: the uprobe reads amd64 and arm64 "
				"registers only",
				eh.e_machine),
		       -ENOTSUP;
	if (!out->register_abi)
		return snprintf(why, wn,
				"%s (pclntab %d) passes arguments on the stack; the "
				"uprobe needs the register ABI (Go 1.17+ amd64, 1.18+ arm64)",
				out->go_version[0] ? out->go_version : "this Go", p.ver),
		       -ENOTSUP;
	if (!prologue_ok(m, out->file_offset, m->arch))
		return snprintf(why, wn,
				"%s does not start with the stack check the uprobe "
				"expects",
				func),
		       -ENOTSUP;
	/*
	 * amd64: on the JBE after CMPQ SP, 16(R14). A uprobe on a branch is emulated (no
	 * single-step trap, which costs tens of microseconds in a VM), and the CMP's flags there
	 * say whether the function will call morestack and restart.
	 */
	out->probe_offset = out->file_offset + (m->arch == GOSYM_ARCH_AMD64 ? 4 : 0);
	return 0;
}

int gosym__resolve(const char *path, const char *func, struct gosym_func *out, char *why,
		   size_t why_len)
{
	struct img m = {0};
	int fd, err;

	memset(out, 0, sizeof(*out));
	why[0] = 0;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return snprintf(why, why_len, "libelf: %s", elf_errmsg(-1)), -ENOTSUP;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_len, "cannot open %s: %s", path, strerror(errno));
		return err;
	}
	m.e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!m.e || elf_kind(m.e) != ELF_K_ELF ||
	    !(m.raw = (const uint8_t *)elf_rawfile(m.e, &m.size))) {
		snprintf(why, why_len, "%s is not an ELF file", path);
		err = -ENOEXEC;
	} else {
		err = resolve(&m, func, out, why, why_len);
	}
	elf_end(m.e);
	close(fd);
	return err;
}
