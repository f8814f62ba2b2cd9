// SPDX-License-Identifier: Apache-2.0
/*
 * exec_watch_harness: the exec watch end to end with a runc pod (see exec_watch_harness.h).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bpf_need.h"
#include "exec_watch_harness.h"

void ew_harness__setup(struct ew_harness *h, const char *test, const char *init_script,
		       const char *ready, bool attachable)
{
	ew_harness__setup_opts(h, test, init_script, ready, attachable, NULL);
}

void ew_harness__setup_opts(struct ew_harness *h, const char *test, const char *init_script,
			    const char *ready, bool attachable, const struct exec_watch_opts *o)
{
	static char why[256];
	struct kh_pipeline_opts po = {0};
	struct node_decode_opts no = {0};
	int err;

	memset(h, 0, sizeof(*h));
	bpf_need(test, runc_pod__unavailable());
	err = exec_watch__new(o, &h->w);
	if (err) {
		snprintf(why, sizeof(why), "exec watch did not load: %s", strerror(-err));
		bpf_need(test, why);
	}
	h->out = tmpfile();
	cr_assert(h->out);
	po.out = h->out;
	h->p = pipeline__new(&po);
	cr_assert(h->p);
	err = attachable ? runc_pod__start_attachable(&h->pod, init_script)
			 : runc_pod__start(&h->pod, init_script);
	cr_assert_eq(err, 0, "container did not start");
	no.pods_log_dir = h->pod.pods_log_dir;
	no.containers_log_dir = h->pod.containers_log_dir;
	h->src = node_source__new(h->p, &no);
	cr_assert(h->src);
	h->rb = ring_buffer__new(exec_watch__ring_fd(h->w), node_source__on_record, h->src, NULL);
	cr_assert(h->rb);
	cr_assert(runc_pod__wait_file(&h->pod, ready, 10000), "container init did not run");
	ew_harness__drain(h, 200);
}

void ew_harness__teardown(struct ew_harness *h)
{
	runc_pod__stop(&h->pod);
	ring_buffer__free(h->rb);
	node_source__free(h->src);
	pipeline__free(h->p);
	exec_watch__free(h->w);
	if (h->out)
		fclose(h->out);
	alert_lines__free(&h->al);
	memset(h, 0, sizeof(*h));
}

void ew_harness__drain(struct ew_harness *h, int ms)
{
	for (int i = 0; i < ms / 20; i++)
		ring_buffer__poll(h->rb, 20);
}

void ew_harness__read_ours(struct ew_harness *h)
{
	struct alert_lines *al = &h->al;
	size_t k = 0;

	alert_lines__free(al);
	alert_lines__read(al, h->out);
	for (size_t i = 0; i < al->n; i++) {
		const char *cid = alert_str(al->v[i], "container.id");

		if (cid && (!strcmp(cid, h->pod.id) ||
			    (h->pod.debug_id[0] && !strcmp(cid, h->pod.debug_id))))
			al->v[k++] = al->v[i];
		else
			json_object_put(al->v[i]);
	}
	al->n = k;
}

void ew_harness__alerts_final(struct ew_harness *h)
{
	ew_harness__drain(h, 300);
	pipeline__flush(h->p);
	ew_harness__read_ours(h);
}

void ew_harness__feed(struct ew_harness *h, const char *line)
{
	struct kh_origin o = {.source = "test-audit", .line_no = 1};

	cr_assert_eq(pipeline__feed_line(h->p, line, strlen(line), &o), 0);
	cr_assert_eq(pipeline__counters(h->p)->parsed, pipeline__counters(h->p)->lines);
}

void ew_harness__now_ts(char *ts, size_t size)
{
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000);
}
