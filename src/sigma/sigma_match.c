// SPDX-License-Identifier: Apache-2.0
/*
 * sigma_match: value modifiers compiled into matchers, and the matching itself.
 *
 * Sigma's rules (Sigma_specification.md, "Value modifiers"): a plain string value matches the
 * whole field value, case-insensitively; `*` and `?` are wildcards, `\*`, `\?` and `\\` stand for
 * the characters themselves and any other backslash is literal. contains / startswith / endswith
 * add the wildcards; `cased` makes the comparison exact; `re` is a PCRE regular expression,
 * case-sensitive, searched anywhere in the value (re|i, re|m, re|s set its flags); `cidr` takes
 * IPv4 and IPv6 prefixes; base64 and base64offset encode the value first (with contains, the
 * usual pairing); gt/gte/lt/lte compare numbers; exists tests presence; fieldref compares with
 * another field of the same event; `all` makes a list of values AND instead of OR.
 *
 * Each matcher is reduced at load to the cheapest test that keeps these semantics: equality,
 * prefix, suffix or substring when the wildcards sit only at the ends, a general glob otherwise.
 * Case folding is ASCII: Kubernetes names, verbs and resources are ASCII.
 */
#define _GNU_SOURCE
#define PCRE2_CODE_UNIT_WIDTH 8
#include <arpa/inet.h>
#include <errno.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "sigma/sigma_impl.h"

int sg_mods_parse(const char *spec, struct sg_mods *m, struct sg_err *e, unsigned line,
		  unsigned col)
{
	static const struct {
		const char *name;
		size_t off;
	} names[] = {
#define M(n, f) {n, offsetof(struct sg_mods, f)}
	    M("contains", contains),
	    M("startswith", startswith),
	    M("endswith", endswith),
	    M("all", all),
	    M("re", re),
	    M("i", re_i),
	    M("m", re_m),
	    M("s", re_s),
	    M("cidr", cidr),
	    M("exists", exists),
	    M("base64", base64),
	    M("base64offset", base64offset),
	    M("cased", cased),
	    M("gt", gt),
	    M("gte", gte),
	    M("lt", lt),
	    M("lte", lte),
	    M("fieldref", fieldref),
#undef M
	};
	const char *p = spec;

	*m = (struct sg_mods){0};
	while (*p) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		size_t k;

		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strlen(names[k].name) == n && !strncmp(names[k].name, p, n))
				break;
		if (k == sizeof(names) / sizeof(names[0]))
			return sg_fail(e, line, col, "unknown or unsupported value modifier '%.*s'",
				       (int)n, p);
		*(bool *)((char *)m + names[k].off) = true;
		p += n + (bar != NULL);
	}
	if ((m->re_i || m->re_m || m->re_s) && !m->re)
		return sg_fail(e, line, col, "modifiers i, m and s only go with re");
	if (m->contains + m->startswith + m->endswith + m->re + m->cidr + m->exists + m->gt +
		m->gte + m->lt + m->lte >
	    1)
		return sg_fail(e, line, col, "conflicting value modifiers in '%s'", spec);
	if ((m->base64 || m->base64offset) && (m->re || m->cidr || m->exists || m->fieldref))
		return sg_fail(e, line, col,
			       "base64 does not combine with re, cidr, exists, fieldref");
	if (m->fieldref && (m->re || m->cidr || m->exists || m->gt || m->gte || m->lt || m->lte))
		return sg_fail(e, line, col, "fieldref combines only with cased");
	return 0;
}

/* ---- wildcard strings -------------------------------------------------------------------------
 */

/* Sigma's escaping into glob units; returns the count, *@wild says whether a wildcard is in it */
static size_t parse_wild(const char *v, size_t n, uint16_t *out, bool *wild)
{
	size_t k = 0;

	*wild = false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '\\' && i + 1 < n &&
		    (v[i + 1] == '*' || v[i + 1] == '?' || v[i + 1] == '\\')) {
			out[k++] = (unsigned char)v[++i];
		} else if (c == '*') {
			if (!k || out[k - 1] != SG_GLOB_STAR) /* runs of '*' are one */
				out[k++] = SG_GLOB_STAR;
			*wild = true;
		} else if (c == '?') {
			out[k++] = SG_GLOB_ONE;
			*wild = true;
		} else {
			out[k++] = c;
		}
	}
	return k;
}

