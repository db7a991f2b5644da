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
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
 * Native epoll, asked about an fd that is not an epoll instance, fails in
 * the running kernel's order of checks: that is the answer for such an
 * epfd. Every question below is one native epoll must refuse, so nothing
 * changes hands.
 */

/* ctl on (fd, fd): the checks epfd would pass, then EINVAL for "itself". */
static int ctl_error(int epfd, int op, int fd, struct epoll_event *event)
{
	int stand_in = fd_is_open(epfd) ? fd : -1;

	if (syscall(SYS_epoll_ctl, stand_in, op, fd, event) == 0)
		errno = EINVAL; /* unreachable: native refuses fd in itself */
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
 * epoll_wait() is a cancellation point in glibc; ioctl() is not. A wait
 * that may block runs with asynchronous cancellation enabled, as glibc's
 * does; one that cannot block only tests for a pending cancellation.
 */
static int wait_ioctl(int epfd, struct epollmod_wait *arg)
{
	bool blocks =
		(arg->flags & EPOLLMOD_WAIT_TIMESPEC) || arg->timeout_ms != 0;
	int old_type, ret;

	if (!blocks) {
		pthread_testcancel();
		return ioctl(epfd, EPOLLMOD_IOC_WAIT, arg);
	}
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &old_type);
	ret = ioctl(epfd, EPOLLMOD_IOC_WAIT, arg);
	pthread_setcanceltype(old_type, NULL);
	return ret;
}

/* Is fd a native epoll instance? (Readable from /proc without an fd.) */
static bool native_epoll(int fd)
{
	char path[32], link[32];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return true; /* cannot tell: be careful */
	link[n] = '\0';
	return !strcmp(link, "anon_inode:[eventpoll]");
}

/*
 * A wait on epfd itself, unless it is a native epoll (that wait could
 * succeed): then on a fresh eventfd. -1 for a closed epfd.
 */
static int wait_error(int epfd, const struct epollmod_wait *arg)
{
	const void *events = (const void *)(uintptr_t)arg->events;
	const void *sigmask = (const void *)(uintptr_t)arg->sigmask;
	int stand_in = -1, probe = -1;
	long ret;
	int err;

	if (fd_is_open(epfd)) {
		stand_in = epfd;
		if (native_epoll(epfd)) {
			stand_in = probe = eventfd(0, EFD_CLOEXEC);
			if (probe < 0) {
				/* No fd to ask with: the likeliest answer. */
				errno = EINVAL;
				return -1;
			}
		}
	}
	if (arg->flags & EPOLLMOD_WAIT_TIMESPEC)
		ret = syscall(SYS_epoll_pwait2, stand_in, events,
			      arg->maxevents,
			      (const void *)(uintptr_t)arg->timeout, sigmask,
			      KERNEL_SIGSET_SIZE);
	else
		ret = syscall(SYS_epoll_pwait, stand_in, events, arg->maxevents,
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
