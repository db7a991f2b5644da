// SPDX-License-Identifier: GPL-2.0
/*
 * epollmod: the misc device, the ioctl ABI and module set-up.
 *
 * Every open of /dev/epollmod is one instance. The ioctls below decode the
 * uapi structs and run epoll_ctl(2) and epoll_pwait2(2) on it, with the
 * checks those system calls make, in their order.
 */

#include <linux/debugfs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched/rt.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/stringify.h>
#include <linux/time64.h>

#include "epm.h"

module_param_named(max_user_watches, epm_max_user_watches, ulong, 0644);
MODULE_PARM_DESC(max_user_watches,
		 "Watches one user may have across all instances (default: Linux's, 4% of low memory)");
module_param_named(max_user_timers, epm_max_user_timers, ulong, 0644);
MODULE_PARM_DESC(max_user_timers,
		 "EVFILT_TIMER knotes one user may have across all kqueues");

static struct dentry *epm_debugfs;

static int epm_open(struct inode *inode, struct file *file)
{
	struct epm_instance *ep;

	ep = epm_instance_create(file);
	if (!ep)
		return -ENOMEM;
	/* A misc device leaves its struct miscdevice here; replace it. */
	file->private_data = ep;
	/*
	 * The flags of a native epoll file: its access mode only. open()
	 * added O_LARGEFILE and kept O_NOCTTY, which F_GETFL would show.
	 */
	file->f_flags &= O_ACCMODE | O_NONBLOCK;
#ifdef EPOLLMOD_WARN_ON_OPEN
	/* Appliance self-check build: prove that a splat fails the run. */
	WARN(1, "epollmod: built with EPOLLMOD_WARN_ON_OPEN\n");
#endif
	return 0;
}

static int epm_mmap(struct file *file, struct vm_area_struct *vma)
{
	return epm_ring_mmap(file->private_data, vma);
}

static int epm_release(struct inode *inode, struct file *file)
{
	epm_instance_release(file->private_data);
	return 0;
}

static __poll_t epm_poll(struct file *file, poll_table *wait)
{
	return epm_instance_poll(file->private_data, wait, 0, false);
}

static void epm_fdinfo(struct seq_file *m, struct file *file)
{
	epm_show_fdinfo(m, file);
}

/*
 * Read a versioned argument struct: the caller's size comes first, then
 * copy_struct_from_user() zero-extends an older layout and rejects a newer
 * one with non-zero fields we do not know.
 */
