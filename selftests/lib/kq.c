// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kq.h"

void kev_poison(struct kevent *evs, int n)
{
	memset(evs, POISON_BYTE, sizeof(*evs) * n);
}

int kq_call(int kq, const struct kevent *changes, int nchanges,
	    struct kevent *evs, int nevents, int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	return epollmod_kevent(kq, changes, nchanges, evs, nevents,
			       ms < 0 ? NULL : &ts);
}

int kq_change(int kq, uintptr_t ident, short filter, unsigned short flags,
	      unsigned int fflags, intptr_t data, void *udata)
{
	struct kevent k = kev(ident, filter, flags, fflags, data, udata);

	return kq_call(kq, &k, 1, NULL, 0, 0);
}

int kq_change1(int kq, struct kevent change, struct kevent *out)
{
	kev_poison(out, 1);
	return kq_call(kq, &change, 1, out, 1, 0);
}

int kq_poll(int kq, struct kevent *evs, int n)
{
	return kq_wait(kq, evs, n, 0);
}

int kq_wait(int kq, struct kevent *evs, int n, int ms)
{
	kev_poison(evs, n);
	return kq_call(kq, NULL, 0, evs, n, ms);
}

int kq_pipe(int kq, int p[2], unsigned short flags, void *udata)
{
	if (pipe_new(p))
		return -1;
	return kq_change(kq, p[0], EVFILT_READ, flags, 0, 0, udata);
}

int native_watch(int fd, uint32_t extra)
{
	struct epoll_event ev = { .events = EPOLLIN | extra, .data.u64 = 1 };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		return -1;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
		close(ep);
		return -1;
	}
	return ep;
}

int native_poll(int ep)
{
	struct epoll_event ev;

	memset(&ev, POISON_BYTE, sizeof(ev));
	return epoll_wait(ep, &ev, 1, 0);
}

static int bind_loopback(int fd, struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);

	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)addr, sizeof(*addr)))
		return -1;
	return getsockname(fd, (struct sockaddr *)addr, &len);
}

int udp_pair(int fds[2])
{
	struct sockaddr_in addr;
	int a = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int b = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (a < 0 || b < 0 || bind_loopback(a, &addr) ||
	    connect(b, (struct sockaddr *)&addr, sizeof(addr))) {
		close(a);
		close(b);
		return -1;
	}
	fds[0] = a;
	fds[1] = b;
	return 0;
}

int tcp_listener(void)
{
	struct sockaddr_in addr;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	if (bind_loopback(fd, &addr) || listen(fd, 16)) {
		close(fd);
		return -1;
	}
	return fd;
}

int tcp_connect_to(int lfd)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	int fd;

	if (getsockname(lfd, (struct sockaddr *)&addr, &len))
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		close(fd);
		return -1;
	}
	return fd;
}

int unix_dgram_pair(int fds[2])
{
	return socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			  0, fds);
}

int write_n(int fd, size_t n)
{
	char buf[4096];

	memset(buf, 'x', sizeof(buf));
	while (n) {
		size_t chunk = n < sizeof(buf) ? n : sizeof(buf);
		ssize_t w = write(fd, buf, chunk);

		if (w <= 0)
			return -1;
		n -= w;
	}
	return 0;
}

long fill(int fd)
{
	char buf[4096];
	long total = 0;
	ssize_t w;

	memset(buf, 'x', sizeof(buf));
	for (;;) {
		w = write(fd, buf, sizeof(buf));
		if (w < 0 && errno == EAGAIN) {
			/* the last page may still take a byte at a time */
			w = write(fd, buf, 1);
			if (w < 0)
				break;
		}
		if (w <= 0)
			break;
		total += w;
	}
	return total;
}
