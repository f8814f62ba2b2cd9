// SPDX-License-Identifier: Apache-2.0
/*
 * cluster: start and stop cluster mode, queue facts, report its counters.
 *
 * The capturing thread calls cluster__publish() from the pipeline's fact hook; it encodes the
 * fact there (the event's slices are valid only during the call) and queues the bytes. The
 * publisher and correlator threads each hold their own Redis connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cluster/cluster_impl.h"
#include "cluster/disk_queue.h"
#include "cluster/fact.h"
#include "cluster/node_fact.h"
#include "cluster/node_feed.h"
#include "cluster/tls_link.h"
#include "keyhole/clock.h"
#include "keyhole/config.h"
#include "keyhole/log.h"
#include "keyhole/rules_engine.h"

const char *cluster_role__name(enum kh_cluster_role r)
{
	return r == KH_ROLE_CONTROL_PLANE ? "control-plane" : r == KH_ROLE_NODE ? "node" : "auto";
}

void cluster_opts__defaults(struct kh_cluster_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->name = "keyhole";
	o->role = KH_ROLE_AUTO;
	o->partitions = 4;
	o->lease_ns = 10ll * 1000000000;
	o->lag_ns = 2ll * 1000000000;
	o->queue_max = 100000;
	o->stream_maxlen = 1000000;
	o->dedup_ttl_ns = 7ll * 24 * 3600 * 1000000000;
	o->queue_max_bytes = 1ull << 30;
}

void cluster_opts__from_config(struct kh_cluster_opts *o, const struct kh_config *cfg)
{
	const struct kh_cluster_config *k;

	cluster_opts__defaults(o);
	if (!cfg)
		return;
	k = &cfg->cluster;
	o->url = k->url;
	o->user = k->user;
	o->password_file = k->password_file;
	if (k->name)
		o->name = k->name;
	o->node_name = k->node_name;
	if (k->role && !strcmp(k->role, "control-plane"))
		o->role = KH_ROLE_CONTROL_PLANE;
	else if (k->role && !strcmp(k->role, "node"))
		o->role = KH_ROLE_NODE;
	o->partitions = k->partitions;
	o->lease_ns = k->lease_ns;
	o->lag_ns = k->lag_ns;
	o->queue_max = k->queue_max;
	o->stream_maxlen = k->stream_maxlen;
	o->dedup_ttl_ns = k->alert_fence_ttl_ns;
	o->tls_ca_file = k->tls_ca_file;
	o->tls_cert_file = k->tls_cert_file;
	o->tls_key_file = k->tls_key_file;
	o->tls_server_name = k->tls_server_name;
	o->queue_dir = k->queue_dir;
	o->queue_max_bytes = k->queue_max_bytes;
	o->cfg = cfg;
}

static int check_name(const char *what, const char *s)
{
	if (!s || !*s || strlen(s) > 200 || strpbrk(s, " \t\r\n")) {
		kh_log(KH_LOG_ERROR, "cluster: %s '%s' must be 1 to 200 characters without blanks",
		       what, s ? s : "");
		return -EINVAL;
	}
	return 0;
}

static int setup(struct kh_cluster *c, const struct kh_cluster_opts *o)
{
	char err[512];
	uint64_t tag = 0;
	int e;

	if (!o->url) {
		kh_log(KH_LOG_ERROR, "cluster: no URL (--cluster or cluster.url)");
		return -EINVAL;
	}
	if (bus_url__parse(o->url, &c->url, err, sizeof(err))) {
		kh_log(KH_LOG_ERROR, "%s", err);
		return -EINVAL;
	}
	if (o->user &&
	    snprintf(c->url.user, sizeof(c->url.user), "%s", o->user) >= (int)sizeof(c->url.user)) {
		kh_log(KH_LOG_ERROR, "cluster: user name too long");
		return -EINVAL;
	}
	if (o->password_file &&
	    (e = bus_url__read_password(&c->url, o->password_file, err, sizeof(err)))) {
		kh_log(KH_LOG_ERROR, "%s", err);
		return e;
	}
	if ((e = tls_link__configure(&c->url, o, err, sizeof(err)))) {
		kh_log(KH_LOG_ERROR, "%s", err);
		return e;
	}
	if (o->node_name)
		snprintf(c->node, sizeof(c->node), "%s", o->node_name);
	else if (gethostname(c->node, sizeof(c->node) - 1))
		snprintf(c->node, sizeof(c->node), "unknown");
	if (check_name("cluster.name", o->name) || check_name("node name", c->node))
		return -EINVAL;
	if (getrandom(&tag, sizeof(tag), 0) != sizeof(tag))
		tag = (uint64_t)clock__ns(CLOCK_MONOTONIC);
	snprintf(c->owner, sizeof(c->owner), "%s/%d/%016llx", c->node, (int)getpid(),
		 (unsigned long long)tag);
	c->q = calloc(o->queue_max, sizeof(*c->q));
	if (!c->q) {
		kh_log(KH_LOG_ERROR,
		       "cluster: no memory for a queue of %u facts (cluster.queue_max)",
		       o->queue_max);
		return -ENOMEM;
	}
	e = cluster_disk__open(c);
	if (e == -ENOMEM) /* the disk queue names its other errors itself */
		kh_log(KH_LOG_ERROR, "cluster disk queue %s: out of memory", o->queue_dir);
	return e;
}

