/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libepollmod: the <sys/epoll.h> calls, served by the epollmod kernel module.
 *
 * Each function takes the arguments of its glibc namesake and returns what
 * it returns: -1 with errno set on failure, with the errno native epoll
 * gives for the same input. An fd that is not an epollmod instance gets
 * EINVAL, as native gives for an fd that is not an epoll instance.
 *
 * The one errno native epoll never gives: epollmod_create() and
 * epollmod_create1() fail with ENODEV when the module is not loaded (or
 * EPOLLMOD_DEVICE names something else), and with EPROTO when the loaded
 * module speaks another ABI version.
 *
 * Instances are ordinary file descriptors: close(2) them; dup, fork and
 * SCM_RIGHTS share them, as they share a native epoll fd.
 *
 * The waits are cancellation points, as glibc's are; a cancel never loses
 * events a wait has taken (they are returned, and the thread is cancelled
 * at its next cancellation point).
 */
#ifndef EPOLLMOD_EPOLLMOD_H
#define EPOLLMOD_EPOLLMOD_H

#include <signal.h>
#include <sys/epoll.h>
#include <time.h>

#include <linux/epollmod.h>

#ifdef __cplusplus
extern "C" {
#endif

int epollmod_create(int size);
int epollmod_create1(int flags);
int epollmod_ctl(int epfd, int op, int fd, struct epoll_event *event);
int epollmod_wait(int epfd, struct epoll_event *events, int maxevents,
		  int timeout);
int epollmod_pwait(int epfd, struct epoll_event *events, int maxevents,
		   int timeout, const sigset_t *sigmask);
int epollmod_pwait2(int epfd, struct epoll_event *events, int maxevents,
		    const struct timespec *timeout, const sigset_t *sigmask);

/*
 * Not in <sys/epoll.h>: epollmod_pwait2() that waits for a batch. It
 * returns once min_events events are ready (at most maxevents; 0 or 1 is
 * an ordinary wait); or, once min_wait has passed since the call (NULL or
 * zero: never), as soon as any is; or at the timeout, with whatever is
 * ready. EINVAL for a negative min_events or an invalid min_wait, before
 * anything else is looked at; the other errnos are epollmod_pwait2()'s.
 * min_wait is read by the library: it must point to a valid timespec.
 */
int epollmod_wait_batch(int epfd, struct epoll_event *events, int maxevents,
			int min_events, const struct timespec *min_wait,
			const struct timespec *timeout,
			const sigset_t *sigmask);

/*
 * Not in <sys/epoll.h>: epollmod_wait_batch() that first makes nchanges
 * epoll_ctl() calls, in order, each described by a struct epollmod_change
 * of <linux/epollmod.h> (op, fd, events, data); each one's result is set
 * to 0 or the errno epoll_ctl() would set, and a change that fails does
 * not stop the others. The changes are made even when the wait then times
 * out. The call itself fails with EFAULT for a list it cannot read or
 * write, EINVAL for a negative nchanges (before anything else is looked
 * at); the other errnos are epollmod_wait_batch()'s.
 */
int epollmod_wait_changes(int epfd, struct epollmod_change *changes,
			  int nchanges, struct epoll_event *events,
			  int maxevents, int min_events,
			  const struct timespec *min_wait,
			  const struct timespec *timeout,
			  const sigset_t *sigmask);

/*
 * Options of an instance (epoll or kqueue), all set at once; *old (unless
 * NULL) gets the previous ones. 0 is Linux's behaviour. EINVAL for an
 * unknown bit or an fd that is not an instance, EOPNOTSUPP if the loaded
 * module has no options.
 */
int epollmod_set_options(int fd, unsigned long long options,
			 unsigned long long *old);

/*
 * Exclusive waiters take turns: threads waiting on the instance are woken
 * in the order they came (Linux: the latest first), and instances sharing
 * a file through EPOLLEXCLUSIVE watches in turn (Linux: the first in the
 * file's queue with a waiter, every time).
 */
#define EPOLLMOD_FIFO_EXCLUSIVE 0x1ULL

/*
 * Not in <sys/epoll.h>: 1 if fd is an epollmod instance, 0 if it is not
 * (or is not open). The fd itself is asked, not the device path: an
 * instance is recognized, and its errors kept, where /dev/epollmod is not
 * visible (a chroot, another mount namespace).
 */
int epollmod_is_instance(int fd);

/*
 * The device the library opens: $EPOLLMOD_DEVICE if set, else
 * /dev/epollmod.
 */
const char *epollmod_device_path(void);

#ifdef __cplusplus
}
#endif

#endif /* EPOLLMOD_EPOLLMOD_H */
