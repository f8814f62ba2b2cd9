// SPDX-License-Identifier: Apache-2.0
/*
 * runc_pod: a real runc container dressed as a Kubernetes pod (see runc_pod.h).
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "runc_pod.h"

#define BUSYBOX "/bin/busybox"
#define RUNC "/usr/sbin/runc"

const char *runc_pod__unavailable(void)
{
	if (geteuid() != 0)
		return "not root: runc containers and BPF need root";
	if (access(RUNC, X_OK))
		return "no " RUNC " (Debian package runc)";
	if (access(BUSYBOX, X_OK))
		return "no " BUSYBOX " (Debian package busybox-static)";
	return NULL;
}

int kh_run(char *const argv[], bool quiet)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (quiet) {
			int fd = open("/dev/null", O_RDWR);

			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* `runc run -d` passes its stdio through: the container's stdin is the read end of a new pipe */
static int run_attachable(char *const argv[], int *stdin_w)
{
	int fds[2], st;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		st = -errno;
		close(fds[0]);
		close(fds[1]);
		return st;
	}
	if (pid == 0) {
		dup2(fds[0], 0);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[0]);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		close(fds[1]);
		return -EIO;
	}
	*stdin_w = fds[1];
	return 0;
}

static int mkdirs(const char *path)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

static pid_t read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	int pid = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid;
}

static void random_hex(char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[64];
	int fd = open("/dev/urandom", O_RDONLY);

	if (fd < 0 || read(fd, b, n) != (ssize_t)n) {
		for (size_t i = 0; i < n; i++)
			b[i] = (unsigned char)rand();
	}
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; i < n; i++)
		out[i] = hex[b[i] & 15];
	out[n] = 0;
}

static int build_rootfs(struct runc_pod *p)
{
	static const char *const applets[] = {"sh", "cat", "sleep", "touch", "ls", "head", "true"};
	char path[512];
	int err;

	snprintf(path, sizeof(path), "%s/rootfs/bin", p->bundle);
	if ((err = mkdirs(path)))
		return err;
	for (const char *d = "etc\0proc\0sys\0dev\0tmp\0shared\0"; *d; d += strlen(d) + 1) {
		snprintf(path, sizeof(path), "%s/rootfs/%s", p->bundle, d);
		if ((err = mkdirs(path)))
			return err;
	}
	snprintf(path, sizeof(path), "%s/rootfs/bin/busybox", p->bundle);
	{
		char *argv[] = {"/bin/cp", BUSYBOX, path, NULL};

		if (kh_run(argv, false))
			return -EIO;
	}
	for (size_t i = 0; i < sizeof(applets) / sizeof(applets[0]); i++) {
		snprintf(path, sizeof(path), "%s/rootfs/bin/%s", p->bundle, applets[i]);
		if (symlink("busybox", path))
			return -errno;
	}
	snprintf(path, sizeof(path), "%s/rootfs/etc/hostname", p->bundle);
	return write_file(path, "pod\n");
}

/* a tmpfs at @dir holding @file = @content, as the kubelet mounts secret/projected volumes */
static int make_volume(struct runc_pod *p, const char *dir, const char *file, const char *content)
{
	char path[512];
	int err;

	if ((err = mkdirs(dir)))
		return err;
	if (mount("tmpfs", dir, "tmpfs", 0, "size=1m"))
		return -errno;
	p->volumes_mounted++;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return write_file(path, content);
}

static int build_logs(struct runc_pod *p)
{
	char path[512], target[600];
	int err;

	snprintf(path, sizeof(path), "%s/%s_%s_%s/%s", p->pods_log_dir, p->ns, p->pod, p->pod_uid,
		 p->container);
	if ((err = mkdirs(path)))
		return err;
	snprintf(target, sizeof(target), "%s/0.log", path);
	if ((err = write_file(target, "")))
		return err;
	if ((err = mkdirs(p->containers_log_dir)))
		return err;
	snprintf(path, sizeof(path), "%s/%s_%s_%s-%s.log", p->containers_log_dir, p->pod, p->ns,
		 p->container, p->id);
	return symlink(target, path) ? -errno : 0;
}

static void add_bind(json_object *mounts, const char *dst, const char *src, bool ro)
{
	json_object *m = json_object_new_object(), *opts = json_object_new_array();

	json_object_object_add(m, "destination", json_object_new_string(dst));
	json_object_object_add(m, "type", json_object_new_string("bind"));
	json_object_object_add(m, "source", json_object_new_string(src));
	json_object_array_add(opts, json_object_new_string("rbind"));
	json_object_array_add(opts, json_object_new_string(ro ? "ro" : "rw"));
	json_object_object_add(m, "options", opts);
	json_object_array_add(mounts, m);
}

