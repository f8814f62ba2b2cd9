// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the correlator. Each input is used twice:
 *  - whole, as an RBAC requestObject span for rbac_json__read(): every slice it hands back must
 *    lie inside the span, and the subject count within its bound;
 *  - split into lines, as audit events: every line the parser accepts goes to the correlator,
 *    whose state is kept across inputs (grants, readers and incidents see long, odd histories),
 *    and every incident line written must be one line of printable text, '{' to '}'.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/correlate.h"
#include "correlate/rbac_json.h"
#include "keyhole/audit_parse.h"
#include "keyhole/emit.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

static char *out_buf;
static size_t out_len;
static FILE *out;
static struct kh_counters counters;
static struct kh_emit *emit;
static struct kh_correlate *corr;

static void setup(void)
{
	struct kh_correlate_opts o;

	out = open_memstream(&out_buf, &out_len);
	CHECK(out);
	emit = emit__new(out, &counters);
	CHECK(emit);
	correlate_opts__defaults(&o);
	o.max_subjects = 64; /* small bounds: eviction paths run often */
	o.max_readers = 64;
	o.max_incidents = 4;
	o.max_steps = 8;
	corr = correlate__new_opts(&o, emit);
	CHECK(corr);
}

static void check_slice(struct kstr s, const uint8_t *data, size_t size)
{
	if (!s.p)
		return;
	CHECK(s.p >= (const char *)data && s.p + s.len <= (const char *)data + size);
}

static void check_output(void)
{
	const char *p = out_buf, *end;

	fflush(out);
	if (!out_len)
		return;
	end = out_buf + out_len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		CHECK(nl && nl - p >= 2 && p[0] == '{' && nl[-1] == '}');
		for (const char *q = p; q < nl; q++)
			CHECK((unsigned char)*q >= 0x20);
		p = nl + 1;
	}
	rewind(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kh_rbac_object obj;
	const char *p = (const char *)data, *end = p + size;

	if (!corr)
		setup();
	rbac_json__read(kstr_lit((const char *)data, size), &obj);
	CHECK(obj.n_subjects <= KH_RBAC_MAX_SUBJECTS && obj.n_subjects <= obj.total_subjects);
	for (uint32_t i = 0; i < obj.n_subjects; i++) {
		check_slice(obj.subjects[i].kind, data, size);
		check_slice(obj.subjects[i].name, data, size);
		check_slice(obj.subjects[i].namespace_, data, size);
	}
	check_slice(obj.role_name, data, size);
	check_slice(obj.name, data, size);

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		struct audit_event ev;
		struct kh_parse_error pe;

		if (audit_parse__line(p, len, &ev, &pe) == 0)
			correlate__on_event(corr, &ev);
		p += len + 1;
	}
	correlate__flush(corr);
	check_output();
	return 0;
}
