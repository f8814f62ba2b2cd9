/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runc_pod: a real container made to look like a Kubernetes pod's, for the exec-watch tests.
 *
 * Under a fresh test root it builds a busybox-static rootfs, a runc bundle whose cgroupsPath is
 * /kubepods/besteffort/pod<uid>/<container-id>, kubelet-style volumes (tmpfs mounts at
 * <root>/var/lib/kubelet/pods/<uid>/volumes/kubernetes.io~projected/kube-api-access-test holding
 * a service-account token, and .../kubernetes.io~secret/db-creds holding a password) bind-mounted
 * into the container at /var/run/secrets/kubernetes.io/serviceaccount and /etc/db-creds, and the
 * kubelet's log directories (<root>/var/log/pods/<ns>_<pod>_<uid>/<container>/,
 * <root>/var/log/containers/<pod>_<ns>_<container>-<id>.log). Nothing outside the test root is
 * touched except the container's cgroups, which are removed again.
 */
#ifndef KH_TEST_RUNC_POD_H
#define KH_TEST_RUNC_POD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct runc_pod {
	char root[128];		      /* test root */
	char bundle[192];	      /* runc bundle (config.json, rootfs/) */
	char state[192];	      /* runc --root */
	char shared[192];	      /* host dir bind-mounted at /shared in the container */
	char kubelet_root[192];	      /* <root>/var/lib/kubelet */
	char pods_log_dir[192];	      /* <root>/var/log/pods */
	char containers_log_dir[192]; /* <root>/var/log/containers */
	char token_dir[384];	      /* host side of the projected service-account volume */
	char secret_dir[384];	      /* host side of the secret volume */
	char id[65]; /* runc container id, also the container ID in the cgroup path */
	char pod_uid[37];
	char ns[32];
	char pod[32];
	char container[32];
	pid_t init_pid;
	bool running;
	/* a second container in the first one's pid, network and ipc namespaces (kubectl debug) */
	char debug_id[65];
	char debug_container[32];
	bool debug_running;
	int volumes_mounted;
	/* write ends of the containers' stdin pipes (the runtime's side of kubectl attach), 0: none
	 */
	int stdin_w, debug_stdin_w;
};

/*
 * Why runc_pod__start cannot run here (not root, no runc, no busybox), or NULL when it can.
 * Tests skip loudly with this text, or fail when KEYHOLE_REQUIRE_BPF=1.
 */
const char *runc_pod__unavailable(void);

/*
 * Build everything and `runc run -d` the container with `sh -c @init_script` as its init.
 * Returns 0 or -errno (after printing what failed).
 */
int runc_pod__start(struct runc_pod *p, const char *init_script);

/*
 * The same with the container's stdin a pipe the test holds the other end of, as a runtime
 * holds a container's stdin for kubectl attach: runc_pod__attach_input writes into it.
 */
int runc_pod__start_attachable(struct runc_pod *p, const char *init_script);

/* write @text into the stdin of the pod's container (@debug: of its debug container); 0 or -errno
 */
int runc_pod__attach_input(struct runc_pod *p, bool debug, const char *text);

/* `runc exec <id> sh -c @script`; returns the exit status, or -errno */
int runc_pod__exec(struct runc_pod *p, const char *script);

/* the same with `--env E` for each KEY=VALUE of the NULL-terminated @env (at most 10) */
int runc_pod__exec_env(struct runc_pod *p, const char *const *env, const char *script);

/*
 * Start a second container in the pod, as kubectl debug --target does: the same rootfs and
 * volumes, in the running container's pid, network and ipc namespaces, with a mount namespace of
 * its own, named @name in the kubelet's log directories, running `sh -c @script`. Returns 0 or
 * -errno.
 */
int runc_pod__start_debug(struct runc_pod *p, const char *name, const char *script);

/*
 * The same as kubectl debug without --target starts it: in the pod's network and ipc namespaces
 * but a pid namespace of its own, its stdin a pipe for runc_pod__attach_input (kubectl debug -i
 * attaches to it).
 */
int runc_pod__start_debug_alone(struct runc_pod *p, const char *name, const char *script);

/* wait up to @ms for <shared>/@name to exist; true when it does */
bool runc_pod__wait_file(const struct runc_pod *p, const char *name, int ms);

/* kill and delete the container, unmount, remove its cgroups and the test root */
void runc_pod__stop(struct runc_pod *p);

/* run argv[0] with argv, stdio to /dev/null unless @quiet is false; exit status or -errno */
int kh_run(char *const argv[], bool quiet);

#endif /* KH_TEST_RUNC_POD_H */
