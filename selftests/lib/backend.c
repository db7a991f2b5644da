// SPDX-License-Identifier: GPL-2.0
#include <unistd.h>

#include <epollmod/epollmod.h>

#include "backend.h"

const struct backend *be;

static bool native_available(void)
{
	return true;
}

const struct backend backend_native = {
	.name		= "native epoll",
	.available	= native_available,
	.create		= epoll_create,
	.create1	= epoll_create1,
	.ctl		= epoll_ctl,
	.wait		= epoll_wait,
	.pwait		= epoll_pwait,
	.pwait2		= epoll_pwait2,
};

static bool epollmod_available(void)
{
	int fd = epollmod_create1(EPOLL_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

const struct backend backend_epollmod = {
	.name		= "epollmod",
	.available	= epollmod_available,
	.create		= epollmod_create,
	.create1	= epollmod_create1,
	.ctl		= epollmod_ctl,
	.wait		= epollmod_wait,
	.pwait		= epollmod_pwait,
	.pwait2		= epollmod_pwait2,
};
