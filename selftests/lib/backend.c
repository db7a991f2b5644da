// SPDX-License-Identifier: GPL-2.0
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/epollmod.h>
#include <epollmod/epollmod.h>

#include "backend.h"

const struct backend *be;

static bool native_available(void)
{
	return true;
}

static int native_raw_pwait(int epfd, struct epoll_event *events,
			    int maxevents, int timeout, const void *sigmask,
			    size_t sigsetsize)
{
	return syscall(SYS_epoll_pwait, epfd, events, maxevents, timeout,
		       sigmask, sigsetsize);
}

const struct backend backend_native = {
	.name		= "native epoll",
	.available	= native_available,
	EPOLL_CALLS_NATIVE,
	.max_user_watches = "/proc/sys/fs/epoll/max_user_watches",
	.raw_pwait	= native_raw_pwait,
};

static bool epollmod_available(void)
{
	int fd = epollmod_create1(EPOLL_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int epollmod_raw_pwait(int epfd, struct epoll_event *events,
			      int maxevents, int timeout, const void *sigmask,
			      size_t sigsetsize)
{
	struct epollmod_wait arg = {
		.size = sizeof(arg),
		.events = (uintptr_t)events,
		.maxevents = maxevents,
		.timeout_ms = timeout,
		.sigmask = (uintptr_t)sigmask,
		.sigsetsize = sigsetsize,
	};

	return ioctl(epfd, EPOLLMOD_IOC_WAIT, &arg);
}

const struct backend backend_epollmod = {
	.name		= "epollmod",
	.available	= epollmod_available,
	EPOLL_CALLS_EPOLLMOD,
	.max_user_watches = "/sys/module/epollmod/parameters/max_user_watches",
	.raw_pwait	= epollmod_raw_pwait,
};

int other_backend_instance(void)
{
	const struct backend *other = be == &backend_native ?
				      &backend_epollmod : &backend_native;

	return other->create1(EPOLL_CLOEXEC);
}
