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
#define EPOLLMOD_WAIT_FLAGS	(EPOLLMOD_WAIT_TIMESPEC)

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
};

#define EPOLLMOD_IOC_MAGIC	0xE7

#define EPOLLMOD_IOC_INFO	_IOWR(EPOLLMOD_IOC_MAGIC, 0x00, struct epollmod_info)
#define EPOLLMOD_IOC_CTL	_IOW(EPOLLMOD_IOC_MAGIC, 0x01, struct epollmod_ctl)
#define EPOLLMOD_IOC_WAIT	_IOW(EPOLLMOD_IOC_MAGIC, 0x02, struct epollmod_wait)

/* Sizes of the first published layouts; nothing shorter is accepted. */
#define EPOLLMOD_INFO_SIZE_VER0	32
#define EPOLLMOD_CTL_SIZE_VER0	24
#define EPOLLMOD_WAIT_SIZE_VER0	48

#endif /* _UAPI_LINUX_EPOLLMOD_H */
