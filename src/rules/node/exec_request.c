// SPDX-License-Identifier: Apache-2.0
/*
 * exec_request: recognising pods/exec audit events and decoding their command (see
 * exec_request.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules/node/exec_request.h"

bool exec_request__is_exec(const struct audit_event *ev)
{
	const struct kh_object_ref *o = &ev->object_ref;

	return ev->object_ref_present && kstr__eq(o->resource, "pods") &&
	       kstr__eq(o->subresource, "exec") &&
	       (kstr__eq(ev->verb, "create") || kstr__eq(ev->verb, "get")) &&
	       kstr_nonempty(o->namespace_) && kstr_nonempty(o->name);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t exec_request__url_decode(const char *s, size_t n, char *dst)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '+') {
			dst[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
			   (lo = hexval(s[i + 2])) >= 0) {
			dst[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			dst[o++] = s[i];
		}
	}
	return o;
}

/* append one decoded argument; false when the buffer or argv is full */
static bool add_arg(struct exec_command *c, size_t *used, const char *v, size_t n)
{
	char tmp[4096];
	size_t len;

	c->total++;
	if (n >= sizeof(tmp) || c->argc + 1 >= sizeof(c->argv) / sizeof(c->argv[0]))
		return false;
	len = exec_request__url_decode(v, n, tmp);
	if (*used + len + 1 > sizeof(c->buf))
		return false;
	memcpy(c->buf + *used, tmp, len);
	c->buf[*used + len] = 0;
	c->argv[c->argc++] = c->buf + *used;
	c->argv[c->argc] = NULL;
	*used += len + 1;
	return true;
}

int exec_request__command(struct kstr request_uri, struct exec_command *out)
{
	char *uri;
	const char *q, *end;
	size_t used = 0;
	long n;

	memset(out, 0, sizeof(*out));
	if (!kstr_present(request_uri))
		return 0;
	uri = malloc((size_t)request_uri.len + 1);
	if (!uri)
		return -ENOMEM;
	n = kstr__decode(request_uri, uri, request_uri.len);
	if (n < 0 || n > (long)request_uri.len) {
		free(uri);
		return -EINVAL;
	}
	end = uri + n;
	q = memchr(uri, '?', (size_t)n);
	for (q = q ? q + 1 : end; q < end;) {
		const char *amp = memchr(q, '&', (size_t)(end - q)), *eq;
		const char *pend = amp ? amp : end;

		eq = memchr(q, '=', (size_t)(pend - q));
		if (eq && eq - q == 7 && !memcmp(q, "command", 7)) {
			add_arg(out, &used, eq + 1, (size_t)(pend - eq - 1));
		} else if (eq && eq - q == 9 && !memcmp(q, "container", 9) && !out->container[0] &&
			   (size_t)(pend - eq - 1) < sizeof(out->container)) {
			size_t l = exec_request__url_decode(eq + 1, (size_t)(pend - eq - 1),
							    out->container);
			out->container[l] = 0;
		}
		q = pend + 1;
	}
	free(uri);
	return 0;
}
