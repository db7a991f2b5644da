// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
// <sys/event.h> in C++: the same checks as in C, with the functions
// extern "C".
#include "kqueue_header.c"
