/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * epollmod: Linux's eventpoll as a loadable module.
 *
 * Every open file of /dev/epollmod is one epoll instance. The ioctls below
 * are the whole interface; libepollmod turns them back into the
 * <sys/epoll.h> calls.
 *
 * ABI rules, so that the interface can grow without breaking callers:
 *  - every argument struct starts with a __u32 size: the caller sets it to
 *    sizeof() of the struct it was built with. Older, shorter structs are
 *    zero-extended; a longer struct is accepted only if the bytes the module
 *    does not know are zero (else E2BIG). The size bits of the command
 *    number are ignored for that reason.
 *  - user pointers travel as __u64, so 32-bit and 64-bit layouts match;
 *  - unknown flags and non-zero reserved fields are rejected with EINVAL;
 *    an unknown command gets ENOTTY.
 *
 * Events are written in the layout of struct epoll_event from
 * <linux/eventpoll.h> (12 bytes, packed, on x86), so an array of them can be
 * handed to the caller unchanged.
 *
 * Ioctl type 0xE7 is assigned to no driver in the kernel's table of ioctl
 * numbers; this module uses numbers 0x00-0x1f of it.
 */
#ifndef _UAPI_LINUX_EPOLLMOD_H
#define _UAPI_LINUX_EPOLLMOD_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define EPOLLMOD_DEVICE_NAME	"epollmod"
#define EPOLLMOD_DEVICE_PATH	"/dev/epollmod"

/* Bumped only for incompatible changes; growth goes through size fields. */
#define EPOLLMOD_ABI_VERSION	1

/* Feature bits reported by EPOLLMOD_IOC_INFO. */
#define EPOLLMOD_FEAT_CTL		_BITULL(0)	/* EPOLLMOD_IOC_CTL */
#define EPOLLMOD_FEAT_WAIT		_BITULL(1)	/* EPOLLMOD_IOC_WAIT */
#define EPOLLMOD_FEAT_WAIT_TIMESPEC	_BITULL(2)	/* epoll_pwait2 timeouts */
#define EPOLLMOD_FEAT_SIGMASK		_BITULL(3)	/* epoll_pwait sigmask */
#define EPOLLMOD_FEAT_NESTING		_BITULL(4)	/* instances are pollable */
#define EPOLLMOD_FEAT_EXCLUSIVE		_BITULL(5)	/* EPOLLEXCLUSIVE */
#define EPOLLMOD_FEAT_WAKEUP		_BITULL(6)	/* EPOLLWAKEUP */
#define EPOLLMOD_FEAT_FDINFO		_BITULL(7)	/* /proc/<pid>/fdinfo lists watches */
#define EPOLLMOD_FEAT_KQUEUE		_BITULL(8)	/* EPOLLMOD_IOC_KQUEUE, _KEVENT */
#define EPOLLMOD_FEAT_MIN_WAIT		_BITULL(9)	/* min_events, min_wait_ns */
#define EPOLLMOD_FEAT_FIFO_EXCLUSIVE	_BITULL(10)	/* EPOLLMOD_OPT_FIFO_EXCLUSIVE */
#define EPOLLMOD_FEAT_WAIT_CHANGES	_BITULL(11)	/* epollmod_wait.changes */
#define EPOLLMOD_FEAT_TRY		_BITULL(12)	/* EPOLLMOD_{WAIT,KEVENT}_TRY */
#define EPOLLMOD_FEAT_RING		_BITULL(13)	/* EPOLLMOD_IOC_RING */

/**
 * struct epollmod_info - what the loaded module implements
 * @size:	in: sizeof(struct epollmod_info) as the caller knows it;
 *		out: the number of bytes the module filled in
 * @abi_version: EPOLLMOD_ABI_VERSION of the module
 * @features:	EPOLLMOD_FEAT_* bits
 * @max_nests:	deepest chain of instances nested in instances
 * @reserved:	written as zero
 * @max_user_watches: the current per-user limit on watches
 */
struct epollmod_info {
	__u32 size;
	__u32 abi_version;
	__u64 features;
	__u32 max_nests;
	__u32 reserved;
	__u64 max_user_watches;
};

/**
 * struct epollmod_ctl - arguments of epoll_ctl(2)
 * @size:	sizeof(struct epollmod_ctl)
 * @flags:	must be zero
 * @op:		EPOLL_CTL_ADD, EPOLL_CTL_MOD or EPOLL_CTL_DEL
 * @fd:		the file descriptor to watch
 * @event:	user pointer to a struct epoll_event; read unless @op is
 *		EPOLL_CTL_DEL, exactly where epoll_ctl(2) reads it
 */
struct epollmod_ctl {
	__u32 size;
	__u32 flags;
	__s32 op;
	__s32 fd;
	__u64 event;
};