static int write_config(struct runc_pod *p, const char *init_script)
{
	char path[512], cg[256];
	json_object *c, *proc, *args, *linux_, *mounts, *root;
	char *argv[] = {RUNC, "spec", "--bundle", p->bundle, NULL};
	int err;

	if (kh_run(argv, false))
		return -EIO;
	snprintf(path, sizeof(path), "%s/config.json", p->bundle);
	c = json_object_from_file(path);
	if (!c)
		return -EINVAL;
	json_object_object_get_ex(c, "process", &proc);
	json_object_object_add(proc, "terminal", json_object_new_boolean(0));
	args = json_object_new_array();
	json_object_array_add(args, json_object_new_string("sh"));
	json_object_array_add(args, json_object_new_string("-c"));
	json_object_array_add(args, json_object_new_string(init_script));
	json_object_object_add(proc, "args", args);
	json_object_object_get_ex(c, "root", &root);
	json_object_object_add(root, "readonly", json_object_new_boolean(0));
	json_object_object_get_ex(c, "linux", &linux_);
	snprintf(cg, sizeof(cg), "/kubepods/besteffort/pod%s/%s", p->pod_uid, p->id);
	json_object_object_add(linux_, "cgroupsPath", json_object_new_string(cg));
	json_object_object_get_ex(c, "mounts", &mounts);
	add_bind(mounts, "/var/run/secrets/kubernetes.io/serviceaccount", p->token_dir, true);
	add_bind(mounts, "/etc/db-creds", p->secret_dir, true);
	add_bind(mounts, "/shared", p->shared, false);
	err = json_object_to_file_ext(path, c, JSON_C_TO_STRING_PRETTY) ? -EIO : 0;
	json_object_put(c);
	return err;
}

static int start(struct runc_pod *p, const char *init_script, bool attachable)
{
	char uid[33], tmpl[] = "/tmp/kh-exec-XXXXXX";
	int err;

	memset(p, 0, sizeof(*p));
	if (!mkdtemp(tmpl))
		return -errno;
	snprintf(p->root, sizeof(p->root), "%s", tmpl);
	snprintf(p->bundle, sizeof(p->bundle), "%s/bundle", p->root);
	snprintf(p->state, sizeof(p->state), "%s/runc", p->root);
	snprintf(p->shared, sizeof(p->shared), "%s/shared", p->root);
	snprintf(p->kubelet_root, sizeof(p->kubelet_root), "%s/var/lib/kubelet", p->root);
	snprintf(p->pods_log_dir, sizeof(p->pods_log_dir), "%s/var/log/pods", p->root);
	snprintf(p->containers_log_dir, sizeof(p->containers_log_dir), "%s/var/log/containers",
		 p->root);
	random_hex(p->id, 64);
	random_hex(uid, 32);
	snprintf(p->pod_uid, sizeof(p->pod_uid), "%.8s-%.4s-%.4s-%.4s-%.12s", uid, uid + 8,
		 uid + 12, uid + 16, uid + 20);
	snprintf(p->ns, sizeof(p->ns), "payments");
	snprintf(p->pod, sizeof(p->pod), "api-7d9f8-x2x7q");
	snprintf(p->container, sizeof(p->container), "api");
	snprintf(p->token_dir, sizeof(p->token_dir),
		 "%s/pods/%s/volumes/kubernetes.io~projected/kube-api-access-test", p->kubelet_root,
		 p->pod_uid);
	snprintf(p->secret_dir, sizeof(p->secret_dir),
		 "%s/pods/%s/volumes/kubernetes.io~secret/db-creds", p->kubelet_root, p->pod_uid);

	if ((err = mkdirs(p->shared)) || (err = build_rootfs(p)) ||
	    (err = make_volume(p, p->token_dir, "token", "eyJhbGciOiJSUzI1NiJ9.test.sig\n")) ||
	    (err = make_volume(p, p->secret_dir, "password", "hunter2\n")) ||
	    (err = build_logs(p)) || (err = write_config(p, init_script))) {
		fprintf(stderr, "runc_pod: building %s failed: %s\n", p->root, strerror(-err));
		return err;
	}
	{
		char pidfile[256];
		char *argv[] = {RUNC,	 "--root",   p->state,	"run", "-d", "--pid-file",
				pidfile, "--bundle", p->bundle, p->id, NULL};

		snprintf(pidfile, sizeof(pidfile), "%s/init.pid", p->root);
		err = attachable ? run_attachable(argv, &p->stdin_w) : kh_run(argv, false);
		if (!err)
			p->init_pid = read_pid(pidfile);
	}
	if (err) {
		fprintf(stderr, "runc_pod: runc run failed (status %d)\n", err);
		return -EIO;
	}
	p->running = true;
	return 0;
}

