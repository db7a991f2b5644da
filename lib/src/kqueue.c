// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libepollmod's kqueue face: kqueue(2) and kevent(2) on the module's
 * EPOLLMOD_IOC_KQUEUE and EPOLLMOD_IOC_KEVENT.
 *
 * struct kevent is struct epollmod_kev and struct timespec is struct
 * __kernel_timespec, so the caller's arrays and timeout go to the module
 * as they are. The module answers with kevent(2)'s errnos, EBADF included
 * for an epollmod instance that is not a kqueue; the library adds EBADF
 * for an fd that is not an instance at all.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/epollmod.h>
#include <linux/time_types.h>

#include "epollmod/kqueue.h"
#include "internal.h"

_Static_assert(sizeof(struct kevent) == sizeof(struct epollmod_kev) &&
		       offsetof(struct kevent, udata) ==
			       offsetof(struct epollmod_kev, udata),
	       "kevent arrays reach the module unchanged: LP64 only");
_Static_assert(sizeof(struct timespec) == sizeof(struct __kernel_timespec) &&
		       offsetof(struct timespec, tv_nsec) ==
			       offsetof(struct __kernel_timespec, tv_nsec),
	       "the timeout reaches the module unchanged");

PUBLIC int epollmod_kqueue(void)
{
	struct epollmod_info info;
	int fd, err;

	fd = epollmod_open_instance(true, &info);
	if (fd < 0)
		return -1;
	if (!(info.features & EPOLLMOD_FEAT_KQUEUE)) {
		/* A module built without the kqueue face. */
		err = ENOSYS;
	} else if (ioctl(fd, EPOLLMOD_IOC_KQUEUE) != 0) {
		err = errno == ENOTTY ? ENOSYS : errno;
	} else {
		return fd;
	}
	close(fd);
	errno = err;
	return -1;
}

struct kevent_ctx {
	int kq;
	const struct epollmod_kevent *arg;
};

/* The module swaps mask in for the call, as it does for epoll_pwait(). */
static int kevent_call(void *ctx, const uint64_t *mask)
{
	const struct kevent_ctx *k = ctx;
	struct epollmod_kevent blocking;

	if (!mask)
		return ioctl(k->kq, EPOLLMOD_IOC_KEVENT, k->arg);
	blocking = *k->arg;
	blocking.sigmask = uptr(mask);
	blocking.sigsetsize = KERNEL_SIGSET_SIZE;
	return ioctl(k->kq, EPOLLMOD_IOC_KEVENT, &blocking);
}

PUBLIC int epollmod_kevent(int kq, const struct kevent *changelist,
			   int nchanges, struct kevent *eventlist, int nevents,
			   const struct timespec *timeout)
{
	struct epollmod_kevent arg = {
		.size = sizeof(arg),
		.changes = uptr(changelist),
		.events = uptr(eventlist),
		.nchanges = nchanges,
		.nevents = nevents,
		.timeout = uptr(timeout),
	};
	struct kevent_ctx k = {.kq = kq, .arg = &arg};
	int ret;

	if (nchanges < 0 || nevents < 0) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * As on FreeBSD, a call that cannot wait is no cancellation point.
	 * Any other may block: whether *timeout is zero is the module's to
	 * read (a bad pointer is EFAULT, not a fault here).
	 */
	if (nevents == 0)
		ret = ioctl(kq, EPOLLMOD_IOC_KEVENT, &arg);
	else
		ret = epollmod_cancellable(kevent_call, &k, true);
	if (ret >= 0 || epollmod_failed_on_instance(kq))
		return ret;
	/* Not an instance: kevent(2) on a file that is not a kqueue. */
	errno = EBADF;
	return -1;
}
