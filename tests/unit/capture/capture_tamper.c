// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for src/capture/tamper.c: tying audit guard records to watched logs. The records are
 * built here as the kernel side fills them; the files and directories are real (a temp dir), so
 * every lookup the agent makes is a real one. A "gone" process is a pid that cannot exist.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/tamper.h"
#include "capture/tap.h"

#define GONE_PID 0x7ffffff0u /* above pid_max: no /proc entry */

static char root[128], logdir[256], logpath[300], otherdir[256], w_dir_tmp[256];
static struct tamper_watch w;

static void ident(const char *p, uint64_t *dev, uint64_t *ino)
{
	struct stat st;

	cr_assert_eq(stat(p, &st), 0, "%s", p);
	*dev = tap__kdev(st.st_dev);
	*ino = st.st_ino;
}

/* the same into the record's __u64 fields */
static void kident(const char *p, __u64 *dev, __u64 *ino)
{
	uint64_t d, i;

	ident(p, &d, &i);
	*dev = d;
	*ino = i;
}

static void setup(void)
{
	FILE *f;

	snprintf(root, sizeof(root), "/tmp/kh-tamper-unit.XXXXXX");
	cr_assert(mkdtemp(root));
	snprintf(logdir, sizeof(logdir), "%s/var/log", root);
	snprintf(otherdir, sizeof(otherdir), "%s/other", root);
	snprintf(logpath, sizeof(logpath), "%s/audit.log", logdir);
	cr_assert_eq(mkdir(otherdir, 0700), 0);
	snprintf(w_dir_tmp, sizeof(w_dir_tmp), "%s/var", root);
	cr_assert_eq(mkdir(w_dir_tmp, 0700), 0);
	cr_assert_eq(mkdir(logdir, 0700), 0);
	f = fopen(logpath, "w");
	cr_assert(f);
	fputs("0123456789", f);
	fclose(f);
	memset(&w, 0, sizeof(w));
	w.path = logpath;
	w.host = logpath;
	ident(logdir, &w.dir_dev, &w.dir_ino);
	ident(logpath, &w.cur_dev, &w.cur_ino);
	w.min_size = 10;
}

static void teardown(void)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(tamper, .init = setup, .fini = teardown);

static struct kh_audit_tamper rec(uint32_t op, uint32_t pid, const char *path)
{
	struct kh_audit_tamper r;

	memset(&r, 0, sizeof(r));
	r.hdr.type = KH_REC_AUDIT_TAMPER;
	r.hdr.size = sizeof(r);
	r.op = op;
	r.tgid = pid;
	r.dfd = -100;
	snprintf(r.path, sizeof(r.path), "%.250s", path);
	memcpy(r.comm, "rm", 3);
	kident("/", &r.root_dev, &r.root_ino);
	return r;
}

static int match(const struct kh_audit_tamper *r, struct node_log_tamper *out)
{
	static struct tamper_buf b;

	return tamper__match(r, sizeof(*r), &w, 1, out, &b);
}

Test(tamper, open_for_write_matched_by_inode_names_the_file)
{
	struct kh_audit_tamper r = rec(KH_TAMPER_OPEN_WRITE, getpid(), "audit.log");
	struct node_log_tamper t;

	r.flags = KH_TAMPER_F_EXACT;
	r.file_id = 1;
	r.size = 0;
	cr_assert_eq(match(&r, &t), 0);
	cr_assert_str_eq(t.how, "inode");
	cr_assert_str_eq(t.file, logpath);
	cr_assert_str_eq(t.path, "audit.log", "a descriptor operation names the file's own name");
	cr_assert(t.shrunk, "opened empty (O_TRUNC) after 10 bytes were written");
	cr_assert(t.exe[0], "a live process's executable is read");
}

Test(tamper, exact_record_for_an_unknown_file_id_is_dropped)
{
	struct kh_audit_tamper r = rec(KH_TAMPER_UNLINK, getpid(), "audit.log");
	struct node_log_tamper t;

	r.flags = KH_TAMPER_F_EXACT;
	r.file_id = 2; /* only one watch */
	cr_assert_eq(match(&r, &t), -1);
}