/* Take the timeout from epollmod_wait.timeout (epoll_pwait2) */
#define EPOLLMOD_WAIT_TIMESPEC	_BITUL(0)
/*
 * Do not sleep: where the call would wait, it fails with EAGAIN instead,
 * its changes applied. The library tries a call this way first, so that
 * a call that finds events makes one system call, and only one that
 * sleeps pays for the signal-mask dance of a cancellation point.
 */
#define EPOLLMOD_WAIT_TRY	_BITUL(1)
/*
 * On an instance with a ready ring: copy no events; return once the ring
 * holds any, with how many it holds (level-triggered watches taken from
 * it are polled again first). @events and @maxevents are not used.
 */
#define EPOLLMOD_WAIT_RING	_BITUL(2)
#define EPOLLMOD_WAIT_FLAGS	(EPOLLMOD_WAIT_TIMESPEC | EPOLLMOD_WAIT_TRY | \
				 EPOLLMOD_WAIT_RING)

/**
 * struct epollmod_wait - arguments of epoll_wait(2), epoll_pwait(2) and
 *	epoll_pwait2(2)
 * @size:	sizeof(struct epollmod_wait)
 * @flags:	EPOLLMOD_WAIT_* bits
 * @events:	user pointer to an array of @maxevents struct epoll_event
 * @maxevents:	capacity of @events
 * @timeout_ms:	milliseconds, -1 blocks; ignored with EPOLLMOD_WAIT_TIMESPEC
 * @timeout:	with EPOLLMOD_WAIT_TIMESPEC: user pointer to a
 *		struct __kernel_timespec, or 0 to block
 * @sigmask:	user pointer to the signal mask to wait with, or 0
 * @sigsetsize:	size of *@sigmask; must be sizeof(sigset_t) of the kernel
 * @min_events:	batching, not in epoll_wait(2): 0 or 1 returns as soon as
 *		an event is ready; N waits for N ready events (at most
 *		@maxevents) ...
 * @reserved:	must be zero
 * @min_wait_ns: ... or, once this long has passed since the call began
 *		(0: never), for any. The timeout always ends the wait, with
 *		whatever is ready.
 * @changes:	user pointer to @nchanges struct epollmod_change, applied in
 *		order, as epoll_ctl(2), before the wait: a loop re-arms its
 *		one-shot watches in the call that waits
 * @nchanges:	number of changes
 * @reserved2:	must be zero
 *
 * Returns the number of events written.
 */
struct epollmod_wait {
	__u32 size;
	__u32 flags;
	__u64 events;
	__s32 maxevents;
	__s32 timeout_ms;
	__u64 timeout;
	__u64 sigmask;
	__u64 sigsetsize;
	__u32 min_events;
	__u32 reserved;
	__u64 min_wait_ns;
	__u64 changes;
	__u32 nchanges;
	__u32 reserved2;
};

/**
 * struct epollmod_change - one epoll_ctl(2) in a wait's change list
 * @op:		EPOLL_CTL_ADD, EPOLL_CTL_MOD or EPOLL_CTL_DEL
 * @fd:		the file descriptor
 * @events:	the struct epoll_event's events (unread for DEL)
 * @result:	out: 0, or the errno epoll_ctl(2) sets for this change
 * @data:	the struct epoll_event's data
 */
struct epollmod_change {
	__s32 op;
	__s32 fd;
	__u32 events;
	__s32 result;
	__u64 data;
};

/*
 * The kqueue face. EPOLLMOD_IOC_KQUEUE turns a new instance, one that has
 * never watched anything, into a kqueue: from then on it takes
 * EPOLLMOD_IOC_KEVENT, and CTL and WAIT fail with EINVAL (KEVENT on an
 * epoll instance fails with EBADF, as kevent(2) on a file that is not a
 * kqueue). The records and the constants are FreeBSD's, in its 64-bit
 * layout; <epollmod/kqueue.h> gives them their BSD names.
 */
#define EPOLLMOD_EVFILT_READ	(-1)
#define EPOLLMOD_EVFILT_WRITE	(-2)
#define EPOLLMOD_EVFILT_PROC	(-5)	/* ident: a pid */
#define EPOLLMOD_EVFILT_SIGNAL	(-6)	/* ident: a signal number */
#define EPOLLMOD_EVFILT_TIMER	(-7)	/* ident: the caller's name for it */
#define EPOLLMOD_EVFILT_USER	(-11)	/* ident: the caller's name for it */

