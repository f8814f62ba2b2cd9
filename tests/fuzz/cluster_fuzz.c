// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for what a correlator and a node feed take from Redis. Each input is split
 * into lines, each read as a stream entry: its fact header, the duplicate filter (a small one,
 * so its bounds are reached; it keeps its state across inputs), then, as the correlator does, a
 * node secret-read fact goes to escalate-then-loot (audit parser, node_fact__read) and any other
 * fact to the cluster-scope pipeline, and, as the node feed does, every line goes to a local
 * pipeline's exec join (pipeline__feed_remote_request). Both pipelines keep their state across
 * inputs; every alert line written must be one line of printable text, '{' to '}'.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/fact.h"
#include "cluster/fact_dedup.h"
#include "cluster/node_fact.h"
#include "keyhole/audit_parse.h"
#include "keyhole/pipeline.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

static char *out_buf;
static size_t out_len;
static FILE *out;
static struct kh_pipeline *cor, *local;
static struct fact_dedup *dedup;

static void setup(void)
{
	struct kh_pipeline_opts c = {.scope = KH_SCOPE_CLUSTER}, l = {.scope = KH_SCOPE_LOCAL};

	out = open_memstream(&out_buf, &out_len);
	CHECK(out);
	c.out = l.out = out;
	cor = pipeline__new(&c);
	local = pipeline__new(&l);
	dedup = fact_dedup__new(64, 3600ll * 1000000000);
	CHECK(cor && local && dedup);
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

static void entry(const char *p, size_t len)
{
	struct kh_origin o = {.source = "cluster:0"};
	struct kh_node_secret_read r;
	struct kh_parse_error pe;
	struct fact_header h;
	struct audit_event ev;

	pipeline__feed_remote_request(local, p, len);
	if (fact__header(p, len, &h))
		return;
	if (fact_dedup__seen(dedup, p, len, h.t_ns)) {
		CHECK(fact_dedup__seen(dedup, p, len, h.t_ns)); /* still known: it was not taken */
		return;
	}
	CHECK(fact_dedup__count(dedup) <= 64);
	if (!node_fact__is(p, len)) {
		pipeline__feed_fact(cor, p, len, &o, !h.broadcast || h.partition == 0);
		return;
	}
	if (audit_parse__line(p, len, &ev, &pe) == 0 && node_fact__read(&ev, h.t_ns, &r) == 0)
		pipeline__feed_node_secret_read(cor, &r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	if (!cor)
		setup();
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);

		entry(p, len);
		p += len + 1;
	}
	check_output();
	return 0;
}
