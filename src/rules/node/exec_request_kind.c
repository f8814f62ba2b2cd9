// SPDX-License-Identifier: Apache-2.0
/*
 * exec_request_kind: which audit events can stand behind a session in a running pod (pods/exec,
 * pods/attach, an ephemeral container added by kubectl debug, the kubelet API reached through
 * nodes/proxy), and the pod a nodes/proxy request's kubelet path names (see exec_request.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyhole/rules_engine.h"
#include "rules/node/exec_request.h"

enum exec_request_kind exec_request__kind(const struct audit_event *ev)
{
	const struct kh_object_ref *o = &ev->object_ref;
	bool create_or_get = kstr__eq(ev->verb, "create") || kstr__eq(ev->verb, "get");

	if (!ev->object_ref_present || !kstr_nonempty(o->name))
		return EXEC_REQ_NONE;
	if (kstr__eq(o->resource, "nodes") && kstr__eq(o->subresource, "proxy"))
		return EXEC_REQ_PROXY;
	if (!kstr__eq(o->resource, "pods") || !kstr_nonempty(o->namespace_))
		return EXEC_REQ_NONE;
	if (kstr__eq(o->subresource, "exec") && create_or_get)
		return EXEC_REQ_EXEC;
	if (kstr__eq(o->subresource, "attach") && create_or_get)
		return EXEC_REQ_ATTACH;
	if (kstr__eq(o->subresource, "ephemeralcontainers") &&
	    (kstr__eq(ev->verb, "patch") || kstr__eq(ev->verb, "update")))
		return EXEC_REQ_DEBUG;
	return EXEC_REQ_NONE;
}

const char *exec_request__kind_name(enum exec_request_kind k)
{
	switch (k) {
	case EXEC_REQ_EXEC:
		return "exec";
	case EXEC_REQ_ATTACH:
		return "attach";
	case EXEC_REQ_DEBUG:
		return "ephemeralcontainers";
	case EXEC_REQ_PROXY:
		return "nodes/proxy";
	default:
		return "";
	}
}

/* copy the URL-decoded segment [s, e) into dst; false when empty or too long */
static bool segment(const char *s, const char *e, char *dst, size_t size)
{
	size_t n;

	if (e <= s || (size_t)(e - s) >= size)
		return false;
	n = exec_request__url_decode(s, (size_t)(e - s), dst);
	dst[n] = 0;
	return n > 0;
}

int exec_request__proxy_target(struct kstr request_uri, char ns[64], char pod[254],
			       char container[64])
{
	const char *seg[5], *end, *p;
	char *uri;
	int nseg = 0, rc = -ENOENT;
	long n;

	if (!kstr_present(request_uri))
		return -ENOENT;
	uri = malloc((size_t)request_uri.len + 1);
	if (!uri)
		return -ENOMEM;
	n = kstr__decode(request_uri, uri, request_uri.len);
	if (n < 0 || n > (long)request_uri.len)
		goto exit_free;
	uri[n] = 0;
	end = uri + strcspn(uri, "?");
	p = strstr(uri, "/proxy/");
	if (!p || p > end)
		goto exit_free;
	p += 7;
	/* verb, namespace, pod, then the container (after the pod UID when there are 5) */
	while (p < end && nseg < 5) {
		const char *slash = memchr(p, '/', (size_t)(end - p));

		seg[nseg++] = p;
		p = slash ? slash + 1 : end;
	}
	if (nseg < 4 || p < end)
		goto exit_free;
	if (strncmp(seg[0], "exec/", 5) && strncmp(seg[0], "attach/", 7) &&
	    strncmp(seg[0], "run/", 4))
		goto exit_free;
	if (segment(seg[1], seg[2] - 1, ns, 64) && segment(seg[2], seg[3] - 1, pod, 254) &&
	    segment(seg[nseg - 1], end, container, 64))
		rc = 0;
exit_free:
	free(uri);
	return rc;
}

bool rules__is_exec_request(const struct audit_event *ev)
{
	enum exec_request_kind k = exec_request__kind(ev);
	char ns[64], pod[254], container[64];

	if (k != EXEC_REQ_PROXY)
		return k != EXEC_REQ_NONE;
	/* of the kubelet API, only what runs a command in a pod (as exec_join keeps) */
	return exec_request__proxy_target(ev->request_uri, ns, pod, container) == 0;
}
