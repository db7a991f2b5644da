/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libepollmod's kqueue face: kqueue(2) and kevent(2), served by the
 * epollmod kernel module.
 *
 * struct kevent, EV_SET() and the constants have FreeBSD's names, layout
 * and values. The two calls take kqueue(2)'s and kevent(2)'s arguments and
 * return what they return: -1 with errno set on failure.
 *
 * epollmod_kqueue() fails as epollmod_create1() does when the module is
 * missing (ENODEV) or speaks another ABI (EPROTO), and with ENOSYS when the
 * loaded module was built without the kqueue face. The fd is close-on-exec.
 *
 * epollmod_kevent() is a cancellation point when nevents is not 0; a cancel
 * never loses events it has taken.
 *
 * A program written to <sys/event.h> can use the drop-in instead:
 * -I<includedir>/epollmod/kqueue and -lepollmod-kqueue (pkg-config
 * epollmod-kqueue) give it kqueue() and kevent().
 */
#ifndef EPOLLMOD_KQUEUE_H
#define EPOLLMOD_KQUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <linux/epollmod.h>

#define EVFILT_READ   EPOLLMOD_EVFILT_READ
#define EVFILT_WRITE  EPOLLMOD_EVFILT_WRITE
#define EVFILT_PROC   EPOLLMOD_EVFILT_PROC
#define EVFILT_SIGNAL EPOLLMOD_EVFILT_SIGNAL
#define EVFILT_TIMER  EPOLLMOD_EVFILT_TIMER
#define EVFILT_USER   EPOLLMOD_EVFILT_USER
/* Filters are -1 down to -EVFILT_SYSCOUNT: ~filter indexes a table. */
#define EVFILT_SYSCOUNT 11

#define EV_ADD	    EPOLLMOD_EV_ADD
#define EV_DELETE   EPOLLMOD_EV_DELETE
#define EV_ENABLE   EPOLLMOD_EV_ENABLE
#define EV_DISABLE  EPOLLMOD_EV_DISABLE
#define EV_ONESHOT  EPOLLMOD_EV_ONESHOT
#define EV_CLEAR    EPOLLMOD_EV_CLEAR
#define EV_RECEIPT  EPOLLMOD_EV_RECEIPT
#define EV_DISPATCH EPOLLMOD_EV_DISPATCH
#define EV_SYSFLAGS EPOLLMOD_EV_SYSFLAGS
#define EV_ERROR    EPOLLMOD_EV_ERROR
#define EV_EOF	    EPOLLMOD_EV_EOF

#define NOTE_LOWAT EPOLLMOD_NOTE_LOWAT

#define NOTE_SECONDS  EPOLLMOD_NOTE_SECONDS
#define NOTE_MSECONDS EPOLLMOD_NOTE_MSECONDS
#define NOTE_USECONDS EPOLLMOD_NOTE_USECONDS
#define NOTE_NSECONDS EPOLLMOD_NOTE_NSECONDS
#define NOTE_ABSTIME  EPOLLMOD_NOTE_ABSTIME

#define NOTE_FFNOP	EPOLLMOD_NOTE_FFNOP
#define NOTE_FFAND	EPOLLMOD_NOTE_FFAND
#define NOTE_FFOR	EPOLLMOD_NOTE_FFOR
#define NOTE_FFCOPY	EPOLLMOD_NOTE_FFCOPY
#define NOTE_FFCTRLMASK EPOLLMOD_NOTE_FFCTRLMASK
#define NOTE_FFLAGSMASK EPOLLMOD_NOTE_FFLAGSMASK
#define NOTE_TRIGGER	EPOLLMOD_NOTE_TRIGGER

#define NOTE_EXIT EPOLLMOD_NOTE_EXIT

struct kevent {
	uintptr_t ident;      /* an fd, a pid, a signal, or a name */
	short filter;	      /* EVFILT_* */
	unsigned short flags; /* EV_* */
	unsigned int fflags;  /* NOTE_*, by filter */
	intptr_t data;	      /* by filter */
	void *udata;	      /* the caller's, returned with the events */
};

/*
 * The module reads and writes arrays of struct kevent as they are: on LP64
 * they are arrays of struct epollmod_kev.
 */
#if defined(__LP64__)
#if defined(__cplusplus) && __cplusplus >= 201103L
#define EPOLLMOD_KQ_ASSERT_(e) static_assert(e, "struct kevent is epollmod_kev")
#elif !defined(__cplusplus) && defined(__STDC_VERSION__) && \
	__STDC_VERSION__ >= 201112L
#define EPOLLMOD_KQ_ASSERT_(e) \
	_Static_assert(e, "struct kevent is epollmod_kev")
#endif
#ifdef EPOLLMOD_KQ_ASSERT_
EPOLLMOD_KQ_ASSERT_(sizeof(struct kevent) == sizeof(struct epollmod_kev));
EPOLLMOD_KQ_ASSERT_(offsetof(struct kevent, ident) ==
		    offsetof(struct epollmod_kev, ident));
EPOLLMOD_KQ_ASSERT_(offsetof(struct kevent, filter) ==
		    offsetof(struct epollmod_kev, filter));
EPOLLMOD_KQ_ASSERT_(offsetof(struct kevent, flags) ==
		    offsetof(struct epollmod_kev, flags));
EPOLLMOD_KQ_ASSERT_(offsetof(struct kevent, fflags) ==
		    offsetof(struct epollmod_kev, fflags));
EPOLLMOD_KQ_ASSERT_(offsetof(struct kevent, data) ==
		    offsetof(struct epollmod_kev, data));
EPOLLMOD_KQ_ASSERT_(offsetof(struct kevent, udata) ==
		    offsetof(struct epollmod_kev, udata));
#undef EPOLLMOD_KQ_ASSERT_
#endif
#endif

/*
 * Fills in *kevp. Each argument is evaluated once, so EV_SET(p++, ...) and
 * arguments with side effects work as on the BSDs.
 */
#define EV_SET(kevp_, ident_, filter_, flags_, fflags_, data_, udata_) \
	do {                                                           \
		struct kevent *epollmod_kevp_ = (kevp_);               \
		epollmod_kevp_->ident = (ident_);                      \
		epollmod_kevp_->filter = (filter_);                    \
		epollmod_kevp_->flags = (flags_);                      \
		epollmod_kevp_->fflags = (fflags_);                    \
		epollmod_kevp_->data = (data_);                        \
		epollmod_kevp_->udata = (udata_);                      \
	} while (0)

#ifdef __cplusplus
extern "C" {
#endif

/* Declared by <time.h> only for POSIX (not in strict ISO C modes). */
struct timespec;

int epollmod_kqueue(void);
int epollmod_kevent(int kq, const struct kevent *changelist, int nchanges,
		    struct kevent *eventlist, int nevents,
		    const struct timespec *timeout);

/*
 * Not in kevent(2): epollmod_kevent() that waits for a batch, by the rules
 * of epollmod_wait_batch() in <epollmod/epollmod.h>: min_events events (at
 * most nevents), or any once min_wait has passed, or the timeout. EINVAL
 * for a negative min_events or an invalid min_wait.
 */
int epollmod_kevent_batch(int kq, const struct kevent *changelist, int nchanges,
			  struct kevent *eventlist, int nevents, int min_events,
			  const struct timespec *min_wait,
			  const struct timespec *timeout);

#ifdef __cplusplus
}
#endif

#endif /* EPOLLMOD_KQUEUE_H */
