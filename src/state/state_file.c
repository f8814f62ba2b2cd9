// SPDX-License-Identifier: Apache-2.0
/*
 * state_file: load the rules' histories at start and replace the file atomically when saving.
 *
 * Loading checks the whole file before applying any of it, so a damaged file is never half
 * believed; it is renamed aside for a human to look at, and the agent goes on with empty history
 * (it will alert on combinations it has in fact seen, which is the safe side to err on). Saving
 * writes <path>.tmp, fsyncs it, renames it over <path> and fsyncs the directory, so the name
 * always points at a whole file, old or new.
 *
 * A save, once begun, is not cut short by a request to stop: SIGTERM, SIGINT and SIGHUP are held
 * back (in the saving thread) from the temporary file's creation to the rename, and take effect
 * after it, so a `replay` stopped while saving stops with its new history on disk and no
 * temporary file. Nothing holds back SIGKILL or a crash: the name still points at the old file,
 * and the temporary file they leave is removed at the next start (state__load).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "keyhole/clock.h"
#include "keyhole/checkpoint.h"
#include "keyhole/history.h"
#include "keyhole/log.h"
#include "keyhole/state_file.h"
#include "state/state_codec.h"

#define STATE_MAX_ATTACHED 32

struct attached {
	char name[STATE_NAME_MAX + 1];
	struct kh_history *h;
	uint64_t saved_generation;
};

struct kept {
	struct kept *next;
	char name[STATE_NAME_MAX + 1];
	uint64_t n_entries;
	size_t len;
	uint8_t entries[];
};

struct kh_state {
	char *path;
	struct attached a[STATE_MAX_ATTACHED];
	size_t n;
	struct kept *kept; /* sections of rules not running, written back as they were */
	int64_t last_save_mono_ns;
	struct kh_state_stats st;
	struct kh_checkpoint *cp; /* positions in the audit logs, saved with the history */
	uint64_t cp_saved_generation;
};

struct kh_state *state__new(const char *path)
{
	struct kh_state *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->path = strdup(path);
	if (!s->path) {
		free(s);
		return NULL;
	}
	return s;
}

void state__free(struct kh_state *s)
{
	struct kept *k;

	if (!s)
		return;
	while ((k = s->kept)) {
		s->kept = k->next;
		free(k);
	}
	free(s->path);
	free(s);
}

int state__attach(struct kh_state *s, const char *name, struct kh_history *h)
{
	size_t len = strlen(name);

	if (len == 0 || len > STATE_NAME_MAX || !h)
		return -EINVAL;
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->a[i].name, name))
			return -EEXIST;
	if (s->n == STATE_MAX_ATTACHED)
		return -ENOMEM;
	memcpy(s->a[s->n].name, name, len + 1);
	s->a[s->n].h = h;
	s->a[s->n].saved_generation = history__generation(h);
	s->n++;
	return 0;
}

int state__attach_checkpoint(struct kh_state *s, struct kh_checkpoint *cp)
{
	if (s->cp)
		return -EEXIST;
	s->cp = cp;
	s->cp_saved_generation = checkpoint__generation(cp);
	return 0;
}

const struct kh_state_stats *state__stats(const struct kh_state *s)
{
	return &s->st;
}

const char *state__path(const struct kh_state *s)
{
	return s->path;
}

/* ---- load ---- */

