/* SPDX-License-Identifier: GPL-2.0 */
/*
 * task: reading the current task's kernel state with CO-RE, for tracepoint programs (which get no
 * typed task pointer: bpf_get_current_task_btf() needs 5.11, the matrix starts at 5.10).
 */
#ifndef KEYHOLE_TASK_BPF_H
#define KEYHOLE_TASK_BPF_H

/*
 * The struct file behind descriptor @fd of the current task, or NULL. Walks
 * task->files->fdt->fd[fd] as the kernel's files_lookup_fd_raw() does; fdt is read once so fd is
 * checked against the max_fds of the same table it indexes (the table can be replaced by a
 * resize at any time; the old one stays valid for the RCU grace period we run in).
 */
static __always_inline struct file *kh_task_fd_file(unsigned int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *f = NULL;

	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]))
		return NULL;
	return f;
}

#endif /* KEYHOLE_TASK_BPF_H */