bool sg_glob_match(const uint16_t *pat, size_t plen, const char *s, size_t slen, bool cased)
{
	size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;

	while (si < slen) {
		unsigned char c = cased ? (unsigned char)s[si] : sg_lower((unsigned char)s[si]);

		if (pi < plen && (pat[pi] == SG_GLOB_ONE || pat[pi] == c)) {
			pi++;
			si++;
		} else if (pi < plen && pat[pi] == SG_GLOB_STAR) {
			star_p = pi++;
			star_s = si;
		} else if (star_p != (size_t)-1) {
			pi = star_p + 1;
			si = ++star_s;
		} else {
			return false;
		}
	}
	while (pi < plen && pat[pi] == SG_GLOB_STAR)
		pi++;
	return pi == plen;
}

/* ---- base64 ---------------------------------------------------------------------------------- */

static char *b64(const unsigned char *in, size_t n, size_t *out_len)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(4 * ((n + 2) / 3) + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		*o++ = tab[(v >> 18) & 63];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? tab[v & 63] : '=';
	}
	*o = 0;
	*out_len = (size_t)(o - out);
	return out;
}

/*
 * base64offset: the three encodings of the value at byte offsets 0, 1 and 2 of a longer
 * string, each cut to the characters that do not depend on the neighbouring bytes.
 */
static char *b64_offset(const char *v, size_t n, int i, size_t *out_len)
{
	static const int start[] = {0, 2, 3}, end_cut[] = {0, 3, 2};
	unsigned char *buf = malloc(n + 2);
	char *enc, *cut;
	size_t len, s, e;

	if (!buf)
		return NULL;
	memset(buf, ' ', (size_t)i);
	memcpy(buf + i, v, n);
	enc = b64(buf, n + (size_t)i, &len);
	free(buf);
	if (!enc)
		return NULL;
	s = (size_t)start[i];
	e = (size_t)end_cut[(n + (size_t)i) % 3];
	if (s + e > len) {
		s = len;
		e = 0;
	}
	cut = strndup(enc + s, len - s - e);
	free(enc);
	*out_len = cut ? strlen(cut) : 0;
	return cut;
}

/* ---- compile ----------------------------------------------------------------------------------
 */

static int compile_re(struct sg_match *m, const char *v, const struct sg_mods *mods,
		      struct sg_err *e, unsigned line, unsigned col)
{
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off;
	int code;

	if (mods->re_i)
		opts |= PCRE2_CASELESS;
	if (mods->re_m)
		opts |= PCRE2_MULTILINE;
	if (mods->re_s)
		opts |= PCRE2_DOTALL;
	m->op = SG_RE;
	m->re = pcre2_compile((PCRE2_SPTR)v, PCRE2_ZERO_TERMINATED, opts, &code, &off, NULL);
	if (!m->re) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		return sg_fail(e, line, col, "regular expression: %s at offset %zu", (char *)msg,
			       (size_t)off);
	}
	/* JIT where the platform has it; the interpreter otherwise */
	pcre2_jit_compile(m->re, PCRE2_JIT_COMPLETE);
	m->re_md = pcre2_match_data_create_from_pattern(m->re, NULL);
	if (!m->re_md)
		return sg_fail(e, line, col, "out of memory");
	return 0;
}

