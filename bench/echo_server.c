// SPDX-License-Identifier: GPL-2.0
/*
 * echo-server --backend native|epollmod --port PORT
 *
 * The default server of case 7: a single-threaded, level-triggered epoll
 * loop on 127.0.0.1:PORT that writes back whatever a connection sends.
 * It runs until it is killed. The same code serves both backends; only
 * the struct backend it is given differs.
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

#define MAX_EVENTS	256

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

static void accept_all(const struct backend *be, int ep, int lfd)
{
	int one = 1, fd;

	while ((fd = accept4(lfd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = fd };

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (be->ctl(ep, EPOLL_CTL_ADD, fd, &ev))
			epb_die("%s: ADD: %m", be->name);
	}
	if (errno != EAGAIN)
		epb_die("accept: %m");
}

/*
 * Echo what is there. A client has one request in flight per connection,
 * so the reply always fits the socket buffer: a short write is a bug.
 */
static void echo(int fd)
{
	char buf[4096];
	ssize_t len = read(fd, buf, sizeof(buf));

	if (len == 0 || (len < 0 && errno == ECONNRESET)) {
		close(fd);
		return;
	}
	if (len < 0) {
		if (errno == EAGAIN)
			return;
		epb_die("read: %m");
	}
	if (write(fd, buf, len) != len)
		epb_die("short write to a connection: %m");
}

int main(int argc, char **argv)
{
	const struct backend *be = NULL;
	struct epoll_event events[MAX_EVENTS];
	int port = 0, lfd, ep;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--backend"))
			be = epb_backend_by_name(argv[i + 1]);
		else if (!strcmp(argv[i], "--port"))
			port = atoi(argv[i + 1]);
	}
	if (!be || port <= 0)
		epb_die("usage: echo-server --backend native|epollmod --port PORT");

	lfd = listen_on(port);
	ep = epb_instance(be, &lfd, 1, EPOLLIN);
	for (;;) {
		int n = be->wait(ep, events, MAX_EVENTS, -1);

		if (n < 0 && errno != EINTR)
			epb_die("%s: wait: %m", be->name);
		for (int i = 0; i < n; i++) {
			/* epb_instance() put index 0 on the listener. */
			if (events[i].data.u64 == 0)
				accept_all(be, ep, lfd);
			else
				echo((int)events[i].data.u64);
		}
	}
}
