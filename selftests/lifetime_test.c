// SPDX-License-Identifier: GPL-2.0
/*
 * The lifetime of watched files and of instances.
 *
 * Differentially: a watch lives as long as its file, whoever holds it (a
 * dup, a child); when the last user lets go it is never reported again,
 * and the file really goes at once: a unix peer reads EOF right after the
 * close, with no call on the instance. The unix garbage collector frees
 * watched sockets and instances in flight in each other, and gives their
 * watches back to the user.
 *
 * On epollmod alone, from the module's counters: nothing leaks, whatever
 * the order of closing, with instances in flight in sockets they watch,
 * nested in each other, or closed while others wait on them.
 */
#include "lib/harness.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
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

/*
 * The last close releases the socket at once: the peer's next read,
 * which does not wait, finds EOF. No call on the instance, no sleep.
 */
TEST_F(lifetime, unix_peer_reads_eof_right_after_close)
{
	int ep = ep_create1(0), s[2];
	char c;

	ASSERT_EQ(0, unix_pair(s));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, s[0], EPOLLIN | EPOLLRDHUP, 0));
	close(s[0]);
	/* unix_pair() sockets do not block: EAGAIN means no EOF yet. */
	EXPECT_EQ(0, read(s[1], &c, 1)) TH_LOG("errno %d: no EOF yet", errno);
}

/* TCP's FIN crosses loopback in a softirq: the peer may wait for that. */
TEST_F(lifetime, tcp_peer_sees_eof_without_calls)
{
	int ep = ep_create1(0), s[2];
	int64_t ns;

	ASSERT_EQ(0, tcp_pair(s));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, s[0], EPOLLIN | EPOLLRDHUP, 0));
	close(s[0]);
	ns = eof_latency_ns(s[1], 10000);
	ASSERT_LE(0, ns) TH_LOG("no EOF within 10 s");
	TH_LOG("EOF after %.3f ms with no call", ns / 1e6);
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

/*
 * A file closed while another thread's wait is looking at it: no crash,
 * and no wait that starts after the close returned reports it. The
 * watched files are instances, whose ->poll is a scan of their own, and
 * eventfds.
 */
struct harvester {
	int ep;
	atomic_int closed;	/* the last round whose close returned */
	atomic_bool stop;
	int stale;		/* events of rounds closed before the wait */
	pthread_t thread;
};

static void *harvest_rounds(void *arg)
{
	struct harvester *h = arg;
	struct epoll_event ev[8];

	while (!atomic_load(&h->stop)) {
		int closed = atomic_load(&h->closed);
		int n = ep_wait(h->ep, ev, 8, 1);

		for (int i = 0; i < n; i++)
			if ((int)ev[i].data.u64 <= closed)
				h->stale++;
	}
	return NULL;
}

static void close_during_harvest(struct __test_metadata *_metadata,
				 bool nested)
{
	struct harvester h = { .ep = ep_create1(0) };

	atomic_init(&h.closed, -1);
	atomic_init(&h.stop, false);
	ASSERT_EQ(0, pthread_create(&h.thread, NULL, harvest_rounds, &h));
	for (int round = 0; round < 300; round++) {
		int efd = efd_new(1), fd = efd;

		if (nested) {
			fd = ep_create1(0);
			ASSERT_EQ(0, ctl(fd, EPOLL_CTL_ADD, efd, EPOLLIN, 0));
		}
		ASSERT_EQ(0, ctl(h.ep, EPOLL_CTL_ADD, fd, EPOLLIN, round));
		if (round % 3)
			sched_yield();
		close(fd);
		if (nested)
			close(efd);
		atomic_store(&h.closed, round);
	}
	atomic_store(&h.stop, true);
	pthread_join(h.thread, NULL);
	EXPECT_EQ(0, h.stale);
	close(h.ep);
}

TEST_F(lifetime, close_during_harvest_of_eventfd)
{
	close_during_harvest(_metadata, false);
}

TEST_F(lifetime, close_during_harvest_of_instance)
{
	close_during_harvest(_metadata, true);
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
	/* No call on outer: the close alone ended inner's watch in it. */
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
	/* The peer sees EOF at once: no watch holds the socket. */
	ASSERT_LE(0, eof_latency_ns(s[1], 0));
	EXPECT_EQ(self->files,
		  epm_stat_settle("watched_files", self->files, 1500));
	for (int i = 0; i < 8; i++)
		close(eps[i]);
	EXPECT_ALL_FREED();
}

EPM_HARNESS_MAIN
