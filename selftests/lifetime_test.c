// SPDX-License-Identifier: GPL-2.0
/*
 * The lifetime of watched files and of instances.
 *
 * Differentially: a watch lives as long as its file, whoever holds it (a
 * dup, a child); when the last user lets go it is never reported again,
 * and the file really goes: a peer sees EOF, within 1.5 s even if no call
 * comes, and right after the next call when calls come.
 *
 * On epollmod alone, from the module's counters: nothing leaks, whatever
 * the order of closing, with instances in flight in sockets they watch,
 * nested in each other, or closed while others wait on them.
 */
#include "lib/harness.h"

#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#include <epollmod/epollmod.h>

#include "lib/backend.h"
#include "lib/util.h"

DIFF_FIXTURE(lifetime);

/* A dup keeps the file, so the watch made under the closed fd lives on. */
TEST_F(lifetime, dup_keeps_watch)
{
	int ep = ep_create1(0), efd = efd_new(1), keep = dup(efd);
	struct epoll_event ev;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 7));
	close(efd);
	POISON(ev);
	ASSERT_EQ(1, ep_wait(ep, &ev, 1, 0));
	EXPECT_EQ(7, ev.data.u64);
	close(keep);
	EXPECT_EQ(0, ep_wait(ep, &ev, 1, 0));
}

/* A child holding the file keeps the watch; its exit ends it. */
TEST_F(lifetime, child_keeps_watch)
{
	int ep = ep_create1(0), efd = efd_new(1), go[2], status;
	struct epoll_event ev;
	pid_t pid;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 3));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char c;

		close(ep);
		/* Hold efd until told to go. */
		_exit(read(go[0], &c, 1) == 1 ? 0 : 1);
	}
	close(efd);
	ASSERT_EQ(1, ep_wait(ep, &ev, 1, 0));
	EXPECT_EQ(3, ev.data.u64);
	ASSERT_EQ(1, write(go[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, ep_wait(ep, &ev, 1, 0));
}

/* How long until the peer of a closed, watched socket reads EOF. */
static int64_t eof_latency_ns(int peer, int limit_ms)
{
	struct pollfd pfd = { .fd = peer, .events = POLLIN | POLLRDHUP };
	int64_t start = now_ns();
	char c;

	if (poll(&pfd, 1, limit_ms) != 1 || read(peer, &c, 1) != 0)
		return -1;
	return now_ns() - start;
}

static void eof_without_calls(struct __test_metadata *_metadata, bool tcp)
{
	int ep = ep_create1(0), s[2];
	int64_t ns;

	ASSERT_EQ(0, tcp ? tcp_pair(s) : unix_pair(s));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, s[0], EPOLLIN | EPOLLRDHUP, 0));
	close(s[0]);
	ns = eof_latency_ns(s[1], 1500);
	ASSERT_LE(0, ns) TH_LOG("no EOF within 1.5 s");
	TH_LOG("EOF after %.1f ms with no call", ns / 1e6);
}

TEST_F(lifetime, unix_peer_sees_eof_without_calls)
{
	eof_without_calls(_metadata, false);
}

TEST_F(lifetime, tcp_peer_sees_eof_without_calls)
{
	eof_without_calls(_metadata, true);
}

static void eof_at_next_call(struct __test_metadata *_metadata, bool tcp)
{
	int ep = ep_create1(0), efd = efd_new(0), s[2];
	struct epoll_event ev;
	int64_t ns;

	ASSERT_EQ(0, tcp ? tcp_pair(s) : unix_pair(s));
	/* Other watches around it, as in a real program. */
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, s[0], EPOLLIN | EPOLLRDHUP, 2));
	close(s[0]);
	EXPECT_EQ(0, ep_wait(ep, &ev, 1, 0));
	/* TCP's FIN crosses loopback in a softirq: allow it a moment. */
	ns = eof_latency_ns(s[1], tcp ? 200 : 0);
	ASSERT_LE(0, ns) TH_LOG("no EOF after the call");
	TH_LOG("EOF %.3f ms after the call", ns / 1e6);
}

TEST_F(lifetime, unix_peer_sees_eof_at_next_call)
{
	eof_at_next_call(_metadata, false);
}

