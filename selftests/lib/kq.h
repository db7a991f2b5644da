/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the kqueue selftests: building changes, calling kevent()
 * with poisoned output, checking every field of a returned struct kevent,
 * and asking native epoll the same question for the differential checks.
 */
#ifndef EPM_KQ_H
#define EPM_KQ_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>

#include <epollmod/kqueue.h>

#include "util.h"

#define UD(x)	((void *)(uintptr_t)(x))

/* A change, or an expected event, built in place. */
static inline struct kevent kev(uintptr_t ident, short filter,
				unsigned short flags, unsigned int fflags,
				intptr_t data, void *udata)
{
	struct kevent k;

	memset(&k, 0, sizeof(k));
	EV_SET(&k, ident, filter, flags, fflags, data, udata);
	return k;
}

/* Poison @n entries of @evs. */
void kev_poison(struct kevent *evs, int n);

/* One change, applied with nevents 0: 0, or -1 with errno. */
int kq_change(int kq, uintptr_t ident, short filter, unsigned short flags,
	      unsigned int fflags, intptr_t data, void *udata);

/*
 * One change with room for one entry (poisoned), timeout {0, 0}: what
 * kevent() returns. @out gets the change's error entry or an event.
 */
int kq_change1(int kq, struct kevent change, struct kevent *out);

/* A new pipe whose read end has an EVFILT_READ knote: 0, or -1. */
int kq_pipe(int kq, int p[2], unsigned short flags, void *udata);

/* kevent() with no changes into @n poisoned entries, {0, 0} timeout. */
int kq_poll(int kq, struct kevent *evs, int n);

/* The same with a timeout of @ms milliseconds (-1: NULL, block). */
int kq_wait(int kq, struct kevent *evs, int n, int ms);

/* kevent() with a timeout in ms (-1: NULL) and the caller's arrays. */
int kq_call(int kq, const struct kevent *changes, int nchanges,
	    struct kevent *evs, int nevents, int ms);

/*
 * A native epoll instance watching @fd for EPOLLIN | @extra, the other
 * side of a differential check: its fd, or -1.
 */
int native_watch(int fd, uint32_t extra);

/* epoll_wait() on @ep for one event, timeout 0: what it returns. */
int native_poll(int ep);

/* A bound loopback UDP socket, nonblocking; its peer connected to it. */
int udp_pair(int fds[2]);

/* A listening loopback TCP socket (nonblocking) and a connect to it. */
int tcp_listener(void);
int tcp_connect_to(int lfd);

/* AF_UNIX datagram pair, nonblocking. */
int unix_dgram_pair(int fds[2]);

/* Write @n bytes of 'x' to @fd: 0, or -1. */
int write_n(int fd, size_t n);

/* Fill a nonblocking fd's buffer until EAGAIN: bytes written. */
long fill(int fd);

/*
 * Every field of a returned event. Cast to integers so the harness prints
 * them all the same way.
 */
#define EXPECT_KEV(_ev, _ident, _filter, _flags, _fflags, _data, _udata) do { \
	const struct kevent *_k = &(_ev);				\
	EXPECT_EQ((uint64_t)(_ident), (uint64_t)_k->ident);		\
	EXPECT_EQ((int)(_filter), (int)_k->filter);			\
	EXPECT_EQ((unsigned int)(_flags), (unsigned int)_k->flags);	\
	EXPECT_EQ((unsigned int)(_fflags), (unsigned int)_k->fflags);	\
	EXPECT_EQ((int64_t)(_data), (int64_t)_k->data);			\
	EXPECT_EQ((uint64_t)(uintptr_t)(_udata),			\
		  (uint64_t)(uintptr_t)_k->udata);			\
} while (0)

/* The same, but data checked by the caller (free space, counts). */
#define EXPECT_KEV_NODATA(_ev, _ident, _filter, _flags, _fflags, _udata) do { \
	const struct kevent *_k = &(_ev);				\
	EXPECT_EQ((uint64_t)(_ident), (uint64_t)_k->ident);		\
	EXPECT_EQ((int)(_filter), (int)_k->filter);			\
	EXPECT_EQ((unsigned int)(_flags), (unsigned int)_k->flags);	\
	EXPECT_EQ((unsigned int)(_fflags), (unsigned int)_k->fflags);	\
	EXPECT_EQ((uint64_t)(uintptr_t)(_udata),			\
		  (uint64_t)(uintptr_t)_k->udata);			\
} while (0)

/* A change's error entry: the change as given, flags EV_ERROR, data err. */
#define EXPECT_KEV_ERR(_ev, _change, _err)				\
	EXPECT_KEV(_ev, (_change).ident, (_change).filter, EV_ERROR,	\
		   (_change).fflags, _err, (_change).udata)

/* A fixture holding one kqueue; the module must have the kqueue face. */
#define KQ_FIXTURE(fixture)						\
	FIXTURE(fixture) { int kq; };					\
	FIXTURE_SETUP(fixture)						\
	{								\
		self->kq = epollmod_kqueue();				\
		ASSERT_LE(0, self->kq) TH_LOG("epollmod_kqueue: %s",	\
					      strerror(errno));		\
	}								\
	FIXTURE_TEARDOWN(fixture) { close(self->kq); }

#endif /* EPM_KQ_H */