#define EPOLLMOD_EV_ADD		0x0001	/* add, or modify an existing knote */
#define EPOLLMOD_EV_DELETE	0x0002
#define EPOLLMOD_EV_ENABLE	0x0004
#define EPOLLMOD_EV_DISABLE	0x0008
#define EPOLLMOD_EV_ONESHOT	0x0010	/* deleted after one delivery */
#define EPOLLMOD_EV_CLEAR	0x0020	/* state reset after delivery */
#define EPOLLMOD_EV_RECEIPT	0x0040	/* report the change's result */
#define EPOLLMOD_EV_DISPATCH	0x0080	/* disabled after each delivery */
#define EPOLLMOD_EV_ERROR	0x4000	/* out: data is an errno */
#define EPOLLMOD_EV_EOF		0x8000	/* out: end of file */
/* Flags of the output only: ignored in a change. */
#define EPOLLMOD_EV_SYSFLAGS	0xf000

#define EPOLLMOD_NOTE_LOWAT	0x00000001	/* READ, WRITE: data is a count */
#define EPOLLMOD_NOTE_SECONDS	0x00000001	/* TIMER units; */
#define EPOLLMOD_NOTE_MSECONDS	0x00000002	/* the default */
#define EPOLLMOD_NOTE_USECONDS	0x00000004
#define EPOLLMOD_NOTE_NSECONDS	0x00000008
#define EPOLLMOD_NOTE_ABSTIME	0x00000010	/* data: CLOCK_REALTIME deadline */
#define EPOLLMOD_NOTE_FFNOP	0x00000000	/* USER: combine fflags: none */
#define EPOLLMOD_NOTE_FFAND	0x40000000
#define EPOLLMOD_NOTE_FFOR	0x80000000
#define EPOLLMOD_NOTE_FFCOPY	0xc0000000
#define EPOLLMOD_NOTE_FFCTRLMASK 0xc0000000
#define EPOLLMOD_NOTE_FFLAGSMASK 0x00ffffff
#define EPOLLMOD_NOTE_TRIGGER	0x01000000	/* USER: activate */
#define EPOLLMOD_NOTE_EXIT	0x80000000	/* PROC: the process exited */

/**
 * struct epollmod_kev - one change or one event: FreeBSD's struct kevent
 * @ident:	what is watched: an fd, a pid, a signal, or a name
 * @filter:	EPOLLMOD_EVFILT_*
 * @flags:	EPOLLMOD_EV_*
 * @fflags:	EPOLLMOD_NOTE_*, by filter
 * @data:	by filter: bytes, a count, a period, an exit status, an errno
 * @udata:	the caller's, returned with the knote's events
 */
struct epollmod_kev {
	__u64 ident;
	__s16 filter;
	__u16 flags;
	__u32 fflags;
	__s64 data;
	__u64 udata;
};

/**
 * struct epollmod_kevent - arguments of kevent(2)
 * @size:	sizeof(struct epollmod_kevent)
 * @flags:	0 or EPOLLMOD_KEVENT_TRY
 * @changes:	user pointer to @nchanges struct epollmod_kev, applied in order
 * @events:	user pointer to room for @nevents struct epollmod_kev; may be
 *		@changes
 * @nchanges:	number of changes
 * @nevents:	capacity of @events; 0 applies the changes and returns
 * @timeout:	user pointer to a struct __kernel_timespec, relative; 0 blocks
 * @sigmask:	user pointer to the signal mask to wait with, or 0 (the
 *		library's cancellation point; not part of kevent(2))
 * @sigsetsize:	size of *@sigmask; must be sizeof(sigset_t) of the kernel
 * @min_events:	batching, as in struct epollmod_wait
 * @reserved:	must be zero
 * @min_wait_ns: batching, as in struct epollmod_wait
 *
 * Returns the number of entries written to @events: change results
 * (EPOLLMOD_EV_ERROR) if any change posted one, else events.
 */
struct epollmod_kevent {
	__u32 size;
	__u32 flags;
	__u64 changes;
	__u64 events;
	__s32 nchanges;
	__s32 nevents;
	__u64 timeout;
	__u64 sigmask;
	__u64 sigsetsize;
	__u32 min_events;
	__u32 reserved;
	__u64 min_wait_ns;
};

/*
 * Options of an instance, epoll or kqueue: EPOLLMOD_OPT_* bits. The
 * default, 0, is Linux's behaviour.
 *
 * EPOLLMOD_OPT_FIFO_EXCLUSIVE wakes exclusive waiters in the order they
 * came, round robin, where Linux wakes the latest first: threads waiting
 * on this instance, and, for its EPOLLEXCLUSIVE watches, the instances
 * sharing a watched file (after waking this one, it moves to the back).
 */
#define EPOLLMOD_OPT_FIFO_EXCLUSIVE	_BITULL(0)
#define EPOLLMOD_OPTS			(EPOLLMOD_OPT_FIFO_EXCLUSIVE)

