// SPDX-License-Identifier: GPL-2.0
/*
 * What is reported, and when, differentially: level- and edge-triggered,
 * one-shot, the event bits of eventfd, pipe, AF_UNIX and TCP sources, the
 * maxevents cap and the rotation of level-triggered items.
 */
#include "lib/harness.h"

#include <sys/socket.h>

#include "lib/backend.h"
#include "lib/util.h"

DIFF_FIXTURE(events);

/* One wait with timeout 0: the count, and the first event. */
static int wait1(int ep, struct epoll_event *ev)
{
	POISON(*ev);
	return ep_wait(ep, ev, 1, 0);
}

TEST_F(events, level_triggered_repeats_until_consumed)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct epoll_event ev;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 11));
	EXPECT_EQ(0, wait1(ep, &ev));
	ASSERT_EQ(0, efd_add(efd, 1));
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(1, wait1(ep, &ev));
		EXPECT_EQ(EPOLLIN, ev.events);
		EXPECT_EQ(11, ev.data.u64);
	}
	ASSERT_EQ(0, efd_drain(efd));
	EXPECT_EQ(0, wait1(ep, &ev));
}

TEST_F(events, edge_triggered_reports_each_edge_once)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct epoll_event ev;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLET, 1));
	EXPECT_EQ(0, wait1(ep, &ev));
	ASSERT_EQ(0, efd_add(efd, 1));
	EXPECT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(0, wait1(ep, &ev));
	/* Another write is another edge, though nothing was read. */
	ASSERT_EQ(0, efd_add(efd, 1));
	EXPECT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(EPOLLIN, ev.events);
	EXPECT_EQ(0, wait1(ep, &ev));
}

/* ET reports the state when asked, not the number of edges. */
TEST_F(events, edge_triggered_coalesces_edges)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct epoll_event ev;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLET, 1));
	for (int i = 0; i < 5; i++) {
		ASSERT_EQ(0, efd_add(efd, 1));
	}
	EXPECT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(0, wait1(ep, &ev));
}

TEST_F(events, oneshot_disables_until_mod)
{
	int ep = ep_create1(0), efd = efd_new(1);
	struct epoll_event ev;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLONESHOT, 1));
	EXPECT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(0, wait1(ep, &ev));
	ASSERT_EQ(0, efd_add(efd, 1));
	EXPECT_EQ(0, wait1(ep, &ev));
	/* Still watched: ADD says so. */
	errno = 0;
	EXPECT_EQ(-1, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 0));
	EXPECT_EQ(EEXIST, errno);
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_MOD, efd, EPOLLIN | EPOLLONESHOT, 2));
	EXPECT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(2, ev.data.u64);
	EXPECT_EQ(0, wait1(ep, &ev));
}

TEST_F(events, oneshot_edge_triggered)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct epoll_event ev;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd,
			 EPOLLIN | EPOLLET | EPOLLONESHOT, 1));
	ASSERT_EQ(0, efd_add(efd, 1));
	EXPECT_EQ(1, wait1(ep, &ev));
	ASSERT_EQ(0, efd_add(efd, 1));
	EXPECT_EQ(0, wait1(ep, &ev));
	/* MOD re-arms and reports what is already there. */
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_MOD, efd,
			 EPOLLIN | EPOLLET | EPOLLONESHOT, 1));
	EXPECT_EQ(1, wait1(ep, &ev));
}

/* A disarmed one-shot watch can still be deleted and added again. */
TEST_F(events, oneshot_del_and_add)
{
	int ep = ep_create1(0), efd = efd_new(1);
	struct epoll_event ev;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLONESHOT, 1));
	EXPECT_EQ(1, wait1(ep, &ev));
	ASSERT_EQ(0, ep_ctl(ep, EPOLL_CTL_DEL, efd, NULL));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 3));
	EXPECT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(3, ev.data.u64);
}

