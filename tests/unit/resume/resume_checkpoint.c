// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of the checkpoint (src/state/checkpoint.c) and the live side of resume (src/resume/
 * seam.c): positions round-trip through the state file with the history, a file is recognised
 * after a rename and not after its inode is reused, and live lines get their offsets and are
 * dropped while they repeat what the catch-up read.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyhole/checkpoint.h"
#include "keyhole/history.h"
#include "keyhole/resume.h"
#include "keyhole/state_file.h"
#include "resume/resume_impl.h"

static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/kh-ckpt-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(checkpoint, .init = setup, .fini = teardown);

static struct kstr ks(const char *s)
{
	return kstr_lit(s, strlen(s));
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(checkpoint, encode_restore_round_trip_and_garbage)
{
	struct kh_checkpoint *a = checkpoint__new(), *b = checkpoint__new();
	struct kh_file_pos pos = {
	    .log = "/var/log/audit.log", .dev = 7, .ino = 12345, .end = 999, .end_known = true};
	uint8_t buf[KH_CKPT_ENCODED_MAX];
	const struct kh_ckpt_entry *e;
	size_t n;

	checkpoint__advance(a, &pos, ks("0837d273-9e08"), ks("ResponseComplete"), 42);
	n = checkpoint__encode(checkpoint__entry(a, 0), buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_eq(checkpoint__restore(b, buf, n), 0);
	e = checkpoint__find(b, "/var/log/audit.log");
	cr_assert_not_null(e);
	cr_assert_eq(e->offset, 999);
	cr_assert(e->offset_known);
	cr_assert_eq(e->time_ns, 42);
	cr_assert_eq(e->file.ino, 12345);
	cr_assert_str_eq(e->audit_id, "0837d273-9e08");
	cr_assert_str_eq(e->stage, "ResponseComplete");
	/* every truncation and a length that lies are refused */
	for (size_t k = 0; k < n; k++)
		cr_assert_eq(checkpoint__restore(b, buf, k), -EINVAL, "prefix %zu", k);
	buf[45] = 200; /* auditID length past the entry */
	cr_assert_eq(checkpoint__restore(b, buf, n), -EINVAL);
	checkpoint__free(a);
	checkpoint__free(b);
}

Test(checkpoint, saved_and_loaded_with_the_history)
{
	char path[128];
	struct kh_checkpoint *cp = checkpoint__new(), *cp2 = checkpoint__new();
	struct kh_state *s;
	struct kh_file_pos pos = {.log = "audit.log", .dev = 1, .ino = 2, .end = 3};
	uint64_t saves;

	snprintf(path, sizeof(path), "%s/state.khs", dir);
	s = state__new(path);
	cr_assert_eq(state__attach_checkpoint(s, cp), 0);
	cr_assert_eq(state__load(s), 0);
	cr_assert_eq(state__save_changed(s), 0);
	saves = state__stats(s)->saves;
	cr_assert_eq(saves, 0, "nothing moved: no save");
	checkpoint__advance(cp, &pos, ks("id-1"), ks("RequestReceived"), 5);
	cr_assert_eq(state__save_changed(s), 0);
	cr_assert_eq(state__stats(s)->saves, 1, "a position that moved is saved");
	state__free(s);

	s = state__new(path);
	cr_assert_eq(state__attach_checkpoint(s, cp2), 0);
	cr_assert_eq(state__load(s), 0);
	cr_assert_eq(state__stats(s)->loaded_positions, 1);
	cr_assert_str_eq(checkpoint__find(cp2, "audit.log")->audit_id, "id-1");
	cr_assert_eq(checkpoint__find(cp2, "audit.log")->offset, 3);
	cr_assert_not(checkpoint__find(cp2, "audit.log")->offset_known);
	state__free(s);
	checkpoint__free(cp);
	checkpoint__free(cp2);
}

Test(checkpoint, file_identity_survives_rename_not_reuse)
{
	char a[128], b[128];
	struct kh_file_id id, again;

	snprintf(a, sizeof(a), "%s/audit.log", dir);
	snprintf(b, sizeof(b), "%s/audit-2026.log", dir);
	write_file(a, "{\"auditID\":\"1\"}\n{\"auditID\":\"2\"}\n");
	cr_assert_eq(file_id__of_path(a, 0, &id), 0);
	cr_assert_eq(id.head_len, 32);
	cr_assert_eq(rename(a, b), 0);
	write_file(a, "{\"auditID\":\"3\"}\n");
	cr_assert_eq(file_id__of_path(b, id.head_len, &again), 0);
	cr_assert_eq(again.ino, id.ino);
	cr_assert_eq(again.head_hash, id.head_hash, "renamed: the same file");
	/* the same inode number with other bytes at its head is another file */
	unlink(b);
	write_file(b, "{\"auditID\":\"9\"}\n{\"auditID\":\"8\"}\n");
	cr_assert_eq(file_id__of_path(b, id.head_len, &again), 0);
	cr_assert_neq(again.head_hash, id.head_hash);
	cr_assert_eq(file_id__of_path(b, KH_CKPT_HEAD_BYTES + 1, &again), -EINVAL);
}

Test(checkpoint, line_key_and_time)
{
	const char *l = "{\"auditID\":\"abc\",\"stage\":\"ResponseComplete\",\"stageTimestamp\":"
			"\"2026-11-23T09:00:00.000000Z\"}";
	const char *cut = "{\"auditID\":\"abc\",\"stage\":\"ResponseComplete\",\"stageTi";
	const char *other = "{\"auditID\":\"abc\",\"stage\":\"RequestReceived\"}";

	cr_assert_eq(line_key(l, strlen(l)), line_key(cut, strlen(cut)),
		     "a line the tap cut has the key of the whole line");
	cr_assert_neq(line_key(l, strlen(l)), line_key(other, strlen(other)));
	cr_assert_eq(line_time_ns(l, strlen(l)), 1795424400ll * 1000000000);
	cr_assert_eq(line_time_ns(other, strlen(other)), 0);
}

/* the line's own auditID, stage and time: not a key of that name nested before them, nor text */
Test(checkpoint, line_key_reads_the_top_level_fields)
{
	const char *l =
	    "{\"requestObject\":{\"data\":{\"auditID\":\"fake\",\"stage\":\"Fake\","
	    "\"stageTimestamp\":\"2020-01-01T00:00:00Z\"}},\"userAgent\":\"x \\\"auditID\\\""
	    ":\\\"evil\\\"\",\"auditID\":\"abc\",\"stage\":\"ResponseComplete\","
	    "\"stageTimestamp\":\"2026-11-23T09:00:00.000000Z\"}";
	const char *plain = "{\"auditID\":\"abc\",\"stage\":\"ResponseComplete\"}";
	const char *fake = "{\"auditID\":\"fake\",\"stage\":\"Fake\"}";

	cr_expect_eq(line_key(l, strlen(l)), line_key(plain, strlen(plain)),
		     "a nested or quoted auditID was taken for the line's");
	cr_expect_neq(line_key(l, strlen(l)), line_key(fake, strlen(fake)));
	cr_expect_eq(line_time_ns(l, strlen(l)), 1795424400ll * 1000000000);
}

static bool live(struct kh_resume *r, const char *host, uint64_t ino, const char *line,
		 struct kh_file_pos *pos)
{
	struct kh_live_line l = {
	    .log = "audit.log", .host = host, .ino = ino, .data = line, .len = strlen(line)};

	return resume__live_line(r, &l, pos);
}

Test(checkpoint, live_offsets_and_the_seam)
{
	struct kh_resume_opts o = {.seam = true};
	struct kh_resume *r = resume__new(NULL, &o);
	struct kh_file_pos pos;
	struct live_log *lv;
	char host[128];
	struct stat st;
	const char *l1 = "{\"auditID\":\"1\",\"stage\":\"ResponseComplete\"}",
		   *l2 = "{\"auditID\":\"2\",\"stage\":\"ResponseComplete\"}",
		   *l3 = "{\"auditID\":\"3\",\"stage\":\"ResponseComplete\"}";
	size_t len1 = strlen(l1) + 1;

	cr_assert_not_null(r);
	snprintf(host, sizeof(host), "%s/audit.log", dir);
	write_file(host, "{\"auditID\":\"1\",\"stage\":\"ResponseComplete\"}\n");
	stat(host, &st);
	/* no catch-up: the first line of a file the tap saw begin has a known offset */
	cr_assert_not(live(r, host, st.st_ino, l1, &pos));
	cr_assert(pos.end_known);
	cr_assert_eq(pos.end, len1);
	cr_assert_not(live(r, host, st.st_ino, l2, &pos));
	cr_assert_eq(pos.end, 2 * len1);
	/* a rotation: the new inode starts at 0 */
	cr_assert_not(live(r, host, st.st_ino + 1, l3, &pos));
	cr_assert(pos.end_known);
	cr_assert_eq(pos.end, len1);
	resume__free(r);

	/* the catch-up read 1, 2, 3 of inode 77; the tap delivers 2, 3 (written after its
	 * attach), then 4: 2 and 3 are dropped, 4 continues from 3's offset */
	r = resume__new(NULL, &o);
	lv = live_log_get(r, "audit.log");
	seam_note(lv, line_key(l1, strlen(l1)), 0, 77, 100);
	seam_note(lv, line_key(l2, strlen(l2)), 0, 77, 200);
	seam_note(lv, line_key(l3, strlen(l3)), 0, 77, 300);
	lv->ino = 77;
	lv->off = 300;
	lv->known = lv->have_file = true;
	cr_assert(live(r, NULL, 77, l2, &pos));
	cr_assert(live(r, NULL, 77, l3, &pos));
	cr_assert_not(live(r, NULL, 77, l1, &pos), "past the seam nothing is dropped");
	cr_assert(pos.end_known);
	cr_assert_eq(pos.end, 300 + len1);
	cr_assert_eq(resume__stats(r)->seam_doubles, 2);
	resume__free(r);
}
