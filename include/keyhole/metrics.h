/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics: a small registry of counters and gauges, rendered in the Prometheus text format, and
 * the HTTP endpoint that serves it with the agent's health (`--metrics ADDR:PORT`).
 *
 * Any module registers what it counts without this module knowing it: a pointer to a uint64_t it
 * already keeps (read at scrape time), or a function computed at scrape time (e.g. summing a
 * per-CPU BPF map). Counters are written by the agent's thread with plain increments and read by
 * the server thread with relaxed atomic loads: on the 64-bit targets keyhole supports (x86_64,
 * arm64) an aligned 64-bit store is single-copy atomic, so a scrape sees a value that was really
 * there, never a torn one, and the hot path pays nothing for it.
 *
 * Health: /healthz answers 200 while the agent's main loop beats (metrics__heartbeat) or before
 * it has started beating; /readyz answers 200 once the sources are attached and the apiserver
 * was found (or is explicitly declared absent). Both name what is missing when they answer 503.
 */
#ifndef KEYHOLE_METRICS_H
#define KEYHOLE_METRICS_H

#include <stdint.h>
#include <stdio.h>

enum kh_metric_type { KH_METRIC_COUNTER, KH_METRIC_GAUGE };

/* One sample to register; strings are copied. Exactly one of value and fn is set. */
struct kh_metric {
	const char *name; /* [a-zA-Z_:][a-zA-Z0-9_:]*, e.g. "keyhole_events_total" */
	const char *help; /* one line; the first registration of a name sets it */
	enum kh_metric_type type;
	const char *label_name;	 /* optional single label, e.g. "rule" */
	const char *label_value; /* its value (escaped on output) */
	const uint64_t *value;	 /* read at scrape time; must outlive the registry entry */
	double (*fn)(void *ctx); /* or computed at scrape time, in the server's thread */
	void *ctx;
};

/* where the agent's audit source stands, for /readyz */
enum kh_apiserver_state {
	KH_APISERVER_UNKNOWN = 0, /* still looking */
	KH_APISERVER_FOUND,	  /* a kube-apiserver process is being tapped */
	KH_APISERVER_ABSENT,	  /* none expected here (file source, or explicitly not required) */
};

struct kh_metrics;
struct kh_counters;

/* Returns NULL with errno set. Registers keyhole_build_info and keyhole_ready. */
struct kh_metrics *metrics__new(void);
/* Stops the server (if any) first, so no scrape reads freed counters. NULL is a no-op. */
void metrics__free(struct kh_metrics *m);

/*
 * Register one sample. Returns 0, -EINVAL for a bad name/label or both/neither of value and fn,
 * -EEXIST for a name registered with the other type or the same (name, label value) twice,
 * -ENOMEM. Safe to call while the server runs. NULL @m is a no-op returning 0, so callers may
 * register unconditionally.
 */
int metrics__add(struct kh_metrics *m, const struct kh_metric *def);

/* shorthand: an unlabelled counter read from *value */
int metrics__add_counter(struct kh_metrics *m, const char *name, const char *help,
			 const uint64_t *value);

/*
 * Register the pipeline's counters (events in, parsed, malformed, truncated, alerts by rule,
 * ...). @c must outlive the registry; defined in metrics_pipeline.c.
 */
int metrics__add_pipeline(struct kh_metrics *m, const struct kh_counters *c);
/* the Sigma rules' alert series not yet registered (after a reload brought new ids) */
int metrics__add_sigma(struct kh_metrics *m, const struct kh_counters *c);

/*
 * Register the counters the rules' states keep (the exec join's, ...), each labelled with its
 * rule's id. @r must outlive the registry; defined in metrics_pipeline.c.
 */
struct kh_rules;
int metrics__add_rules(struct kh_metrics *m, const struct kh_rules *r);

/*
 * Register the escalate-then-loot correlator's counters and table sizes (keyhole_correlate_*);
 * @st from pipeline__correlate_stats() (NULL: nothing to register). Defined in
 * metrics_correlate.c.
 */
struct kh_correlate_stats;
int metrics__add_correlate(struct kh_metrics *m, const struct kh_correlate_stats *st);

/* Write every sample in the Prometheus text exposition format 0.0.4. Returns 0 or -EIO. */
int metrics__render(struct kh_metrics *m, FILE *out);

/* readiness inputs, set by the run command; NULL @m is a no-op */
void metrics__set_attached(struct kh_metrics *m, int attached);
void metrics__set_apiserver(struct kh_metrics *m, enum kh_apiserver_state state);
/* the main loop calls this at least every few seconds; /healthz fails after 30 s of silence */
void metrics__heartbeat(struct kh_metrics *m);
/* change that 30 s (a loop that legitimately blocks longer must raise it) */
void metrics__set_stall_timeout(struct kh_metrics *m, unsigned int seconds);

/*
 * Health texts: fill @buf with a one-line reason and return 1 when healthy/ready, 0 when not.
 * The HTTP endpoint answers with these; exposed for tests and `keyhole probe`.
 */
int metrics__healthy(struct kh_metrics *m, char *buf, size_t len);
int metrics__ready(struct kh_metrics *m, char *buf, size_t len);

/*
 * Serve /metrics, /healthz and /readyz on @addr: "HOST:PORT", "[V6HOST]:PORT" or ":PORT"
 * (all IPv4 addresses: for a pod's own network namespace). HOST is numeric, never resolved.
 * PORT 0 picks a free port (see metrics__port). Runs in its own thread until metrics__free.
 * Returns 0 or a negative errno, reported here with the address.
 */
int metrics__serve(struct kh_metrics *m, const char *addr);
/* the bound port, or 0 when not serving */
int metrics__port(const struct kh_metrics *m);

#endif /* KEYHOLE_METRICS_H */
