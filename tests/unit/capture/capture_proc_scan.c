// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for src/capture/proc_scan.c: finding --audit-log-path in an apiserver's arguments, and
 * following the log's name when it is a symlink.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/proc_scan.h"

/* build a NUL-separated argument block from a list */
static size_t args(char *buf, const char *const *v)
{
	size_t n = 0;

	for (; *v; v++) {
		strcpy(buf + n, *v);
		n += strlen(*v) + 1;
	}
	return n;
}

static const char *find(const char *const *v)
{
	static char buf[4096];
	size_t n = args(buf, v);

	return proc_scan__find_audit_arg(buf, n);
}

Test(proc_scan, equals_form)
{
	const char *v[] = {"kube-apiserver", "--v=2", "--audit-log-path=/var/log/a.log", NULL};

	cr_assert_str_eq(find(v), "/var/log/a.log");
}

Test(proc_scan, two_argument_form)
{
	const char *v[] = {
	    "kube-apiserver", "--audit-log-path", "/var/log/b.log", "--v", "2", NULL};

	cr_assert_str_eq(find(v), "/var/log/b.log");
}

Test(proc_scan, single_dash_and_last_wins)
{
	const char *v[] = {"kube-apiserver", "-audit-log-path=/first", "--audit-log-path", "/last",
			   NULL};

	cr_assert_str_eq(find(v), "/last");
}

Test(proc_scan, similar_flags_are_not_it)
{
	const char *v[] = {"kube-apiserver", "--audit-log-path-x=/no", "--audit-log-maxsize=100",
			   "--audit-policy-file=/etc/p.yaml", NULL};

	cr_assert_null(find(v));
}

Test(proc_scan, stops_at_double_dash_and_missing_value)
{
	const char *v1[] = {"kube-apiserver", "--", "--audit-log-path=/after", NULL};
	const char *v2[] = {"kube-apiserver", "--audit-log-path", NULL};

	cr_assert_null(find(v1));
	cr_assert_null(find(v2));
}

Test(proc_scan, stdout_and_own_process)
{
	const char *v[] = {"kube-apiserver", "--audit-log-path=-", NULL};
	char path[256], host[300];

	cr_assert_str_eq(find(v), "-");
	/* this test process has no such flag */
	cr_assert_eq(proc_scan__audit_log_path(getpid(), path, sizeof(path), host, sizeof(host)),
		     -ENOENT);
	cr_assert_eq(proc_scan__audit_log_path(999999999, path, sizeof(path), host, sizeof(host)),
		     -ESRCH);
}

/* proc_scan__follow_link: where a symlinked audit log leads, as the apiserver would resolve it */
Test(proc_scan, follow_link)
{
	char d[] = "/tmp/kh-follow-XXXXXX", p[512], q[512], out[512], rootp[600];

	cr_assert_not_null(mkdtemp(d));
	/* a regular file, and nothing at all: not links */
	snprintf(p, sizeof(p), "%s/audit.log", d);
	cr_assert_eq(proc_scan__follow_link(p, out, sizeof(out)), 0);
	close(open(p, O_WRONLY | O_CREAT, 0600));
	cr_assert_eq(proc_scan__follow_link(p, out, sizeof(out)), 0);
	unlink(p);
	/* relative, to a file that does not exist yet: the link's own directory */
	cr_assert_eq(symlink("sub/created.log", p), 0);
	cr_assert_eq(proc_scan__follow_link(p, out, sizeof(out)), 1);
	snprintf(q, sizeof(q), "%s/sub/created.log", d);
	cr_assert_str_eq(out, q);
	/* a chain: relative to an absolute one */
	unlink(p);
	snprintf(q, sizeof(q), "%s/hop", d);
	cr_assert_eq(symlink("hop", p), 0);
	cr_assert_eq(symlink("/elsewhere/x.log", q), 0);
	cr_assert_eq(proc_scan__follow_link(p, out, sizeof(out)), 1);
	cr_assert_str_eq(out, "/elsewhere/x.log");
	/* under /proc/PID/: an absolute target is inside that process's root */
	snprintf(rootp, sizeof(rootp), "/proc/%d/root%s", (int)getpid(), p);
	cr_assert_eq(proc_scan__follow_link(rootp, out, sizeof(out)), 1);
	snprintf(q, sizeof(q), "/proc/%d/root/elsewhere/x.log", (int)getpid());
	cr_assert_str_eq(out, q);
	/* a loop ends */
	unlink(p);
	cr_assert_eq(symlink("audit.log", p), 0);
	cr_assert_eq(proc_scan__follow_link(p, out, sizeof(out)), -ELOOP);
	unlink(p);
	snprintf(q, sizeof(q), "%s/hop", d);
	unlink(q);
	cr_assert_eq(rmdir(d), 0);
}
