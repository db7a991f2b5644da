// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Compiled, never run: <linux/epollmod.h> is self-contained C. */
#include <linux/epollmod.h>

_Static_assert(sizeof(struct epollmod_info) == EPOLLMOD_INFO_SIZE_VER0, "");
_Static_assert(sizeof(struct epollmod_ctl) == EPOLLMOD_CTL_SIZE_VER0, "");
_Static_assert(sizeof(struct epollmod_wait) == EPOLLMOD_WAIT_SIZE_VER0, "");
_Static_assert(sizeof(struct epollmod_wait) % 8 == 0, "64-bit aligned");
