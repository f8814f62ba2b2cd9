// SPDX-License-Identifier: Apache-2.0
/*
 * metrics: the registry of samples, their Prometheus text rendering, and the health state that
 * /healthz and /readyz report. The HTTP server lives in metrics_http.c.
 *
 * Samples are grouped into families by name, in order of first registration, because the text
 * format wants one HELP/TYPE header per name with all its samples right after it. A mutex guards
 * the registry (modules may register after the server started); the health state is a few
 * atomics so the hot path and the scrape never wait on each other.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyhole/clock.h"
#include "keyhole/metrics.h"
#include "keyhole/log.h"
#include "output/metrics_server.h"

/* /healthz fails when the main loop has not beaten for this long (default) */
#define KH_METRICS_STALL_SEC 30

struct sample {
	char *label_name; /* NULL: unlabelled */
	char *label_value;
	const uint64_t *value;
	double (*fn)(void *ctx);
	void *ctx;
};

struct family {
	char *name;
	char *help;
	enum kh_metric_type type;
	struct sample *samples;
	size_t n, cap;
};

struct kh_metrics {
	pthread_mutex_t lock; /* guards families */
	struct family *families;
	size_t n, cap;
	int attached;	     /* atomic */
	int apiserver;	     /* atomic, enum kh_apiserver_state */
	int64_t beat_ns;     /* atomic, CLOCK_MONOTONIC of the last heartbeat, 0 = never */
	int64_t stall_ns;    /* atomic, heartbeat age at which /healthz fails */
	uint64_t start_time; /* unix seconds, for keyhole_start_time_seconds */
	struct metrics_server *server;
};

static int valid_name(const char *s, int colon_ok)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || (colon_ok && c == ':')))
			return 0;
	}
	return 1;
}

static double ready_gauge(void *ctx)
{
	return metrics__ready(ctx, NULL, 0);
}

/* build_info's value: always 1, the information is in the label */
static const uint64_t one = 1;

struct kh_metrics *metrics__new(void)
{
	struct kh_metrics *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	m->start_time = (uint64_t)time(NULL);
	m->stall_ns = KH_METRICS_STALL_SEC * 1000000000LL;
	err =
	    metrics__add(m, &(struct kh_metric){.name = "keyhole_build_info",
						.help = "keyhole's version; the value is always 1",
						.type = KH_METRIC_GAUGE,
						.label_name = "version",
						.label_value = KEYHOLE_VERSION,
						.value = &one});
	if (!err)
		err = metrics__add(
		    m, &(struct kh_metric){.name = "keyhole_start_time_seconds",
					   .help = "when the agent started, in unix seconds",
					   .type = KH_METRIC_GAUGE,
					   .value = &m->start_time});
	if (!err)
		err = metrics__add(
		    m,
		    &(struct kh_metric){.name = "keyhole_ready",
					.help = "1 when the sources are attached and the apiserver "
						"is found or declared absent (see /readyz)",
					.type = KH_METRIC_GAUGE,
					.fn = ready_gauge,
					.ctx = m});
	if (err) {
		metrics__free(m);
		errno = -err;
		return NULL;
	}
	return m;
}

void metrics__free(struct kh_metrics *m)
{
	if (!m)
		return;
	metrics_server__stop(m->server);
	for (size_t i = 0; i < m->n; i++) {
		struct family *f = &m->families[i];

		for (size_t j = 0; j < f->n; j++) {
			free(f->samples[j].label_name);
			free(f->samples[j].label_value);
		}
		free(f->samples);
		free(f->name);
		free(f->help);
	}
	free(m->families);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static int check_def(const struct kh_metric *d)
{
	if (!valid_name(d->name, 1) || !d->help || strchr(d->help, '\n'))
		return -EINVAL;
	if (!d->value == !d->fn)
		return -EINVAL;
	if (d->label_name &&
	    (!valid_name(d->label_name, 0) || !d->label_value || !strncmp(d->label_name, "__", 2)))
		return -EINVAL;
	if (d->type != KH_METRIC_COUNTER && d->type != KH_METRIC_GAUGE)
		return -EINVAL;
	return 0;
}

static struct family *family_get(struct kh_metrics *m, const struct kh_metric *d, int *err)
{
	struct family *f;

	for (size_t i = 0; i < m->n; i++) {
		f = &m->families[i];
		if (strcmp(f->name, d->name))
			continue;
		if (f->type != d->type) {
			*err = -EEXIST;
			return NULL;
		}
		return f;
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct family *nf = realloc(m->families, cap * sizeof(*nf));

		if (!nf)
			goto nomem;
		m->families = nf;
		m->cap = cap;
	}
	f = &m->families[m->n];
	memset(f, 0, sizeof(*f));
	f->type = d->type;
	f->name = strdup(d->name);
	f->help = strdup(d->help);
	if (!f->name || !f->help) {
		free(f->name);
		free(f->help);
		goto nomem;
	}
	m->n++;
	return f;
nomem:
	*err = -ENOMEM;
	return NULL;
}

/* same labels twice would be a duplicate series, which Prometheus rejects for the whole scrape */
static int sample_exists(const struct family *f, const struct kh_metric *d)
{
	for (size_t j = 0; j < f->n; j++) {
		const struct sample *s = &f->samples[j];

		if (!s->label_name != !d->label_name)
			continue;
		if (!s->label_name || (!strcmp(s->label_name, d->label_name) &&
				       !strcmp(s->label_value, d->label_value)))
			return 1;
	}
	return 0;
}

static int sample_add(struct family *f, const struct kh_metric *d)
{
	struct sample *s;

	if (sample_exists(f, d))
		return -EEXIST;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 4;
		struct sample *ns = realloc(f->samples, cap * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		f->samples = ns;
		f->cap = cap;
	}
	s = &f->samples[f->n];
	memset(s, 0, sizeof(*s));
	if (d->label_name) {
		s->label_name = strdup(d->label_name);
		s->label_value = strdup(d->label_value);
		if (!s->label_name || !s->label_value) {
			free(s->label_name);
			free(s->label_value);
			return -ENOMEM;
		}
	}
	s->value = d->value;
	s->fn = d->fn;
	s->ctx = d->ctx;
	f->n++;
	return 0;
}

int metrics__add(struct kh_metrics *m, const struct kh_metric *def)
{
	struct family *f;
	int err = check_def(def);

	if (!m)
		return 0;
	if (err)
		return err;
	pthread_mutex_lock(&m->lock);
	f = family_get(m, def, &err);
	if (f)
		err = sample_add(f, def);
	pthread_mutex_unlock(&m->lock);
	return err;
}

int metrics__add_counter(struct kh_metrics *m, const char *name, const char *help,
			 const uint64_t *value)
{
	return metrics__add(
	    m, &(struct kh_metric){
		   .name = name, .help = help, .type = KH_METRIC_COUNTER, .value = value});
}

/* HELP text escapes backslash and newline; label values also escape the double quote */
static void put_escaped(FILE *out, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (quote && *s == '"')
			fputs("\\\"", out);
		else
			fputc(*s, out);
	}
}

