/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup_path: the pod UID and container ID a kubelet-made cgroup path carries.
 *
 * Kubelet names pod cgroups after the pod UID and the runtime names the container's cgroup after
 * the container ID, under either cgroup driver and either cgroup version:
 *   cgroupfs: /kubepods/besteffort/pod<uid>/<id>, /kubepods/pod<uid>/crio-<id> (Guaranteed)
 *   systemd:  /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_with_underscores>
 *             .slice/cri-containerd-<id>.scope (also docker-, crio-, cri-o-, containerd- scopes)
 *   nested:   /docker/<node>/kubepods/..., /kubelet.slice/kubelet-kubepods.slice/... (kind)
 * The same path comes from a v1 hierarchy (memory, pids) or the v2 one; only its shape matters.
 * Static pods carry a 32-hex config hash as their UID instead of a dashed UUID.
 */
#ifndef KEYHOLE_NODE_CGROUP_PATH_H
#define KEYHOLE_NODE_CGROUP_PATH_H

#include <stdbool.h>
#include <stddef.h>

#define KH_POD_UID_MAX 36      /* dashed UUID; static pods' hashes are 32 */
#define KH_CONTAINER_ID_MAX 64 /* sha256 hex */

struct kh_pod_ref {
	char pod_uid[KH_POD_UID_MAX + 1];	    /* dashed form, "" when not a pod's cgroup */
	char container_id[KH_CONTAINER_ID_MAX + 1]; /* lower-case hex, "" when the path has none */
	bool conmon; /* CRI-O's conmon scope: beside, not in, a container */
};

/*
 * Parse @path (@len bytes, '/'-separated, leading '/' optional). Returns true when a pod UID was
 * found; the container ID is the component after the pod's, with the runtime's prefix and
 * ".scope" suffix removed, kept only when it is 12 to 64 hex digits.
 */
bool cgroup_path__parse(const char *path, size_t len, struct kh_pod_ref *out);

#endif /* KEYHOLE_NODE_CGROUP_PATH_H */
