// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libepollmod-kqueue: kqueue() and kevent() under their own names, for
 * programs built against the drop-in <sys/event.h>. libepollmod is inside,
 * its names kept out of the dynamic symbol table (-Wl,--exclude-libs).
 */
#include <sys/event.h>

#define PUBLIC __attribute__((visibility("default")))

PUBLIC int kqueue(void)
{
	return epollmod_kqueue();
}

PUBLIC int kevent(int kq, const struct kevent *changelist, int nchanges,
		  struct kevent *eventlist, int nevents,
		  const struct timespec *timeout)
{
	return epollmod_kevent(kq, changelist, nchanges, eventlist, nevents,
			       timeout);
}