TEST_F(lifetime, tcp_peer_sees_eof_at_next_call)
{
	eof_at_next_call(_metadata, true);
}

/* A closed inner instance is not reported by the outer one any more. */
TEST_F(lifetime, closed_inner_instance_forgotten)
{
	int outer = ep_create1(0), inner = ep_create1(0), efd = efd_new(1);
	struct epoll_event ev;

	ASSERT_EQ(0, ctl(inner, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
	ASSERT_EQ(0, ctl(outer, EPOLL_CTL_ADD, inner, EPOLLIN, 2));
	ASSERT_EQ(1, ep_wait(outer, &ev, 1, 0));
	close(inner);
	EXPECT_EQ(0, ep_wait(outer, &ev, 1, 0));
}

/* An instance closed while a thread waits on it still serves that wait. */
struct waiter {
	int ep;
	int result;
	pthread_t thread;
};

static void *wait_long(void *arg)
{
	struct waiter *w = arg;
	struct epoll_event ev;

	w->result = ep_wait(w->ep, &ev, 1, 3000);
	return NULL;
}

TEST_F(lifetime, close_during_wait_still_delivers)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct waiter w = { .ep = ep };

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
	ASSERT_EQ(0, pthread_create(&w.thread, NULL, wait_long, &w));
	sleep_ms(100);
	close(ep);
	ASSERT_EQ(0, efd_add(efd, 1));
	pthread_join(w.thread, NULL);
	EXPECT_EQ(1, w.result);
}

/* ---------------------------------------------------------------------- */
/* epollmod alone: nothing leaks                                           */

FIXTURE(release) {
	long instances;
	long watches;
	long files;
};

FIXTURE_SETUP(release)
{
	be = &backend_epollmod;
	if (!be->available()) {
		if (getenv("EPM_REQUIRE_MODULE"))
			ASSERT_TRUE(be->available());
		EPM_SKIP_TEST("epollmod module not loaded");
	}
	if (epm_stat("instances") < 0)
		EPM_SKIP_TEST("no /sys/kernel/debug/epollmod/stats");
	epm_stat_quiesce();
	self->instances = epm_stat("instances");
	self->watches = epm_stat("watches");
	self->files = epm_stat("watched_files");
}

FIXTURE_TEARDOWN(release)
{
}

/* Everything the test made is gone within 1.5 s of closing it. */
#define EXPECT_ALL_FREED() do {						\
	EXPECT_EQ(self->instances,					\
		  epm_stat_settle("instances", self->instances, 1500));	\
	EXPECT_EQ(self->watches,					\
		  epm_stat_settle("watches", self->watches, 1500));	\
	EXPECT_EQ(self->files,						\
		  epm_stat_settle("watched_files", self->files, 1500));	\
} while (0)

static int send_fd(int sock, int fd)
{
	char byte = 'f', cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

/*
 * The instance in flight inside the socket it watches: only the module's
 * reference keeps that socket, only the socket keeps the instance.
 */
TEST_F(release, instance_in_flight_in_watched_socket)
{
	int ep = ep_create1(0), s[2];

	ASSERT_EQ(0, unix_pair(s));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, s[0], EPOLLIN, 0));
	ASSERT_EQ(0, send_fd(s[1], ep));	/* queued at s[0] */
	close(ep);
	close(s[0]);
	close(s[1]);
	EXPECT_ALL_FREED();
}

/* ... and in flight in the peer of a socket it watches. */
TEST_F(release, instance_in_flight_both_ends_watched)
{
	int ep = ep_create1(0), s[2];

	ASSERT_EQ(0, unix_pair(s));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, s[0], EPOLLIN, 0));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, s[1], EPOLLIN, 1));
	ASSERT_EQ(0, send_fd(s[0], ep));	/* queued at s[1] */
	ASSERT_EQ(0, send_fd(s[1], ep));	/* queued at s[0] */
	close(ep);
	close(s[0]);
	close(s[1]);
	EXPECT_ALL_FREED();
}