static int compile_cidr(struct sg_match *m, const char *v, struct sg_err *e, unsigned line,
			unsigned col)
{
	char addr[64];
	const char *slash = strchr(v, '/');
	size_t n = slash ? (size_t)(slash - v) : strlen(v);
	long bits;
	char *endp;

	if (n >= sizeof(addr))
		return sg_fail(e, line, col, "cidr: '%s' is not an address/prefix", v);
	memcpy(addr, v, n);
	addr[n] = 0;
	m->op = SG_CIDR;
	if (inet_pton(AF_INET, addr, m->cidr) == 1)
		m->cidr_family = 4;
	else if (inet_pton(AF_INET6, addr, m->cidr) == 1)
		m->cidr_family = 6;
	else
		return sg_fail(e, line, col, "cidr: '%s' is not an IPv4 or IPv6 prefix", v);
	bits = m->cidr_family == 4 ? 32 : 128;
	if (slash) {
		errno = 0;
		bits = strtol(slash + 1, &endp, 10);
		if (errno || *endp || endp == slash + 1 || bits < 0 ||
		    bits > (m->cidr_family == 4 ? 32 : 128))
			return sg_fail(e, line, col, "cidr: bad prefix length in '%s'", v);
	}
	m->cidr_bits = (uint8_t)bits;
	return 0;
}

/* a plain or wildcard value, with contains/startswith/endswith already added as wildcards */
static int compile_str(struct sg_match *m, const char *v, size_t n, const struct sg_mods *mods)
{
	uint16_t *g = malloc((n + 2) * sizeof(*g));
	size_t k = 0, body, lo, hi;
	bool wild, inner = false;

	if (!g)
		return -1;
	if (mods->contains || mods->endswith)
		g[k++] = SG_GLOB_STAR;
	k += parse_wild(v, n, g + k, &wild);
	if ((mods->contains || mods->startswith) && (!k || g[k - 1] != SG_GLOB_STAR))
		g[k++] = SG_GLOB_STAR;
	if (k >= 2 && g[0] == SG_GLOB_STAR && g[1] == SG_GLOB_STAR) /* "contains: *x" */
		memmove(g, g + 1, --k * sizeof(*g));
	m->cased = mods->cased;
	if (!m->cased)
		for (size_t i = 0; i < k; i++)
			if (g[i] < 0x100)
				g[i] = sg_lower((unsigned char)g[i]);
	/* the literal body between leading and trailing stars, if no wildcard is inside it */
	lo = k && g[0] == SG_GLOB_STAR;
	hi = k - (k > lo && g[k - 1] == SG_GLOB_STAR);
	for (size_t i = lo; i < hi; i++)
		if (g[i] >= 0x100)
			inner = true;
	body = hi - lo;
	if (k == 1 && g[0] == SG_GLOB_STAR) {
		m->op = SG_ANY;
		free(g);
		return 0;
	}
	if (inner) {
		m->op = SG_GLOB;
		m->glob = g;
		m->glob_len = (uint32_t)k;
		return 0;
	}
	m->lit = malloc(body + 1);
	if (!m->lit) {
		free(g);
		return -1;
	}
	for (size_t i = 0; i < body; i++)
		m->lit[i] = (char)g[lo + i];
	m->lit[body] = 0;
	m->len = (uint32_t)body;
	m->op = lo && hi < k ? SG_CONTAINS : lo ? SG_SUFFIX : hi < k ? SG_PREFIX : SG_EQ;
	free(g);
	return 0;
}

