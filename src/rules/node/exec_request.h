/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exec_request: a pods/exec request as the audit log records it, and the command it ran.
 *
 * kubectl exec is `create` on pods/exec (`get` since kubectl 1.30, which upgrades to WebSockets
 * with a GET). The command is only in the requestURI: one `command=` query parameter per argv
 * element, URL-encoded ('+' is a space), inside a JSON string (Go escapes '&' as \u0026).
 */
#ifndef KEYHOLE_NODE_EXEC_REQUEST_H
#define KEYHOLE_NODE_EXEC_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyhole/audit_event.h"

/* verb create or get on pods/exec, with a namespace and a pod name */
bool exec_request__is_exec(const struct audit_event *ev);

struct exec_command {
	char buf[4096];	      /* the decoded arguments, each NUL-terminated */
	const char *argv[64]; /* into buf; NULL-terminated */
	uint32_t argc;	      /* kept in argv */
	uint32_t total;	      /* command= parameters in the URI (> argc: some did not fit) */
	char container[64];   /* the container= parameter, "" when absent */
};

/*
 * Decode the command= and container= parameters of @request_uri into @out. Returns 0, or -EINVAL
 * when the URI is not valid JSON string content. Bad percent escapes are kept literally.
 */
int exec_request__command(struct kstr request_uri, struct exec_command *out);

/* URL-decode (query form: '+' is a space) @n bytes of @s into @dst; returns the length */
size_t exec_request__url_decode(const char *s, size_t n, char *dst);

#endif /* KEYHOLE_NODE_EXEC_REQUEST_H */
