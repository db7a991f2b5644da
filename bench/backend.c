// SPDX-License-Identifier: GPL-2.0
/*
 * The two backends. Native is glibc's epoll; epollmod is libepollmod's C
 * ABI, exactly what an application linking the library would call.
 */
#include <string.h>

#include <epollmod/epollmod.h>

#include "bench.h"

static const struct backend native = {
	.name		= "native",
	EPOLL_CALLS_NATIVE,
};

static const struct backend epollmod = {
	.name		= "epollmod",
	EPOLL_CALLS_EPOLLMOD,
};

const struct backend *const epb_backends[EPB_NR_BACKENDS] = {
	[EPB_NATIVE]	= &native,
	[EPB_EPOLLMOD]	= &epollmod,
};

const struct backend *epb_backend_by_name(const char *name)
{
	for (int i = 0; i < EPB_NR_BACKENDS; i++)
		if (!strcmp(epb_backends[i]->name, name))
			return epb_backends[i];
	return NULL;
}
