/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * <sys/event.h> for programs written to the BSDs' kqueue: build them with
 * -I<includedir>/epollmod/kqueue and link them with -lepollmod-kqueue
 * (`pkg-config --cflags --libs epollmod-kqueue`). kqueue() and kevent() are
 * epollmod_kqueue() and epollmod_kevent(): see <epollmod/kqueue.h>.
 */
#ifndef EPOLLMOD_KQUEUE_SYS_EVENT_H
#define EPOLLMOD_KQUEUE_SYS_EVENT_H

#include <sys/types.h>

#include <epollmod/kqueue.h>

#ifdef __cplusplus
extern "C" {
#endif

int kqueue(void);
int kevent(int kq, const struct kevent *changelist, int nchanges,
	   struct kevent *eventlist, int nevents,
	   const struct timespec *timeout);

#ifdef __cplusplus
}
#endif

#endif /* EPOLLMOD_KQUEUE_SYS_EVENT_H */
