/* SPDX-License-Identifier: Apache-2.0 */
/*
 * audit_event: one parsed audit.k8s.io Event line, the unit every rule and the correlator see.
 *
 * Every string is a kstr slice into the caller's line buffer: the event is valid only while that
 * buffer is. Only the fields the rules need are extracted; requestObject and responseObject are
 * located (their raw JSON span) but never decoded here, so secret payloads are never copied.
 */
#ifndef KEYHOLE_AUDIT_EVENT_H
#define KEYHOLE_AUDIT_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "keyhole/kstr.h"

/*
 * Bounds on the lists an event carries. Real users have a handful of groups and the apiserver
 * records one or two source IPs (client, then proxies); past the bound the rest are counted in
 * the list's total but not kept.
 */
#define KH_MAX_GROUPS 32
#define KH_MAX_SOURCE_IPS 8

struct kh_strlist {
	struct kstr v[KH_MAX_GROUPS];
	uint32_t n;	/* entries kept in v */
	uint32_t total; /* entries in the line (>= n) */
};

struct kh_iplist {
	struct kstr v[KH_MAX_SOURCE_IPS];
	uint32_t n;
	uint32_t total;
};

struct kh_user {
	struct kstr username;
	struct kstr uid;
	struct kh_strlist groups;
	struct kstr extra_pod_name; /* extra["authentication.kubernetes.io/pod-name"][0] */
	struct kstr extra;	    /* the raw span of the whole extra object, validated */
	int present;		    /* the object appeared in the line */
};

struct kh_object_ref {
	struct kstr resource;
	struct kstr subresource;
	struct kstr namespace_;
	struct kstr name;
	struct kstr api_group;
	struct kstr api_version;
};

/* event flags */
#define KH_EV_TRUNCATED 0x1u /* captured line lost its middle (head and tail kept) */

struct audit_event {
	const char *line; /* the raw line the slices point into */
	size_t len;

	struct kstr kind;	 /* "Event" */
	struct kstr api_version; /* audit.k8s.io/v1 (or v1beta1) */
	struct kstr level;	 /* Metadata, Request, RequestResponse */
	struct kstr audit_id;
	struct kstr stage; /* RequestReceived, ResponseStarted, ResponseComplete, Panic */
	struct kstr request_uri;
	struct kstr verb;
	struct kh_user user;
	struct kh_user impersonated_user;
	struct kh_iplist source_ips;
	struct kstr user_agent;
	struct kh_object_ref object_ref;
	int object_ref_present;
	int32_t response_code;			/* responseStatus.code, -1 when absent */
	struct kstr request_received_timestamp; /* raw RFC 3339 text */
	struct kstr stage_timestamp;
	struct kstr legacy_timestamp; /* "timestamp" of pre-v1 events: the time when the two
				       * above are absent (audit2rbac-era logs carry only it) */
	int64_t request_received_ns;  /* parsed, ns since the epoch; 0 when absent or invalid */
	int64_t stage_ns;
	struct kstr decision;	     /* annotations["authorization.k8s.io/decision"] */
	struct kstr reason;	     /* annotations["authorization.k8s.io/reason"] */
	struct kstr request_object;  /* raw JSON value span ({...}), not decoded */
	struct kstr response_object; /* raw JSON value span, located only to be skipped */
	uint32_t flags;		     /* KH_EV_* */
};

/* the event's own time: stageTimestamp, else requestReceivedTimestamp (ns since the epoch) */
static inline int64_t audit_event_time_ns(const struct audit_event *ev)
{
	return ev->stage_ns ? ev->stage_ns : ev->request_received_ns;
}

#endif /* KEYHOLE_AUDIT_EVENT_H */