/* one attempt now, so a refused login or a TLS URL stops the start with its reason */
static int first_contact(struct kh_cluster *c)
{
	char err[512];
	enum bus_fail f;

	bus__init(&c->pub_bus, &c->url, "publisher");
	c->pub_bus.quiet = true; /* said below, once */
	f = bus__ensure(&c->pub_bus, err, sizeof(err));
	c->pub_bus.quiet = false;
	if (f == BUS_FAIL_CONFIG) {
		kh_log(KH_LOG_ERROR, "cluster: %s", err);
		return -EACCES;
	}
	if (c->dq) {
		struct dq_stats s;

		dq__stats(c->dq, &s);
		atomic_store(&c->queued, s.pending);
	}
	if (f == BUS_OK)
		kh_log(KH_LOG_INFO,
		       "cluster: connected to redis at %s:%d as node %s (%s role), "
		       "keys %s:*",
		       c->url.host, c->url.port, c->node, cluster_role__name(c->o.role), c->o.name);
	else
		kh_log(KH_LOG_WARN,
		       "cluster: redis not reachable yet (%s); facts queue (up to %u) "
		       "until it is",
		       err, c->o.queue_max);
	return 0;
}

/* the publisher, and the correlator of a control plane */
static int start_threads(struct kh_cluster *c)
{
	int e = pthread_create(&c->pub_thread, NULL, publisher__main, c);

	c->pub_started = !e;
	if (!e && c->o.role == KH_ROLE_CONTROL_PLANE) {
		e = pthread_create(&c->cor_thread, NULL, correlator__main, c);
		c->cor_started = !e;
	}
	if (e)
		kh_log(KH_LOG_ERROR, "cluster: cannot start its threads: %s", strerror(e));
	return -e;
}

