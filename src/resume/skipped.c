// SPDX-License-Identifier: Apache-2.0
/*
 * skipped: the keyhole-catchup-skipped alert. A catch-up never drops audit events silently: a
 * range cut by a bound, or a file deleted before keyhole could read it, is written as an alert
 * beside the others (file, bytes, the event-time span it covered) and counted.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "keyhole/clock.h"
#include "keyhole/json_out.h"
#include "keyhole/log.h"
#include "resume/resume_impl.h"

void skipped_add(struct skipped *s, const char *reason, const char *file, uint64_t bytes,
		 int64_t from_ns)
{
	if (!s->on) {
		memset(s, 0, sizeof(*s));
		s->on = true;
		s->reason = reason;
		s->from_ns = from_ns;
		snprintf(s->first, sizeof(s->first), "%s", file);
	}
	if (strcmp(s->last, file)) {
		snprintf(s->last, sizeof(s->last), "%s", file);
		s->files++;
	}
	s->bytes += bytes;
}

static void put_time(struct json_out *j, const char *key, int64_t ns)
{
	json_out__key(j, key);
	if (ns > 0)
		json_out__time_ns(j, ns);
	else
		json_out__null(j);
}

void skipped_report(struct kh_resume *r, const char *log, struct skipped *s, int64_t to_ns)
{
	struct json_out j;

	if (!s->on)
		return;
	s->to_ns = to_ns;
	r->st.skipped_ranges++;
	r->st.skipped_bytes += s->bytes;
	kh_log(KH_LOG_WARN, "catch-up of %s: skipped %s%llu bytes in %u file(s) (%s .. %s): %s",
	       log, s->bytes_unknown ? "at least " : "", (unsigned long long)s->bytes, s->files,
	       s->first, s->last,
	       !strcmp(s->reason, "vanished") ? "the file was deleted before it could be read"
					      : "over the catch-up bound");
	json_out__init(&j);
	json_out__obj_begin(&j);
	put_time(&j, "@timestamp", clock__ns(CLOCK_REALTIME));
	json_out__key(&j, "event");
	json_out__obj_begin(&j);
	json_out__kv_str(&j, "kind", "alert");
	json_out__kv_str(&j, "module", "keyhole");
	json_out__kv_str(&j, "dataset", "keyhole.catchup");
	json_out__obj_end(&j);
	json_out__key(&j, "rule");
	json_out__obj_begin(&j);
	json_out__kv_str(&j, "id", "keyhole-catchup-skipped");
	json_out__kv_str(&j, "name", "Audit events not examined after a restart");
	json_out__kv_str(&j, "severity", "high");
	json_out__obj_end(&j);
	json_out__key(&j, "keyhole");
	json_out__obj_begin(&j);
	json_out__key(&j, "catchup");
	json_out__obj_begin(&j);
	json_out__kv_str(&j, "log", log);
	json_out__kv_str(&j, "reason", s->reason);
	json_out__kv_str(&j, "first_file", s->first);
	json_out__kv_str(&j, "last_file", s->last);
	json_out__kv_int(&j, "files", s->files);
	json_out__kv_int(&j, "bytes", (long long)s->bytes);
	json_out__key(&j, "bytes_known");
	json_out__bool(&j, !s->bytes_unknown);
	put_time(&j, "from", s->from_ns);
	put_time(&j, "to", s->to_ns);
	json_out__obj_end(&j);
	json_out__obj_end(&j);
	json_out__obj_end(&j);
	if (!j.oom && r->o.out) {
		fwrite(j.buf, 1, j.len, r->o.out);
		fputc('\n', r->o.out);
		fflush(r->o.out);
	}
	json_out__free(&j);
	s->on = false;
}
