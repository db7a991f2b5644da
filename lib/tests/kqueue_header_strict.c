// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Compiled, never run: the drop-in <sys/event.h> in strict ISO C99 and
 * C++98, where <time.h> declares no struct timespec and there is no
 * static assertion, as older BSD code is often built.
 */
#include <sys/event.h>

int kqueue_header_strict(int kq, const struct timespec *timeout);
int kqueue_header_strict(int kq, const struct timespec *timeout)
{
	struct kevent ev[2];
	struct kevent *p = ev;

	EV_SET(p++, 0, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
	EV_SET(p++, 0, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
	return kevent(kq, ev, (int)(p - ev), ev, 2, timeout);
}