static void put_value(FILE *out, const struct sample *s)
{
	double v;

	if (s->value) {
		fprintf(out, "%" PRIu64 "\n", __atomic_load_n(s->value, __ATOMIC_RELAXED));
		return;
	}
	v = s->fn(s->ctx);
	if (isnan(v))
		fputs("NaN\n", out);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf\n" : "-Inf\n", out);
	else
		fprintf(out, "%.15g\n", v); /* the most digits that survive a round trip */
}

int metrics__render(struct kh_metrics *m, FILE *out)
{
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n; i++) {
		const struct family *f = &m->families[i];

		fprintf(out, "# HELP %s ", f->name);
		put_escaped(out, f->help, 0);
		fprintf(out, "\n# TYPE %s %s\n", f->name,
			f->type == KH_METRIC_COUNTER ? "counter" : "gauge");
		for (size_t j = 0; j < f->n; j++) {
			const struct sample *s = &f->samples[j];

			fputs(f->name, out);
			if (s->label_name) {
				fprintf(out, "{%s=\"", s->label_name);
				put_escaped(out, s->label_value, 1);
				fputs("\"}", out);
			}
			fputc(' ', out);
			put_value(out, s);
		}
	}
	pthread_mutex_unlock(&m->lock);
	return ferror(out) ? -EIO : 0;
}

void metrics__set_attached(struct kh_metrics *m, int attached)
{
	if (m)
		__atomic_store_n(&m->attached, !!attached, __ATOMIC_RELAXED);
}

void metrics__set_apiserver(struct kh_metrics *m, enum kh_apiserver_state state)
{
	if (m)
		__atomic_store_n(&m->apiserver, (int)state, __ATOMIC_RELAXED);
}

void metrics__heartbeat(struct kh_metrics *m)
{
	if (m)
		__atomic_store_n(&m->beat_ns, clock__ns(CLOCK_MONOTONIC), __ATOMIC_RELAXED);
}

void metrics__set_stall_timeout(struct kh_metrics *m, unsigned int seconds)
{
	if (m)
		__atomic_store_n(&m->stall_ns, (int64_t)seconds * 1000000000LL, __ATOMIC_RELAXED);
}

static void say(char *buf, size_t len, const char *msg)
{
	if (buf && len)
		snprintf(buf, len, "%s", msg);
}

int metrics__healthy(struct kh_metrics *m, char *buf, size_t len)
{
	int64_t beat = __atomic_load_n(&m->beat_ns, __ATOMIC_RELAXED);
	int64_t age = clock__ns(CLOCK_MONOTONIC) - beat;

	if (beat && age > __atomic_load_n(&m->stall_ns, __ATOMIC_RELAXED)) {
		if (buf && len)
			snprintf(buf, len, "main loop stalled: no progress for %lld s",
				 (long long)(age / 1000000000));
		return 0;
	}
	say(buf, len, beat ? "ok" : "ok (starting)");
	return 1;
}

int metrics__ready(struct kh_metrics *m, char *buf, size_t len)
{
	int attached = __atomic_load_n(&m->attached, __ATOMIC_RELAXED);
	int api = __atomic_load_n(&m->apiserver, __ATOMIC_RELAXED);

	if (!attached) {
		say(buf, len, "not ready: audit sources not attached yet");
		return 0;
	}
	if (api == KH_APISERVER_UNKNOWN) {
		say(buf, len, "not ready: no kube-apiserver found yet");
		return 0;
	}
	say(buf, len,
	    api == KH_APISERVER_FOUND ? "ready: capturing the kube-apiserver"
				      : "ready: no kube-apiserver expected here");
	return 1;
}

int metrics__serve(struct kh_metrics *m, const char *addr)
{
	static const struct metrics_server_pages pages = {
	    .render = metrics__render, .healthy = metrics__healthy, .ready = metrics__ready};

	if (m->server)
		return -EALREADY;
	m->server = metrics_server__start(&pages, m, addr);
	return m->server ? 0 : -errno;
}

int metrics__port(const struct kh_metrics *m)
{
	return m && m->server ? metrics_server__port(m->server) : 0;
}
