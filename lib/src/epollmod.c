// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libepollmod: <sys/epoll.h> on top of the epollmod ioctls.
 *
 * The fast path is one ioctl per call. Only when that ioctl fails do we
 * look further: if the fd is an epollmod instance the module's errno is
 * already the native one; if it is not, native epoll is asked the same
 * question about an fd it must reject, so that every check (EFAULT on a bad
 * pointer, EINVAL on maxevents, ...) fires in the running kernel's order.
 *
 * Whether the fd is an instance is asked of the fd, never of a path: an
 * instance stays one where /dev/epollmod is not visible (a chroot, another
 * mount namespace, a container that inherited it). The module answers
 * every command it implements with anything but ENOTTY, so ENOTTY is a
 * stranger's answer at once; for any other errno the fd is asked
 * EPOLLMOD_IOC_INFO, which only an instance answers with our ABI.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/epollmod.h>
#include <linux/time_types.h>

#include "epollmod/epollmod.h"
#include "internal.h"

PUBLIC const char *epollmod_device_path(void)
{
	const char *path = secure_getenv("EPOLLMOD_DEVICE");

	return path && *path ? path : EPOLLMOD_DEVICE_PATH;
}

/*
 * An instance is a character device file that answers EPOLLMOD_IOC_INFO
 * with this ABI and both commands. A stranger that took the command number
 * for one of its own and succeeded would also have to fill the struct in as
 * the module does.
 */
PUBLIC int epollmod_is_instance(int fd)
{
	struct epollmod_info info = {.size = sizeof(info)};
	const uint64_t both = EPOLLMOD_FEAT_CTL | EPOLLMOD_FEAT_WAIT;
	struct stat st;
	int saved = errno;
	int ret;

	ret = fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	      ioctl(fd, EPOLLMOD_IOC_INFO, &info) == 0 &&
	      info.size >= EPOLLMOD_INFO_SIZE_VER0 &&
	      info.abi_version == EPOLLMOD_ABI_VERSION &&
	      (info.features & both) == both;
	errno = saved;
	return ret;
}

/*
 * Our ioctl failed on fd: was that the module's answer (its errno stands)
 * or a stranger's? The module never answers its own commands with ENOTTY.
 */
bool epollmod_failed_on_instance(int fd)
{
	return errno != ENOTTY && epollmod_is_instance(fd);
}

static int fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

int epollmod_open_instance(bool cloexec, struct epollmod_info *info)
{
	int fd;

	*info = (struct epollmod_info){.size = sizeof(*info)};
	fd = open(epollmod_device_path(),
		  O_RDWR | O_NOCTTY | (cloexec ? O_CLOEXEC : 0));
	if (fd < 0) {
		/* No node, or a node without its driver: not loaded. */
		if (errno == ENOENT || errno == ENXIO || errno == ENODEV)
			errno = ENODEV;
		return -1;
	}
	if (ioctl(fd, EPOLLMOD_IOC_INFO, info) != 0) {
		close(fd);
		errno = ENODEV;
		return -1;
	}
	if (info->abi_version != EPOLLMOD_ABI_VERSION) {
		close(fd);
		errno = EPROTO;
		return -1;
	}
	return fd;
}

PUBLIC int epollmod_create1(int flags)
{
	struct epollmod_info info;

	if (flags & ~EPOLL_CLOEXEC) {
		errno = EINVAL;
		return -1;
	}
	return epollmod_open_instance(flags & EPOLL_CLOEXEC, &info);
}

PUBLIC int epollmod_create(int size)
{
	if (size <= 0) {
		errno = EINVAL;
		return -1;
	}
	return epollmod_create1(0);
}

/*
 * Native epoll, asked about an fd that is not an epoll instance, fails in
 * the running kernel's order of checks: that is the answer for such an
 * epfd. Every question below is one native epoll must refuse, so nothing
 * changes hands.
 */

/* ctl on (fd, fd): the checks epfd would pass, then EINVAL for "itself". */
static int ctl_error(int epfd, int op, int fd, struct epoll_event *event)
{
	int stand_in = fd_is_open(epfd) ? fd : -1;

	if (syscall(SYS_epoll_ctl, stand_in, op, fd, event) == 0)
		errno = EINVAL; /* unreachable: native refuses fd in itself */
	return -1;
}

