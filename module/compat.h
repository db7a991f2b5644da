/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the kernels epollmod builds for, decided by what
 * the kernel tree defines rather than by version numbers: Kbuild greps the
 * headers the build uses and passes EPM_HAVE_* for what it found.
 */
#ifndef EPM_COMPAT_H
#define EPM_COMPAT_H

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/hrtimer.h>
#include <linux/poll.h>
/* After the headers above: it uses them without including them. */
#include <linux/eventpoll.h>

/* 6.12 hid struct fd's members behind fd_file(). */
#ifndef fd_file
#define fd_file(f) ((f).file)
#endif

/*
 * A reference on a file whose count may already be zero (a file being
 * released): taken only if it is not. Fully ordered when it succeeds.
 * 6.13 replaced the atomic_long_t f_count with file_ref_t f_ref.
 */
static inline bool epm_file_tryget(struct file *file)
{
#ifdef EPM_HAVE_FILE_REF
	return file_ref_get(&file->f_ref);
#else
	return atomic_long_inc_not_zero(&file->f_count);
#endif
}

/*
 * EPOLLWAKEUP needs CAP_BLOCK_SUSPEND, and a kernel with wakeup sources;
 * without either it is dropped, not refused. The kernel's own helper left
 * the uapi header in 6.4.
 */
static inline void epm_filter_epollwakeup(struct epoll_event *event)
{
	/* capable() only when asked: it audits, and marks the task. */
	if ((event->events & EPOLLWAKEUP) &&
	    (!IS_ENABLED(CONFIG_PM_SLEEP) || !capable(CAP_BLOCK_SUSPEND)))
		event->events &= ~EPOLLWAKEUP;
}

/*
 * The bytes queued on an AF_UNIX socket: still exported, but its
 * declaration moved out of include/net/af_unix.h in 6.14.
 */
#ifndef EPM_HAVE_UNIX_INQ_LEN_DECL
struct sock;
long unix_inq_len(struct sock *sk);
#endif

/* 6.13 replaced hrtimer_init() and the function member with one call. */
#ifndef EPM_HAVE_HRTIMER_SETUP
static inline void hrtimer_setup(struct hrtimer *timer,
				 enum hrtimer_restart (*fn)(struct hrtimer *),
				 clockid_t clock, enum hrtimer_mode mode)
{
	hrtimer_init(timer, clock, mode);
	timer->function = fn;
}
#endif

#endif /* EPM_COMPAT_H */
