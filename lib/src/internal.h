/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * What epollmod.c shares with kqueue.c. Hidden: in the shared library these
 * are local; in the static one they keep the epollmod_ prefix, so that they
 * cannot collide with a program's names.
 */
#ifndef EPOLLMOD_INTERNAL_H
#define EPOLLMOD_INTERNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/epollmod.h>

#define EPOLLMOD_HIDDEN __attribute__((visibility("hidden")))
#define PUBLIC		__attribute__((visibility("default")))

/* The kernel's sigset_t, which the waits take. */
#define KERNEL_SIGSET_SIZE (_NSIG / 8)

static inline uint64_t uptr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/*
 * Opens the device as a new instance and fills *info: ENODEV if the module
 * is not there, EPROTO if it speaks another ABI.
 */
EPOLLMOD_HIDDEN int epollmod_open_instance(bool cloexec,
					   struct epollmod_info *info);

/* Our ioctl failed on fd: is errno the module's answer? */
EPOLLMOD_HIDDEN bool epollmod_failed_on_instance(int fd);

/*
 * Runs call(ctx, mask) as a cancellation point that loses nothing. If the
 * call may block and a cancel could come, mask points to the kernel signal
 * mask to wait with (the thread's, with SIGCANCEL unblocked): the call must
 * hand it to a system call that swaps it in and out atomically around the
 * sleep, and take nothing once a signal interrupted that sleep. Otherwise
 * mask is NULL and the call runs as it is.
 */
EPOLLMOD_HIDDEN int epollmod_cancellable(int (*call)(void *ctx,
						     const uint64_t *mask),
					 void *ctx, bool blocks);

#endif /* EPOLLMOD_INTERNAL_H */
