// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of src/capture/cgroup_path.c: pod UID and container ID from the cgroup paths kubelets and
 * runtimes make, under cgroupfs and systemd drivers, cgroup v1 and v2, nested and static pods.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "capture/cgroup_path.h"

#define UID "0f3c9a52-7f1e-4c1d-9b8e-2a6d5c4b3a21"
#define UID_ "0f3c9a52_7f1e_4c1d_9b8e_2a6d5c4b3a21"
#define CID "4e1f0c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"

static void expect(const char *path, const char *uid, const char *cid)
{
	struct kh_pod_ref r;
	bool ok = cgroup_path__parse(path, strlen(path), &r);

	cr_assert(ok == (uid != NULL), "%s: parse returned %d", path, ok);
	if (!uid)
		return;
	cr_assert_str_eq(r.pod_uid, uid, "%s: pod uid", path);
	cr_assert_str_eq(r.container_id, cid, "%s: container id", path);
}

Test(node_cgroup_path, cgroupfs_driver_v1_and_v2)
{
	/* the same path is what /proc/PID/cgroup shows for memory (v1) and for 0:: (v2) */
	expect("/kubepods/besteffort/pod" UID "/" CID, UID, CID);
	expect("/kubepods/burstable/pod" UID "/" CID, UID, CID);
	expect("kubepods/besteffort/pod" UID "/" CID, UID, CID); /* no leading slash */
	expect("/kubepods/pod" UID "/" CID, UID, CID);		 /* Guaranteed: no QoS level */
	expect("/kubepods/besteffort/pod" UID "/crio-" CID, UID, CID);
	expect("/kubepods/besteffort/pod" UID "/abcdef0123456789", UID, "abcdef0123456789");
}

Test(node_cgroup_path, systemd_driver)
{
	expect("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	       ".slice/cri-containerd-" CID ".scope",
	       UID, CID);
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	       ".slice/crio-" CID ".scope",
	       UID, CID);
	expect("/kubepods.slice/kubepods-pod" UID_ ".slice/docker-" CID ".scope", UID, CID);
	expect("/kubepods.slice/kubepods-pod" UID_ ".slice/cri-o-" CID ".scope", UID, CID);
}

Test(node_cgroup_path, crio_conmon_is_flagged)
{
	struct kh_pod_ref r;
	const char *p = "/kubepods.slice/kubepods-pod" UID_ ".slice/crio-conmon-" CID ".scope";

	cr_assert(cgroup_path__parse(p, strlen(p), &r));
	cr_assert_str_eq(r.container_id, CID);
	cr_assert(r.conmon);
}

Test(node_cgroup_path, nested_kubelets)
{
	/* kind: a node container holding a kubelet; the innermost pod level is the pod */
	expect("/docker/" CID "/kubepods/besteffort/pod" UID "/" CID, UID, CID);
	expect("/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
	       "kubelet-kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" CID ".scope",
	       UID, CID);
}

Test(node_cgroup_path, static_pod_hash_uid)
{
	expect("/kubepods/burstable/pod3b6e5f0c8f1e2a4f7c9a1b2c3d4e5f60/" CID,
	       "3b6e5f0c8f1e2a4f7c9a1b2c3d4e5f60", CID);
	expect("/kubepods.slice/kubepods-burstable.slice/"
	       "kubepods-burstable-pod3b6e5f0c8f1e2a4f7c9a1b2c3d4e5f60.slice/cri-containerd-" CID
	       ".scope",
	       "3b6e5f0c8f1e2a4f7c9a1b2c3d4e5f60", CID);
}

Test(node_cgroup_path, pod_level_without_container)
{
	expect("/kubepods/besteffort/pod" UID, UID, "");
	expect("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice",
	       UID, "");
	/* a leaf that is not a container ID is not taken for one */
	expect("/kubepods/besteffort/pod" UID "/not-a-container", UID, "");
}

Test(node_cgroup_path, not_a_pod)
{
	expect("/", NULL, NULL);
	expect("", NULL, NULL);
	expect("/system.slice/containerd.service", NULL, NULL);
	expect("/user.slice/user-0.slice/session-1.scope", NULL, NULL);
	expect("/kubepods/besteffort", NULL, NULL);
	expect("/kubepods.slice/kubepods-besteffort.slice", NULL, NULL);
	/* "pod" followed by something that is not a UID */
	expect("/kubepods/besteffort/podcast/" CID, NULL, NULL);
	expect("/kubepods/besteffort/pod" UID "x/" CID, NULL, NULL);
	/* "pod" inside a word is not a pod level */
	expect("/kubepods/besteffort/xpod" UID "/" CID, NULL, NULL);
}

Test(node_cgroup_path, upper_case_normalised)
{
	expect("/kubepods/besteffort/pod0F3C9A52-7F1E-4C1D-9B8E-2A6D5C4B3A21/ABCDEF0123456789", UID,
	       "abcdef0123456789");
}
