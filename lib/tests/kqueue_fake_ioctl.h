// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The fake module's ioctl(): kqueue_fake_ioctl.c. */
#ifndef EPOLLMOD_TESTS_KQUEUE_FAKE_IOCTL_H
#define EPOLLMOD_TESTS_KQUEUE_FAKE_IOCTL_H

#ifdef __cplusplus
extern "C" {
#endif

/* A hook's *ret that makes a KEVENT sleep as the module's wait does. */
#define FAKE_IOCTL_SLEEP (-1000)

/*
 * Answers an ioctl the fake module takes: returns 1 with the ioctl's
 * result in *ret (-1 with errno set, or FAKE_IOCTL_SLEEP), or 0 to pass
 * the ioctl to the kernel.
 */
extern int (*fake_ioctl_hook)(int fd, unsigned long request, void *arg,
			      int *ret);

#ifdef __cplusplus
}
#endif

#endif