/* Only asked-for events are reported, ERR and HUP always are. */
TEST_F(events, reports_only_requested_bits)
{
	int ep = ep_create1(0), efd = efd_new(1);
	struct epoll_event ev;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
	ASSERT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(EPOLLIN, ev.events);
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_MOD, efd, EPOLLOUT, 1));
	ASSERT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(EPOLLOUT, ev.events);
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_MOD, efd, EPOLLIN | EPOLLOUT, 1));
	ASSERT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(EPOLLIN | EPOLLOUT, ev.events);
}

TEST_F(events, data_is_passed_through)
{
	uint64_t values[] = { 0, 1, 0xdeadbeefcafebabeULL, UINT64_MAX };
	int ep = ep_create1(0), efd = efd_new(1);
	struct epoll_event ev;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 0));
	for (unsigned int i = 0; i < ARRAY_SIZE(values); i++) {
		ASSERT_EQ(0, ctl(ep, EPOLL_CTL_MOD, efd, EPOLLIN, values[i]));
		ASSERT_EQ(1, wait1(ep, &ev));
		EXPECT_EQ(values[i], ev.data.u64);
	}
}

TEST_F(events, eventfd_writable_at_once)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct epoll_event ev;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLOUT | EPOLLET, 1));
	ASSERT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(EPOLLOUT, ev.events);
	EXPECT_EQ(0, wait1(ep, &ev));
}

TEST_F(events, pipe_read_and_write_ends)
{
	int ep = ep_create1(0), p[2];
	struct epoll_event ev;

	ASSERT_EQ(0, pipe_new(p));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLRDNORM, 0));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, p[1], EPOLLOUT | EPOLLWRNORM, 1));
	ASSERT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(EPOLLOUT | EPOLLWRNORM, ev.events);
	EXPECT_EQ(1, ev.data.u64);
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_MOD, p[1], EPOLLOUT | EPOLLET, 1));
	EXPECT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(0, wait1(ep, &ev));
	ASSERT_EQ(0, write_byte(p[1]));
	ASSERT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(EPOLLIN | EPOLLRDNORM, ev.events);
	EXPECT_EQ(0, ev.data.u64);
}

TEST_F(events, pipe_hup_when_writer_closes)
{
	int ep = ep_create1(0), p[2];
	struct epoll_event ev;

	ASSERT_EQ(0, pipe_new(p));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0));
	ASSERT_EQ(0, write_byte(p[1]));
	close(p[1]);
	ASSERT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(EPOLLIN | EPOLLHUP, ev.events);
	EXPECT_EQ(1, read_all(p[0]));
	ASSERT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(EPOLLHUP, ev.events);
}

TEST_F(events, pipe_err_when_reader_closes)
{
	int ep = ep_create1(0), p[2];
	struct epoll_event ev;

	ASSERT_EQ(0, pipe_new(p));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, p[1], EPOLLOUT | EPOLLET, 0));
	ASSERT_EQ(1, wait1(ep, &ev));
	close(p[0]);
	ASSERT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(EPOLLOUT | EPOLLERR, ev.events);
}

/* ERR without asking, and even with an empty mask. */
TEST_F(events, pipe_err_reported_unasked)
{
	int ep = ep_create1(0), p[2];
	struct epoll_event ev;

	ASSERT_EQ(0, pipe_new(p));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, p[1], 0, 0));
	EXPECT_EQ(0, wait1(ep, &ev));
	close(p[0]);
	ASSERT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(EPOLLERR, ev.events);
}

TEST_F(events, unix_rdhup_on_peer_shutdown)
{
	int ep = ep_create1(0), s[2];
	struct epoll_event ev;

	ASSERT_EQ(0, unix_pair(s));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, s[0], EPOLLIN | EPOLLRDHUP, 0));
	EXPECT_EQ(0, wait1(ep, &ev));
	ASSERT_EQ(0, shutdown(s[1], SHUT_WR));
	ASSERT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(EPOLLIN | EPOLLRDHUP, ev.events);
}

TEST_F(events, unix_rdhup_not_reported_unasked)
{
	int ep = ep_create1(0), s[2];
	struct epoll_event ev;

	ASSERT_EQ(0, unix_pair(s));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, s[0], EPOLLIN, 0));
	ASSERT_EQ(0, shutdown(s[1], SHUT_WR));
	ASSERT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(EPOLLIN, ev.events);
}