/* every failure is reported here, once: the caller adds nothing */
int cluster__start(const struct kh_cluster_opts *o, struct kh_cluster **out)
{
	struct kh_cluster *c = calloc(1, sizeof(*c));
	int err;

	if (!c) {
		kh_log(KH_LOG_ERROR, "cluster: out of memory");
		return -ENOMEM;
	}
	c->o = *o;
	if (!c->o.partitions || !c->o.queue_max || c->o.lease_ns <= 0) {
		kh_log(KH_LOG_ERROR, "cluster: partitions, queue_max and lease must be above 0");
		free(c);
		return -EINVAL;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	json_out__init(&c->j);
	err = setup(c, o);
	if (!err)
		err = first_contact(c);
	if (!err)
		err = start_threads(c);
	if (err) {
		cluster__stop(c);
		cluster__free(c);
		return err;
	}
	*out = c;
	return 0;
}

/* queue the encoded fact in c->j for @partition (-1: all, QF_EXEC_STREAM: the exec stream) */
static void enqueue(struct kh_cluster *c, int32_t partition)
{
	struct queued_fact f;

	f.len = (uint32_t)c->j.len;
	f.line = malloc(f.len + 1);
	if (!f.line) {
		atomic_fetch_add(&c->dropped, 1);
		return;
	}
	memcpy(f.line, c->j.buf, f.len + 1);
	f.partition = partition;
	if (c->dq) {
		cluster_disk__publish(c, f.line, f.len, f.partition);
		free(f.line);
		return;
	}
	pthread_mutex_lock(&c->mu);
	if (c->q_len == c->o.queue_max) {
		pthread_mutex_unlock(&c->mu);
		free(f.line);
		atomic_fetch_add(&c->dropped, 1);
		return;
	}
	f.seq = atomic_fetch_add(&c->issued, 1) + 1;
	c->q[(c->q_head + c->q_len) % c->o.queue_max] = f;
	c->q_len++;
	atomic_store(&c->queued, c->q_len);
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void cluster__publish(void *ctx, const struct audit_event *ev)
{
	struct kh_cluster *c = ctx;
	int err;

	err = fact__encode(ev, c->node, c->o.partitions, &c->j);
	if (err) {
		atomic_fetch_add(err == -E2BIG ? &c->too_big : &c->dropped, 1);
		return;
	}
	enqueue(c, fact__broadcast(ev) ? -1 : (int32_t)fact__partition(ev, c->o.partitions));
	/* and to every node's exec join (node_feed.h) */
	if (rules__is_exec_request(ev))
		enqueue(c, QF_EXEC_STREAM);
}

void cluster__publish_node_read(void *ctx, const struct kh_node_secret_read *r)
{
	struct kh_cluster *c = ctx;

	if (node_fact__encode(r, c->node, &c->j)) {
		atomic_fetch_add(&c->dropped, 1);
		return;
	}
	enqueue(c, -1); /* the open names no principal: every partition's incidents look */
}

int cluster__start_node_feed(struct kh_cluster *c)
{
	int err = c->nf ? 0 : node_feed__start(c, &c->nf);

	if (err)
		kh_log(KH_LOG_ERROR, "cluster: cannot read the exec stream: %s", strerror(-err));
	return err;
}

size_t cluster__drain_exec_requests(struct kh_cluster *c,
				    int (*fn)(void *ctx, const char *line, size_t len), void *ctx)
{
	return c && c->nf ? node_feed__drain(c->nf, fn, ctx) : 0;
}

void cluster__stop(struct kh_cluster *c)
{
	if (!c)
		return;
	/* facts first, so the correlator's last reads see this instance's last facts */
	pthread_mutex_lock(&c->mu);
	c->stopping = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (c->pub_started)
		pthread_join(c->pub_thread, NULL);
	c->pub_started = false;
	node_feed__stop(c->nf);
	atomic_store(&c->cor_stop, true);
	if (c->cor_started)
		pthread_join(c->cor_thread, NULL);
	c->cor_started = false;
}

void cluster__free(struct kh_cluster *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->q_len; i++)
		free(c->q[(c->q_head + i) % c->o.queue_max].line);
	free(c->q);
	dq__close(c->dq);
	node_feed__free(c->nf);
	bus__fini(&c->pub_bus);
	json_out__free(&c->j);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	memset(&c->url, 0, sizeof(c->url)); /* the password */
	free(c);
}

void cluster__stats(struct kh_cluster *c, struct kh_cluster_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->facts_published = atomic_load(&c->published);
	s->facts_queued = atomic_load(&c->queued);
	s->facts_dropped = atomic_load(&c->dropped);
	s->facts_too_big = atomic_load(&c->too_big);
	s->facts_consumed = atomic_load(&c->consumed);
	s->facts_bad = atomic_load(&c->bad);
	s->facts_duplicate = atomic_load(&c->duplicates);
	s->fact_ids_evicted = atomic_load(&c->dedup_evicted);
	s->alerts_written = atomic_load(&c->written);
	s->alerts_fenced = atomic_load(&c->fenced);
	s->reconnects = atomic_load(&c->reconnects);
	s->partitions_owned = atomic_load(&c->owned);
	s->takeovers = atomic_load(&c->takeovers);
	s->bus_lag_ns = atomic_load(&c->lag_ns);
	s->connected = atomic_load(&c->connected);
	s->terms_loaded = atomic_load(&c->terms_loaded);
	s->terms_lost = atomic_load(&c->terms_lost);
	if (c->dq) {
		struct dq_stats d;

		dq__stats(c->dq, &d);
		s->disk_bytes = d.bytes;
		s->disk_recovered = d.recovered;
		s->disk_corrupt = d.corrupt;
		s->disk_write_errors = d.write_errors;
	}
	if (c->nf) {
		struct node_feed_stats f;

		node_feed__stats(c->nf, &f);
		s->exec_requests_received = f.received;
		s->exec_requests_fed = f.fed;
		s->exec_requests_dropped = f.dropped;
	}
}

uint64_t cluster__fact_mark(struct kh_cluster *c)
{
	return c ? atomic_load(&c->issued) : 0;
}

uint64_t cluster__fact_durable(struct kh_cluster *c)
{
	return c ? atomic_load(&c->durable) : 0;
}

void cluster__print_stats(struct kh_cluster *c, FILE *f)
{
	struct kh_cluster_stats s;

	cluster__stats(c, &s);
	fprintf(f,
		"keyhole: cluster: %llu facts published, %llu queued, %llu dropped, %llu too big; "
		"correlator: %llu facts consumed, %llu bad, %llu duplicate, %llu alerts written, "
		"%llu fenced, "
		"%llu partitions owned, %llu takeovers, %llu new terms loaded, %llu lost; "
		"%llu reconnects",
		(unsigned long long)s.facts_published, (unsigned long long)s.facts_queued,
		(unsigned long long)s.facts_dropped, (unsigned long long)s.facts_too_big,
		(unsigned long long)s.facts_consumed, (unsigned long long)s.facts_bad,
		(unsigned long long)s.facts_duplicate, (unsigned long long)s.alerts_written,
		(unsigned long long)s.alerts_fenced, (unsigned long long)s.partitions_owned,
		(unsigned long long)s.takeovers, (unsigned long long)s.terms_loaded,
		(unsigned long long)s.terms_lost, (unsigned long long)s.reconnects);
	if (c->dq)
		fprintf(f,
			"; disk queue: %llu bytes, %llu facts recovered at start, %llu damaged "
			"records, %llu write errors",
			(unsigned long long)s.disk_bytes, (unsigned long long)s.disk_recovered,
			(unsigned long long)s.disk_corrupt,
			(unsigned long long)s.disk_write_errors);
	fputc('\n', f);
	if (c->nf)
		fprintf(f,
			"keyhole: cluster node feed: %llu pods/exec requests of other instances "
			"read, %llu fed to the exec join, %llu dropped\n",
			(unsigned long long)s.exec_requests_received,
			(unsigned long long)s.exec_requests_fed,
			(unsigned long long)s.exec_requests_dropped);
}