int sg_match_compile(struct kh_sigma *s, const char *value, size_t len, bool is_null,
		     const struct sg_mods *mods, struct sg_match *out, struct sg_err *e,
		     unsigned line, unsigned col)
{
	struct sg_match *m = out;
	char *endp;

	*m = (struct sg_match){0};
	if (is_null) {
		if (mods->contains || mods->startswith || mods->endswith || mods->re ||
		    mods->cidr || mods->base64 || mods->base64offset || mods->gt || mods->gte ||
		    mods->lt || mods->lte || mods->fieldref || mods->exists)
			return sg_fail(e, line, col, "null takes no value modifier");
		m->op = SG_NULL;
		return 1;
	}
	if (mods->exists) {
		if (!strcmp(value, "true") || !strcmp(value, "yes"))
			m->negate = false;
		else if (!strcmp(value, "false") || !strcmp(value, "no"))
			m->negate = true;
		else
			return sg_fail(e, line, col, "exists takes true or false, not '%s'", value);
		m->op = SG_EXISTS;
		return 1;
	}
	if (mods->re)
		return compile_re(m, value, mods, e, line, col) ? -1 : 1;
	if (mods->cidr)
		return compile_cidr(m, value, e, line, col) ? -1 : 1;
	if (mods->gt || mods->gte || mods->lt || mods->lte) {
		errno = 0;
		m->num = strtod(value, &endp);
		if (errno || endp == value || *endp)
			return sg_fail(e, line, col, "'%s' is not a number", value);
		m->op = mods->gt ? SG_GT : mods->gte ? SG_GTE : mods->lt ? SG_LT : SG_LTE;
		return 1;
	}
	if (mods->fieldref) {
		m->op = SG_FIELDREF;
		m->cased = mods->cased;
		m->ref_field = sg_field_intern(s, value, e, line, col);
		return m->ref_field < 0 ? -1 : 1;
	}
	if (mods->base64 || mods->base64offset) {
		/* the encoded text is matched literally: wildcards in it are escaped */
		struct sg_mods plain = *mods;
		int n = mods->base64offset ? 3 : 1;

		plain.cased = true; /* base64 is case-sensitive by nature */
		for (int i = 0; i < n; i++)
			out[i] = (struct sg_match){0};
		for (int i = 0; i < n; i++) {
			size_t el;
			char *enc = mods->base64offset
					? b64_offset(value, len, i, &el)
					: b64((const unsigned char *)value, len, &el);
			char *esc;
			size_t k = 0;

			if (!enc)
				return sg_fail(e, line, col, "out of memory");
			esc = malloc(2 * el + 1);
			if (!esc) {
				free(enc);
				return sg_fail(e, line, col, "out of memory");
			}
			for (size_t j = 0; j < el; j++) /* base64 has no '*', '?' or '\' */
				esc[k++] = enc[j];
			free(enc);
			if (compile_str(&out[i], esc, k, &plain)) {
				free(esc);
				return sg_fail(e, line, col, "out of memory");
			}
			free(esc);
		}
		return n;
	}
	if (compile_str(m, value, len, mods))
		return sg_fail(e, line, col, "out of memory");
	return 1;
}

void sg_match_free(struct sg_match *m)
{
	free(m->lit);
	free(m->glob);
	if (m->re_md)
		pcre2_match_data_free(m->re_md);
	if (m->re)
		pcre2_code_free(m->re);
}

/* ---- match ------------------------------------------------------------------------------------
 */

static bool eq_fold(const char *a, const char *lit, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sg_lower((unsigned char)a[i]) != (unsigned char)lit[i])
			return false;
	return true;
}

static bool has_at(const char *v, const char *lit, size_t n, bool cased)
{
	return cased ? !memcmp(v, lit, n) : eq_fold(v, lit, n);
}

static bool contains(const char *v, size_t vn, const char *lit, size_t n, bool cased)
{
	if (n > vn)
		return false;
	if (!n)
		return true;
	if (cased)
		return memmem(v, vn, lit, n) != NULL;
	for (size_t i = 0; i + n <= vn; i++) {
		/* find the first byte either way round, then compare the rest */
		const char *a = memchr(v + i, lit[0], vn - n + 1 - i);
		const char *b = lit[0] >= 'a' && lit[0] <= 'z'
				    ? memchr(v + i, lit[0] - 32, vn - n + 1 - i)
				    : NULL;
		const char *p = a && b ? (a < b ? a : b) : a ? a : b;

		if (!p)
			return false;
		if (eq_fold(p + 1, lit + 1, n - 1))
			return true;
		i = (size_t)(p - v);
	}
	return false;
}

static bool in_cidr(const struct sg_match *m, const struct sg_val *v)
{
	uint8_t a[16];
	char buf[64];
	int fam = m->cidr_family == 4 ? AF_INET : AF_INET6;

	if (v->len >= sizeof(buf))
		return false;
	memcpy(buf, v->p, v->len);
	buf[v->len] = 0;
	if (inet_pton(fam, buf, a) != 1)
		return false;
	for (unsigned b = 0; b < m->cidr_bits; b += 8) {
		unsigned take = m->cidr_bits - b >= 8 ? 8 : m->cidr_bits - b;
		uint8_t mask = (uint8_t)(0xff << (8 - take));

		if ((a[b / 8] & mask) != (m->cidr[b / 8] & mask))
			return false;
	}
	return true;
}