TEST_F(events, unix_hup_on_peer_close)
{
	int ep = ep_create1(0), s[2];
	struct epoll_event ev;

	ASSERT_EQ(0, unix_pair(s));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, s[0],
			 EPOLLIN | EPOLLOUT | EPOLLRDHUP, 0));
	ASSERT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(EPOLLOUT, ev.events);
	close(s[1]);
	ASSERT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP, ev.events);
}

TEST_F(events, unix_data)
{
	int ep = ep_create1(0), s[2];
	struct epoll_event ev;

	ASSERT_EQ(0, unix_pair(s));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, s[0], EPOLLIN | EPOLLET, 4));
	EXPECT_EQ(0, wait1(ep, &ev));
	ASSERT_EQ(0, write_byte(s[1]));
	ASSERT_EQ(1, wait1(ep, &ev));
	EXPECT_EQ(EPOLLIN, ev.events);
	EXPECT_EQ(4, ev.data.u64);
	EXPECT_EQ(1, read_all(s[0]));
	EXPECT_EQ(0, wait1(ep, &ev));
}

TEST_F(events, tcp_data_and_rdhup)
{
	int ep = ep_create1(0), t[2];
	struct epoll_event ev;

	ASSERT_EQ(0, tcp_pair(t));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, t[1], EPOLLIN | EPOLLRDHUP, 0));
	EXPECT_EQ(0, wait1(ep, &ev));
	ASSERT_EQ(0, write_byte(t[0]));
	ASSERT_EQ(1, ep_wait(ep, &ev, 1, 5000));
	EXPECT_EQ(EPOLLIN, ev.events);
	EXPECT_EQ(1, read_all(t[1]));
	EXPECT_EQ(0, wait1(ep, &ev));
	ASSERT_EQ(0, shutdown(t[0], SHUT_WR));
	ASSERT_EQ(1, ep_wait(ep, &ev, 1, 5000));
	EXPECT_EQ(EPOLLIN | EPOLLRDHUP, ev.events);
}

TEST_F(events, tcp_priority_data)
{
	int ep = ep_create1(0), t[2];
	struct epoll_event ev;

	ASSERT_EQ(0, tcp_pair(t));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, t[1], EPOLLPRI, 0));
	ASSERT_EQ(1, send(t[0], "!", 1, MSG_OOB));
	ASSERT_EQ(1, ep_wait(ep, &ev, 1, 5000));
	EXPECT_EQ(EPOLLPRI, ev.events);
}

TEST_F(events, tcp_hup_after_both_shutdowns)
{
	int ep = ep_create1(0), t[2];
	struct epoll_event ev;

	ASSERT_EQ(0, tcp_pair(t));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, t[1], EPOLLOUT | EPOLLET, 0));
	ASSERT_EQ(1, wait1(ep, &ev));
	ASSERT_EQ(0, shutdown(t[1], SHUT_WR));
	ASSERT_EQ(0, shutdown(t[0], SHUT_WR));
	ASSERT_EQ(1, ep_wait(ep, &ev, 1, 5000));
	EXPECT_TRUE(ev.events & EPOLLHUP) TH_LOG("events %#x", ev.events);
}

/* EPOLLMSG is never reported. */
TEST_F(events, epollmsg_never_reported)
{
	int ep = ep_create1(0), efd = efd_new(1);
	struct epoll_event ev;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLMSG, 0));
	EXPECT_EQ(0, wait1(ep, &ev));
}

/* maxevents caps a wait; level-triggered items rotate to the back. */
TEST_F(events, maxevents_cap_rotates_level_triggered)
{
	int ep = ep_create1(0), fds[5];
	int expect[][2] = { { 0, 1 }, { 2, 3 }, { 4, 0 }, { 1, 2 }, { 3, 4 } };
	struct epoll_event out[2];

	for (int i = 0; i < 5; i++) {
		fds[i] = efd_new(1);
		ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, fds[i], EPOLLIN, i));
	}
	for (unsigned int round = 0; round < ARRAY_SIZE(expect); round++) {
		POISON(out);
		ASSERT_EQ(2, ep_wait(ep, out, 2, 0));
		EXPECT_EQ(expect[round][0], out[0].data.u64);
		EXPECT_EQ(expect[round][1], out[1].data.u64);
	}
}

