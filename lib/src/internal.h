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
#include <time.h>

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
 * Runs call(ctx, mask, try_only) on instance fd as a cancellation point
 * that loses nothing. If the call may block and a cancel could come, mask
 * points to the kernel signal mask to wait with (the thread's, with
 * SIGCANCEL unblocked): the call must hand it to a system call that swaps
 * it in and out atomically around the sleep, and take nothing once a
 * signal interrupted that sleep. Otherwise mask is NULL and the call runs
 * as it is. With try_only, first, the call must not sleep (the module's
 * *_TRY flag: EAGAIN instead), and must not make its changes again after.
 */
typedef int (*epollmod_call_fn)(void *ctx, const uint64_t *mask, bool try_only);
EPOLLMOD_HIDDEN int epollmod_cancellable(int fd, epollmod_call_fn call,
					 void *ctx, bool blocks);

/*
 * The batching arguments of epollmod_wait_batch() and
 * epollmod_kevent_batch(): EINVAL for a negative min_events or an invalid
 * min_wait (NULL and zero are no minimum wait); else 0 with *min_wait_ns
 * set as the module takes it.
 */
EPOLLMOD_HIDDEN int epollmod_batch_args(int min_events,
					const struct timespec *min_wait,
					uint64_t *min_wait_ns);

/* EPOLLMOD_IOC_WAIT as a lossless cancellation point, raw errno. */
EPOLLMOD_HIDDEN int epollmod_wait_ioctl(int epfd,
					const struct epollmod_wait *arg);

#endif /* EPOLLMOD_INTERNAL_H */