Test(tamper, live_process_absolute_path_resolved_through_its_root)
{
	struct kh_audit_tamper r = rec(KH_TAMPER_UNLINK, getpid(), logpath);
	struct node_log_tamper t;

	cr_assert_eq(match(&r, &t), 0);
	cr_assert_str_eq(t.how, "process");
	cr_assert_str_eq(t.path, logpath);
}

Test(tamper, live_process_relative_path_resolved_through_its_cwd)
{
	struct kh_audit_tamper r = rec(KH_TAMPER_UNLINK, getpid(), "var/log/audit.log");
	struct node_log_tamper t;
	char old[512];

	cr_assert(getcwd(old, sizeof(old)));
	cr_assert_eq(chdir(root), 0);
	cr_assert_eq(match(&r, &t), 0);
	cr_assert_str_eq(t.how, "process");
	cr_assert_eq(chdir(old), 0);
}

Test(tamper, lookalike_in_another_directory_is_not_the_log)
{
	char p[300];
	struct kh_audit_tamper r;
	struct node_log_tamper t;

	snprintf(p, sizeof(p), "%s/audit.log", otherdir);
	r = rec(KH_TAMPER_UNLINK, getpid(), p);
	cr_assert_eq(match(&r, &t), -1, "alive");
	r.tgid = GONE_PID;
	cr_assert_eq(match(&r, &t), -1, "gone");
}

Test(tamper, gone_process_absolute_path_resolved_from_its_recorded_root)
{
	struct kh_audit_tamper r = rec(KH_TAMPER_UNLINK, GONE_PID, logpath);
	struct node_log_tamper t;

	cr_assert_eq(match(&r, &t), 0);
	cr_assert_str_eq(t.how, "root");
	cr_assert_str_eq(t.exe, "", "no executable for a process that is gone");
	/* a root this agent cannot reach (another mount namespace's) ties nothing */
	r.root_ino ^= 0x5a5a;
	cr_assert_eq(match(&r, &t), -1);
}

Test(tamper, gone_process_relative_path_resolved_from_its_recorded_base)
{
	struct kh_audit_tamper r = rec(KH_TAMPER_RENAME_FROM, GONE_PID, "log/audit.log");
	struct node_log_tamper t;
	char parent[300];

	snprintf(parent, sizeof(parent), "%s/var", root);
	kident(parent, &r.base_dev, &r.base_ino);
	cr_assert_eq(match(&r, &t), 0);
	cr_assert_str_eq(t.how, "base");
	/* the same relative path from another directory is another file */
	kident(otherdir, &r.base_dev, &r.base_ino);
	cr_assert_eq(match(&r, &t), -1);
}

Test(tamper, rename_onto_the_log_is_a_replacement)
{
	char evil[300];
	struct kh_audit_tamper r;
	struct node_log_tamper t;

	snprintf(evil, sizeof(evil), "%s/evil", otherdir);
	r = rec(KH_TAMPER_RENAME_ONTO, GONE_PID, evil);
	snprintf(r.path2, sizeof(r.path2), "%.200s", logpath);
	cr_assert_eq(match(&r, &t), 0);
	cr_assert_eq(t.op, KH_TAMPER_RENAME_ONTO);
	cr_assert_str_eq(t.path2, logpath);
	/* the kernel saw a watched name only in the old path, the agent finds it in the new one */
	r.op = KH_TAMPER_RENAME_FROM;
	cr_assert_eq(match(&r, &t), 0);
	cr_assert_eq(t.op, KH_TAMPER_RENAME_ONTO);
}

Test(tamper, cut_path_judged_by_effect_only_when_the_log_changed)
{
	struct kh_audit_tamper r = rec(KH_TAMPER_UNLINK, GONE_PID, "/var/././././");
	struct node_log_tamper t;

	r.flags = KH_TAMPER_F_PATH_TRUNC;
	cr_assert_eq(match(&r, &t), -1, "the log is still there: not this one");
	cr_assert_eq(unlink(logpath), 0);
	cr_assert_eq(match(&r, &t), 0);
	cr_assert_str_eq(t.how, "effect");
	cr_assert(t.path_truncated);
}

