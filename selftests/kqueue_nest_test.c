// SPDX-License-Identifier: GPL-2.0
/*
 * A kqueue fd is pollable: readable while an event is pending. So poll(),
 * select(), native epoll, an epollmod instance and another kqueue can all
 * watch it, and are woken when an event arrives.
 */
#include "lib/harness.h"

#include <poll.h>
#include <pthread.h>
#include <sys/select.h>

#include <epollmod/epollmod.h>

#include "lib/kq.h"

KQ_FIXTURE(kqueue_nest);

static int poll_in(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n = poll(&pfd, 1, ms);

	return n < 0 ? -1 : n ? pfd.revents : 0;
}

static int trigger(int kq, uintptr_t id)
{
	return kq_change(kq, id, EVFILT_USER, 0, NOTE_TRIGGER, 0, UD(id));
}

static int add_user(int kq, uintptr_t id)
{
	return kq_change(kq, id, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, UD(id));
}

TEST_F(kqueue_nest, poll_readable_while_event_pending)
{
	struct kevent ev[2];

	ASSERT_EQ(0, add_user(self->kq, 1));
	EXPECT_EQ(0, poll_in(self->kq, 0));
	ASSERT_EQ(0, trigger(self->kq, 1));
	EXPECT_EQ(POLLIN, poll_in(self->kq, 0));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	EXPECT_EQ(0, poll_in(self->kq, 0));
}

/* A level knote keeps the kqueue readable while its source is. */
TEST_F(kqueue_nest, poll_readable_with_level_source)
{
	struct kevent ev[2];
	int p[2];

	ASSERT_EQ(0, kq_pipe(self->kq, p, EV_ADD, NULL));
	EXPECT_EQ(0, poll_in(self->kq, 0));
	ASSERT_EQ(0, write_n(p[1], 1));
	EXPECT_EQ(POLLIN, poll_in(self->kq, 0));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	EXPECT_EQ(POLLIN, poll_in(self->kq, 0));
}

/* A pending event dropped by EV_DISABLE no longer makes it readable. */
TEST_F(kqueue_nest, poll_not_readable_after_disable)
{
	ASSERT_EQ(0, add_user(self->kq, 1));
	ASSERT_EQ(0, trigger(self->kq, 1));
	EXPECT_EQ(POLLIN, poll_in(self->kq, 0));
	ASSERT_EQ(0, kq_change(self->kq, 1, EVFILT_USER, EV_DISABLE, 0, 0,
			       NULL));
	EXPECT_EQ(0, poll_in(self->kq, 0));
}

TEST_F(kqueue_nest, select_readable_while_event_pending)
{
	struct timeval tv = { 0, 0 };
	struct kevent ev[2];
	fd_set rfds;

	ASSERT_EQ(0, add_user(self->kq, 1));
	FD_ZERO(&rfds);
	FD_SET(self->kq, &rfds);
	EXPECT_EQ(0, select(self->kq + 1, &rfds, NULL, NULL, &tv));
	ASSERT_EQ(0, trigger(self->kq, 1));
	FD_ZERO(&rfds);
	FD_SET(self->kq, &rfds);
	tv.tv_sec = 0;
	tv.tv_usec = 0;
	EXPECT_EQ(1, select(self->kq + 1, &rfds, NULL, NULL, &tv));
	EXPECT_TRUE(FD_ISSET(self->kq, &rfds));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
}

TEST_F(kqueue_nest, native_epoll_watches_kqueue)
{
	struct epoll_event nev = ev_of(EPOLLIN, 42);
	struct kevent ev[2];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->kq, &nev));
	ASSERT_EQ(0, add_user(self->kq, 1));
	POISON(nev);
	EXPECT_EQ(0, epoll_wait(ep, &nev, 1, 0));
	ASSERT_EQ(0, trigger(self->kq, 1));
	POISON(nev);
	ASSERT_EQ(1, epoll_wait(ep, &nev, 1, 0));
	EXPECT_EQ(EPOLLIN, nev.events);
	EXPECT_EQ(42, nev.data.u64);
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	EXPECT_EQ(0, epoll_wait(ep, &nev, 1, 0));
}

TEST_F(kqueue_nest, epollmod_instance_watches_kqueue)
{
	struct epoll_event nev = ev_of(EPOLLIN, 43);
	struct kevent ev[2];
	int ep = epollmod_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epollmod_ctl(ep, EPOLL_CTL_ADD, self->kq, &nev));
	ASSERT_EQ(0, add_user(self->kq, 1));
	POISON(nev);
	EXPECT_EQ(0, epollmod_wait(ep, &nev, 1, 0));
	ASSERT_EQ(0, trigger(self->kq, 1));
	POISON(nev);
	ASSERT_EQ(1, epollmod_wait(ep, &nev, 1, 0));
	EXPECT_EQ(EPOLLIN, nev.events);
	EXPECT_EQ(43, nev.data.u64);
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	EXPECT_EQ(0, epollmod_wait(ep, &nev, 1, 0));
}

