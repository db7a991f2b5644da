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
	struct epollmod_kevent arg;
};

/* The module swaps mask in for the call, as it does for epoll_pwait(). */
static int kevent_call(void *ctx, const uint64_t *mask, bool try_only)
{
	struct kevent_ctx *k = ctx;
	struct epollmod_kevent call = k->arg;
	int ret;

	if (try_only) {
		call.flags |= EPOLLMOD_KEVENT_TRY;
		ret = ioctl(k->kq, EPOLLMOD_IOC_KEVENT, &call);
		/* Its changes are made: the wait that follows has none. */
		if (ret < 0 && errno == EAGAIN) {
			k->arg.changes = 0;
			k->arg.nchanges = 0;
		}
		return ret;
	}
	if (mask) {
		call.sigmask = uptr(mask);
		call.sigsetsize = KERNEL_SIGSET_SIZE;
	}
	return ioctl(k->kq, EPOLLMOD_IOC_KEVENT, &call);
}

static int kevent_batch(int kq, const struct kevent *changelist, int nchanges,
			struct kevent *eventlist, int nevents,
			const struct timespec *timeout, uint32_t min_events,
			uint64_t min_wait_ns)
{
	struct epollmod_kevent arg = {
		.size = sizeof(arg),
		.changes = uptr(changelist),
		.events = uptr(eventlist),
		.nchanges = nchanges,
		.nevents = nevents,
		.timeout = uptr(timeout),
		.min_events = min_events,
		.min_wait_ns = min_wait_ns,
	};
	struct kevent_ctx k = {.kq = kq};
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
	k.arg = arg;
	if (nevents == 0)
		ret = ioctl(kq, EPOLLMOD_IOC_KEVENT, &arg);
	else
		ret = epollmod_cancellable(kq, kevent_call, &k, true);
	if (ret >= 0 || epollmod_failed_on_instance(kq))
		return ret;
	/* Not an instance: kevent(2) on a file that is not a kqueue. */
	errno = EBADF;
	return -1;
}

PUBLIC int epollmod_kevent(int kq, const struct kevent *changelist,
			   int nchanges, struct kevent *eventlist, int nevents,
			   const struct timespec *timeout)
{
	return kevent_batch(kq, changelist, nchanges, eventlist, nevents,
			    timeout, 0, 0);
}

PUBLIC int epollmod_kevent_batch(int kq, const struct kevent *changelist,
				 int nchanges, struct kevent *eventlist,
				 int nevents, int min_events,
				 const struct timespec *min_wait,
				 const struct timespec *timeout)
{
	uint64_t min_wait_ns;

	if (epollmod_batch_args(min_events, min_wait, &min_wait_ns))
		return -1;
	return kevent_batch(kq, changelist, nchanges, eventlist, nevents,
			    timeout, (uint32_t)min_events, min_wait_ns);
}