/* Nested instances closed in every order. */
TEST_F(release, nested_closed_in_any_order)
{
	static const int orders[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
		{ 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};

	for (int o = 0; o < 6; o++) {
		int eps[3], efd = efd_new(1);

		for (int i = 0; i < 3; i++)
			eps[i] = ep_create1(0);
		ASSERT_EQ(0, ctl(eps[2], EPOLL_CTL_ADD, efd, EPOLLIN, 0));
		ASSERT_EQ(0, ctl(eps[1], EPOLL_CTL_ADD, eps[2], EPOLLIN, 0));
		ASSERT_EQ(0, ctl(eps[0], EPOLL_CTL_ADD, eps[1], EPOLLIN, 0));
		close(efd);
		for (int i = 0; i < 3; i++)
			close(eps[orders[o][i]]);
		EXPECT_ALL_FREED();
	}
}

/* Closing instances while a writer makes their callbacks fire. */
struct writer {
	int fds[4];
	volatile bool stop;
	pthread_t thread;
};

static void *write_forever(void *arg)
{
	struct writer *w = arg;

	while (!w->stop)
		for (int i = 0; i < 4; i++)
			efd_add(w->fds[i], 1);
	return NULL;
}

TEST_F_TIMEOUT(release, close_while_callbacks_fire, 120)
{
	struct writer w = { .stop = false };
	struct epoll_event ev[4];

	for (int i = 0; i < 4; i++)
		w.fds[i] = efd_new(0);
	ASSERT_EQ(0, pthread_create(&w.thread, NULL, write_forever, &w));
	for (int round = 0; round < 300; round++) {
		int ep = ep_create1(0);

		for (int i = 0; i < 4; i++)
			ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, w.fds[i],
					 i % 2 ? EPOLLIN | EPOLLET : EPOLLIN, i));
		ep_wait(ep, ev, 4, 0);
		close(ep);
	}
	w.stop = true;
	pthread_join(w.thread, NULL);
	for (int i = 0; i < 4; i++)
		close(w.fds[i]);
	EXPECT_ALL_FREED();
}

/* Closing an instance that other threads are waiting on. */
TEST_F(release, close_while_waited_on)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct waiter w[3];

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
	for (int i = 0; i < 3; i++) {
		w[i].ep = ep;
		ASSERT_EQ(0, pthread_create(&w[i].thread, NULL, wait_long,
					    &w[i]));
	}
	sleep_ms(100);
	close(ep);
	close(efd);
	for (int i = 0; i < 3; i++) {
		pthread_join(w[i].thread, NULL);
		EXPECT_EQ(0, w[i].result);
	}
	EXPECT_ALL_FREED();
}

/* Closing an inner instance while an outer one watches it. */
TEST_F(release, inner_closed_under_outer)
{
	int outer = ep_create1(0), inner = ep_create1(0), efd = efd_new(1);
	struct epoll_event ev;

	ASSERT_EQ(0, ctl(inner, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
	ASSERT_EQ(0, ctl(outer, EPOLL_CTL_ADD, inner, EPOLLIN, 2));
	close(inner);
	close(efd);
	/* No call on outer: the sweep alone releases inner and its watch. */
	EXPECT_EQ(self->instances + 1,
		  epm_stat_settle("instances", self->instances + 1, 1500));
	EXPECT_EQ(0, ep_wait(outer, &ev, 1, 0));
	close(outer);
	EXPECT_ALL_FREED();
}

/* A dead file is released once, however many instances watch it. */
TEST_F(release, dead_file_in_many_instances)
{
	int eps[8], s[2];

	ASSERT_EQ(0, unix_pair(s));
	for (int i = 0; i < 8; i++) {
		eps[i] = ep_create1(0);
		ASSERT_EQ(0, ctl(eps[i], EPOLL_CTL_ADD, s[0], EPOLLIN, i));
	}
	EXPECT_EQ(self->files + 1, epm_stat("watched_files"));
	close(s[0]);
	/* The peer sees EOF: the one shared reference was let go. */
	ASSERT_LE(0, eof_latency_ns(s[1], 1500));
	EXPECT_EQ(self->files, epm_stat("watched_files"));
	for (int i = 0; i < 8; i++)
		close(eps[i]);
	EXPECT_ALL_FREED();
}

EPM_HARNESS_MAIN
