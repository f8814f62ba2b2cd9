// SPDX-License-Identifier: Apache-2.0
/*
 * alert_output: stdout, a reopenable file, or syslog, each behind a FILE * so the pipeline and
 * the rules write alerts the same way whatever their destination.
 *
 * Files and syslog are stdio cookie streams (fopencookie). A file stream checks a generation
 * number, bumped by SIGHUP, before each write and reopens its path when it changed: the signal
 * handler does nothing but bump it, and no byte written after the signal lands in the rotated
 * file. The syslog stream cuts what stdio hands it into lines and sends one message per line.
 */
#define _GNU_SOURCE /* fopencookie */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "keyhole/alert_output.h"
#include "keyhole/log.h"

/* bumped by SIGHUP; each file stream remembers the value it opened at */
static volatile sig_atomic_t reopen_gen;

/* one alert is one syslog message; longer lines are sent in pieces of this size */
#define KH_SYSLOG_MAX_LINE (64 * 1024)
#define KH_OUT_BUFSIZE (1 << 16)

struct file_out {
	char *path;
	int fd;
	sig_atomic_t gen;
};

static int file_open_fd(const char *path)
{
	/* alerts name users and objects: not world-readable */
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

/* reopen after SIGHUP; on failure keep the old descriptor so no alert is lost */
static void file_maybe_reopen(struct file_out *f)
{
	sig_atomic_t gen = reopen_gen;
	int fd;

	if (gen == f->gen)
		return;
	f->gen = gen;
	fd = file_open_fd(f->path);
	if (fd < 0) {
		kh_log(KH_LOG_ERROR,
		       "cannot reopen output %s after SIGHUP: %s; still writing to "
		       "the file opened before",
		       f->path, strerror(errno));
		return;
	}
	close(f->fd);
	f->fd = fd;
	kh_log(KH_LOG_INFO, "reopened output %s", f->path);
}

static ssize_t file_write(void *cookie, const char *buf, size_t size)
{
	struct file_out *f = cookie;
	size_t done = 0;

	file_maybe_reopen(f);
	while (done < size) {
		ssize_t n = write(f->fd, buf + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done ? (ssize_t)done : -1;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int file_close(void *cookie)
{
	struct file_out *f = cookie;
	int err = close(f->fd);

	free(f->path);
	free(f);
	return err;
}

static int open_file(const char *path, FILE **out)
{
	static const cookie_io_functions_t io = {.write = file_write, .close = file_close};
	struct file_out *f = calloc(1, sizeof(*f));

	if (!f || !(f->path = strdup(path)))
		goto nomem;
	f->gen = reopen_gen;
	f->fd = file_open_fd(path);
	if (f->fd < 0) {
		int err = errno;

		kh_log(KH_LOG_ERROR, "cannot open output %s: %s", path, strerror(err));
		free(f->path);
		free(f);
		return -err;
	}
	*out = fopencookie(f, "a", io);
	if (!*out) {
		close(f->fd);
		goto nomem;
	}
	setvbuf(*out, NULL, _IOFBF, KH_OUT_BUFSIZE);
	return 0;
nomem:
	if (f)
		free(f->path);
	free(f);
	kh_log(KH_LOG_ERROR, "cannot open output %s: out of memory", path);
	return -ENOMEM;
}

struct syslog_out {
	char line[KH_SYSLOG_MAX_LINE + 1];
	size_t len;
};

static void syslog_send(struct syslog_out *s)
{
	if (s->len) {
		s->line[s->len] = '\0';
		syslog(LOG_WARNING, "%s", s->line);
	}
	s->len = 0;
}

static ssize_t syslog_write(void *cookie, const char *buf, size_t size)
{
	struct syslog_out *s = cookie;

	for (size_t i = 0; i < size; i++) {
		if (buf[i] == '\n') {
			syslog_send(s);
			continue;
		}
		s->line[s->len++] = buf[i];
		if (s->len == KH_SYSLOG_MAX_LINE)
			syslog_send(s);
	}
	return (ssize_t)size;
}

static int syslog_close(void *cookie)
{
	syslog_send(cookie);
	free(cookie);
	closelog();
	return 0;
}

static int syslog_facility(const char *name)
{
	static const struct {
		const char *name;
		int facility;
	} names[] = {
	    {"", LOG_DAEMON},	    {"daemon", LOG_DAEMON},	{"user", LOG_USER},
	    {"auth", LOG_AUTH},	    {"authpriv", LOG_AUTHPRIV}, {"local0", LOG_LOCAL0},
	    {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},	{"local3", LOG_LOCAL3},
	    {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},	{"local6", LOG_LOCAL6},
	    {"local7", LOG_LOCAL7},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i].name))
			return names[i].facility;
	return -1;
}

static int open_syslog(const char *spec, FILE **out)
{
	static const cookie_io_functions_t io = {.write = syslog_write, .close = syslog_close};
	int facility = syslog_facility(spec + strlen("syslog:"));
	struct syslog_out *s;

	if (facility < 0) {
		kh_log(KH_LOG_ERROR,
		       "output %s: unknown syslog facility; use syslog:daemon, "
		       "syslog:user, syslog:auth, syslog:authpriv or syslog:local0..7",
		       spec);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(*out = fopencookie(s, "w", io))) {
		free(s);
		kh_log(KH_LOG_ERROR, "cannot open output %s: out of memory", spec);
		return -ENOMEM;
	}
	openlog("keyhole", LOG_PID | LOG_NDELAY, facility);
	setvbuf(*out, NULL, _IOFBF, KH_OUT_BUFSIZE);
	return 0;
}

int alert_output__open(const char *spec, FILE **out)
{
	if (!spec || !strcmp(spec, "-")) {
		*out = stdout;
		/* buffered like a file; the caller flushes after each batch of input */
		if (!isatty(STDOUT_FILENO))
			setvbuf(stdout, NULL, _IOFBF, KH_OUT_BUFSIZE);
		return 0;
	}
	if (!strncmp(spec, "syslog:", strlen("syslog:")))
		return open_syslog(spec, out);
	return open_file(spec, out);
}

void alert_output__request_reopen(void)
{
	reopen_gen++;
}

static void on_sighup(int sig)
{
	(void)sig;
	alert_output__request_reopen();
}

int alert_output__install_sighup(void)
{
	struct sigaction sa = {.sa_handler = on_sighup, .sa_flags = SA_RESTART};

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGHUP, &sa, NULL) ? -errno : 0;
}