PUBLIC int epollmod_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
	struct epollmod_ctl arg = {
		.size = sizeof(arg),
		.op = op,
		.fd = fd,
		.event = uptr(event),
	};

	if (ioctl(epfd, EPOLLMOD_IOC_CTL, &arg) == 0)
		return 0;
	if (epollmod_failed_on_instance(epfd))
		return -1;
	return ctl_error(epfd, op, fd, event);
}

/*
 * glibc's cancellation signal (SIGRTMIN's first reserved number, 32).
 * sigset_t's functions hide it; the kernel's masks do not.
 */
#define SIGCANCEL_BIT (1ULL << (32 - 1))

static long sigprocmask_raw(int how, const uint64_t *set, uint64_t *old)
{
	return syscall(SYS_rt_sigprocmask, how, set, old, KERNEL_SIGSET_SIZE);
}

/*
 * epoll_wait() and kevent() are cancellation points; ioctl() is not. A
 * wait that cannot block only tests for a pending cancellation first. One
 * that may block must also be woken by pthread_cancel(), which signals a
 * thread (with SIGCANCEL) only while its cancellation type is
 * asynchronous: so the wait runs with asynchronous cancellation, as glibc
 * runs epoll_wait(), but with SIGCANCEL blocked except inside the wait
 * itself, where the kernel swaps the mask in and out atomically as
 * epoll_pwait() does. A cancel that comes while the wait is blocked makes
 * it fail with EINTR, having taken nothing, and the signal then cancels the
 * thread. One that comes once the wait has taken events stays pending
 * until the mask is back: by then cancellation is deferred again, the
 * events are returned, and the thread is cancelled at its next
 * cancellation point. Nothing taken is lost, which glibc before 2.41 does
 * not promise for epoll_wait(). The price is two rt_sigprocmask calls
 * around a wait that sleeps, unless cancellation is disabled: a module
 * that can (EPOLLMOD_FEAT_TRY) is asked first not to sleep, so a wait that
 * finds events makes one system call.
 */
static bool module_tries(int fd)
{
	/* One module at a time: its answer holds for every instance. */
	static int tries;
	int known = __atomic_load_n(&tries, __ATOMIC_RELAXED);
	struct epollmod_info info = {.size = sizeof(info)};

	if (!known) {
		if (ioctl(fd, EPOLLMOD_IOC_INFO, &info) != 0)
			return false;
		known = info.features & EPOLLMOD_FEAT_TRY ? 1 : -1;
		__atomic_store_n(&tries, known, __ATOMIC_RELAXED);
	}
	return known > 0;
}

int epollmod_cancellable(int fd, epollmod_call_fn call, void *ctx, bool blocks)
{
	const uint64_t cancel = SIGCANCEL_BIT;
	uint64_t mask, during;
	int state, type, ret, err;

	pthread_testcancel();
	if (!blocks)
		return call(ctx, NULL, false);
	if (module_tries(fd)) {
		ret = call(ctx, NULL, true);
		if (ret >= 0 || errno != EAGAIN)
			return ret;
	}
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
	pthread_setcancelstate(state, NULL);
	if (state == PTHREAD_CANCEL_DISABLE ||
	    sigprocmask_raw(SIG_BLOCK, &cancel, &mask) != 0)
		return call(ctx, NULL, false);

	during = mask & ~cancel;
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &type);
	ret = call(ctx, &during, false);
	err = errno;
	pthread_setcanceltype(type, NULL);
	sigprocmask_raw(SIG_SETMASK, &mask, NULL);
	/* Nothing taken: a cancel that came meanwhile acts now. */
	if (ret <= 0)
		pthread_testcancel();
	errno = err;
	return ret;
}

struct wait_ctx {
	int epfd;
	struct epollmod_wait arg;
};

