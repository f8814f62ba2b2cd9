// SPDX-License-Identifier: Apache-2.0
/*
 * Tests for src/output/alert_output.c: a file output survives logrotate (rename, then SIGHUP:
 * later alerts land in the new file, none in the rotated one), keeps writing when the reopen
 * fails, is created 0640; the syslog output sends one message per alert line with the chosen
 * facility, checked on a real /dev/log socket in a private mount namespace.
 */
#define _GNU_SOURCE /* unshare */
#include <criterion/criterion.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "keyhole/alert_output.h"

static char dir[] = "/tmp/kh-alert-out-XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

TestSuite(alert_output, .init = setup, .fini = teardown);

Test(alert_output, file_is_appended_and_private)
{
	char path[256];
	struct stat st;
	FILE *out;

	snprintf(path, sizeof(path), "%s/alerts.json", dir);
	cr_assert_eq(alert_output__open(path, &out), 0);
	fputs("{\"a\":1}\n", out);
	cr_assert_eq(fclose(out), 0);
	cr_assert_eq(alert_output__open(path, &out), 0);
	fputs("{\"a\":2}\n", out);
	cr_assert_eq(fclose(out), 0);
	cr_assert_str_eq(slurp(path), "{\"a\":1}\n{\"a\":2}\n");
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0640, "mode %o", st.st_mode & 0777);
}

Test(alert_output, sighup_after_rotation_writes_to_the_new_file)
{
	char path[256], rotated[256];
	FILE *out;

	snprintf(path, sizeof(path), "%s/alerts.json", dir);
	snprintf(rotated, sizeof(rotated), "%s/alerts.json.1", dir);
	cr_assert_eq(alert_output__install_sighup(), 0);
	cr_assert_eq(alert_output__open(path, &out), 0);
	fputs("before\n", out);
	fflush(out);
	/* logrotate: rename, then postrotate's kill -HUP; "buffered" is still in stdio's buffer */
	fputs("buffered\n", out);
	cr_assert_eq(rename(path, rotated), 0);
	cr_assert_eq(raise(SIGHUP), 0);
	fputs("after\n", out);
	cr_assert_eq(fflush(out), 0);
	cr_assert_str_eq(slurp(rotated), "before\n");
	cr_assert_str_eq(slurp(path), "buffered\nafter\n");
	cr_assert_eq(fclose(out), 0);
}

Test(alert_output, failed_reopen_keeps_the_old_file)
{
	char sub[256], moved[256], path[300], old[300];
	FILE *out;

	snprintf(sub, sizeof(sub), "%s/d", dir);
	snprintf(moved, sizeof(moved), "%s/gone", dir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/alerts.json", sub);
	snprintf(old, sizeof(old), "%s/alerts.json", moved);
	cr_assert_eq(alert_output__open(path, &out), 0);
	fputs("one\n", out);
	fflush(out);
	cr_assert_eq(rename(sub, moved), 0); /* the path cannot be created again */
	alert_output__request_reopen();
	fputs("two\n", out);
	cr_assert_eq(fflush(out), 0, "the alert is not lost");
	cr_assert_eq(ferror(out), 0);
	cr_assert_str_eq(slurp(old), "one\ntwo\n");
	cr_assert_eq(fclose(out), 0);
}

Test(alert_output, unwritable_path_and_unknown_facility_are_errors)
{
	FILE *out = NULL;

	cr_assert_eq(alert_output__open("/nonexistent-dir/alerts.json", &out), -ENOENT);
	cr_assert_eq(alert_output__open("syslog:kernel", &out), -EINVAL);
	cr_assert_null(out);
	cr_assert_eq(alert_output__open("-", &out), 0);
	cr_assert_eq(out, stdout);
}

/* a private /dev holding only our own log socket, so syslog(3) talks to the test */
static int fake_dev_log(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char devdir[300];
	int fd;

	if (geteuid() != 0 || unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		cr_log_warn("SKIP syslog test: needs root and mount namespaces (%s)",
			    strerror(errno));
		return -1;
	}
	snprintf(devdir, sizeof(devdir), "%s/dev", dir);
	cr_assert_eq(mkdir(devdir, 0755), 0);
	cr_assert_eq(mount(devdir, "/dev", NULL, MS_BIND, NULL), 0, "%s", strerror(errno));
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	strcpy(sa.sun_path, "/dev/log");
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s", strerror(errno));
	return fd;
}

static void expect_message(int fd, int pri, const char *text)
{
	char msg[512], head[16];
	ssize_t n = recv(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT);

	cr_assert_gt(n, 0, "no syslog message for '%s'", text);
	msg[n] = '\0';
	snprintf(head, sizeof(head), "<%d>", pri);
	cr_assert(!strncmp(msg, head, strlen(head)), "priority: %s", msg);
	cr_assert_not_null(strstr(msg, "keyhole["), "%s", msg);
	n = (ssize_t)strlen(msg);
	cr_assert(n >= (ssize_t)strlen(text) && !strcmp(msg + n - strlen(text), text),
		  "'%s' should end with '%s'", msg, text);
}

Test(alert_output, syslog_sends_one_message_per_line)
{
	int fd = fake_dev_log();
	FILE *out;

	if (fd < 0)
		return;
	cr_assert_eq(alert_output__open("syslog:local3", &out), 0);
	fputs("{\"rule\":\"a\"}\n{\"rule\":\"b\"}\n{\"rule\":", out);
	cr_assert_eq(fflush(out), 0);
	expect_message(fd, LOG_LOCAL3 | LOG_WARNING, "{\"rule\":\"a\"}");
	expect_message(fd, LOG_LOCAL3 | LOG_WARNING, "{\"rule\":\"b\"}");
	cr_assert_lt(recv(fd, (char[8]){0}, 8, MSG_DONTWAIT), 0, "a partial line waits");
	fputs("\"c\"}\n", out);
	cr_assert_eq(fclose(out), 0);
	expect_message(fd, LOG_LOCAL3 | LOG_WARNING, "{\"rule\":\"c\"}");
	close(fd);
}
