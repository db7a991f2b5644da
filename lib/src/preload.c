// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libepollmod-preload.so: glibc's epoll calls served by the epollmod module,
 * for programs that were never written for it.
 *
 *	LD_PRELOAD=libepollmod-preload.so program ...
 *
 * SYMBOLS. The shim defines epoll_create, epoll_create1, epoll_ctl,
 * epoll_wait, epoll_pwait and epoll_pwait2, and exports nothing else:
 * libepollmod is linked in statically with its symbols made local
 * (--exclude-libs), so the shim is one self-contained file and can neither
 * clash with nor be interposed by a libepollmod the program links itself.
 * It is bound at load time (-z now), so no lazy PLT resolution runs inside
 * a call. Programs that make the epoll syscalls without glibc's wrappers
 * (static binaries, Go's runtime) are not covered.
 *
 * ERRORS. Each call returns what the libepollmod call or glibc call it
 * lands on returns, errno untouched: native epoll's errno for the same
 * input (libepollmod guarantees that for instances).
 *
 * MODULE MISSING. epoll_create and epoll_create1 fail as libepollmod does,
 * with ENODEV (EPROTO if the loaded module speaks another ABI), and the
 * first such failure in a process prints one line on stderr that names the
 * fix. With EPOLLMOD_PRELOAD_FALLBACK=1 in the environment (read at each
 * such failure) they create a native epoll instead, and the first fallback
 * in a process prints one line saying so. "Once" is once per process
 * image: a child of fork inherits whether it was said; exec starts over.
 *
 * WHICH BACKEND SERVES AN FD. A process may hold instances and native epoll
 * fds at once: native ones made in fallback mode or inherited from a
 * program without the shim, instances inherited by a process that fell
 * back. The fd decides, call by call, at no cost to a correct program's hot
 * path. Each call goes to the preferred backend: the module, or native
 * epoll once this process has fallen back. Both check the arguments they
 * share in native's order and answer EINVAL for an epfd that is not theirs,
 * so EEXIST, ENOENT, EINTR and the like are final. Only after EINVAL is the
 * fd looked at: epollmod_is_instance() (an fstat and a stat) says whether
 * it is an instance, and if it belongs to the other backend, that one
 * answers instead, with success or native's errno.
 *
 * THREADS AND SIGNALS. No call takes a lock or allocates: the state is two
 * atomic flags for the messages, one for the preferred backend, and glibc's
 * functions, looked up with dlsym(RTLD_NEXT) by a constructor. A call that
 * comes from another library's constructor before ours has run looks them
 * up itself, through pthread_once. Messages are one writev(2). A wait is a
 * cancellation point on both backends, as glibc's epoll_wait is.
 *
 * FORK AND EXEC. An instance is an ordinary fd: fork shares it, exec keeps
 * it unless it was created with EPOLL_CLOEXEC, and the shim keeps nothing
 * per fd, so a child needs nothing from it. An exec'd program runs on the
 * module only if it has the shim too (LD_PRELOAD is inherited with the
 * environment); one without it gets EINVAL from glibc's epoll calls on an
 * inherited instance, as for any fd that is not a native epoll.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "calls.h"
#include "epollmod/epollmod.h"

#define EXPORT __attribute__((visibility("default")))

#define FALLBACK_ENV "EPOLLMOD_PRELOAD_FALLBACK"

static const struct epoll_calls module_calls = {EPOLL_CALLS_EPOLLMOD};

static struct epoll_calls native_calls;
static pthread_once_t native_once = PTHREAD_ONCE_INIT;

/* Set by the first create that falls back; inherited by fork. */
static atomic_bool prefer_native;

/* glibc before 2.35 has no epoll_pwait2: make the call as later ones do. */
static int syscall_pwait2(int epfd, struct epoll_event *events, int maxevents,
			  const struct timespec *timeout,
			  const sigset_t *sigmask)
{
	return syscall(SYS_epoll_pwait2, epfd, events, maxevents, timeout,
		       sigmask, _NSIG / 8);
}

static void resolve_native(void)
{
	native_calls.create = dlsym(RTLD_NEXT, "epoll_create");
	native_calls.create1 = dlsym(RTLD_NEXT, "epoll_create1");
	native_calls.ctl = dlsym(RTLD_NEXT, "epoll_ctl");
	native_calls.wait = dlsym(RTLD_NEXT, "epoll_wait");
	native_calls.pwait = dlsym(RTLD_NEXT, "epoll_pwait");
	native_calls.pwait2 = dlsym(RTLD_NEXT, "epoll_pwait2");
	if (!native_calls.pwait2)
		native_calls.pwait2 = syscall_pwait2;
}

static const struct epoll_calls *native_backend(void)
{
	pthread_once(&native_once, resolve_native);
	return &native_calls;
}

static void __attribute__((constructor)) resolve_native_at_load(void)
{
	native_backend();
}

static const struct epoll_calls *preferred(void)
{
	if (atomic_load_explicit(&prefer_native, memory_order_relaxed))
		return native_backend();
	return &module_calls;
}

/*
 * @tried failed on @epfd: the backend to ask instead, or NULL if @tried's
 * answer stands. errno is kept.
 */
static const struct epoll_calls *owner_instead(const struct epoll_calls *tried,
					       int epfd)
{
	bool is_instance;

	if (errno != EINVAL)
		return NULL;
	is_instance = epollmod_is_instance(epfd);
	if (is_instance == (tried == &module_calls))
		return NULL;
	return is_instance ? &module_calls : native_backend();
}

/* One line on stderr, the first time @said is set; errno is kept. */
static void say_once(atomic_bool *said, const char *cause, const char *outcome,
		     const char *advice)
{
	static const char prefix[] = "epollmod-preload: ";
	const char *device = epollmod_device_path();
	struct iovec line[] = {
		{(void *)prefix, sizeof(prefix) - 1},
		{(void *)device, strlen(device)},
		{(void *)cause, strlen(cause)},
		{(void *)outcome, strlen(outcome)},
		{(void *)advice, strlen(advice)},
	};
	int saved = errno;

	if (!atomic_exchange(said, true))
		writev(STDERR_FILENO, line, 5);
	errno = saved;
}

/*
 * The module refused a create. If it is missing or speaks another ABI and
 * the user asked for native epoll in that case, switch to it (true).
 * Otherwise say what is wrong and how to fix it, once (false). errno kept.
 */
static bool fall_back(void)
{
	static atomic_bool told_failure, told_fallback;
	const char *fallback = secure_getenv(FALLBACK_ENV);
	const char *cause, *fix;

	switch (errno) {
	case ENODEV:
		cause = ": the epollmod module is not loaded";
		fix = "; epoll_create fails with ENODEV: run"
		      " `insmod epollmod.ko` or `modprobe epollmod`";
		break;
	case EPROTO:
		cause = ": the loaded epollmod module speaks another ABI";
		fix = "; epoll_create fails with EPROTO: rebuild the module or"
		      " this shim";
		break;
	default:
		return false;
	}
	if (!fallback || strcmp(fallback, "1") != 0) {
		say_once(&told_failure, cause, fix,
			 ", or set " FALLBACK_ENV "=1 to use native epoll\n");
		return false;
	}
	atomic_store_explicit(&prefer_native, true, memory_order_relaxed);
	say_once(&told_fallback, cause, "; " FALLBACK_ENV "=1",
		 ": this process uses native epoll\n");
	return true;
}

EXPORT int epoll_create(int size)
{
	int fd = module_calls.create(size);

	if (fd < 0 && fall_back())
		fd = native_backend()->create(size);
	return fd;
}

EXPORT int epoll_create1(int flags)
{
	int fd = module_calls.create1(flags);

	if (fd < 0 && fall_back())
		fd = native_backend()->create1(flags);
	return fd;
}

EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
	const struct epoll_calls *be = preferred();
	int ret = be->ctl(epfd, op, fd, event);

	if (ret < 0 && (be = owner_instead(be, epfd)))
		ret = be->ctl(epfd, op, fd, event);
	return ret;
}

EXPORT int epoll_wait(int epfd, struct epoll_event *events, int maxevents,
		      int timeout)
{
	const struct epoll_calls *be = preferred();
	int ret = be->wait(epfd, events, maxevents, timeout);

	if (ret < 0 && (be = owner_instead(be, epfd)))
		ret = be->wait(epfd, events, maxevents, timeout);
	return ret;
}

EXPORT int epoll_pwait(int epfd, struct epoll_event *events, int maxevents,
		       int timeout, const sigset_t *sigmask)
{
	const struct epoll_calls *be = preferred();
	int ret = be->pwait(epfd, events, maxevents, timeout, sigmask);

	if (ret < 0 && (be = owner_instead(be, epfd)))
		ret = be->pwait(epfd, events, maxevents, timeout, sigmask);
	return ret;
}

EXPORT int epoll_pwait2(int epfd, struct epoll_event *events, int maxevents,
			const struct timespec *timeout, const sigset_t *sigmask)
{
	const struct epoll_calls *be = preferred();
	int ret = be->pwait2(epfd, events, maxevents, timeout, sigmask);

	if (ret < 0 && (be = owner_instead(be, epfd)))
		ret = be->pwait2(epfd, events, maxevents, timeout, sigmask);
	return ret;
}
