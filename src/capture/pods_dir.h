/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pods_dir: pod namespace, pod name and container name from the kubelet's log directories,
 * without API access.
 *
 * The kubelet keeps /var/log/pods/<namespace>_<pod>_<uid>/<container>/ per pod, and the
 * runtime's /var/log/containers/<pod>_<namespace>_<container>-<container-id>.log links per
 * container. Neither a namespace nor a pod name can hold '_' (DNS names), so the split is exact.
 * Both roots are configurable so tests (and nodes with a moved log dir) need not use the real
 * ones. Lookups scan the directory: they run once per exec session, and a node has ~100 pods.
 */
#ifndef KEYHOLE_NODE_PODS_DIR_H
#define KEYHOLE_NODE_PODS_DIR_H

#include <stdbool.h>
#include <stddef.h>

#define KH_PODS_LOG_DIR "/var/log/pods"
#define KH_CONTAINERS_LOG_DIR "/var/log/containers"

/*
 * The <namespace>_<pod>_<uid> directory of @pod_uid under @pods_dir: fills @ns and @pod and
 * returns true when found (and both fit).
 */
bool pods_dir__lookup(const char *pods_dir, const char *pod_uid, char *ns, size_t ns_size,
		      char *pod, size_t pod_size);

/* the container name of @container_id from @containers_dir links; true when found */
bool pods_dir__container_name(const char *containers_dir, const char *container_id, char *name,
			      size_t size);

/*
 * Split a pods-dir entry name "<ns>_<pod>_<uid>" (exposed for tests): true when it has that
 * shape; slices are written as offsets and lengths into @entry.
 */
bool pods_dir__split(const char *entry, size_t *ns_len, size_t *pod_off, size_t *pod_len,
		     size_t *uid_off);

#endif /* KEYHOLE_NODE_PODS_DIR_H */