int runc_pod__start(struct runc_pod *p, const char *init_script)
{
	return start(p, init_script, false);
}

int runc_pod__start_attachable(struct runc_pod *p, const char *init_script)
{
	return start(p, init_script, true);
}

int runc_pod__attach_input(struct runc_pod *p, bool debug, const char *text)
{
	int fd = debug ? p->debug_stdin_w : p->stdin_w;
	size_t n = strlen(text);

	if (fd <= 0)
		return -EBADF;
	return write(fd, text, n) == (ssize_t)n ? 0 : -EIO;
}

int runc_pod__exec(struct runc_pod *p, const char *script)
{
	char *argv[] = {RUNC, "--root", p->state, "exec", p->id, "sh", "-c", (char *)script, NULL};

	return kh_run(argv, false);
}

int runc_pod__exec_env(struct runc_pod *p, const char *const *env, const char *script)
{
	char *argv[32];
	int n = 0;

	argv[n++] = RUNC;
	argv[n++] = "--root";
	argv[n++] = p->state;
	argv[n++] = "exec";
	for (size_t i = 0; env && env[i] && n < 24; i++) {
		argv[n++] = "--env";
		argv[n++] = (char *)env[i];
	}
	argv[n++] = p->id;
	argv[n++] = "sh";
	argv[n++] = "-c";
	argv[n++] = (char *)script;
	argv[n] = NULL;
	return kh_run(argv, false);
}

bool runc_pod__wait_file(const struct runc_pod *p, const char *name, int ms)
{
	char path[512];
	struct timespec ts = {0, 10 * 1000 * 1000};

	snprintf(path, sizeof(path), "%s/%s", p->shared, name);
	for (int i = 0; i < ms / 10; i++) {
		if (access(path, F_OK) == 0)
			return true;
		nanosleep(&ts, NULL);
	}
	return access(path, F_OK) == 0;
}

/* the second bundle: the first one's config with the namespaces, cgroup and args changed */
static int write_debug_config(struct runc_pod *p, const char *bundle, const char *script,
			      bool share_pid)
{
	static const char *const joined[] = {"network", "ipc", "pid"};
	size_t n_joined = share_pid ? 3 : 2;
	char path[512], cg[256], ns[64];
	json_object *c, *proc, *args, *linux_, *nss, *root;
	int err;

	snprintf(path, sizeof(path), "%s/config.json", p->bundle);
	c = json_object_from_file(path);
	if (!c)
		return -EINVAL;
	json_object_object_get_ex(c, "process", &proc);
	args = json_object_new_array();
	json_object_array_add(args, json_object_new_string("sh"));
	json_object_array_add(args, json_object_new_string("-c"));
	json_object_array_add(args, json_object_new_string(script));
	json_object_object_add(proc, "args", args);
	json_object_object_get_ex(c, "root", &root);
	snprintf(path, sizeof(path), "%s/rootfs", p->bundle);
	json_object_object_add(root, "path", json_object_new_string(path));
	json_object_object_get_ex(c, "linux", &linux_);
	snprintf(cg, sizeof(cg), "/kubepods/besteffort/pod%s/%s", p->pod_uid, p->debug_id);
	json_object_object_add(linux_, "cgroupsPath", json_object_new_string(cg));
	nss = json_object_new_array();
	for (size_t i = 0; i < n_joined; i++) {
		json_object *n = json_object_new_object();

		snprintf(ns, sizeof(ns), "/proc/%d/ns/%s", (int)p->init_pid,
			 strcmp(joined[i], "network") ? joined[i] : "net");
		json_object_object_add(n, "type", json_object_new_string(joined[i]));
		json_object_object_add(n, "path", json_object_new_string(ns));
		json_object_array_add(nss, n);
	}
	for (const char *t = share_pid ? "uts\0mount\0" : "uts\0mount\0pid\0"; *t;
	     t += strlen(t) + 1) {
		json_object *n = json_object_new_object();

		json_object_object_add(n, "type", json_object_new_string(t));
		json_object_array_add(nss, n);
	}
	json_object_object_add(linux_, "namespaces", nss);
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	err = json_object_to_file_ext(path, c, JSON_C_TO_STRING_PRETTY) ? -EIO : 0;
	json_object_put(c);
	return err;
}