/**
 * struct epollmod_options - EPOLLMOD_IOC_OPTIONS
 * @size:	sizeof(struct epollmod_options)
 * @flags:	must be zero
 * @options:	in: the options to set (all of them); out: the previous ones
 */
struct epollmod_options {
	__u32 size;
	__u32 flags;
	__u64 options;
};

/* As EPOLLMOD_WAIT_TRY, for kevent(): EAGAIN where it would wait. */
#define EPOLLMOD_KEVENT_TRY	_BITUL(0)
#define EPOLLMOD_KEVENT_FLAGS	(EPOLLMOD_KEVENT_TRY)

/*
 * The ready ring: events an epoll instance's watches report, readable by
 * the process without a system call. EPOLLMOD_IOC_RING sets it up on an
 * instance that watches nothing yet; mmap(2) of the instance, offset 0,
 * the size it returns, MAP_SHARED, maps it:
 *
 *	struct epollmod_ring_header	at 0
 *	struct epollmod_ring_slot	[slots] at slots_offset, one a watch
 *	__u64				[entries] at entries_offset
 *
 * The module puts a watch's slot on the ring when its events go from none
 * to some, so a slot is on it at most once and the ring never overflows:
 * it ORs the events into the slot's state, writes the entry
 * (generation << 32 | slot) at tail, then store-releases tail. A consumer
 * load-acquires tail, reads the entry at head and claims it by a
 * compare-and-swap of head; then takes the events by a compare-and-swap
 * of the slot's state to (generation << 32), if the generation is the
 * entry's (a removed watch's slot has a new one: its entries are
 * skipped). Level-triggered watches taken from the ring are polled again
 * when the process next enters a wait; one-shot ones are disarmed once on
 * the ring. EPOLLWAKEUP is refused on a ring instance (EINVAL).
 */
#define EPOLLMOD_RING_MAX_SLOTS	65535

struct epollmod_ring_header {
	__u32 head;
	__u32 pad0[15];
	__u32 tail;
	__u32 pad1[15];
};

struct epollmod_ring_slot {
	__u64 state;	/* generation << 32 | events not yet taken */
	__u64 data;	/* the watch's epoll_event.data */
};

/**
 * struct epollmod_ring_setup - EPOLLMOD_IOC_RING
 * @size:	sizeof(struct epollmod_ring_setup)
 * @flags:	must be zero
 * @slots:	in: the most watches the instance will hold, 1 to
 *		EPOLLMOD_RING_MAX_SLOTS (more: ADD fails with ENOSPC)
 * @entries:	out: entries in the ring, a power of two above @slots
 * @mmap_size:	out: the length to map
 * @slots_offset: out
 * @entries_offset: out
 *
 * The mapping counts against RLIMIT_MEMLOCK (ENOMEM past it).
 */
struct epollmod_ring_setup {
	__u32 size;
	__u32 flags;
	__u32 slots;
	__u32 entries;
	__u64 mmap_size;
	__u32 slots_offset;
	__u32 entries_offset;
};

#define EPOLLMOD_IOC_MAGIC	0xE7

#define EPOLLMOD_IOC_INFO	_IOWR(EPOLLMOD_IOC_MAGIC, 0x00, struct epollmod_info)
#define EPOLLMOD_IOC_CTL	_IOW(EPOLLMOD_IOC_MAGIC, 0x01, struct epollmod_ctl)
#define EPOLLMOD_IOC_WAIT	_IOW(EPOLLMOD_IOC_MAGIC, 0x02, struct epollmod_wait)
#define EPOLLMOD_IOC_KQUEUE	_IO(EPOLLMOD_IOC_MAGIC, 0x03)
#define EPOLLMOD_IOC_KEVENT	_IOW(EPOLLMOD_IOC_MAGIC, 0x04, struct epollmod_kevent)
#define EPOLLMOD_IOC_OPTIONS	_IOWR(EPOLLMOD_IOC_MAGIC, 0x05, struct epollmod_options)
#define EPOLLMOD_IOC_RING	_IOWR(EPOLLMOD_IOC_MAGIC, 0x06, struct epollmod_ring_setup)

/* Sizes of the first published layouts; nothing shorter is accepted. */
#define EPOLLMOD_INFO_SIZE_VER0	32
#define EPOLLMOD_CTL_SIZE_VER0	24
#define EPOLLMOD_WAIT_SIZE_VER0	48
#define EPOLLMOD_KEVENT_SIZE_VER0	40
#define EPOLLMOD_OPTIONS_SIZE_VER0	16
#define EPOLLMOD_RING_SETUP_SIZE_VER0	32

#endif /* _UAPI_LINUX_EPOLLMOD_H */
