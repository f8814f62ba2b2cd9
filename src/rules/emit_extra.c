// SPDX-License-Identifier: Apache-2.0
/*
 * emit_extra__write: walk a user.extra object span and write it out, bounded (see emit_extra.h).
 *
 * The span was validated as JSON by the audit parser, so this walker only has to find the ends
 * of strings and values; it still never reads outside the span. The apiserver writes extra as
 * map[string][]string: a value of any other shape is not carried, and is counted as cut.
 */
#include <string.h>

#include "rules/emit_extra.h"

struct walk {
	const char *p, *end;
};

static void ws(struct walk *w)
{
	while (w->p < w->end && (*w->p == ' ' || *w->p == '\t' || *w->p == '\n' || *w->p == '\r'))
		w->p++;
}

/* w->p at an opening quote: the string's slice, w->p past its closing quote */
static struct kstr string(struct walk *w)
{
	struct kstr k = {++w->p, 0, 0};

	while (w->p < w->end && *w->p != '"') {
		if (*w->p == '\\') {
			k.flags = KSTR_ESCAPED;
			w->p++;
		}
		w->p++;
	}
	if (w->p > w->end) /* a backslash ended the span: never past it */
		w->p = w->end;
	k.len = (uint32_t)(w->p - k.p);
	if (w->p < w->end)
		w->p++;
	return k;
}

/* step over one value, any depth, brackets counted (the span is valid JSON) */
static void skip(struct walk *w)
{
	size_t open = 0;

	do {
		ws(w);
		if (w->p >= w->end)
			return;
		switch (*w->p) {
		case '"':
			string(w);
			continue;
		case '{':
		case '[':
			open++;
			break;
		case '}':
		case ']':
			if (!open)
				return;
			open--;
			break;
		case ',':
		case ':':
			if (!open)
				return;
			break;
		default:
			while (w->p + 1 < w->end && !strchr(",:]}[{\" \t\r\n", w->p[1]))
				w->p++;
			break;
		}
		w->p++;
	} while (open);
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
static uint64_t put_values(struct json_out *j, struct walk *w)
{
	uint64_t cut = 0;
	uint32_t n = 0;

	ws(w);
	if (w->p >= w->end || *w->p != '[') {
		skip(w);
		return 1;
	}
	w->p++;
	for (;;) {
		ws(w);
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
			else
				skip(w);
			cut++;
			continue;
		}
		cut += put_value(j, string(w));
		n++;
	}
}

void emit_extra__write(struct json_out *j, struct kstr extra, uint64_t *cut_total)
{
	struct walk w;
	char key[KH_EXTRA_MAX_KEY_LEN + 1];
	uint64_t cut = 0;
	uint32_t keys = 0;

	/* an absent extra is a NULL slice: no pointer arithmetic on it (UBSan, found by fuzzing) */
	if (!kstr_present(extra) || !extra.p || extra.len < 2 || *extra.p != '{')
		return;
	w = (struct walk){extra.p, extra.p + extra.len};
	w.p++;
	w.end--; /* the closing '}' */
	json_out__key(j, "extra");
	json_out__obj_begin(j);
	for (;;) {
		struct kstr k;
		long n;

		ws(&w);
		if (w.p < w.end && *w.p == ',') {
			w.p++;
			continue;
		}
		if (w.p >= w.end || *w.p != '"')
			break;
		k = string(&w);
		ws(&w);
		if (w.p < w.end && *w.p == ':')
			w.p++;
		n = kstr__decode(k, key, KH_EXTRA_MAX_KEY_LEN);
		/* a key the output cannot carry whole (too long, NUL inside) is cut with its values
		 */
		if (keys >= KH_EXTRA_MAX_KEYS || n < 0 || n > KH_EXTRA_MAX_KEY_LEN ||
		    memchr(key, '\0', (size_t)n)) {
			skip(&w);
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