static int start_debug(struct runc_pod *p, const char *name, const char *script, bool alone)
{
	char bundle[256], path[512], target[600];
	int err;

	if (!p->init_pid)
		return -ESRCH;
	random_hex(p->debug_id, 64);
	snprintf(p->debug_container, sizeof(p->debug_container), "%s", name);
	snprintf(bundle, sizeof(bundle), "%s/debug-bundle", p->root);
	if ((err = mkdirs(bundle)) || (err = write_debug_config(p, bundle, script, !alone)))
		return err;
	snprintf(path, sizeof(path), "%s/%s_%s_%s/%s", p->pods_log_dir, p->ns, p->pod, p->pod_uid,
		 name);
	if ((err = mkdirs(path)))
		return err;
	snprintf(target, sizeof(target), "%s/0.log", path);
	if ((err = write_file(target, "")))
		return err;
	snprintf(path, sizeof(path), "%s/%s_%s_%s-%s.log", p->containers_log_dir, p->pod, p->ns,
		 name, p->debug_id);
	if (symlink(target, path))
		return -errno;
	{
		char *argv[] = {RUNC,	    "--root", p->state,	   "run", "-d",
				"--bundle", bundle,   p->debug_id, NULL};

		if (alone ? run_attachable(argv, &p->debug_stdin_w) : kh_run(argv, false))
			return -EIO;
	}
	p->debug_running = true;
	return 0;
}

int runc_pod__start_debug(struct runc_pod *p, const char *name, const char *script)
{
	return start_debug(p, name, script, false);
}

int runc_pod__start_debug_alone(struct runc_pod *p, const char *name, const char *script)
{
	return start_debug(p, name, script, true);
}

/* rmdir the pod's cgroups bottom-up in every mounted hierarchy (v1 and v2) */
static void remove_cgroups(const struct runc_pod *p)
{
	const char *levels[3];
	char pod[64], path[512];
	FILE *m = fopen("/proc/self/mounts", "r");
	char dev[64], dir[256], type[32];

	if (!m)
		return;
	snprintf(pod, sizeof(pod), "pod%s", p->pod_uid);
	levels[0] = "kubepods/besteffort/";
	levels[1] = "kubepods/besteffort";
	levels[2] = "kubepods";
	while (fscanf(m, "%63s %255s %31s %*[^\n]", dev, dir, type) == 3) {
		if (strcmp(type, "cgroup") && strcmp(type, "cgroup2"))
			continue;
		snprintf(path, sizeof(path), "%s/%s%s/%s", dir, levels[0], pod, p->id);
		rmdir(path);
		if (p->debug_id[0]) {
			snprintf(path, sizeof(path), "%s/%s%s/%s", dir, levels[0], pod,
				 p->debug_id);
			rmdir(path);
		}
		snprintf(path, sizeof(path), "%s/%s%s", dir, levels[0], pod);
		rmdir(path);
		/* shared levels go only when empty: another test's pod may still use them */
		for (int i = 1; i < 3; i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, levels[i]);
			rmdir(path);
		}
	}
	fclose(m);
}

void runc_pod__stop(struct runc_pod *p)
{
	if (!p->root[0])
		return;
	if (p->stdin_w > 0)
		close(p->stdin_w);
	if (p->debug_stdin_w > 0)
		close(p->debug_stdin_w);
	p->stdin_w = p->debug_stdin_w = 0;
	if (p->debug_running) {
		char *kill_[] = {RUNC, "--root", p->state, "kill", p->debug_id, "KILL", NULL};
		char *del[] = {RUNC, "--root", p->state, "delete", "-f", p->debug_id, NULL};

		kh_run(kill_, true);
		kh_run(del, true);
		p->debug_running = false;
	}
	if (p->running) {
		char *kill_[] = {RUNC, "--root", p->state, "kill", p->id, "KILL", NULL};
		char *del[] = {RUNC, "--root", p->state, "delete", "-f", p->id, NULL};

		kh_run(kill_, true);
		kh_run(del, true);
		p->running = false;
	}
	if (p->volumes_mounted) {
		umount2(p->token_dir, MNT_DETACH);
		umount2(p->secret_dir, MNT_DETACH);
	}
	remove_cgroups(p);
	{
		char *rm[] = {"/bin/rm", "-rf", "--one-file-system", p->root, NULL};

		kh_run(rm, true);
	}
	p->root[0] = 0;
}
