/* SPDX-License-Identifier: Apache-2.0 */
/*
 * model: what a report holds once every input is read, shared by the HTML and Markdown writers.
 * Every collection is bounded (REPORT_MAX_*); what a bound drops is counted and the report says
 * so.
 */
#ifndef KEYHOLE_REPORT_MODEL_H
#define KEYHOLE_REPORT_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define REPORT_MAX_FILES 100000
#define REPORT_MAX_ALERTS 200000
#define REPORT_MAX_INCIDENTS 2000
#define TALLY_MAX 8192

struct tally_ent {
	char *key;
	uint64_t n;
};

struct keytab;

/* counts by string key; past TALLY_MAX keys, new ones count as "other" */
struct tally {
	struct keytab *t; /* key -> struct tally_ent; made at the first key */
	size_t n;	  /* keys counted */
	uint64_t other;
};

int tally__add(struct tally *t, const char *key, size_t len, uint64_t n);
int tally__seen(struct tally *t, const char *key); /* adds it; 1 if it was there already */
/* the @k largest, sorted (ties by key); *out is malloc'd (pointers into @t). Returns the count. */
size_t tally__top(const struct tally *t, size_t k, const struct tally_ent ***out);
void tally__free(struct tally *t);

struct rep_file {
	char *name;
	int baseline;
	uint64_t events, malformed;
	int64_t first_ns, last_ns;
};

struct rep_alert {
	int64_t t_ns;
	char *time, *severity, *rule, *user, *ip, *ua, *verb, *object, *incident, *decision;
	long long revision, risk;
};

struct rep_incident {
	char *id;
	long long revision;
	char *json; /* the latest revision's alert line */
	size_t json_len;
	unsigned revisions_seen;
};

struct kh_report {
	struct rep_file *files;
	size_t n_files, cap_files;
	struct rep_alert *alerts;
	size_t n_alerts, cap_alerts;
	uint64_t alerts_dropped, not_alerts;
	struct rep_incident *inc;
	size_t n_inc;
	uint64_t inc_dropped;
	struct tally principals;
	struct tally sec_user, sec_ip, sec_ua, sec_ids;
	struct tally rule_sev; /* "rule\tseverity" */
	uint64_t events, malformed, secret_events;
	int64_t first_ns, last_ns; /* every event read, baseline included */
};

/* ns since the epoch as "2026-11-23 14:20:39" UTC (seconds), into @buf */
const char *report__fmt_time(int64_t ns, char *buf, size_t sz);
/* "2h 3m", "45s" */
const char *report__fmt_dur(int64_t ns, char *buf, size_t sz);

int report__write_html(const struct kh_report *r, FILE *out);
int report__write_markdown(const struct kh_report *r, FILE *out);

#endif /* KEYHOLE_REPORT_MODEL_H */
