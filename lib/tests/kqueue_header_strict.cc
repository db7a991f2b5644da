// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
// <sys/event.h> in C++98: see kqueue_header_strict.c.
#include "kqueue_header_strict.c"