static int epm_copy_arg(void *karg, size_t ksize, size_t min_size,
			const void __user *uarg)
{
	u32 usize;

	if (get_user(usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (usize < min_size)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	return copy_struct_from_user(karg, ksize, uarg, usize);
}

static long epm_ioctl_info(void __user *uarg)
{
	struct epollmod_info info = {};
	u32 usize;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < EPOLLMOD_INFO_SIZE_VER0)
		return -EINVAL;
	/* As for the other structs: no caller has a struct this big. */
	if (usize > PAGE_SIZE)
		return -E2BIG;

	info.size = min_t(u32, usize, sizeof(info));
	info.abi_version = EPOLLMOD_ABI_VERSION;
	info.features = EPM_FEATURES;
	info.max_nests = EPM_MAX_NESTS;
	info.max_user_watches = READ_ONCE(epm_max_user_watches);

	if (copy_to_user(uarg, &info, info.size))
		return -EFAULT;
	/* A newer caller's fields that we do not know read as zero. */
	if (usize > sizeof(info) &&
	    clear_user(uarg + sizeof(info), usize - sizeof(info)))
		return -EFAULT;
	return 0;
}

static long epm_ioctl_ctl(struct epm_instance *ep, void __user *uarg)
{
	struct epoll_event ev = {};
	struct epollmod_ctl arg;
	int err;

	err = epm_copy_arg(&arg, sizeof(arg), EPOLLMOD_CTL_SIZE_VER0, uarg);
	if (err)
		return err;
	if (arg.flags)
		return -EINVAL;
	/* epoll_ctl(2) reads the event before anything else. */
	if (arg.op != EPOLL_CTL_DEL &&
	    copy_from_user(&ev, u64_to_user_ptr(arg.event), sizeof(ev)))
		return -EFAULT;
	return epm_ctl(ep, arg.op, arg.fd, &ev);
}

/*
 * A wait's change list: each change applied as epoll_ctl(2) would, in
 * order, its result written back. Only a list that cannot be read or
 * written fails the call.
 */
static int epm_wait_changes(struct epm_instance *ep, u64 uchanges, u32 n)
{
	struct epollmod_change __user *changes = u64_to_user_ptr(uchanges);
	struct epollmod_change c;
	struct epoll_event ev;
	u32 i;

	for (i = 0; i < n; i++) {
		if (copy_from_user(&c, changes + i, sizeof(c)))
			return -EFAULT;
		ev.events = c.events;
		ev.data = c.data;
		c.result = -epm_ctl(ep, c.op, c.fd, &ev);
		if (put_user(c.result, &changes[i].result))
			return -EFAULT;
		cond_resched();
	}
	return 0;
}

/*
 * select()'s timer slack, which the kernel does not export: 0.1% of the
 * timeout (0.5% for a niced task), at most 100 ms, at least the task's
 * timer_slack_ns, none for real-time tasks.
 */
static u64 epm_timeout_slack(const struct timespec64 *rel)
{
	u64 divisor = task_nice(current) > 0 ? 200 : 1000;
	u64 slack;

	if (rt_task(current))
		return 0;
	slack = div64_u64(timespec64_to_ns(rel), divisor);
	slack = min_t(u64, slack, 100 * NSEC_PER_MSEC);
	return max_t(u64, slack, current->timer_slack_ns);
}

/*
 * A relative timeout as an absolute CLOCK_MONOTONIC deadline; 0 means
 * "do not block".
 */
ktime_t epm_deadline(const struct timespec64 *rel, u64 *slack)
{
	if (!rel->tv_sec && !rel->tv_nsec)
		return 0;
	*slack = epm_timeout_slack(rel);
	return ktime_add_safe(ktime_get(), timespec64_to_ktime(*rel));
}

/*
 * A wait's timeout (@rel, relative; NULL blocks) and batching, as
 * epm_wait() takes them; @deadline is the caller's storage.
 */
void epm_wait_spec_init(struct epm_wait_spec *spec, ktime_t *deadline,
			const struct timespec64 *rel, u32 min_events,
			u64 min_wait_ns, int maxevents)
{
	*spec = (struct epm_wait_spec){ .min_events = 1 };
	if (rel) {
		*deadline = epm_deadline(rel, &spec->slack);
		spec->expires = deadline;
	}
	if (min_events > 1)
		spec->min_events = min_t(u32, min_events, maxevents);
	if (min_wait_ns)
		spec->min_deadline = ktime_add_safe(ktime_get(),
						    min_t(u64, min_wait_ns,
							  KTIME_MAX));
}

/*
 * epoll_pwait()'s signal mask, from the exported sigprocmask(): the mask
 * applies while we wait. If a signal interrupts the wait, the original
 * stays saved (TIF_RESTORE_SIGMASK) so that the handler runs with the
 * temporary mask and sigreturn restores the original, as set_user_sigmask()
 * arranges for the system call.
 */
static int epm_sigmask_set(u64 umask, u64 size)
{
	sigset_t kmask;

	if (!umask)
		return 0;
	if (size != sizeof(sigset_t))
		return -EINVAL;
	if (copy_from_user(&kmask, u64_to_user_ptr(umask), sizeof(kmask)))
		return -EFAULT;
	sigdelsetmask(&kmask, sigmask(SIGKILL) | sigmask(SIGSTOP));
	set_restore_sigmask();
	current->saved_sigmask = current->blocked;
	sigprocmask(SIG_SETMASK, &kmask, NULL);
	return 0;
}

static void epm_sigmask_restore(bool interrupted)
{
	/* Interrupted: signal delivery restores the mask after the handler. */
	if (interrupted)
		return;
	if (test_and_clear_restore_sigmask())
		sigprocmask(SIG_SETMASK, &current->saved_sigmask, NULL);
}

static long epm_ioctl_wait(struct epm_instance *ep, void __user *uarg)
{
	epm_harvest_t harvest = READ_ONCE(ep->ring) ? epm_ring_harvest :
						       epm_harvest;
	struct epoll_event __user *events;
	struct timespec64 rel, *timeout = NULL;
	struct epm_wait_spec spec;
	struct epollmod_wait arg;
	ktime_t deadline;
	int maxevents, err;

	err = epm_copy_arg(&arg, sizeof(arg), EPOLLMOD_WAIT_SIZE_VER0, uarg);
	if (err)
		return err;
	if ((arg.flags & ~EPOLLMOD_WAIT_FLAGS) || arg.reserved ||
	    arg.reserved2)
		return -EINVAL;

	/* The order of epoll_pwait2(2): timeout, then sigmask, then events. */
	if (arg.flags & EPOLLMOD_WAIT_TIMESPEC) {
		if (arg.timeout) {
			if (get_timespec64(&rel, u64_to_user_ptr(arg.timeout)))
				return -EFAULT;
			if (!timespec64_valid(&rel))
				return -EINVAL;
			timeout = &rel;
		}
	} else if (arg.timeout_ms >= 0) {
		rel = ns_to_timespec64((s64)arg.timeout_ms * NSEC_PER_MSEC);
		timeout = &rel;
	}
	maxevents = arg.maxevents;
	epm_wait_spec_init(&spec, &deadline, timeout, arg.min_events,
			   arg.min_wait_ns, arg.maxevents);
	spec.try_only = arg.flags & EPOLLMOD_WAIT_TRY;

	err = epm_sigmask_set(arg.sigmask, arg.sigsetsize);
	if (err)
		return err;

	events = u64_to_user_ptr(arg.events);
	if (arg.flags & EPOLLMOD_WAIT_RING) {
		/* No events copied: the ring's count is the answer. */
		harvest = epm_ring_wait_harvest;
		maxevents = INT_MAX;
		err = READ_ONCE(ep->ring) ? 0 : -EINVAL;
	} else if (arg.maxevents <= 0 || arg.maxevents > EPM_MAX_EVENTS) {
		err = -EINVAL;
	} else if (!access_ok(events, arg.maxevents * sizeof(*events))) {
		err = -EFAULT;
	}
	if (!err)
		err = epm_wait_changes(ep, arg.changes, arg.nchanges);
	if (!err)
		err = epm_wait(ep, harvest, events, maxevents, &spec);

	epm_sigmask_restore(err == -EINTR);
	return err;
}

static long epm_ioctl_options(struct epm_instance *ep, void __user *uarg)
{
	struct epollmod_options arg;
	u64 old;
	int err;

	err = epm_copy_arg(&arg, sizeof(arg), EPOLLMOD_OPTIONS_SIZE_VER0,
			   uarg);
	if (err)
		return err;
	if (arg.flags || (arg.options & ~EPOLLMOD_OPTS))
		return -EINVAL;
	spin_lock_irq(&ep->lock);
	old = ep->fifo_exclusive ? EPOLLMOD_OPT_FIFO_EXCLUSIVE : 0;
	ep->fifo_exclusive = arg.options & EPOLLMOD_OPT_FIFO_EXCLUSIVE;
	spin_unlock_irq(&ep->lock);
	if (put_user(old, &((struct epollmod_options __user *)uarg)->options))
		return -EFAULT;
	return 0;
}

static long epm_ioctl_kevent(struct epm_instance *ep, void __user *uarg)
{
	struct epollmod_kevent arg;
	int err;

	/* kevent(2) on a file that is not a kqueue. */
	if (!READ_ONCE(ep->kqueue))
		return -EBADF;
	err = epm_copy_arg(&arg, sizeof(arg), EPOLLMOD_KEVENT_SIZE_VER0, uarg);
	if (err)
		return err;
	if (arg.flags & ~EPOLLMOD_KEVENT_FLAGS)
		return -EINVAL;
	err = epm_sigmask_set(arg.sigmask, arg.sigsetsize);
	if (err)
		return err;
	err = epm_kevent(ep, &arg);
	epm_sigmask_restore(err == -EINTR);
	return err;
}

static long epm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct epm_instance *ep = file->private_data;
	void __user *uarg = (void __user *)arg;

	/* The size bits are ignored: the structs carry their own size. */
	if (_IOC_TYPE(cmd) != EPOLLMOD_IOC_MAGIC)
		return -ENOTTY;

	switch (_IOC_NR(cmd)) {
	case _IOC_NR(EPOLLMOD_IOC_INFO):
		return epm_ioctl_info(uarg);
	case _IOC_NR(EPOLLMOD_IOC_CTL):
		/* As epoll_ctl(2) on a file that is not an epoll instance. */
		if (READ_ONCE(ep->kqueue))
			return -EINVAL;
		return epm_ioctl_ctl(ep, uarg);
	case _IOC_NR(EPOLLMOD_IOC_WAIT):
		if (READ_ONCE(ep->kqueue))
			return -EINVAL;
		return epm_ioctl_wait(ep, uarg);
	case _IOC_NR(EPOLLMOD_IOC_KQUEUE):
		return epm_kqueue_init(ep);
	case _IOC_NR(EPOLLMOD_IOC_KEVENT):
		return epm_ioctl_kevent(ep, uarg);
	case _IOC_NR(EPOLLMOD_IOC_OPTIONS):
		return epm_ioctl_options(ep, uarg);
	case _IOC_NR(EPOLLMOD_IOC_RING):
		return epm_ring_setup(ep, uarg);
	}
	return -ENOTTY;
}

