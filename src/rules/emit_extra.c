// SPDX-License-Identifier: Apache-2.0
/*
 * emit_extra__write: walk a user.extra object span and write it out, bounded (see emit_extra.h).
 *
 * The span was validated as JSON by the audit parser, so this walker only has to find the ends
 * of strings and values (json_in's cursor, keyhole/json_in.h); it still never reads outside the
 * span. The apiserver writes extra as
 * map[string][]string: a value of any other shape is not carried, and is counted as cut.
 */
#include <string.h>

#include "keyhole/json_in.h"
#include "rules/emit_extra.h"

/* w->p at an opening quote: the string's slice (to the span's end when unterminated) */
static struct kstr string(struct json_in *w)
{
	struct kstr k;

	json_in__str(w, &k);
	return k;
}

/* one value string, its start kept when longer than the bound; returns cuts made */
static uint64_t put_value(struct json_out *j, struct kstr v)
{
	char buf[KH_EXTRA_MAX_VALUE_LEN];
	long n;

	if (v.len <= KH_EXTRA_MAX_VALUE_LEN && !(v.flags & KSTR_ESCAPED)) {
		json_out__kstr(j, v);
		return 0;
	}
	n = kstr__decode(v, buf, sizeof(buf));
	if (n < 0) {
		json_out__null(j);
		return 1;
	}
	json_out__strn(j, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf));
	return (size_t)n > sizeof(buf);
}

/* w->p at a key's value: its strings into the open array; returns cuts made */
static uint64_t put_values(struct json_out *j, struct json_in *w)
{
	uint64_t cut = 0;
	uint32_t n = 0;

	json_in__ws(w);
	if (w->p >= w->end || *w->p != '[') {
		json_in__skip(w);
		return 1;
	}
	w->p++;
	for (;;) {
		json_in__ws(w);
		if (w->p >= w->end)
			return cut;
		if (*w->p == ']') {
			w->p++;
			return cut;
		}
		if (*w->p == ',') {
			w->p++;
			continue;
		}
		if (*w->p != '"' || n >= KH_EXTRA_MAX_VALUES) {
			if (*w->p == '"')
				string(w);
			else if (!json_in__skip(w))
				w->p = w->end; /* a stray '}' or ':' (not JSON): it would never move
						*/
			cut++;
			continue;
		}
		cut += put_value(j, string(w));
		n++;
	}
}

void emit_extra__write(struct json_out *j, struct kstr extra, uint64_t *cut_total)
{
	struct json_in w;
	char key[KH_EXTRA_MAX_KEY_LEN + 1];
	uint64_t cut = 0;
	uint32_t keys = 0;

	/* an absent extra is a NULL slice: no pointer arithmetic on it (UBSan, found by fuzzing) */
	if (!kstr_present(extra) || !extra.p || extra.len < 2 || *extra.p != '{')
		return;
	w = json_in__span(extra.p, extra.len);
	w.p++;
	w.end--; /* the closing '}' */
	json_out__key(j, "extra");
	json_out__obj_begin(j);
	for (;;) {
		struct kstr k;
		long n;

		json_in__ws(&w);
		if (w.p < w.end && *w.p == ',') {
			w.p++;
			continue;
		}
		if (w.p >= w.end || *w.p != '"')
			break;
		k = string(&w);
		json_in__ws(&w);
		if (w.p < w.end && *w.p == ':')
			w.p++;
		n = kstr__decode(k, key, KH_EXTRA_MAX_KEY_LEN);
		/* a key the output cannot carry whole (too long, NUL inside) is cut with its values
		 */
		if (keys >= KH_EXTRA_MAX_KEYS || n < 0 || n > KH_EXTRA_MAX_KEY_LEN ||
		    memchr(key, '\0', (size_t)n)) {
			json_in__skip(&w);
			cut++;
			continue;
		}
		key[n] = '\0';
		json_out__key(j, key);
		json_out__arr_begin(j);
		cut += put_values(j, &w);
		json_out__arr_end(j);
		keys++;
	}
	json_out__obj_end(j);
	if (cut) {
		json_out__kv_int(j, "extra_cut", (long long)cut);
		if (cut_total)
			*cut_total += cut;
	}
}
