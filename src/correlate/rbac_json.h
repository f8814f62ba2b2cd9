/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rbac_json: reads the few fields the correlator needs from an RBAC requestObject.
 *
 * The parser hands the correlator requestObject as a raw JSON span, undecoded. For bindings and
 * roles logged at Request or RequestResponse level this walks that span once and picks out
 * subjects[] (kind, name, namespace), roleRef (kind, name), metadata (name, namespace, the Helm
 * markers) and whether rules[] grant wildcards or secret reads; everything else is skipped by
 * structure, unread. It also understands the two patch shapes kubectl and controllers send: a
 * merge/strategic patch (an object shaped like the resource) and a JSON patch (an array of
 * {op, path, value}). Values are kstr slices into the span, so nothing is copied, and the walker
 * is only ever pointed at RBAC objects: a Secret's payload is never walked.
 */
#ifndef KEYHOLE_CORRELATE_RBAC_JSON_H
#define KEYHOLE_CORRELATE_RBAC_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "keyhole/kstr.h"

/* A binding names a handful of subjects; more are counted in total_subjects, not kept. */
#define KH_RBAC_MAX_SUBJECTS 16
/* JSON nesting the walker follows before giving up on the object (RBAC objects are shallow) */
#define KH_RBAC_MAX_DEPTH 32

struct kh_rbac_subject {
	struct kstr kind; /* User, Group, ServiceAccount */
	struct kstr name;
	struct kstr namespace_; /* ServiceAccount only; absent means the binding's namespace */
};

/* rbac object flags */
#define KH_RBAC_SUBJECTS_SEEN 0x1u  /* a subjects list (or subject patch op) was present */
#define KH_RBAC_RULES_WILDCARD 0x2u /* some rule has verbs "*" and resources "*" */
#define KH_RBAC_RULES_SECRETS 0x4u  /* some rule lets get/list/watch (or "*") read secrets */
#define KH_RBAC_HELM 0x8u	    /* managed-by Helm label or a meta.helm.sh/release-name */
#define KH_RBAC_JSON_PATCH 0x10u    /* the span was a JSON patch (array of operations) */
#define KH_RBAC_PARTIAL 0x20u	    /* malformed or too deep: what was read before is kept */

struct kh_rbac_object {
	struct kstr kind; /* ClusterRoleBinding, RoleBinding, Role, ClusterRole, ... */
	struct kstr name; /* metadata.name */
	struct kstr namespace_;
	struct kstr role_kind; /* roleRef.kind */
	struct kstr role_name; /* roleRef.name */
	struct kh_rbac_subject subjects[KH_RBAC_MAX_SUBJECTS];
	uint32_t n_subjects;	 /* kept in subjects[] */
	uint32_t total_subjects; /* seen in the object (>= n_subjects) */
	uint32_t flags;		 /* KH_RBAC_* */
};

/*
 * Read @span (a JSON object or array, as audit_event.request_object holds it) into @out. Returns
 * 0 when the span was read whole, -EINVAL when it is absent, not an object or array, malformed
 * or whose RBAC fields nest deeper than KH_RBAC_MAX_DEPTH (values stepped over may nest to any
 * depth); fields read before the problem stay in @out and
 * KH_RBAC_PARTIAL is set.
 */
int rbac_json__read(struct kstr span, struct kh_rbac_object *out);

#endif /* KEYHOLE_CORRELATE_RBAC_JSON_H */