const struct file_operations epm_fops = {
	.owner		= THIS_MODULE,
	.open		= epm_open,
	.release	= epm_release,
	.poll		= epm_poll,
	.mmap		= epm_mmap,
	.unlocked_ioctl	= epm_ioctl,
	/*
	 * Every argument is a layout-stable struct, and struct epoll_event
	 * and sigset_t have the same layout for 32-bit x86 tasks.
	 */
	.compat_ioctl	= compat_ptr_ioctl,
	.show_fdinfo	= epm_fdinfo,
	/* As native epoll: lseek() succeeds and does nothing. */
	.llseek		= noop_llseek,
};

static struct miscdevice epm_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= EPOLLMOD_DEVICE_NAME,
	.fops	= &epm_fops,
	/* epoll needs no privilege. */
	.mode	= 0666,
};

/* In the enum's order: both come from stats.h. */
static const char *const epm_stat_names[EPM_NR_STATS] = {
#define EPM_STAT(id, name, what) __stringify(name)
#include "stats.h"
#undef EPM_STAT
};

static int epm_stats_show(struct seq_file *m, void *unused)
{
	int i;

	for (i = 0; i < EPM_NR_STATS; i++)
		seq_printf(m, "%s %ld\n", epm_stat_names[i], epm_stat_read(i));
	seq_printf(m, "watched_files %u\n", epm_watched_files());
	/* A close the probe missed would leave hooks behind: must stay 0. */
	seq_printf(m, "probe_missed %lu\n", epm_probe_missed());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(epm_stats);

/* Where the final-fput probe sits, and how: see files.c. */
static int epm_probe_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "symbol %s\nftrace %d\nmissed %lu\n",
		   epm_probe_symbol(), epm_probe_on_ftrace(),
		   epm_probe_missed());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(epm_probe);

