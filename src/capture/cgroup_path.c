// SPDX-License-Identifier: Apache-2.0
/*
 * cgroup_path: pod UID and container ID from a cgroup path, for every kubelet cgroup driver and
 * cgroup version (see cgroup_path.h for the shapes).
 */
#include <ctype.h>
#include <string.h>

#include "capture/cgroup_path.h"

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* a dashed (or, under systemd, underscored) UUID: 8-4-4-4-12 hex */
static bool is_uuid(const char *s, size_t n)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-' && s[i] != '_')
				return false;
		} else if (!is_hex(s[i])) {
			return false;
		}
	}
	return true;
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_hex(s[i]))
			return false;
	return n > 0;
}

static void copy_lower(char *dst, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = s[i] == '_' ? '-' : (char)tolower((unsigned char)s[i]);
	dst[n] = 0;
}

/*
 * The pod UID in one component: "pod" then a UUID or a 32-hex static-pod hash, then the end or
 * ".slice". Searched from the right, so "kubepods-besteffort-pod<uid>.slice" and "pod<uid>"
 * both match and a "pod" inside a prefix does not.
 */
static bool component_pod_uid(const char *c, size_t n, struct kh_pod_ref *out)
{
	size_t end = n;

	if (n > 6 && !memcmp(c + n - 6, ".slice", 6))
		end = n - 6;
	for (size_t at = end; at-- > 0;) {
		size_t len;

		if (at + 3 > end || memcmp(c + at, "pod", 3))
			continue;
		len = end - (at + 3);
		if (at > 0 && c[at - 1] != '-' && c[at - 1] != '_')
			continue;
		if (is_uuid(c + at + 3, len) || (len == 32 && all_hex(c + at + 3, len))) {
			copy_lower(out->pod_uid, c + at + 3, len);
			return true;
		}
	}
	return false;
}

static const char *const runtime_prefixes[] = {
    "cri-containerd-", "containerd-", "crio-conmon-", "crio-", "cri-o-", "docker-", NULL,
};

static void component_container_id(const char *c, size_t n, struct kh_pod_ref *out)
{
	if (n > 6 && !memcmp(c + n - 6, ".scope", 6))
		n -= 6;
	for (size_t i = 0; runtime_prefixes[i]; i++) {
		size_t pl = strlen(runtime_prefixes[i]);

		if (n > pl && !memcmp(c, runtime_prefixes[i], pl)) {
			out->conmon = i == 2;
			c += pl;
			n -= pl;
			break;
		}
	}
	if (n >= 12 && n <= KH_CONTAINER_ID_MAX && all_hex(c, n))
		copy_lower(out->container_id, c, n);
}

bool cgroup_path__parse(const char *path, size_t len, struct kh_pod_ref *out)
{
	const char *comp[64];
	size_t clen[64], n = 0, i = 0;

	memset(out, 0, sizeof(*out));
	while (i < len && n < 64) {
		size_t j = i;

		while (j < len && path[j] != '/')
			j++;
		if (j > i) {
			comp[n] = path + i;
			clen[n++] = j - i;
		}
		i = j + 1;
	}
	/* the pod level nearest the leaf wins: nested kubelets put theirs under a node's */
	for (size_t k = n; k-- > 0;) {
		if (!component_pod_uid(comp[k], clen[k], out))
			continue;
		if (k + 1 < n)
			component_container_id(comp[k + 1], clen[k + 1], out);
		return true;
	}
	return false;
}
