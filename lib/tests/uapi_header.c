// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Compiled, never run: <linux/epollmod.h> is self-contained C. */
#include <linux/epollmod.h>

_Static_assert(sizeof(struct epollmod_info) == EPOLLMOD_INFO_SIZE_VER0, "");
_Static_assert(sizeof(struct epollmod_ctl) == EPOLLMOD_CTL_SIZE_VER0, "");
_Static_assert(sizeof(struct epollmod_wait) == 80, "with min_events, changes");
_Static_assert(sizeof(struct epollmod_kevent) == 72, "with min_events");
_Static_assert(sizeof(struct epollmod_options) == EPOLLMOD_OPTIONS_SIZE_VER0,
	       "");
_Static_assert(sizeof(struct epollmod_wait) % 8 == 0, "64-bit aligned");
