// SPDX-License-Identifier: Apache-2.0
/*
 * cluster_fact: what cluster mode's facts need from the correlator (include/keyhole/correlate.h):
 * which events are escalation steps (they go to every partition) and an RBAC body rewritten to
 * what rbac_json reads from it, so that the body a fact carries holds nothing else.
 */
#include <string.h>

#include "correlate/grant.h"
#include "correlate/rbac_json.h"
#include "keyhole/correlate.h"
#include "keyhole/json_out.h"

bool correlate__is_escalation(const struct audit_event *ev)
{
	return grant__classify(ev) & (KH_CLS_BINDING | KH_CLS_ROLE_VERB | KH_CLS_IMPERSONATION |
				      KH_CLS_SA_TOKEN | KH_CLS_ROLE_WRITE);
}

static void kv_opt(struct json_out *j, const char *k, struct kstr s)
{
	if (kstr_present(s))
		json_kv_kstr(j, k, s);
}

/* the RBAC object as the correlator reads it, and nothing else (rbac_json reads it back alike) */
static void put_rbac(struct json_out *j, const struct kh_rbac_object *o)
{
	json_obj_begin(j);
	kv_opt(j, "kind", o->kind);
	json_key(j, "metadata");
	json_obj_begin(j);
	kv_opt(j, "name", o->name);
	kv_opt(j, "namespace", o->namespace_);
	if (o->flags & KH_RBAC_HELM) {
		json_key(j, "labels");
		json_obj_begin(j);
		json_kv_str(j, "app.kubernetes.io/managed-by", "Helm");
		json_obj_end(j);
	}
	json_obj_end(j);
	if (kstr_present(o->role_kind) || kstr_present(o->role_name)) {
		json_key(j, "roleRef");
		json_obj_begin(j);
		kv_opt(j, "kind", o->role_kind);
		kv_opt(j, "name", o->role_name);
		json_obj_end(j);
	}
	if (o->flags & KH_RBAC_SUBJECTS_SEEN) {
		json_key(j, "subjects");
		json_arr_begin(j);
		for (uint32_t i = 0; i < o->total_subjects; i++) {
			json_obj_begin(j);
			if (i < o->n_subjects) {
				kv_opt(j, "kind", o->subjects[i].kind);
				kv_opt(j, "name", o->subjects[i].name);
				kv_opt(j, "namespace", o->subjects[i].namespace_);
			} else { /* past the bound: counted by the reader, not kept */
				json_kv_str(j, "kind", "User");
				json_kv_str(j, "name", "");
			}
			json_obj_end(j);
		}
		json_arr_end(j);
	}
	if (o->flags & (KH_RBAC_RULES_WILDCARD | KH_RBAC_RULES_SECRETS)) {
		json_key(j, "rules");
		json_arr_begin(j);
		json_obj_begin(j);
		json_key(j, "apiGroups");
		json_arr_begin(j);
		json_str(j, o->flags & KH_RBAC_RULES_WILDCARD ? "*" : "");
		json_arr_end(j);
		json_key(j, "resources");
		json_arr_begin(j);
		json_str(j, o->flags & KH_RBAC_RULES_WILDCARD ? "*" : "secrets");
		json_arr_end(j);
		json_key(j, "verbs");
		json_arr_begin(j);
		json_str(j, o->flags & KH_RBAC_RULES_WILDCARD ? "*" : "get");
		json_arr_end(j);
		json_obj_end(j);
		json_arr_end(j);
	}
	json_obj_end(j);
}

void correlate__write_rbac_summary(struct kstr span, struct json_out *j)
{
	struct kh_rbac_object o;

	memset(&o, 0, sizeof(o));
	rbac_json_read(span, &o); /* partial: what was read travels */
	put_rbac(j, &o);
}
