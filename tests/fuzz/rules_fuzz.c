// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the rules and alert output: each input is a few audit lines; every line
 * the parser accepts goes through all rules and emit, with state kept across inputs (so holds,
 * dedupe and the Arc rule's memory see long, odd histories). Beyond "no crash, no sanitizer
 * report", every alert written must be one line of printable text (json_out escapes all control
 * bytes), start with '{' and end with '}', whatever bytes the input strings held.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/audit_parse.h"
#include "keyhole/emit.h"
#include "keyhole/rules_engine.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

static char *out_buf;
static size_t out_len;
static FILE *out;
static struct kh_counters counters;
static uint64_t by_rule[16];
static struct kh_emit *emit;
static struct kh_rules *rules;

static void setup(void)
{
	out = open_memstream(&out_buf, &out_len);
	CHECK(out);
	counters.alerts_by_rule = by_rule;
	emit = emit__new(out, &counters);
	CHECK(emit);
	rules = rules__new(NULL, emit);
	CHECK(rules);
}

/* the alerts written since the last check: one well-formed line each */
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
	rewind(out); /* the next input's alerts overwrite these */
	fflush(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	if (!emit)
		setup();
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = malloc(len ? len : 1); /* exact size: ASan sees any over-read */
		struct audit_event ev;

		CHECK(line);
		memcpy(line, p, len);
		if (audit_parse__line(line, len, &ev, NULL) == 0)
			rules__on_event(rules, &ev);
		free(line);
		p += len + 1;
	}
	if (size && data[0] == 'F') /* some inputs also end the "input": write what is held */
		rules__flush(rules);
	check_output();
	return 0;
}