static int __init epm_init(void)
{
	int err;

	err = epm_core_init();
	if (err)
		return err;
	err = epm_files_init();
	if (err)
		goto out_core;
	err = epm_kqueue_module_init();
	if (err)
		goto out_files;
	err = misc_register(&epm_miscdev);
	if (err)
		goto out_kqueue;
	/* Statistics are a convenience: debugfs may be missing. */
	epm_debugfs = debugfs_create_dir(EPOLLMOD_DEVICE_NAME, NULL);
	debugfs_create_file("stats", 0444, epm_debugfs, NULL, &epm_stats_fops);
	debugfs_create_file("probe", 0444, epm_debugfs, NULL, &epm_probe_fops);
	return 0;

out_kqueue:
	epm_kqueue_module_exit();
out_files:
	epm_files_exit();
out_core:
	epm_core_exit();
	return err;
}

static void __exit epm_exit(void)
{
	debugfs_remove_recursive(epm_debugfs);
	misc_deregister(&epm_miscdev);
	epm_kqueue_module_exit();
	epm_files_exit();
	epm_core_exit();
}

module_init(epm_init);
module_exit(epm_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Linux eventpoll (epoll) as a loadable module: /dev/epollmod");
MODULE_AUTHOR("The epollmod developers");
MODULE_VERSION(EPOLLMOD_VERSION);
