/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the kernels epollmod builds for, decided by what
 * the kernel headers define rather than by version numbers.
 */
#ifndef EPM_COMPAT_H
#define EPM_COMPAT_H

#include <linux/file.h>

/* 6.12 hid struct fd's members behind fd_file(). */
#ifndef fd_file
#define fd_file(f) ((f).file)
#endif

#endif /* EPM_COMPAT_H */
