// SPDX-License-Identifier: Apache-2.0
/*
 * k8s-secret-access-non-controller: Sigma "Kubernetes Secret Access / Exfiltration" (seed 004;
 * id 3d9c1f75-6b48-4a29-8e17-5f2b7c4a1e09, level high):
 *
 *   selection:          objectRef.resource: 'secrets'
 *                       verb: [get, list, watch]
 *   filter_controllers: user.username|startswith: [system:serviceaccount:kube-system:,
 *                         system:serviceaccount:cert-manager:,
 *                         system:serviceaccount:external-secrets:]
 *   condition: selection and not filter_controllers
 *
 * Sigma matches strings case-insensitively unless told otherwise. The selection follows that
 * (it can only widen what alerts: the apiserver itself writes resources and verbs in lower case).
 * The allowlist deliberately does not: Kubernetes usernames are case-sensitive, so
 * "SYSTEM:SERVICEACCOUNT:KUBE-SYSTEM:x" (say, a client certificate's CN) is not a kube-system
 * service account, and a case-insensitive filter would let it read secrets unseen.
 * Sigma has no risk score; level high is given Elastic's score for high, 73.
 */
#include <stdlib.h>

#include "keyhole/emit.h"
#include "rules/rules.h"

static const struct kh_rule_info info = {
    .id = "k8s-secret-access-non-controller",
    .uuid = "3d9c1f75-6b48-4a29-8e17-5f2b7c4a1e09",
    .name = "Kubernetes Secret Access / Exfiltration",
    .severity = "high",
    .risk_score = 73,
    .techniques = {"T1552", "T1552.007"}, /* tags: attack.credential_access, attack.t1552.007 */
    .source = "seed 004 (Sigma rule 3d9c1f75-6b48-4a29-8e17-5f2b7c4a1e09)",
};

const struct secret_access_non_controller_tun secret_access_non_controller_defaults = {
    .controller_prefixes = {"system:serviceaccount:kube-system:",
			    "system:serviceaccount:cert-manager:",
			    "system:serviceaccount:external-secrets:"},
};

static const char *const read_verbs[] = {"get", "list", "watch", NULL};

void *secret_access_non_controller__new_with(const struct secret_access_non_controller_tun *t)
{
	struct secret_access_non_controller_tun *s = malloc(sizeof(*s));

	if (s)
		*s = *t;
	return s;
}

#define T struct secret_access_non_controller_tun
static const struct kh_config_key config_keys[] = {
    KH_CFG_LIST_KEY("controller_prefixes", T, controller_prefixes,
		    "user.username prefixes of controllers allowed to read secrets"),
    KH_CFG_END,
};
#undef T

static void *state_new(const struct kh_config *cfg)
{
	struct secret_access_non_controller_tun t = secret_access_non_controller_defaults;

	config__rule_apply(cfg, info.id, config_keys, &t);
	return secret_access_non_controller__new_with(&t);
}

static void on_event(void *state, const struct audit_event *ev, struct kh_emit *e)
{
	const struct secret_access_non_controller_tun *t = state;

	if (!match__eq_nocase(ev->object_ref.resource, "secrets") ||
	    !match__any_eq_nocase(ev->verb, read_verbs))
		return;
	if (match__any_prefix(ev->user.username, t->controller_prefixes))
		return;
	if (emit__alert_begin(e, &info, ev))
		emit__alert_end(e, NULL, 0);
}

const struct kh_rule rule_secret_access_non_controller = {
    .info = &info,
    .state_new = state_new,
    .state_free = free,
    .on_event = on_event,
    .config_keys = config_keys,
    .config_defaults = &secret_access_non_controller_defaults,
};