Test(tamper, cut_path_truncate_shows_as_fewer_bytes_than_written)
{
	struct kh_audit_tamper r = rec(KH_TAMPER_TRUNCATE, GONE_PID, "/var/././");
	struct node_log_tamper t;

	r.flags = KH_TAMPER_F_PATH_TRUNC;
	r.size = 3;
	cr_assert_eq(match(&r, &t), -1);
	cr_assert_eq(truncate(logpath, 3), 0);
	cr_assert_eq(match(&r, &t), 0);
	cr_assert(t.shrunk);
}

Test(tamper, malformed_records_are_rejected)
{
	struct kh_audit_tamper r = rec(KH_TAMPER_UNLINK, getpid(), logpath);
	struct node_log_tamper t;
	static struct tamper_buf b;

	cr_assert_eq(tamper__match(&r, sizeof(r) - 1, &w, 1, &t, &b), -EINVAL);
	r.op = 0;
	cr_assert_eq(tamper__match(&r, sizeof(r), &w, 1, &t, &b), -EINVAL);
	r.op = KH_TAMPER_OP__NR;
	cr_assert_eq(tamper__match(&r, sizeof(r), &w, 1, &t, &b), -EINVAL);
}

Test(tamper, read_only_open_is_a_truncation_only_when_the_log_lost_bytes)
{
	struct kh_audit_tamper r = rec(KH_TAMPER_OPEN_WRITE, getpid(), "audit.log");
	struct node_log_tamper t;

	r.flags = KH_TAMPER_F_EXACT | KH_TAMPER_F_READ_ONLY;
	r.file_id = 1;
	r.size = 0;
	cr_assert_eq(match(&r, &t), 0);
	cr_assert_eq(t.op, KH_TAMPER_TRUNCATE, "O_RDONLY|O_TRUNC of a log that held 10 bytes");
	cr_assert(t.shrunk);
	w.min_size = 0; /* an empty new log, opened read-only by a shipper: nothing happened */
	cr_assert_eq(match(&r, &t), -1);
}

Test(tamper, proc_self_names_the_process_not_the_agent)
{
	char p[300], old[512];
	struct kh_audit_tamper r;
	struct node_log_tamper t;

	/* this process is the "tamperer": its cwd is the log's directory, the agent's is not */
	cr_assert(getcwd(old, sizeof(old)));
	cr_assert_eq(chdir(logdir), 0);
	snprintf(p, sizeof(p), "/proc/self/cwd/audit.log");
	r = rec(KH_TAMPER_UNLINK, getpid(), p);
	cr_assert_eq(match(&r, &t), 0);
	cr_assert_eq(chdir(old), 0);
}

Test(tamper, unresolvable_path_judged_by_effect)
{
	struct kh_audit_tamper r = rec(KH_TAMPER_UNLINK, GONE_PID, "/no/such/root/audit.log");
	struct node_log_tamper t;

	r.root_ino ^= 0x5a5a; /* a root this agent cannot reach, and the process is gone */
	cr_assert_eq(match(&r, &t), -1, "the log is unchanged: not this one");
	cr_assert_eq(unlink(logpath), 0);
	cr_assert_eq(match(&r, &t), 0, "the log is gone from its directory: this one");
	cr_assert_str_eq(t.how, "effect");
}

Test(tamper, truncate_of_any_name_judged_by_effect)
{
	struct kh_audit_tamper r = rec(KH_TAMPER_TRUNCATE, GONE_PID, "/proc/self/fd/7");
	struct node_log_tamper t;

	r.flags = KH_TAMPER_F_ANY_NAME;
	r.size = 2;
	cr_assert_eq(match(&r, &t), -1, "some other file was truncated");
	cr_assert_eq(truncate(logpath, 2), 0);
	cr_assert_eq(match(&r, &t), 0);
	cr_assert_str_eq(t.how, "effect");
	cr_assert(t.shrunk);
}
