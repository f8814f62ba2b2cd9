/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alert_lines: read back the alert JSON lines a pipeline wrote, for assertions.
 */
#ifndef KH_TEST_ALERT_LINES_H
#define KH_TEST_ALERT_LINES_H

#include <stddef.h>
#include <stdio.h>

#include <json-c/json.h>

struct alert_lines {
	json_object **v; /* parsed alerts, in output order */
	size_t n;
};

/* parse every line of @f (rewound first); each must be a JSON object (asserted) */
void alert_lines__read(struct alert_lines *a, FILE *f);
void alert_lines__free(struct alert_lines *a);

/* the value at a dotted path ("user.name", "keyhole.exec_session.parents.0.name"), or NULL */
json_object *alert_get(json_object *alert, const char *path);
/* the string at @path, or NULL when absent or not a string */
const char *alert_str(json_object *alert, const char *path);

/* alerts of rule @id: how many, and the @i-th (NULL past the end) */
size_t alert_lines__count(const struct alert_lines *a, const char *rule_id);
json_object *alert_lines__nth(const struct alert_lines *a, const char *rule_id, size_t i);

#endif /* KH_TEST_ALERT_LINES_H */
