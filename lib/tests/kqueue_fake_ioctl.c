// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * ioctl() for kqueue_no_module_test: the library's calls come here, and
 * the test's hook answers those for its fake module. In C, not C++: a
 * thread cancelled while the fake sleeps unwinds through this frame, and a
 * C++ ioctl() would have to be noexcept, as glibc declares it, which ends
 * such an unwind in std::terminate().
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/epollmod.h>

#include "kqueue_fake_ioctl.h"

int (*fake_ioctl_hook)(int fd, unsigned long request, void *arg, int *ret);

int ioctl(int fd, unsigned long request, ...)
{
	const struct epollmod_kevent *k;
	struct timespec limit = {60, 0};
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!fake_ioctl_hook || !fake_ioctl_hook(fd, request, arg, &ret))
		return syscall(SYS_ioctl, fd, request, arg);
	if (ret != FAKE_IOCTL_SLEEP)
		return ret;
	/*
	 * The module's wait: the caller's mask swapped in atomically, and a
	 * signal ends it with EINTR. (Bounded, should none come.)
	 */
	k = arg;
	return syscall(SYS_ppoll, NULL, 0, &limit,
		       (const void *)(uintptr_t)k->sigmask, k->sigsetsize);
}
