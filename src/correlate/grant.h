/* SPDX-License-Identifier: Apache-2.0 */
/*
 * grant: which audit events are steps of an escalate-then-loot sequence, and who gains what from
 * an escalation step.
 *
 * grant__classify() sorts an event into step kinds (one request can be two: an impersonated
 * secret read is both an escalation and loot). grant__new() turns a successful escalation step
 * into a struct kh_grant: an immutable, reference-counted record of the step (auditID, actor,
 * binding, role, the subjects as logged) with the principals that gained rights from it, which
 * the subject table and the incidents share. Its strings are decoded copies made once; nothing of
 * the request body is kept but subject and role names.
 */
#ifndef KEYHOLE_CORRELATE_GRANT_H
#define KEYHOLE_CORRELATE_GRANT_H

#include <stdbool.h>
#include <stdint.h>

#include "keyhole/audit_event.h"
#include "correlate/rbac_json.h"

/* step kinds, as they appear in the incident timeline */
enum kh_step_kind {
	KH_STEP_BINDING = 1,	  /* create/update/patch of a rolebinding or clusterrolebinding */
	KH_STEP_ROLE_VERB,	  /* escalate or bind on a role or clusterrole */
	KH_STEP_IMPERSONATION,	  /* a request made with impersonation */
	KH_STEP_SA_TOKEN,	  /* create of serviceaccounts/token */
	KH_STEP_SECRET_READ,	  /* get/list/watch of secrets */
	KH_STEP_EXEC,		  /* pods/exec or pods/attach */
	KH_STEP_NODE_SECRET_READ, /* a secret file read inside an exec session (node) */
	KH_STEP_PORT_FORWARD,	  /* pods/portforward: a follow-on step (tunnel into a pod) */
};

const char *step_kind__name(enum kh_step_kind k);

/* grant__classify() bits */
#define KH_CLS_BINDING (1u << KH_STEP_BINDING)
#define KH_CLS_ROLE_VERB (1u << KH_STEP_ROLE_VERB)
#define KH_CLS_IMPERSONATION (1u << KH_STEP_IMPERSONATION)
#define KH_CLS_SA_TOKEN (1u << KH_STEP_SA_TOKEN)
#define KH_CLS_SECRET_READ (1u << KH_STEP_SECRET_READ)
#define KH_CLS_EXEC (1u << KH_STEP_EXEC)
#define KH_CLS_PORT_FORWARD (1u << KH_STEP_PORT_FORWARD)
#define KH_CLS_ROLE_WRITE (1u << 15) /* create/update/patch of a role: learn wildcard roles */
#define KH_CLS_GRANT (KH_CLS_BINDING | KH_CLS_ROLE_VERB | KH_CLS_IMPERSONATION | KH_CLS_SA_TOKEN)

/* the step kinds @ev belongs to (0 for nearly every event); looks at no body */
unsigned grant__classify(const struct audit_event *ev);

/*
 * The request succeeded: the authorizer allowed it (when the decision is logged) and the response
 * was 1xx/2xx (when logged). Exec upgrades answer 101.
 */
bool grant__succeeded(const struct audit_event *ev);

/* how a principal gained from a grant, which sets how long the grant counts for it */
enum kh_via {
	KH_VIA_SUBJECT = 1, /* a subject of the binding (or the impersonator, the token holder) */
	KH_VIA_ACTOR,	    /* the actor of a binding it is not a subject of: actor window */
	KH_VIA_ACTOR_FALLBACK, /* the actor, because the subjects were not logged (see correlate.c)
				*/
	KH_VIA_BINDING,	       /* whoever the authorizer later says this very binding allowed */
};

/*
 * Principals are users and groups; a binding is tracked as a principal of its own so that a
 * request whose authorization reason names it ("RBAC: allowed by ClusterRoleBinding "x" ...")
 * finds the grant even when the binding's subjects were not logged.
 */
enum kh_principal { KH_PRINCIPAL_USER = 1, KH_PRINCIPAL_GROUP, KH_PRINCIPAL_BINDING };

