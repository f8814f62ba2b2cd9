// SPDX-License-Identifier: Apache-2.0
/*
 * pods_dir: namespace, pod and container names from the kubelet's log directories (see
 * pods_dir.h for the layout).
 */
#include <dirent.h>
#include <string.h>

#include "capture/pods_dir.h"

bool pods_dir__split(const char *entry, size_t *ns_len, size_t *pod_off, size_t *pod_len,
		     size_t *uid_off)
{
	const char *first = strchr(entry, '_');
	const char *last = strrchr(entry, '_');

	if (!first || first == last || first == entry || !last[1])
		return false;
	/* the pod name is everything between: a '_' there means this is not a kubelet dir */
	if (memchr(first + 1, '_', (size_t)(last - first - 1)) || last == first + 1)
		return false;
	*ns_len = (size_t)(first - entry);
	*pod_off = *ns_len + 1;
	*pod_len = (size_t)(last - first - 1);
	*uid_off = (size_t)(last - entry + 1);
	return true;
}

static bool copy_slice(char *dst, size_t size, const char *s, size_t n)
{
	if (n >= size)
		return false;
	memcpy(dst, s, n);
	dst[n] = 0;
	return true;
}

bool pods_dir__lookup(const char *pods_dir, const char *pod_uid, char *ns, size_t ns_size,
		      char *pod, size_t pod_size)
{
	DIR *d;
	struct dirent *de;
	bool found = false;

	if (!pod_uid[0] || !(d = opendir(pods_dir)))
		return false;
	while (!found && (de = readdir(d))) {
		size_t ns_len, pod_off, pod_len, uid_off;

		if (!pods_dir__split(de->d_name, &ns_len, &pod_off, &pod_len, &uid_off))
			continue;
		if (strcmp(de->d_name + uid_off, pod_uid))
			continue;
		found = copy_slice(ns, ns_size, de->d_name, ns_len) &&
			copy_slice(pod, pod_size, de->d_name + pod_off, pod_len);
	}
	closedir(d);
	return found;
}

bool pods_dir__container_name(const char *containers_dir, const char *container_id, char *name,
			      size_t size)
{
	size_t idl = strlen(container_id);
	DIR *d;
	struct dirent *de;
	bool found = false;

	if (!idl || !(d = opendir(containers_dir)))
		return false;
	while (!found && (de = readdir(d))) {
		/* <pod>_<ns>_<container>-<id>.log */
		size_t n = strlen(de->d_name);
		const char *end, *c;

		if (n < idl + 4 + 6 || strcmp(de->d_name + n - 4, ".log"))
			continue;
		end = de->d_name + n - 4 - idl;
		if (end[-1] != '-' || memcmp(end, container_id, idl))
			continue;
		c = strchr(de->d_name, '_');
		c = c ? strchr(c + 1, '_') : NULL;
		if (!c || c + 1 >= end - 1)
			continue;
		found = copy_slice(name, size, c + 1, (size_t)(end - 1 - (c + 1)));
	}
	closedir(d);
	return found;
}
