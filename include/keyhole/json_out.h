/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json_out: a small JSON writer into a growable buffer, for alerts; and the one JSON string
 * escaper, which every JSON writer in the tree goes through.
 *
 * Strings are escaped so the output is valid JSON (and valid UTF-8) whatever bytes the input
 * held: invalid UTF-8 becomes U+FFFD, control bytes become \u00XX. kstr slices are decoded from
 * their JSON form first, so an escaped input value is re-escaped once, never twice.
 */
#ifndef KEYHOLE_JSON_OUT_H
#define KEYHOLE_JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "keyhole/kstr.h"

struct json_out {
	char *buf;
	size_t len;
	size_t cap;
	uint32_t depth;
	bool need_comma[32]; /* per nesting level: a value was already written at this level */
	bool oom;	     /* an allocation failed: the document is invalid, drop it */
};

void json_out__init(struct json_out *j);
void json_out__reset(struct json_out *j);
void json_out__free(struct json_out *j);

void json_out__obj_begin(struct json_out *j);
void json_out__obj_end(struct json_out *j);
void json_out__arr_begin(struct json_out *j);
void json_out__arr_end(struct json_out *j);
void json_out__key(struct json_out *j, const char *key);
void json_out__str(struct json_out *j, const char *s);		  /* C string, raw bytes */
void json_out__strn(struct json_out *j, const char *s, size_t n); /* raw bytes */
void json_out__kstr(struct json_out *j, struct kstr s); /* decoded JSON slice; null if absent */
void json_out__int(struct json_out *j, long long v);
void json_out__bool(struct json_out *j, bool v);
void json_out__null(struct json_out *j);
/* RFC 3339 UTC with nanoseconds from ns since the epoch */
void json_out__time_ns(struct json_out *j, int64_t ns);

/* @n bytes of JSON the caller vouches for (the parser validated them), as one value */
void json_out__raw(struct json_out *j, const char *p, size_t n);

/*
 * One JSON string for output that is not built as a document (keyhole probe --json): @s escaped
 * exactly as json_out__str escapes it, quotes included, to @f. -ENOMEM when out of memory.
 */
int json_out__write_str(FILE *f, const char *s);

/* key + value shorthands; the kstr one writes nothing when the slice is absent */
void json_out__kv_str(struct json_out *j, const char *key, const char *s);
void json_out__kv_kstr(struct json_out *j, const char *key, struct kstr s);
void json_out__kv_int(struct json_out *j, const char *key, long long v);

/*
 * Keys fixed in the source: @key must be a string literal that needs no escaping (printable
 * ASCII, no quote or backslash; anything else does not compile or is written wrong). The
 * compiler writes its quotes and colon, so a key is one copy: an alert has about sixty, and
 * escaping each at run time was a third of writing it.
 */
#define JSON_OUT_LIT_(key) ("\"" key "\":"), (sizeof("\"" key "\":") - 1)
#define json_out__key_lit(j, key) json_out__key_quoted((j), JSON_OUT_LIT_(key))
#define json_out__kv_str_lit(j, key, s) json_out__kv_str_quoted((j), JSON_OUT_LIT_(key), (s))
#define json_out__kv_kstr_lit(j, key, s) json_out__kv_kstr_quoted((j), JSON_OUT_LIT_(key), (s))
#define json_out__kv_int_lit(j, key, v) json_out__kv_int_quoted((j), JSON_OUT_LIT_(key), (v))

/* what the _lit macros call: @quoted is the key already quoted, colon included, @n bytes */
void json_out__key_quoted(struct json_out *j, const char *quoted, size_t n);
void json_out__kv_str_quoted(struct json_out *j, const char *quoted, size_t n, const char *s);
void json_out__kv_kstr_quoted(struct json_out *j, const char *quoted, size_t n, struct kstr s);
void json_out__kv_int_quoted(struct json_out *j, const char *quoted, size_t n, long long v);

#endif /* KEYHOLE_JSON_OUT_H */
