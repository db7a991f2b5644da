// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libepollmod: <sys/epoll.h> on top of the epollmod ioctls.
 *
 * The fast path is one ioctl per call. Only when that ioctl fails do we
 * look further: if the fd is an epollmod instance the module's errno is
 * already the native one; if it is not, native epoll is asked the same
 * question about an fd it must reject, so that every check (EFAULT on a bad
 * pointer, EINVAL on maxevents, ...) fires in the running kernel's order.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/epollmod.h>
#include <linux/time_types.h>

#include "epollmod/epollmod.h"

/* The kernel's sigset_t, which is what epoll_pwait(2) takes. */
#define KERNEL_SIGSET_SIZE (_NSIG / 8)

#define PUBLIC __attribute__((visibility("default")))

static inline uint64_t uptr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

PUBLIC const char *epollmod_device_path(void)
{
	const char *path = secure_getenv("EPOLLMOD_DEVICE");

	return path && *path ? path : EPOLLMOD_DEVICE_PATH;
}

PUBLIC int epollmod_is_instance(int fd)
{
	struct stat fd_st, dev_st;
	int saved = errno;
	int ret;

	ret = fstat(fd, &fd_st) == 0 && S_ISCHR(fd_st.st_mode) &&
	      stat(epollmod_device_path(), &dev_st) == 0 &&
	      S_ISCHR(dev_st.st_mode) && fd_st.st_rdev == dev_st.st_rdev;
	errno = saved;
	return ret;
}

static int fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

PUBLIC int epollmod_create1(int flags)
{
	struct epollmod_info info = {.size = sizeof(info)};
	int fd;

	if (flags & ~EPOLL_CLOEXEC) {
		errno = EINVAL;
		return -1;
	}
	fd = open(epollmod_device_path(),
		  O_RDWR | O_NOCTTY | (flags & EPOLL_CLOEXEC ? O_CLOEXEC : 0));
	if (fd < 0) {
		/* No node, or a node without its driver: not loaded. */
		if (errno == ENOENT || errno == ENXIO || errno == ENODEV)
			errno = ENODEV;
		return -1;
	}
	if (ioctl(fd, EPOLLMOD_IOC_INFO, &info) != 0) {
		close(fd);
		errno = ENODEV;
		return -1;
	}
	if (info.abi_version != EPOLLMOD_ABI_VERSION) {
		close(fd);
		errno = EPROTO;
		return -1;
	}
	return fd;
}

PUBLIC int epollmod_create(int size)
{
	if (size <= 0) {
		errno = EINVAL;
		return -1;
	}
	return epollmod_create1(0);
}

/*
 * What stands for epfd when native epoll is asked: -1 for a closed epfd, a
 * fresh eventfd (valid, and not an epoll instance) for an open one. -1 with
 * errno EMFILE or ENFILE when the fd table is full.
 */
static int probe_for(int epfd)
{
	if (!fd_is_open(epfd))
		return -1;
	return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

/*
 * epfd is not an instance: ask native epoll the same question with an fd
 * that stands for epfd (-1 for a closed one, a fresh eventfd for an open
 * one), so that its checks run in the running kernel's order and end in
 * EBADF or EINVAL, or earlier in EFAULT, EPERM, ...
 */
static int ctl_error(int epfd, int op, int fd, struct epoll_event *event)
{
	int probe = probe_for(epfd);
	int err;

	if (probe < 0 && errno != EBADF)
		return -1;
	if (syscall(SYS_epoll_ctl, probe, op, fd, event) == 0)
		errno = EINVAL; /* unreachable: a probe is never an epoll */
	err = errno;
	if (probe >= 0)
		close(probe);
	errno = err;
	return -1;
}

PUBLIC int epollmod_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
	struct epollmod_ctl arg = {
		.size = sizeof(arg),
		.op = op,
		.fd = fd,
		.event = uptr(event),
	};

	if (ioctl(epfd, EPOLLMOD_IOC_CTL, &arg) == 0)
		return 0;
	if (epollmod_is_instance(epfd))
		return -1;
	return ctl_error(epfd, op, fd, event);
}

/*
 * epoll_wait() is a cancellation point in glibc; ioctl() is not. Waiting
 * with asynchronous cancellation enabled gives back what glibc gives.
 */
static int wait_ioctl(int epfd, struct epollmod_wait *arg)
{
	int old_type, ret;

	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &old_type);
	ret = ioctl(epfd, EPOLLMOD_IOC_WAIT, arg);
	pthread_setcanceltype(old_type, NULL);
	return ret;
}

/* As ctl_error(), for the three waits. */
static int wait_error(int epfd, const struct epollmod_wait *arg)
{
	const void *events = (const void *)(uintptr_t)arg->events;
	const void *sigmask = (const void *)(uintptr_t)arg->sigmask;
	int probe = probe_for(epfd);
	long ret;
	int err;

	if (probe < 0 && errno != EBADF)
		return -1;
	if (arg->flags & EPOLLMOD_WAIT_TIMESPEC)
		ret = syscall(SYS_epoll_pwait2, probe, events, arg->maxevents,
			      (const void *)(uintptr_t)arg->timeout, sigmask,
			      KERNEL_SIGSET_SIZE);
	else
		ret = syscall(SYS_epoll_pwait, probe, events, arg->maxevents,
			      arg->timeout_ms, sigmask, KERNEL_SIGSET_SIZE);
	err = ret >= 0 ? EINVAL : errno;
	if (probe >= 0)
		close(probe);
	errno = err;
	return -1;
}

static int do_wait(int epfd, struct epollmod_wait *arg)
{
	int ret = wait_ioctl(epfd, arg);

	if (ret >= 0 || epollmod_is_instance(epfd))
		return ret;
	return wait_error(epfd, arg);
}

PUBLIC int epollmod_pwait(int epfd, struct epoll_event *events, int maxevents,
			  int timeout, const sigset_t *sigmask)
{
	struct epollmod_wait arg = {
		.size = sizeof(arg),
		.events = uptr(events),
		.maxevents = maxevents,
		.timeout_ms = timeout,
		.sigmask = uptr(sigmask),
		.sigsetsize = KERNEL_SIGSET_SIZE,
	};

	return do_wait(epfd, &arg);
}

PUBLIC int epollmod_wait(int epfd, struct epoll_event *events, int maxevents,
			 int timeout)
{
	return epollmod_pwait(epfd, events, maxevents, timeout, NULL);
}

_Static_assert(sizeof(struct timespec) == sizeof(struct __kernel_timespec),
	       "epollmod_pwait2 passes struct timespec through unchanged");

PUBLIC int epollmod_pwait2(int epfd, struct epoll_event *events, int maxevents,
			   const struct timespec *timeout,
			   const sigset_t *sigmask)
{
	struct epollmod_wait arg = {
		.size = sizeof(arg),
		.flags = EPOLLMOD_WAIT_TIMESPEC,
		.events = uptr(events),
		.maxevents = maxevents,
		.timeout = uptr(timeout),
		.sigmask = uptr(sigmask),
		.sigsetsize = KERNEL_SIGSET_SIZE,
	};

	return do_wait(epfd, &arg);
}