static int read_all(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	ssize_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	*buf = NULL;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > STATE_MAX_BYTES) {
		err = -EFBIG; /* not a state file whatever it holds: set it aside */
		goto out;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		err = -ENOMEM;
		goto out;
	}
	while (got < st.st_size) {
		ssize_t r = read(fd, *buf + got, (size_t)(st.st_size - got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break; /* shrank under us: check what we have, it will fail the checksum */
		got += r;
	}
	*len = (size_t)got;
	err = 0;
out:
	close(fd);
	return err;
}

/* rename the bad file to <path>.corrupt-<unix seconds>[-N] without replacing an earlier one */
static void set_aside(struct kh_state *s, const char *why)
{
	char dst[4096];
	long t = (long)time(NULL);
	struct stat st;

	s->st.set_aside++;
	for (int i = 0; i < 100; i++) {
		if (i == 0)
			snprintf(dst, sizeof(dst), "%s.corrupt-%ld", s->path, t);
		else
			snprintf(dst, sizeof(dst), "%s.corrupt-%ld-%d", s->path, t, i);
		if (lstat(dst, &st) == 0)
			continue;
		if (rename(s->path, dst) == 0) {
			kh_log(KH_LOG_WARN,
			       "state file %s: %s; not trusted, moved aside to %s, starting with "
			       "empty history",
			       s->path, why, dst);
			return;
		}
		break;
	}
	kh_log(KH_LOG_WARN,
	       "state file %s: %s; not trusted, and it could not be moved aside (%s): starting "
	       "with empty history, and the next save replaces it",
	       s->path, why, strerror(errno));
}

static struct attached *find_attached(struct kh_state *s, const char *name, size_t len)
{
	for (size_t i = 0; i < s->n; i++)
		if (strlen(s->a[i].name) == len && !memcmp(s->a[i].name, name, len))
			return &s->a[i];
	return NULL;
}

static int keep_section(struct kh_state *s, const struct state_section_view *v)
{
	struct kept *k = malloc(sizeof(*k) + v->entries_len);

	if (!k)
		return -ENOMEM;
	memcpy(k->name, v->name, v->name_len);
	k->name[v->name_len] = '\0';
	k->n_entries = v->n_entries;
	k->len = v->entries_len;
	memcpy(k->entries, v->entries, v->entries_len);
	k->next = s->kept;
	s->kept = k;
	s->st.kept_sections++;
	kh_log(KH_LOG_INFO,
	       "state file %s: keeping the history of %s (%llu keys): rule not running", s->path,
	       k->name, (unsigned long long)k->n_entries);
	return 0;
}

/* the positions: entries whose key is an encoded kh_ckpt_entry */
static int apply_checkpoint(struct kh_state *s, const struct state_section_view *v)
{
	struct state_entry_view e;
	size_t eoff = 0;

	while (state_codec__next_entry(v, &eoff, &e))
		if (checkpoint__restore(s->cp, e.key, e.key_len) == 0)
			s->st.loaded_positions++;
	s->cp_saved_generation = checkpoint__generation(s->cp);
	return 0;
}

static int apply(struct kh_state *s, const uint8_t *buf, size_t len)
{
	struct state_section_view v;
	struct state_entry_view e;
	size_t off = 0, eoff;
	int r;

	while (state_codec__next_section(buf, len, &off, &v)) {
		struct attached *a = find_attached(s, v.name, v.name_len);

		if (s->cp && v.name_len == strlen(KH_CKPT_SECTION) &&
		    !memcmp(v.name, KH_CKPT_SECTION, v.name_len)) {
			if ((r = apply_checkpoint(s, &v)))
				return r;
			continue;
		}
		if (!a) {
			if ((r = keep_section(s, &v)))
				return r;
			continue;
		}
		s->st.loaded_sections++;
		for (eoff = 0; state_codec__next_entry(&v, &eoff, &e);) {
			r = history__restore(a->h, e.key, e.key_len, e.first_ns, e.last_ns);
			if (r == -ENOMEM)
				return r;
			s->st.loaded_entries += r == 0;
		}
		a->saved_generation = history__generation(a->h);
	}
	return 0;
}

/*
 * A save that was killed (SIGKILL, a crash, power loss) leaves <path>.tmp beside the whole file
 * <path> still names. Nothing will rename it now (a save writes it afresh); remove it so it does
 * not sit there, as large as the history, until the next save. A second agent saving to the same
 * path at this moment would see its rename fail, report it and retry at its next save.
 */
static void remove_leftover(const struct kh_state *s)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s.tmp", s->path);
	if (unlink(tmp) == 0)
		kh_log(KH_LOG_INFO,
		       "state file %s: removed %s, left by a save that was "
		       "interrupted (the state file itself is whole)",
		       s->path, tmp);
}

int state__load(struct kh_state *s)
{
	const char *why = NULL;
	enum state_verdict verdict;
	uint8_t *buf;
	size_t len = 0;
	char msg[160];
	int r;

	remove_leftover(s);
	r = read_all(s->path, &buf, &len);
	if (r == -ENOENT) {
		kh_log(KH_LOG_INFO, "state file %s does not exist yet: starting with empty history",
		       s->path);
		return 0;
	}
	if (r == -ENOMEM)
		return r;
	if (r) {
		/* unreadable (permissions, a directory...): nothing to trust, nothing to move */
		kh_log(KH_LOG_WARN,
		       "state file %s cannot be read (%s): starting with empty history", s->path,
		       r == -EFBIG ? "not a regular file of a sane size" : strerror(-r));
		if (r == -EFBIG)
			set_aside(s, "not a regular file of a sane size");
		return 0;
	}
	verdict = state_codec__check(buf, len, &why);
	if (verdict == STATE_VERSION) {
		snprintf(msg, sizeof(msg), "format version %u (this build reads %d)",
			 state_codec__version(buf, len), KH_STATE_VERSION);
		why = msg;
	}
	if (verdict != STATE_OK) {
		set_aside(s, why);
		free(buf);
		return 0;
	}
	r = apply(s, buf, len);
	free(buf);
	if (r)
		return r;
	kh_log(KH_LOG_INFO, "state file %s: loaded %llu history keys%s", s->path,
	       (unsigned long long)s->st.loaded_entries,
	       s->st.loaded_positions ? " and the audit logs' positions" : "");
	return 0;
}

/* ---- save ---- */

