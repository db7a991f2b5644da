// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Compiled, never run (also as C++: kqueue_header.cc): the drop-in
 * <sys/event.h> stands alone, and has FreeBSD's layout and values, which
 * are written out here as numbers rather than taken from the uapi.
 */
#include <sys/event.h>

#include <stddef.h>

#ifdef __cplusplus
#define CHECK_CT(e) static_assert(e, #e)
#else
#define CHECK_CT(e) _Static_assert(e, #e)
#endif

CHECK_CT(sizeof(struct kevent) == 32);
CHECK_CT(offsetof(struct kevent, ident) == 0);
CHECK_CT(offsetof(struct kevent, filter) == 8);
CHECK_CT(offsetof(struct kevent, flags) == 10);
CHECK_CT(offsetof(struct kevent, fflags) == 12);
CHECK_CT(offsetof(struct kevent, data) == 16);
CHECK_CT(offsetof(struct kevent, udata) == 24);
CHECK_CT(sizeof(((struct kevent *)0)->filter) == 2);
CHECK_CT(sizeof(((struct kevent *)0)->flags) == 2);
CHECK_CT(sizeof(((struct kevent *)0)->fflags) == 4);
CHECK_CT(sizeof(((struct kevent *)0)->data) == 8);

CHECK_CT(EVFILT_READ == -1);
CHECK_CT(EVFILT_WRITE == -2);
CHECK_CT(EVFILT_PROC == -5);
CHECK_CT(EVFILT_SIGNAL == -6);
CHECK_CT(EVFILT_TIMER == -7);
CHECK_CT(EVFILT_USER == -11);
CHECK_CT(EVFILT_SYSCOUNT == 11);

CHECK_CT(EV_ADD == 0x1);
CHECK_CT(EV_DELETE == 0x2);
CHECK_CT(EV_ENABLE == 0x4);
CHECK_CT(EV_DISABLE == 0x8);
CHECK_CT(EV_ONESHOT == 0x10);
CHECK_CT(EV_CLEAR == 0x20);
CHECK_CT(EV_RECEIPT == 0x40);
CHECK_CT(EV_DISPATCH == 0x80);
CHECK_CT(EV_SYSFLAGS == 0xf000);
CHECK_CT(EV_ERROR == 0x4000);
CHECK_CT(EV_EOF == 0x8000);

CHECK_CT(NOTE_LOWAT == 0x1);
CHECK_CT(NOTE_SECONDS == 0x1);
CHECK_CT(NOTE_MSECONDS == 0x2);
CHECK_CT(NOTE_USECONDS == 0x4);
CHECK_CT(NOTE_NSECONDS == 0x8);
CHECK_CT(NOTE_ABSTIME == 0x10);
CHECK_CT(NOTE_TRIGGER == 0x01000000);
CHECK_CT(NOTE_FFNOP == 0);
CHECK_CT(NOTE_FFAND == 0x40000000);
CHECK_CT(NOTE_FFOR == 0x80000000);
CHECK_CT(NOTE_FFCOPY == 0xc0000000);
CHECK_CT(NOTE_FFCTRLMASK == 0xc0000000);
CHECK_CT(NOTE_FFLAGSMASK == 0x00ffffff);
CHECK_CT(NOTE_EXIT == 0x80000000);

/* The prototypes are FreeBSD's. */
typedef int kqueue_fn(void);
typedef int kevent_fn(int, const struct kevent *, int, struct kevent *, int,
		      const struct timespec *);
kqueue_fn *const kqueue_is = kqueue;
kevent_fn *const kevent_is = kevent;
kqueue_fn *const epollmod_kqueue_is = epollmod_kqueue;
kevent_fn *const epollmod_kevent_is = epollmod_kevent;

/* EV_SET is a statement, and takes any lvalue pointer expression. */
void kqueue_header_ev_set(struct kevent *ev, int n);
void kqueue_header_ev_set(struct kevent *ev, int n)
{
	if (n > 0)
		EV_SET(ev + n - 1, (uintptr_t)n, EVFILT_READ, EV_ADD, 0, 0,
		       NULL);
	else
		EV_SET(ev, 0, EVFILT_USER, EV_ADD | EV_CLEAR, NOTE_FFNOP, 0,
		       ev);
}
