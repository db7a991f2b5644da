// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * A program with names of its own that a library might also have used:
 * it links against libepollmod-kqueue (shared and static) and libepollmod,
 * and its functions, not a library's, are the ones called.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/event.h>

int kevent_add(int kq, int fd)
{
	return kq + fd + 1000;
}

int test_foo(void)
{
	return 1001;
}

int get_fd_limit(void)
{
	return 1002;
}

/* And libepollmod's own internal words, unprefixed. */
int open_instance(void)
{
	return 1003;
}

int cancellable(void)
{
	return 1004;
}

int failed_on_instance(void)
{
	return 1005;
}

int main(void)
{
	struct kevent ev;
	int fails = 0;

	setenv("EPOLLMOD_DEVICE", "/nonexistent/epollmod", 1);
	errno = 0;
	if (kqueue() != -1 || errno != ENODEV) {
		fprintf(stderr, "kqueue(): %s, expected ENODEV\n",
			strerror(errno));
		fails++;
	}
	errno = 0;
	if (kevent(-1, NULL, 0, &ev, 1, NULL) != -1 || errno != EBADF) {
		fprintf(stderr, "kevent(-1): %s, expected EBADF\n",
			strerror(errno));
		fails++;
	}
	if (kevent_add(1, 2) != 1003 || test_foo() != 1001 ||
	    get_fd_limit() != 1002 || open_instance() != 1003 ||
	    cancellable() != 1004 || failed_on_instance() != 1005) {
		fprintf(stderr, "a library's function was called\n");
		fails++;
	}
	return fails ? 1 : 0;
}