static int wait_call(void *ctx, const uint64_t *mask, bool try_only)
{
	struct wait_ctx *w = ctx;
	struct epollmod_wait call = w->arg;
	int ret;

	if (try_only) {
		call.flags |= EPOLLMOD_WAIT_TRY;
		ret = ioctl(w->epfd, EPOLLMOD_IOC_WAIT, &call);
		/* Its changes are made: the wait that follows has none. */
		if (ret < 0 && errno == EAGAIN) {
			w->arg.changes = 0;
			w->arg.nchanges = 0;
		}
		return ret;
	}
	/* The caller's mask, if any, is theirs: glibc keeps SIGCANCEL out. */
	if (mask && !w->arg.sigmask)
		call.sigmask = uptr(mask);
	return ioctl(w->epfd, EPOLLMOD_IOC_WAIT, &call);
}

int epollmod_wait_ioctl(int epfd, const struct epollmod_wait *arg)
{
	struct wait_ctx w = {.epfd = epfd, .arg = *arg};
	bool blocks =
		(arg->flags & EPOLLMOD_WAIT_TIMESPEC) || arg->timeout_ms != 0;

	return epollmod_cancellable(epfd, wait_call, &w, blocks);
}

/* Is fd a native epoll instance? (Readable from /proc without an fd.) */
static bool native_epoll(int fd)
{
	char path[32], link[32];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return true; /* cannot tell: be careful */
	link[n] = '\0';
	return !strcmp(link, "anon_inode:[eventpoll]");
}

/*
 * A wait on epfd itself, unless it is a native epoll (that wait could
 * succeed): then on a fresh eventfd. -1 for a closed epfd.
 */
static int wait_error(int epfd, const struct epollmod_wait *arg)
{
	const void *events = (const void *)(uintptr_t)arg->events;
	const void *sigmask = (const void *)(uintptr_t)arg->sigmask;
	int stand_in = -1, probe = -1;
	long ret;
	int err;

	if (fd_is_open(epfd)) {
		stand_in = epfd;
		if (native_epoll(epfd)) {
			stand_in = probe = eventfd(0, EFD_CLOEXEC);
			if (probe < 0) {
				/* No fd to ask with: the likeliest answer. */
				errno = EINVAL;
				return -1;
			}
		}
	}
	if (arg->flags & EPOLLMOD_WAIT_TIMESPEC)
		ret = syscall(SYS_epoll_pwait2, stand_in, events,
			      arg->maxevents,
			      (const void *)(uintptr_t)arg->timeout, sigmask,
			      KERNEL_SIGSET_SIZE);
	else
		ret = syscall(SYS_epoll_pwait, stand_in, events, arg->maxevents,
			      arg->timeout_ms, sigmask, KERNEL_SIGSET_SIZE);
	err = ret >= 0 ? EINVAL : errno;
	if (probe >= 0)
		close(probe);
	errno = err;
	return -1;
}

static int do_wait(int epfd, struct epollmod_wait *arg)
{
	int ret = epollmod_wait_ioctl(epfd, arg);

	if (ret >= 0 || epollmod_failed_on_instance(epfd))
		return ret;
	return wait_error(epfd, arg);
}

PUBLIC int epollmod_pwait(int epfd, struct epoll_event *events, int maxevents,
			  int timeout, const sigset_t *sigmask)
{
	struct epollmod_wait arg = {
		.size = sizeof(arg),
		.events = uptr(events),
		.maxevents = maxevents,
		.timeout_ms = timeout,
		.sigmask = uptr(sigmask),
		.sigsetsize = KERNEL_SIGSET_SIZE,
	};

	return do_wait(epfd, &arg);
}

PUBLIC int epollmod_wait(int epfd, struct epoll_event *events, int maxevents,
			 int timeout)
{
	return epollmod_pwait(epfd, events, maxevents, timeout, NULL);
}

_Static_assert(sizeof(struct timespec) == sizeof(struct __kernel_timespec),
	       "epollmod_pwait2 passes struct timespec through unchanged");

/*
 * epoll_pwait2(), with the batching of epollmod_wait_batch() and the
 * change list of epollmod_wait_changes().
 */
