// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The ready ring's consumer side. The protocol (who writes what, which
 * load-acquire pairs with which store-release) is the uapi header's and
 * module/ring.c's: the module store-releases tail after writing an entry;
 * a consumer load-acquires tail, reads the entry at head, claims it by a
 * compare-and-swap of head, then takes the slot's events by a
 * compare-and-swap of its state, if the generation is still the entry's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#include <linux/epollmod.h>

#include "epollmod/epollmod.h"
#include "epollmod/ring.h"
#include "internal.h"

PUBLIC int epollmod_ring_setup(int epfd, unsigned int slots,
			       struct epollmod_ring *ring)
{
	struct epollmod_ring_setup arg = {
		.size = sizeof(arg),
		.slots = slots,
	};
	void *map;

	if (ioctl(epfd, EPOLLMOD_IOC_RING, &arg) != 0) {
		if (errno == ENOTTY && epollmod_is_instance(epfd))
			errno = EOPNOTSUPP;
		else if (!epollmod_failed_on_instance(epfd))
			errno = EINVAL;
		return -1;
	}
	map = mmap(NULL, arg.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   epfd, 0);
	if (map == MAP_FAILED)
		return -1;
	*ring = (struct epollmod_ring){
		.epfd = epfd,
		.map = map,
		.map_size = arg.mmap_size,
		.header = map,
		.slots = (char *)map + arg.slots_offset,
		.entries = (uint64_t *)((char *)map + arg.entries_offset),
		.mask = arg.entries - 1,
		.nslots = arg.slots,
	};
	return 0;
}

/* Claim the entry at head and take its events; false when empty. */
static bool take_one(struct epollmod_ring *ring, struct epoll_event *ev)
{
	struct epollmod_ring_header *hdr = ring->header;
	struct epollmod_ring_slot *slots = ring->slots;

	for (;;) {
		uint32_t head = __atomic_load_n(&hdr->head, __ATOMIC_RELAXED);
		uint32_t tail = __atomic_load_n(&hdr->tail, __ATOMIC_ACQUIRE);
		uint64_t entry, state;
		uint32_t slot;

		/* Empty; or indices scribbled over: as empty. */
		if (head == tail || tail - head > ring->mask + 1)
			return false;
		entry = __atomic_load_n(&ring->entries[head & ring->mask],
					__ATOMIC_RELAXED);
		if (!__atomic_compare_exchange_n(&hdr->head, &head, head + 1,
						 false, __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED))
			continue;
		slot = (uint32_t)entry;
		if (!slot || slot > ring->nslots)
			continue;
		state = __atomic_load_n(&slots[slot].state, __ATOMIC_ACQUIRE);
		for (;;) {
			/* A removed watch's entry, or events taken already. */
			if ((state >> 32) != (entry >> 32) || !(uint32_t)state)
				break;
			if (__atomic_compare_exchange_n(
				    &slots[slot].state, &state,
				    state & ~(uint64_t)UINT32_MAX, false,
				    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				ev->events = (uint32_t)state;
				ev->data.u64 = __atomic_load_n(
					&slots[slot].data, __ATOMIC_RELAXED);
				return true;
			}
		}
	}
}

PUBLIC int epollmod_ring_harvest(struct epollmod_ring *ring,
				 struct epoll_event *events, int maxevents)
{
	int n = 0;

	if (maxevents <= 0) {
		errno = EINVAL;
		return -1;
	}
	while (n < maxevents && take_one(ring, &events[n]))
		n++;
	return n;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

PUBLIC int epollmod_ring_wait(struct epollmod_ring *ring,
			      struct epoll_event *events, int maxevents,
			      int timeout)
{
	int64_t deadline = timeout > 0 ? now_ms() + timeout : 0;

	for (;;) {
		struct epollmod_wait arg = {
			.size = sizeof(arg),
			.flags = EPOLLMOD_WAIT_RING,
			.timeout_ms = timeout,
			.sigsetsize = KERNEL_SIGSET_SIZE,
		};
		int n = epollmod_ring_harvest(ring, events, maxevents);

		if (n != 0)
			return n;
		/* Empty: level-triggered watches polled again, or a sleep. */
		n = epollmod_wait_ioctl(ring->epfd, &arg);
		if (n < 0)
			return -1;
		if (n == 0)
			return epollmod_ring_harvest(ring, events, maxevents);
		if (timeout > 0) {
			int64_t left = deadline - now_ms();

			timeout = left > 0 ? (int)left : 0;
		}
	}
}

PUBLIC int epollmod_ring_unmap(struct epollmod_ring *ring)
{
	int ret = munmap(ring->map, ring->map_size);

	ring->map = NULL;
	return ret;
}
