/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emit_extra__write: a user's whole `extra` map into an alert (kubernetes.audit.user.extra).
 *
 * The apiserver puts what ties a request to one credential there: the token's JTI
 * (authentication.kubernetes.io/credential-id), the node and pod a service account token was
 * bound to. Every key and value is carried, decoded and re-escaped; past the bounds below the rest
 * is cut, counted in the alert ("extra_cut") and in keyhole_alert_fields_cut_total, never
 * dropped silently.
 */
#ifndef KEYHOLE_RULES_EMIT_EXTRA_H
#define KEYHOLE_RULES_EMIT_EXTRA_H

#include <stdint.h>

#include "keyhole/json_out.h"
#include "keyhole/kstr.h"

#define KH_EXTRA_MAX_KEYS 32	    /* keys carried; the apiserver sets four or five */
#define KH_EXTRA_MAX_VALUES 16	    /* values per key carried; one is the rule */
#define KH_EXTRA_MAX_KEY_LEN 256    /* decoded bytes of a key: longer keys are cut whole */
#define KH_EXTRA_MAX_VALUE_LEN 1024 /* decoded bytes of a value: longer ones keep their start */

/*
 * Write "extra":{...} for the raw object span @extra (as the parser validated it), then
 * "extra_cut":N when N keys, values or value bytes were cut; adds N to *@cut_total. Nothing is
 * written for an absent span.
 */
void emit_extra__write(struct json_out *j, struct kstr extra, uint64_t *cut_total);

#endif /* KEYHOLE_RULES_EMIT_EXTRA_H */
