// SPDX-License-Identifier: GPL-2.0
/*
 * echo-server --backend native|epollmod|io_uring|ring --port PORT
 * echo-server --backend io_uring --check
 *
 * The default server of case 7: a single-threaded, level-triggered epoll
 * loop on 127.0.0.1:PORT that writes back whatever a connection sends.
 * It runs until it is killed. The same code serves both epoll backends;
 * only the struct backend it is given differs. io_uring is bench/uring.c,
 * a loop on multishot polls around the same accept and echo.
 *
 * --check sets io_uring up as the server would and prints one line: "ok"
 * and what it set up, or why io_uring cannot be used (exit status 1).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "uring.h"

#include <linux/epollmod.h>
#include <epollmod/ring.h>

static int listen_on(int port)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		epb_die("socket: %m");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)))
		epb_die("bind 127.0.0.1:%d: %m", port);
	if (listen(fd, 4096))
		epb_die("listen: %m");
	return fd;
}

/* A pending connection, or -1 once there is none left. */
int epb_echo_accept(int lfd)
{
	int one = 1;
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno != EAGAIN)
			epb_die("accept: %m");
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void accept_all(const struct backend *be, int ep, int lfd)
{
	int fd;

	while ((fd = epb_echo_accept(lfd)) >= 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = fd };

		if (be->ctl(ep, EPOLL_CTL_ADD, fd, &ev))
			epb_die("%s: ADD: %m", be->name);
	}
}

/*
 * Echo what is there; false if the peer is gone (@fd is for the caller to
 * close). A client has one request in flight per connection, so one read
 * takes all of it and the reply always fits the socket buffer: a short
 * write is a bug.
 */
bool epb_echo(int fd)
{
	char buf[4096];
	ssize_t len = read(fd, buf, sizeof(buf));

	if (len == 0 || (len < 0 && errno == ECONNRESET))
		return false;
	if (len < 0) {
		if (errno == EAGAIN)
			return true;
		epb_die("read: %m");
	}
	if (write(fd, buf, len) != len)
		epb_die("short write to a connection: %m");
	return true;
}

/*
 * The ready ring's loop: an epollmod instance whose events are harvested
 * from memory; only an empty ring makes a system call, to sleep. The
 * watches are edge-triggered, which a ring serves without polling them
 * again: every connection has one request in flight, which one read takes.
 */
static void serve_ring(int lfd)
{
	struct epoll_event events[EPB_ECHO_BATCH];
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = 0 };
	struct epollmod_ring ring;
	int ep = epollmod_create1(EPOLL_CLOEXEC), fd;

	if (ep < 0 || epollmod_ring_setup(ep, EPOLLMOD_RING_MAX_SLOTS, &ring))
		epb_die("ring: %m");
	if (epollmod_ctl(ep, EPOLL_CTL_ADD, lfd, &ev))
		epb_die("ring: ADD: %m");
	for (;;) {
		int n = epollmod_ring_wait(&ring, events, EPB_ECHO_BATCH, -1);

		if (n < 0 && errno != EINTR)
			epb_die("ring: wait: %m");
		for (int i = 0; i < n; i++) {
			if (events[i].data.u64 != 0) {
				if (!epb_echo((int)events[i].data.u64))
					close((int)events[i].data.u64);
				continue;
			}
			while ((fd = epb_echo_accept(lfd)) >= 0) {
				ev.data.u64 = fd;
				if (epollmod_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
					epb_die("ring: ADD: %m");
			}
		}
	}
}

int main(int argc, char **argv)
{
	const struct backend *be = NULL;
	struct epoll_event events[EPB_ECHO_BATCH];
	bool uring = false, check = false, ring = false;
	int port = 0, lfd, ep;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--check")) {
			check = true;
		} else if (i + 1 == argc) {
			break;
		} else if (!strcmp(argv[i], "--backend")) {
			uring = !strcmp(argv[++i], "io_uring");
			ring = !strcmp(argv[i], "ring");
			be = epb_backend_by_name(argv[i]);
		} else if (!strcmp(argv[i], "--port")) {
			port = atoi(argv[++i]);
		}
	}
	if (uring && check) {
		char what[256];
		int ret = epb_uring_check(what, sizeof(what));

		/* The answer goes to epbench, on the real stdout. */
		printf("%s%s\n", ret ? "" : "ok: ", what);
		return ret ? 1 : 0;
	}
	if ((!be && !uring && !ring) || port <= 0 || check)
		epb_die("usage: echo-server --backend native|epollmod|io_uring|ring --port PORT\n"
			"       echo-server --backend io_uring --check");

	lfd = listen_on(port);
	if (uring)
		epb_uring_serve(lfd);
	if (ring)
		serve_ring(lfd);
	ep = epb_instance(be, &lfd, 1, EPOLLIN);
	for (;;) {
		int n = be->wait(ep, events, EPB_ECHO_BATCH, -1);

		if (n < 0 && errno != EINTR)
			epb_die("%s: wait: %m", be->name);
		for (int i = 0; i < n; i++) {
			/* epb_instance() put index 0 on the listener. */
			if (events[i].data.u64 == 0)
				accept_all(be, ep, lfd);
			else if (!epb_echo((int)events[i].data.u64))
				close((int)events[i].data.u64);
		}
	}
}