TEST_F(kqueue_nest, kqueue_watches_kqueue)
{
	int outer = epollmod_kqueue();
	struct kevent ev[2];

	ASSERT_LE(0, outer);
	ASSERT_EQ(0, kq_change(outer, self->kq, EVFILT_READ, EV_ADD, 0, 0,
			       UD(44)));
	ASSERT_EQ(0, add_user(self->kq, 1));
	ASSERT_EQ(0, add_user(self->kq, 2));
	EXPECT_EQ(0, kq_poll(outer, ev, 2));
	ASSERT_EQ(0, trigger(self->kq, 1));
	ASSERT_EQ(0, trigger(self->kq, 2));
	/* data: the inner kqueue's pending events, as FreeBSD counts them */
	ASSERT_EQ(1, kq_poll(outer, ev, 2));
	EXPECT_KEV(ev[0], self->kq, EVFILT_READ, EV_ADD, 0, 2, UD(44));
	ASSERT_EQ(2, kq_poll(self->kq, ev, 2));
	EXPECT_EQ(0, kq_poll(outer, ev, 2));
}

/* A kqueue cannot watch itself. */
TEST_F(kqueue_nest, kqueue_watching_itself_einval)
{
	struct kevent ch = kev(self->kq, EVFILT_READ, EV_ADD, 0, 0, UD(45));
	struct kevent out;

	ASSERT_EQ(1, kq_change1(self->kq, ch, &out));
	EXPECT_KEV_ERR(out, ch, EINVAL);
}

struct trig {
	int kq;
	int rc;
};

static void trigger_act(void *p)
{
	struct trig *t = p;

	t->rc = trigger(t->kq, 1);
}

/* Trigger user event 1 of @kq once this thread is asleep. */
static int start_trigger(pthread_t *t, struct trig *a, int kq)
{
	a->kq = kq;
	a->rc = -1;
	return act_when_asleep(t, trigger_act, a);
}

TEST_F(kqueue_nest, poll_woken_by_event)
{
	struct trig a;
	pthread_t t;

	ASSERT_EQ(0, add_user(self->kq, 1));
	ASSERT_EQ(0, start_trigger(&t, &a, self->kq));
	EXPECT_EQ(POLLIN, poll_in(self->kq, 30000));
	EXPECT_EQ(0, join_act(t));
	EXPECT_EQ(0, a.rc);
}

TEST_F(kqueue_nest, native_epoll_woken_by_event)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event nev = ev_of(EPOLLIN, 42);
	struct trig a;
	pthread_t t;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->kq, &nev));
	ASSERT_EQ(0, add_user(self->kq, 1));
	ASSERT_EQ(0, start_trigger(&t, &a, self->kq));
	POISON(nev);
	ASSERT_EQ(1, epoll_wait(ep, &nev, 1, 30000));
	EXPECT_EQ(EPOLLIN, nev.events);
	EXPECT_EQ(42, nev.data.u64);
	EXPECT_EQ(0, join_act(t));
	EXPECT_EQ(0, a.rc);
}

TEST_F(kqueue_nest, epollmod_instance_woken_by_event)
{
	struct epoll_event nev = ev_of(EPOLLIN, 43);
	int ep = epollmod_create1(EPOLL_CLOEXEC);
	struct trig a;
	pthread_t t;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epollmod_ctl(ep, EPOLL_CTL_ADD, self->kq, &nev));
	ASSERT_EQ(0, add_user(self->kq, 1));
	ASSERT_EQ(0, start_trigger(&t, &a, self->kq));
	POISON(nev);
	ASSERT_EQ(1, epollmod_wait(ep, &nev, 1, 30000));
	EXPECT_EQ(EPOLLIN, nev.events);
	EXPECT_EQ(43, nev.data.u64);
	EXPECT_EQ(0, join_act(t));
	EXPECT_EQ(0, a.rc);
}

TEST_F(kqueue_nest, kqueue_woken_by_inner_event)
{
	int outer = epollmod_kqueue();
	struct kevent ev[2];
	struct trig a;
	pthread_t t;

	ASSERT_LE(0, outer);
	ASSERT_EQ(0, kq_change(outer, self->kq, EVFILT_READ, EV_ADD, 0, 0,
			       UD(44)));
	ASSERT_EQ(0, add_user(self->kq, 1));
	ASSERT_EQ(0, start_trigger(&t, &a, self->kq));
	ASSERT_EQ(1, kq_wait(outer, ev, 2, 30000));
	EXPECT_KEV_NODATA(ev[0], self->kq, EVFILT_READ, EV_ADD, 0, UD(44));
	EXPECT_EQ(0, join_act(t));
	EXPECT_EQ(0, a.rc);
}

EPM_HARNESS_MAIN
