/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The six <sys/epoll.h> calls as a table of functions: one declaration for
 * everything in this tree that runs on native epoll or on epollmod, chosen
 * at run time (the LD_PRELOAD shim, the selftests, the benchmark). Internal:
 * not installed, included by path from lib/src/.
 *
 *	struct backend { const char *name; EPOLL_CALLS_MEMBERS; };
 *	static const struct backend native = { .name = "native",
 *					       EPOLL_CALLS_NATIVE };
 *
 * (The C++ wrapper's module_calls and native_calls are the installed,
 * compile-time counterpart: lib/include/epollmod/epollmod.hpp.)
 */
#ifndef EPOLLMOD_CALLS_H
#define EPOLLMOD_CALLS_H

#include <signal.h>
#include <sys/epoll.h>
#include <time.h>

#include <epollmod/epollmod.h>

/* The members, to embed in a struct of one's own. */
#define EPOLL_CALLS_MEMBERS                                                \
	int (*create)(int size);                                           \
	int (*create1)(int flags);                                         \
	int (*ctl)(int epfd, int op, int fd, struct epoll_event *event);   \
	int (*wait)(int epfd, struct epoll_event *events, int maxevents,   \
		    int timeout);                                          \
	int (*pwait)(int epfd, struct epoll_event *events, int maxevents,  \
		     int timeout, const sigset_t *sigmask);                \
	int (*pwait2)(int epfd, struct epoll_event *events, int maxevents, \
		      const struct timespec *timeout, const sigset_t *sigmask)

/* ... or the table alone. */
struct epoll_calls {
	EPOLL_CALLS_MEMBERS;
};

/* Designated initializers of the members: libepollmod's C ABI ... */
#define EPOLL_CALLS_EPOLLMOD                                                 \
	.create = epollmod_create, .create1 = epollmod_create1,              \
	.ctl = epollmod_ctl, .wait = epollmod_wait, .pwait = epollmod_pwait, \
	.pwait2 = epollmod_pwait2

/* ... and glibc's (epoll_pwait2 needs glibc 2.35). */
#define EPOLL_CALLS_NATIVE                                                  \
	.create = epoll_create, .create1 = epoll_create1, .ctl = epoll_ctl, \
	.wait = epoll_wait, .pwait = epoll_pwait, .pwait2 = epoll_pwait2

#endif /* EPOLLMOD_CALLS_H */
