// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the exec watch's userspace: every input is taken as a ring record (the
 * kernel's bytes: sizes, counts and strings without their NUL all hostile), decoded and fed
 * through the pipeline's node rules with state kept across inputs; and as a cgroup path and a
 * requestURI. Beyond "no crash, no sanitizer report", every alert written must be one line
 * starting with '{' and ending with '}'.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/node_event.h"
#include "keyhole/pipeline.h"
#include "capture/cgroup_path.h"
#include "rules/node/exec_request.h"
#include "keyhole/node_decode.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

static char *out_buf;
static size_t out_len;
static FILE *out;
static struct kh_pipeline *p;
static struct node_decoder *d;

static void setup(void)
{
	struct kh_pipeline_opts po = {0};
	struct node_decode_opts no = {.pods_log_dir = "/nonexistent/pods",
				      .proc_dir = "/nonexistent/proc",
				      .max_sessions = 8};

	out = open_memstream(&out_buf, &out_len);
	CHECK(out);
	po.out = out;
	p = pipeline__new(&po);
	d = node_decoder__new(&no);
	CHECK(p && d);
}

/* every line written so far is one JSON-looking line */
static void check_output(void)
{
	const char *s = out_buf, *end;

	fflush(out);
	for (; s && s < out_buf + out_len; s = end + 1) {
		end = memchr(s, '\n', (size_t)(out_buf + out_len - s));
		CHECK(end && end > s && s[0] == '{' && end[-1] == '}');
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union {
		struct kh_rec_node_exec exec;
		struct kh_rec_node_open open;
		struct kh_rec_node_exit exit;
	} rec;
	struct node_event ev;
	struct kh_pod_ref ref;
	struct exec_command cmd;
	struct kstr uri = {(const char *)data, (uint32_t)size, KSTR_ESCAPED};

	if (!p)
		setup();
	/* the record as the ring would hand it over: a copy of its own size, aligned */
	if (size <= sizeof(rec)) {
		memcpy(&rec, data, size);
		if (node_decoder__decode(d, &rec, size, &ev) == 1)
			CHECK(pipeline__feed_node_event(p, &ev) == 0);
	}
	cgroup_path__parse((const char *)data, size, &ref);
	CHECK(strlen(ref.pod_uid) <= KH_POD_UID_MAX);
	exec_request__command(uri, &cmd);
	CHECK(cmd.argc <= cmd.total && cmd.argv[cmd.argc] == NULL);
	if (out_len > (1u << 20)) { /* keep memory flat over a long run */
		fclose(out);
		free(out_buf);
		out = open_memstream(&out_buf, &out_len);
		CHECK(out);
		pipeline__free(p);
		{
			struct kh_pipeline_opts po = {.out = out};

			p = pipeline__new(&po);
			CHECK(p);
		}
	}
	check_output();
	return 0;
}