static int write_entry(const void *key, size_t len, int64_t first_ns, int64_t last_ns, void *arg)
{
	struct state_writer *w = arg;

	state_writer__entry(w, first_ns, last_ns, key, len);
	return w->err;
}

static void write_all(struct kh_state *s, struct state_writer *w)
{
	uint32_t n = (uint32_t)s->n;

	for (struct kept *k = s->kept; k; k = k->next)
		n++;
	n += s->cp != NULL;
	state_writer__header(w, n, clock__ns(CLOCK_REALTIME));
	if (s->cp) {
		uint8_t key[KH_CKPT_ENCODED_MAX];

		state_writer__section(w, KH_CKPT_SECTION, checkpoint__count(s->cp));
		for (size_t i = 0; i < checkpoint__count(s->cp); i++) {
			const struct kh_ckpt_entry *e = checkpoint__entry(s->cp, i);

			state_writer__entry(w, e->time_ns, e->time_ns, key,
					    checkpoint__encode(e, key, sizeof(key)));
		}
	}
	for (size_t i = 0; i < s->n; i++) {
		state_writer__section(w, s->a[i].name, history__count(s->a[i].h));
		history__for_each(s->a[i].h, write_entry, w);
	}
	for (struct kept *k = s->kept; k; k = k->next) {
		state_writer__section(w, k->name, k->n_entries);
		state_writer__raw(w, k->entries, k->len);
	}
}

static int fsync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, r = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		r = -errno;
	if (fd >= 0)
		close(fd);
	free(copy);
	return r;
}

/*
 * A fresh install has no /var/lib/keyhole yet: create the file's own directory (one level, 0700,
 * the history names users), never a whole path a typo invented.
 */
static int make_parent(const char *path)
{
	char *copy = strdup(path);
	int r;

	if (!copy)
		return -ENOMEM;
	r = mkdir(dirname(copy), 0700) ? -errno : 0;
	free(copy);
	return r;
}

/* the signals that ask a process to stop; SIGQUIT (a core dump) is not held back */
static void hold_stop_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

static int save(struct kh_state *s);

int state__save(struct kh_state *s)
{
	sigset_t old;
	int r;

	/* a pending stop signal is delivered here, after the rename (its default action exits) */
	hold_stop_signals(&old);
	r = save(s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

static int save(struct kh_state *s)
{
	struct state_writer *w = malloc(sizeof(*w));
	char tmp[4096];
	const char *step = "create";
	int fd, r;

	if (!w)
		return -ENOMEM;
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->path);
	/* 0600: the history names users and their clients */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == ENOENT && make_parent(s->path) == 0)
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	state_writer__init(w, fd);
	write_all(s, w);
	step = "write";
	r = state_writer__finish(w);
	if (!r && fsync(fd))
		r = -errno, step = "fsync";
	if (close(fd) && !r)
		r = -errno, step = "close";
	if (!r && rename(tmp, s->path))
		r = -errno, step = "rename";
	if (r) {
		unlink(tmp);
		goto fail;
	}
	/* the rename is durable only once the directory is: a failure here is worth a word */
	if ((r = fsync_dir(s->path)))
		kh_log(KH_LOG_WARN, "state file %s: saved, but syncing its directory failed: %s",
		       s->path, strerror(-r));
	s->st.saves++;
	s->st.last_save_bytes = w->total;
	for (size_t i = 0; i < s->n; i++)
		s->a[i].saved_generation = history__generation(s->a[i].h);
	if (s->cp)
		s->cp_saved_generation = checkpoint__generation(s->cp);
	s->last_save_mono_ns = clock__ns(CLOCK_MONOTONIC);
	free(w);
	return 0;
fail:
	s->st.save_failures++;
	s->last_save_mono_ns = clock__ns(CLOCK_MONOTONIC); /* retry next interval, not next event */
	kh_log(KH_LOG_ERROR,
	       "state file %s: cannot %s %s: %s; history is kept in memory and saving is retried "
	       "(check that the directory exists and is writable)",
	       s->path, step, tmp, strerror(-r));
	free(w);
	return r;
}

/* a history changed since it was loaded or last saved */
static bool changed(const struct kh_state *s)
{
	if (s->cp && s->cp_saved_generation != checkpoint__generation(s->cp))
		return true;
	for (size_t i = 0; i < s->n; i++)
		if (s->a[i].saved_generation != history__generation(s->a[i].h))
			return true;
	return false;
}

int state__save_changed(struct kh_state *s)
{
	return changed(s) ? state__save(s) : 0;
}

int state__maybe_save(struct kh_state *s, int64_t interval_ns)
{
	int64_t now = clock__ns(CLOCK_MONOTONIC);

	if (!s->last_save_mono_ns) {
		s->last_save_mono_ns = now;
		return 0;
	}
	if (now - s->last_save_mono_ns < interval_ns)
		return 0;
	if (!changed(s)) {
		s->last_save_mono_ns = now;
		return 0;
	}
	return state__save(s);
}
