// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
// Compiled, never run: <linux/epollmod.h> is self-contained C++.
#include <linux/epollmod.h>

static_assert(sizeof(epollmod_info) == EPOLLMOD_INFO_SIZE_VER0);
static_assert(sizeof(epollmod_ctl) == EPOLLMOD_CTL_SIZE_VER0);
static_assert(sizeof(epollmod_wait) == 80);
static_assert(sizeof(epollmod_kevent) == 72);
static_assert(sizeof(epollmod_options) == EPOLLMOD_OPTIONS_SIZE_VER0);
static_assert(EPOLLMOD_IOC_CTL != EPOLLMOD_IOC_WAIT);