static bool num_of(const struct sg_val *v, double *out)
{
	char buf[64], *endp;

	if ((v->type != SG_V_NUM && v->type != SG_V_STR) || !v->len || v->len >= sizeof(buf))
		return false;
	memcpy(buf, v->p, v->len);
	buf[v->len] = 0;
	*out = strtod(buf, &endp);
	return endp != buf && !*endp;
}

bool sg_match_value(struct kh_sigma *s, const struct sg_match *m, const struct sg_val *v)
{
	double d;

	(void)s;
	if (v->type == SG_V_NULL)
		return m->op == SG_NULL;
	if (v->type == SG_V_OBJ)
		return m->op == SG_ANY;
	switch (m->op) {
	case SG_EQ:
		return v->len == m->len && has_at(v->p, m->lit, m->len, m->cased);
	case SG_PREFIX:
		return v->len >= m->len && has_at(v->p, m->lit, m->len, m->cased);
	case SG_SUFFIX:
		return v->len >= m->len && has_at(v->p + v->len - m->len, m->lit, m->len, m->cased);
	case SG_CONTAINS:
		return contains(v->p, v->len, m->lit, m->len, m->cased);
	case SG_GLOB:
		return sg_glob_match(m->glob, m->glob_len, v->p, v->len, m->cased);
	case SG_ANY:
		return true;
	case SG_RE:
		return pcre2_match(m->re, (PCRE2_SPTR)v->p, v->len, 0, 0, m->re_md, NULL) >= 0;
	case SG_CIDR:
		return in_cidr(m, v);
	case SG_GT:
		return num_of(v, &d) && d > m->num;
	case SG_GTE:
		return num_of(v, &d) && d >= m->num;
	case SG_LT:
		return num_of(v, &d) && d < m->num;
	case SG_LTE:
		return num_of(v, &d) && d <= m->num;
	default:
		return false;
	}
}

static bool fieldref(struct kh_sigma *s, const struct sg_match *m, const struct sg_fieldvals *fv)
{
	const struct sg_fieldvals *ref = sg_field_get(s, m->ref_field);

	for (uint32_t i = 0; i < fv->n; i++)
		for (uint32_t j = 0; j < ref->n; j++) {
			const struct sg_val *a = &fv->v[i], *b = &ref->v[j];

			if (a->type == SG_V_OBJ || b->type == SG_V_OBJ || a->len != b->len)
				continue;
			if (m->cased ? !memcmp(a->p, b->p, a->len)
				     : strncasecmp(a->p, b->p, a->len) == 0)
				return true;
		}
	return false;
}

/* one matcher against every value of the field: any value will do */
static bool match_field(struct kh_sigma *s, const struct sg_match *m, const struct sg_fieldvals *fv)
{
	switch (m->op) {
	case SG_EXISTS:
		return fv->present != m->negate;
	case SG_NULL:
		if (!fv->present)
			return true;
		break;
	case SG_FIELDREF:
		return fieldref(s, m, fv);
	default:
		break;
	}
	for (uint32_t i = 0; i < fv->n; i++)
		if (sg_match_value(s, m, &fv->v[i]))
			return true;
	return false;
}

/* keywords: the value anywhere in the line (JSON text), case-insensitively unless cased */
static bool match_line(struct kh_sigma *s, const struct sg_match *m)
{
	struct sg_val v = {s->ev->line, (uint32_t)s->ev->len, SG_V_STR};

	return m->op == SG_EQ ? contains(v.p, v.len, m->lit, m->len, m->cased)
			      : sg_match_value(s, m, &v);
}

bool sg_item_eval(struct kh_sigma *s, const struct sg_item *it)
{
	const struct sg_fieldvals *fv = it->field >= 0 ? sg_field_get(s, it->field) : NULL;

	for (uint32_t i = 0; i < it->n; i++) {
		bool ok = fv ? match_field(s, &it->m[i], fv) : match_line(s, &it->m[i]);

		if (ok && !it->all)
			return true;
		if (!ok && it->all)
			return false;
	}
	return it->all && it->n;
}
