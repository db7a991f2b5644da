/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The ready ring of an epollmod instance: its events, harvested from
 * memory shared with the module, without a system call. Not in
 * <sys/epoll.h>; see epollmod_ring(3).
 *
 *	int ep = epollmod_create1(EPOLL_CLOEXEC);
 *	struct epollmod_ring ring;
 *	epollmod_ring_setup(ep, 1024, &ring);	// before the first ADD
 *	epollmod_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
 *	n = epollmod_ring_wait(&ring, events, 64, -1);
 *
 * epollmod_ring_harvest() takes what the ring holds and never enters the
 * kernel; several threads may harvest one ring at once, each event going
 * to one of them. epollmod_ring_wait() harvests, and only when the ring
 * is empty enters the kernel, to poll level-triggered watches again and
 * to sleep. epollmod_wait() and the other calls keep working on a ring
 * instance.
 */
#ifndef EPOLLMOD_RING_H
#define EPOLLMOD_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Filled by epollmod_ring_setup(); the fields are the library's. */
struct epollmod_ring {
	int epfd;
	void *map;
	size_t map_size;
	void *header;
	void *slots;
	uint64_t *entries;
	uint32_t mask;
	uint32_t nslots;
};

/*
 * Sets up and maps the ring of instance epfd, which must watch nothing
 * yet, for at most slots watches (1 to 65535; an ADD past them fails with
 * ENOSPC). EBUSY if the instance watches something or has a ring, EINVAL
 * for a kqueue or a bad count, ENOMEM past RLIMIT_MEMLOCK, EOPNOTSUPP if
 * the loaded module has no rings.
 */
int epollmod_ring_setup(int epfd, unsigned int slots,
			struct epollmod_ring *ring);

/* Up to maxevents events from the ring, without a system call; 0 if none. */
int epollmod_ring_harvest(struct epollmod_ring *ring,
			  struct epoll_event *events, int maxevents);

/*
 * epoll_wait() through the ring: what the ring holds, else a sleep in the
 * kernel until it holds something (timeout in ms, -1 for ever). A
 * cancellation point, as epoll_wait().
 */
int epollmod_ring_wait(struct epollmod_ring *ring, struct epoll_event *events,
		       int maxevents, int timeout);

/* Unmaps the ring; the instance stays open, to close(2). */
int epollmod_ring_unmap(struct epollmod_ring *ring);

#ifdef __cplusplus
}
#endif

#endif /* EPOLLMOD_RING_H */