/* With maxevents 1, every ready item gets its turn. */
TEST_F(events, level_triggered_fairness)
{
	enum { N = 100 };
	int ep = ep_create1(0), fds[N], seen[N] = { 0 };
	struct epoll_event ev;

	for (int i = 0; i < N; i++) {
		fds[i] = efd_new(1);
		ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, fds[i], EPOLLIN, i));
	}
	for (int i = 0; i < 3 * N; i++) {
		ASSERT_EQ(1, wait1(ep, &ev));
		ASSERT_GT(N, ev.data.u64);
		seen[ev.data.u64]++;
	}
	for (int i = 0; i < N; i++) {
		EXPECT_EQ(3, seen[i]) TH_LOG("item %d", i);
	}
}

/* An edge-triggered item is not reported again in the next wait. */
TEST_F(events, edge_triggered_leaves_list)
{
	int ep = ep_create1(0), lt = efd_new(1), et = efd_new(1);
	struct epoll_event out[4];

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, et, EPOLLIN | EPOLLET, 1));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, lt, EPOLLIN, 2));
	ASSERT_EQ(2, ep_wait(ep, out, 4, 0));
	EXPECT_EQ(1, out[0].data.u64);
	EXPECT_EQ(2, out[1].data.u64);
	ASSERT_EQ(1, ep_wait(ep, out, 4, 0));
	EXPECT_EQ(2, out[0].data.u64);
}

/* An event is reported at most once per wait, however many slots. */
TEST_F(events, once_per_wait)
{
	int ep = ep_create1(0), efd = efd_new(1);
	struct epoll_event out[8];

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
	POISON(out);
	EXPECT_EQ(1, ep_wait(ep, out, 8, 0));
	EXPECT_EQ(POISON_BYTE, ((unsigned char *)&out[1])[0]);
}

/* Events of a stale item (consumed since) are not reported. */
TEST_F(events, stale_level_item_dropped)
{
	int ep = ep_create1(0), a = efd_new(1), b = efd_new(1);
	struct epoll_event out[4];

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN, 1));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, b, EPOLLIN, 2));
	ASSERT_EQ(2, ep_wait(ep, out, 4, 0));
	ASSERT_EQ(0, efd_drain(a));
	POISON(out);
	ASSERT_EQ(1, ep_wait(ep, out, 4, 0));
	EXPECT_EQ(2, out[0].data.u64);
}

/* A watched file closed by its only user is never reported again. */
TEST_F(events, closed_file_not_reported)
{
	int ep = ep_create1(0), a = efd_new(1), b = efd_new(1);
	struct epoll_event out[4];

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN, 1));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, b, EPOLLIN, 2));
	close(a);
	POISON(out);
	ASSERT_EQ(1, ep_wait(ep, out, 4, 0));
	EXPECT_EQ(2, out[0].data.u64);
}

TEST_F(events, many_ready)
{
	enum { N = 1000 };
	static struct epoll_event out[N];
	static int fds[N];
	int ep = ep_create1(0), total = 0, n;

	ASSERT_EQ(0, nofile_at_least(N + 64));
	for (int i = 0; i < N; i++) {
		fds[i] = efd_new(1);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, fds[i], EPOLLIN | EPOLLET, i));
	}
	while ((n = ep_wait(ep, out, 64, 0)) > 0)
		total += n;
	EXPECT_EQ(0, n);
	EXPECT_EQ(N, total);
	for (int i = 0; i < N; i++) {
		ASSERT_EQ(0, efd_add(fds[i], 1));
	}
	POISON(out);
	EXPECT_EQ(N, ep_wait(ep, out, N, 0));
}

EPM_HARNESS_MAIN