/* how a beneficiary was named in the request */
enum kh_shown { KH_SHOWN_USER = 1, KH_SHOWN_GROUP, KH_SHOWN_SA, KH_SHOWN_ACTOR, KH_SHOWN_BINDING };

const char *shown__name(uint8_t shown);

struct kh_beneficiary {
	uint8_t principal; /* enum kh_principal */
	uint8_t via;	   /* enum kh_via */
	uint8_t shown;	   /* enum kh_shown: the subject kind as logged */
	const char *name;  /* username or group name (ServiceAccounts as system:serviceaccount:NS:N)
			    */
};

/* grant flags */
#define KH_GRANT_SUBJECTS_VISIBLE 0x1u /* the request body named the subjects */
#define KH_GRANT_CLUSTER_ADMIN 0x2u    /* roleRef is the cluster-admin ClusterRole */
#define KH_GRANT_WILDCARD 0x4u	       /* the role grants verbs "*" on resources "*" */
#define KH_GRANT_SECRETS_ROLE 0x8u     /* the role is known to read secrets */
#define KH_GRANT_HELM 0x10u	       /* the object is managed by Helm */

struct kh_grant {
	uint32_t refs;
	uint8_t kind; /* enum kh_step_kind */
	uint32_t flags;
	int64_t t_ns;	/* when it took effect: the request's completion */
	int64_t req_ns; /* when it was requested (timeline order) */
	const char *audit_id;
	const char *actor; /* user.username of the request */
	const char *verb;
	const char *resource; /* objectRef resource[/subresource] */
	const char *namespace_;
	const char *name;      /* binding, role, or service account name */
	const char *role_kind; /* roleRef, when logged */
	const char *role_name;
	const char *binding_key;  /* "ClusterRoleBinding/NAME" or "RoleBinding/NS/NAME" */
	const char *impersonated; /* impersonatedUser.username */
	const char *source_ip;
	uint32_t total_subjects; /* in the request body (beneficiaries keep at most 16) */
	uint32_t n_ben, cap_ben;
	struct kh_beneficiary *ben; /* in data[], sized for this grant */
	char data[];		    /* the beneficiaries, then the strings */
};

/*
 * A grant from @ev, a successful escalation step of kind @kind (KH_STEP_BINDING, _ROLE_VERB,
 * _IMPERSONATION or _SA_TOKEN), holding one reference. @obj is the binding's request body as
 * rbac_json__read() gave it, or NULL when the level did not log it; @role_flags are
 * KH_GRANT_* flags already known for the role it names. NULL when out of memory, and also for a
 * binding patch whose body is logged but changes neither subjects nor role (nothing granted).
 */
struct kh_grant *grant__new(const struct audit_event *ev, enum kh_step_kind kind,
			    const struct kh_rbac_object *obj, uint32_t role_flags);
struct kh_grant *grant__get(struct kh_grant *g);

/*
 * @a and @b give the same rights to the same principal: one actor impersonating one identity
 * again, or minting another token for the same account. Every impersonated request is its own
 * escalation step; only the first starts anything, the rest keep it alive. Bindings are never
 * the same: a second write of a binding may change its subjects.
 */
bool grant__same(const struct kh_grant *a, const struct kh_grant *b);
void grant__put(struct kh_grant *g);

/* KH_GRANT_* flags of the built-in roles that matter (cluster-admin, admin, edit) */
uint32_t grant__builtin_role_flags(struct kstr role_kind, struct kstr role_name);

/*
 * The binding an RBAC authorization reason names, as a binding key, and the role it binds:
 * "RBAC: allowed by RoleBinding "NAME/NS" of Role "ROLE" to ..." gives key "RoleBinding/NS/NAME"
 * and role Role/ROLE. False for other authorizers' reasons (Node, webhooks) and denials.
 */
struct kh_rbac_reason {
	char key[600];
	char role_kind[32];
	char role_name[256];
};
bool grant__parse_reason(struct kstr reason, struct kh_rbac_reason *out);

/* copy of the decoded value of @s (NUL-terminated), or NULL when absent or out of memory */
char *grant__kstr_dup(struct kstr s);

#endif /* KEYHOLE_CORRELATE_GRANT_H */