static int pwait2_batch(int epfd, struct epoll_event *events, int maxevents,
			const struct timespec *timeout, const sigset_t *sigmask,
			uint32_t min_events, uint64_t min_wait_ns,
			struct epollmod_change *changes, uint32_t nchanges)
{
	struct epollmod_wait arg = {
		.size = sizeof(arg),
		.flags = EPOLLMOD_WAIT_TIMESPEC,
		.events = uptr(events),
		.maxevents = maxevents,
		.timeout = uptr(timeout),
		.sigmask = uptr(sigmask),
		.sigsetsize = KERNEL_SIGSET_SIZE,
		.min_events = min_events,
		.min_wait_ns = min_wait_ns,
		.changes = nchanges ? uptr(changes) : 0,
		.nchanges = nchanges,
	};

	return do_wait(epfd, &arg);
}

PUBLIC int epollmod_pwait2(int epfd, struct epoll_event *events, int maxevents,
			   const struct timespec *timeout,
			   const sigset_t *sigmask)
{
	return pwait2_batch(epfd, events, maxevents, timeout, sigmask, 0, 0,
			    NULL, 0);
}

int epollmod_batch_args(int min_events, const struct timespec *min_wait,
			uint64_t *min_wait_ns)
{
	const uint64_t max_sec = UINT64_MAX / 1000000000 - 1;

	*min_wait_ns = 0;
	if (min_events < 0) {
		errno = EINVAL;
		return -1;
	}
	if (!min_wait)
		return 0;
	if (min_wait->tv_sec < 0 || min_wait->tv_nsec < 0 ||
	    min_wait->tv_nsec >= 1000000000) {
		errno = EINVAL;
		return -1;
	}
	/* Longer than any timeout can be (the module clamps it anyway). */
	if ((uint64_t)min_wait->tv_sec > max_sec)
		*min_wait_ns = UINT64_MAX;
	else
		*min_wait_ns = (uint64_t)min_wait->tv_sec * 1000000000 +
			       (uint64_t)min_wait->tv_nsec;
	return 0;
}

PUBLIC int epollmod_wait_batch(int epfd, struct epoll_event *events,
			       int maxevents, int min_events,
			       const struct timespec *min_wait,
			       const struct timespec *timeout,
			       const sigset_t *sigmask)
{
	uint64_t min_wait_ns;

	/* Like epoll_pwait2()'s timeout, checked before the fd. */
	if (epollmod_batch_args(min_events, min_wait, &min_wait_ns))
		return -1;
	return pwait2_batch(epfd, events, maxevents, timeout, sigmask,
			    (uint32_t)min_events, min_wait_ns, NULL, 0);
}

PUBLIC int epollmod_wait_changes(int epfd, struct epollmod_change *changes,
				 int nchanges, struct epoll_event *events,
				 int maxevents, int min_events,
				 const struct timespec *min_wait,
				 const struct timespec *timeout,
				 const sigset_t *sigmask)
{
	uint64_t min_wait_ns;

	/* The library's own arguments, checked before the fd. */
	if (nchanges < 0) {
		errno = EINVAL;
		return -1;
	}
	if (epollmod_batch_args(min_events, min_wait, &min_wait_ns))
		return -1;
	return pwait2_batch(epfd, events, maxevents, timeout, sigmask,
			    (uint32_t)min_events, min_wait_ns, changes,
			    (uint32_t)nchanges);
}

_Static_assert(EPOLLMOD_FIFO_EXCLUSIVE == EPOLLMOD_OPT_FIFO_EXCLUSIVE,
	       "<epollmod/epollmod.h> names the module's option bits");

PUBLIC int epollmod_set_options(int fd, unsigned long long options,
				unsigned long long *old)
{
	struct epollmod_options arg = {
		.size = sizeof(arg),
		.options = options,
	};

	if (ioctl(fd, EPOLLMOD_IOC_OPTIONS, &arg) == 0) {
		if (old)
			*old = arg.options;
		return 0;
	}
	if (errno == EBADF || epollmod_failed_on_instance(fd))
		return -1;
	/* An instance of a module without options, or no instance at all. */
	errno = epollmod_is_instance(fd) ? EOPNOTSUPP : EINVAL;
	return -1;
}
