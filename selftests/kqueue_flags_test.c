// SPDX-License-Identifier: GPL-2.0
/*
 * The knote's flags: level by default, EV_CLEAR, EV_ONESHOT, EV_DISPATCH,
 * EV_DISABLE/EV_ENABLE, the flags returned with an event, udata and the
 * rest of a knote replaced by a modify, identity by (ident, filter), and
 * two kqueues on one file. Level, EV_CLEAR, EV_ONESHOT and EV_DISPATCH
 * run the same scenario through native epoll (level, EPOLLET,
 * EPOLLONESHOT, EPOLLONESHOT + MOD) and check the two agree.
 */
#include "lib/harness.h"

#include <sys/socket.h>

#include "lib/kq.h"

KQ_FIXTURE(kqueue_flags);

/*
 * A pipe whose read end has a knote of @flags and @udata, and is watched
 * by a native epoll instance (returned) for EPOLLIN | @extra.
 */
static int watch_both(struct __test_metadata *_metadata, int kq, int p[2],
		      uint32_t extra, unsigned short flags, void *udata)
{
	int ep;

	ASSERT_EQ(0, pipe_new(p));
	ep = native_watch(p[0], extra);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, kq_change(kq, p[0], EVFILT_READ, flags, 0, 0, udata));
	return ep;
}

/* The kqueue reports @fd's knote once, and native epoll its item. */
static void both_report(struct __test_metadata *_metadata, int kq, int ep,
			int fd, unsigned short flags, intptr_t data,
			void *udata)
{
	struct kevent ev[2];

	ASSERT_EQ(1, kq_poll(kq, ev, 2));
	EXPECT_KEV(ev[0], fd, EVFILT_READ, flags, 0, data, udata);
	EXPECT_EQ(1, native_poll(ep));
}

/* Neither reports anything. */
static void both_quiet(struct __test_metadata *_metadata, int kq, int ep)
{
	struct kevent ev[2];

	EXPECT_EQ(0, kq_poll(kq, ev, 2));
	EXPECT_EQ(0, native_poll(ep));
}

TEST_F(kqueue_flags, level_repeats_until_consumed)
{
	int p[2], ep;

	ep = watch_both(_metadata, self->kq, p, 0, EV_ADD, UD(1));
	ASSERT_EQ(0, write_n(p[1], 2));
	for (int i = 0; i < 3; i++)
		both_report(_metadata, self->kq, ep, p[0], EV_ADD, 2, UD(1));
	ASSERT_EQ(2, read_all(p[0]));
	both_quiet(_metadata, self->kq, ep);
}

TEST_F(kqueue_flags, clear_reports_each_change_once)
{
	int p[2], ep;

	ep = watch_both(_metadata, self->kq, p, EPOLLET,
			EV_ADD | EV_CLEAR, UD(2));
	both_quiet(_metadata, self->kq, ep);
	ASSERT_EQ(0, write_n(p[1], 3));
	both_report(_metadata, self->kq, ep, p[0], EV_ADD | EV_CLEAR,
		    3, UD(2));
	/* nothing new: nothing, though still readable */
	both_quiet(_metadata, self->kq, ep);
	/* another write is another change, though nothing was read */
	ASSERT_EQ(0, write_n(p[1], 2));
	both_report(_metadata, self->kq, ep, p[0], EV_ADD | EV_CLEAR,
		    5, UD(2));
	both_quiet(_metadata, self->kq, ep);
}

/* Changes before a delivery make one event. */
TEST_F(kqueue_flags, clear_coalesces_changes)
{
	int p[2], ep;

	ep = watch_both(_metadata, self->kq, p, EPOLLET,
			EV_ADD | EV_CLEAR, UD(2));
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(0, write_n(p[1], 1));
	both_report(_metadata, self->kq, ep, p[0], EV_ADD | EV_CLEAR,
		    4, UD(2));
	both_quiet(_metadata, self->kq, ep);
}

TEST_F(kqueue_flags, oneshot_delivers_once_then_deleted)
{
	int p[2], ep;

	ep = watch_both(_metadata, self->kq, p, EPOLLONESHOT,
			EV_ADD | EV_ONESHOT, UD(3));
	ASSERT_EQ(0, write_n(p[1], 1));
	both_report(_metadata, self->kq, ep, p[0], EV_ADD | EV_ONESHOT,
		    1, UD(3));
	ASSERT_EQ(0, write_n(p[1], 1));
	both_quiet(_metadata, self->kq, ep);
	/* unlike EPOLLONESHOT's disarmed item, the knote is gone */
	errno = 0;
	EXPECT_EQ(-1, kq_change(self->kq, p[0], EVFILT_READ, EV_DELETE, 0, 0,
				NULL));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(kqueue_flags, dispatch_disables_after_delivery)
{
	int p[2], ep;

	ep = watch_both(_metadata, self->kq, p, EPOLLONESHOT,
			EV_ADD | EV_DISPATCH, UD(4));
	ASSERT_EQ(0, write_n(p[1], 1));
	both_report(_metadata, self->kq, ep, p[0], EV_ADD | EV_DISPATCH,
		    1, UD(4));
	/* still readable, and more comes: nothing while disabled */
	ASSERT_EQ(0, write_n(p[1], 1));
	both_quiet(_metadata, self->kq, ep);
}

TEST_F(kqueue_flags, dispatch_enable_rearms)
{
	struct epoll_event nev = ev_of(EPOLLIN | EPOLLONESHOT, 0);
	struct kevent ev[2];
	int p[2], ep;

	ep = watch_both(_metadata, self->kq, p, EPOLLONESHOT,
			EV_ADD | EV_DISPATCH, UD(4));
	ASSERT_EQ(0, write_n(p[1], 1));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	EXPECT_EQ(1, native_poll(ep));
	ASSERT_EQ(0, kq_change(self->kq, p[0], EVFILT_READ, EV_ENABLE, 0, 0,
			       UD(5)));
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &nev));
	/* level: still readable, so reported again, with the new udata */
	both_report(_metadata, self->kq, ep, p[0], EV_ADD | EV_DISPATCH,
		    1, UD(5));
	both_quiet(_metadata, self->kq, ep);
}

/* The re-arm rides in the next call: EV_ENABLE and the event in one. */
TEST_F(kqueue_flags, dispatch_enable_and_collect_in_one_call)
{
	struct kevent ch, ev[2];
	int p[2];

	ASSERT_EQ(0, kq_pipe(self->kq, p, EV_ADD | EV_DISPATCH, UD(4)));
	ASSERT_EQ(0, write_n(p[1], 1));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	ch = kev(p[0], EVFILT_READ, EV_ENABLE, 0, 0, UD(5));
	kev_poison(ev, 2);
	ASSERT_EQ(1, kq_call(self->kq, &ch, 1, ev, 2, 0));
	EXPECT_KEV(ev[0], p[0], EVFILT_READ, EV_ADD | EV_DISPATCH, 0, 1,
		   UD(5));
}

TEST_F(kqueue_flags, disable_drops_pending_event)
{
	struct kevent ev[2];
	int p[2];

	ASSERT_EQ(0, kq_pipe(self->kq, p, EV_ADD, UD(6)));
	ASSERT_EQ(0, write_n(p[1], 1));
	ASSERT_EQ(0, kq_change(self->kq, p[0], EVFILT_READ, EV_DISABLE, 0, 0,
			       UD(6)));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
}

/* Active while disabled: reported once enabled. */
TEST_F(kqueue_flags, enable_reports_source_active_while_disabled)
{
	struct kevent ev[2];
	int p[2];

	ASSERT_EQ(0, kq_pipe(self->kq, p, EV_ADD, UD(6)));
	ASSERT_EQ(0, kq_change(self->kq, p[0], EVFILT_READ, EV_DISABLE, 0, 0,
			       UD(6)));
	ASSERT_EQ(0, write_n(p[1], 2));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
	ASSERT_EQ(0, kq_change(self->kq, p[0], EVFILT_READ, EV_ENABLE, 0, 0,
			       UD(6)));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	EXPECT_KEV(ev[0], p[0], EVFILT_READ, EV_ADD, 0, 2, UD(6));
}

/* The same with EV_CLEAR: the change made while disabled is not lost. */
TEST_F(kqueue_flags, clear_enable_reports_change_while_disabled)
{
	struct kevent ev[2];
	int p[2];

	ASSERT_EQ(0, kq_pipe(self->kq, p, EV_ADD | EV_CLEAR | EV_DISABLE,
			     UD(6)));
	ASSERT_EQ(0, write_n(p[1], 2));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
	ASSERT_EQ(0, kq_change(self->kq, p[0], EVFILT_READ, EV_ENABLE, 0, 0,
			       UD(6)));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	EXPECT_KEV(ev[0], p[0], EVFILT_READ, EV_ADD | EV_CLEAR, 0, 2, UD(6));
}

TEST_F(kqueue_flags, add_disabled_reports_nothing_until_enabled)
{
	struct kevent ev[2];
	int p[2];

	ASSERT_EQ(0, pipe_new(p));
	ASSERT_EQ(0, write_n(p[1], 1));
	ASSERT_EQ(0, kq_change(self->kq, p[0], EVFILT_READ,
			       EV_ADD | EV_DISABLE, 0, 0, UD(7)));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
	ASSERT_EQ(0, kq_change(self->kq, p[0], EVFILT_READ, EV_ENABLE, 0, 0,
			       UD(7)));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	/* EV_DISABLE of the registration is not returned */
	EXPECT_KEV(ev[0], p[0], EVFILT_READ, EV_ADD, 0, 1, UD(7));
}

TEST_F(kqueue_flags, delete_drops_pending_event)
{
	struct kevent ev[2];
	int p[2];

	ASSERT_EQ(0, kq_pipe(self->kq, p, EV_ADD, UD(8)));
	ASSERT_EQ(0, write_n(p[1], 1));
	ASSERT_EQ(0, kq_change(self->kq, p[0], EVFILT_READ, EV_DELETE, 0, 0,
			       NULL));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
}

/* A disabled knote is still there: it can be deleted, and only once. */
TEST_F(kqueue_flags, delete_disabled_knote)
{
	int p[2];

	ASSERT_EQ(0, kq_pipe(self->kq, p, EV_ADD | EV_DISABLE, NULL));
	EXPECT_EQ(0, kq_change(self->kq, p[0], EVFILT_READ, EV_DELETE, 0, 0,
			       NULL));
	errno = 0;
	EXPECT_EQ(-1, kq_change(self->kq, p[0], EVFILT_READ, EV_DELETE, 0, 0,
				NULL));
	EXPECT_EQ(ENOENT, errno);
}

/*
 * A readable pipe's knote added with @flags, udata 9: its event comes
 * back with @returned.
 */
static void returned_flags(struct __test_metadata *_metadata, int kq,
			   unsigned short flags, unsigned short returned)
{
	struct kevent ev[2];
	int p[2];

	ASSERT_EQ(0, pipe_new(p));
	ASSERT_EQ(0, write_n(p[1], 1));
	ASSERT_EQ(0, kq_change(kq, p[0], EVFILT_READ, flags, 0, 0, UD(9)));
	ASSERT_EQ(1, kq_poll(kq, ev, 2));
	EXPECT_KEV(ev[0], p[0], EVFILT_READ, returned, 0, 1, UD(9));
}

TEST_F(kqueue_flags, returned_flags_drop_enable)
{
	returned_flags(_metadata, self->kq, EV_ADD | EV_ENABLE, EV_ADD);
}

/* EV_RECEIPT sticks to the knote and comes back with its events. */
TEST_F(kqueue_flags, returned_flags_keep_receipt)
{
	struct kevent ch, ev[2];
	int p[2];

	ASSERT_EQ(0, pipe_new(p));
	ASSERT_EQ(0, write_n(p[1], 1));
	ch = kev(p[0], EVFILT_READ, EV_ADD | EV_RECEIPT, 0, 0, UD(9));
	ASSERT_EQ(1, kq_change1(self->kq, ch, ev));
	EXPECT_KEV_ERR(ev[0], ch, 0);
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	EXPECT_KEV(ev[0], p[0], EVFILT_READ, EV_ADD | EV_RECEIPT, 0, 1,
		   UD(9));
}

/* Every sticky flag at once comes back as given. */
TEST_F(kqueue_flags, returned_flags_keep_sticky_ones)
{
	returned_flags(_metadata, self->kq, EV_ADD | EV_CLEAR | EV_DISPATCH,
		       EV_ADD | EV_CLEAR | EV_DISPATCH);
}

/*
 * A readable pipe's knote added with @first (udata 1), then re-added with
 * @second (udata 2): it comes back @reports times, with @first's flags
 * (a knote keeps the flags it was made with) and the new udata; with
 * @then_none, nothing more after them.
 */
static void modify_read_knote(struct __test_metadata *_metadata, int kq,
			      unsigned short first, unsigned short second,
			      int reports, bool then_none)
{
	struct kevent ev[2];
	int p[2];

	ASSERT_EQ(0, pipe_new(p));
	ASSERT_EQ(0, write_n(p[1], 1));
	ASSERT_EQ(0, kq_change(kq, p[0], EVFILT_READ, first, 0, 0, UD(1)));
	ASSERT_EQ(0, kq_change(kq, p[0], EVFILT_READ, second, 0, 0, UD(2)));
	for (int i = 0; i < reports; i++) {
		ASSERT_EQ(1, kq_poll(kq, ev, 2));
		EXPECT_KEV(ev[0], p[0], EVFILT_READ, first, 0, 1, UD(2));
	}
	if (then_none)
		EXPECT_EQ(0, kq_poll(kq, ev, 2));
}

TEST_F(kqueue_flags, modify_replaces_udata)
{
	modify_read_knote(_metadata, self->kq, EV_ADD, EV_ADD, 1, false);
}

/* Any successful change replaces udata: here a bare EV_DISABLE. */
TEST_F(kqueue_flags, disable_enable_replace_udata)
{
	struct kevent ev[2];
	int p[2];

	ASSERT_EQ(0, pipe_new(p));
	ASSERT_EQ(0, write_n(p[1], 1));
	ASSERT_EQ(0, kq_change(self->kq, p[0], EVFILT_READ, EV_ADD, 0, 0,
			       UD(1)));
	ASSERT_EQ(0, kq_change(self->kq, p[0], EVFILT_READ, EV_DISABLE, 0, 0,
			       UD(2)));
	ASSERT_EQ(0, kq_change(self->kq, p[0], EVFILT_READ, EV_ENABLE, 0, 0,
			       UD(3)));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	EXPECT_KEV(ev[0], p[0], EVFILT_READ, EV_ADD, 0, 1, UD(3));
}

/* A re-add without EV_ONESHOT leaves a one-shot knote one-shot. */
TEST_F(kqueue_flags, readd_keeps_oneshot)
{
	modify_read_knote(_metadata, self->kq, EV_ADD | EV_ONESHOT, EV_ADD, 1,
			  true);
}

/* ... without EV_CLEAR, an edge knote edge ... */
TEST_F(kqueue_flags, readd_keeps_clear)
{
	modify_read_knote(_metadata, self->kq, EV_ADD | EV_CLEAR, EV_ADD, 1,
			  true);
}

/* ... and without EV_DISPATCH, a dispatch knote dispatching. */
TEST_F(kqueue_flags, readd_keeps_dispatch)
{
	modify_read_knote(_metadata, self->kq, EV_ADD | EV_DISPATCH, EV_ADD, 1,
			  true);
}

/* A re-add with EV_CLEAR leaves a level knote level. */
TEST_F(kqueue_flags, readd_does_not_add_clear)
{
	modify_read_knote(_metadata, self->kq, EV_ADD, EV_ADD | EV_CLEAR, 2,
			  false);
}

/* ... and one with EV_ONESHOT does not make it one-shot. */
TEST_F(kqueue_flags, readd_does_not_add_oneshot)
{
	modify_read_knote(_metadata, self->kq, EV_ADD, EV_ADD | EV_ONESHOT, 2,
			  false);
}

/* A modify replaces the filter's data: here a NOTE_LOWAT threshold. */
TEST_F(kqueue_flags, modify_replaces_lowat)
{
	struct kevent ev[2];
	int p[2];

	ASSERT_EQ(0, pipe_new(p));
	ASSERT_EQ(0, write_n(p[1], 3));
	ASSERT_EQ(0, kq_change(self->kq, p[0], EVFILT_READ, EV_ADD,
			       NOTE_LOWAT, 2, UD(1)));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	ASSERT_EQ(0, kq_change(self->kq, p[0], EVFILT_READ, EV_ADD,
			       NOTE_LOWAT, 4, UD(2)));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
	ASSERT_EQ(0, kq_change(self->kq, p[0], EVFILT_READ, EV_ADD, 0, 0,
			       UD(3)));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	EXPECT_KEV(ev[0], p[0], EVFILT_READ, EV_ADD, 0, 3, UD(3));
}

/* READ and WRITE on one fd are two knotes. */
TEST_F(kqueue_flags, identity_is_ident_and_filter)
{
	struct kevent ev[3];
	int s[2];

	ASSERT_EQ(0, unix_pair(s));
	ASSERT_EQ(0, write_n(s[1], 1));
	ASSERT_EQ(0, kq_change(self->kq, s[0], EVFILT_READ, EV_ADD, 0, 0,
			       UD(1)));
	ASSERT_EQ(0, kq_change(self->kq, s[0], EVFILT_WRITE, EV_ADD, 0, 0,
			       UD(2)));
	ASSERT_EQ(2, kq_poll(self->kq, ev, 3));
	ASSERT_EQ(0, kq_change(self->kq, s[0], EVFILT_READ, EV_DELETE, 0, 0,
			       NULL));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 3));
	EXPECT_KEV_NODATA(ev[0], s[0], EVFILT_WRITE, EV_ADD, 0, UD(2));
}

/* An ident names nothing across filters: USER 5 and TIMER 5 coexist. */
TEST_F(kqueue_flags, same_ident_other_filter_independent)
{
	struct kevent ev[3];

	ASSERT_EQ(0, kq_change(self->kq, 5, EVFILT_USER, EV_ADD, 0, 0,
			       UD(1)));
	ASSERT_EQ(0, kq_change(self->kq, 5, EVFILT_TIMER,
			       EV_ADD | EV_ONESHOT, 0, 60000, UD(2)));
	ASSERT_EQ(0, kq_change(self->kq, 5, EVFILT_USER, 0, NOTE_TRIGGER, 0,
			       UD(3)));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 3));
	EXPECT_KEV(ev[0], 5, EVFILT_USER, EV_ADD, 0, 0, UD(3));
	EXPECT_EQ(0, kq_change(self->kq, 5, EVFILT_TIMER, EV_DELETE, 0, 0,
			       NULL));
}

TEST_F(kqueue_flags, two_kqueues_both_report)
{
	int kq2 = epollmod_kqueue(), p[2];
	struct kevent ev[2];

	ASSERT_LE(0, kq2);
	ASSERT_EQ(0, kq_pipe(self->kq, p, EV_ADD, UD(1)));
	ASSERT_EQ(0, kq_change(kq2, p[0], EVFILT_READ, EV_ADD, 0, 0, UD(2)));
	ASSERT_EQ(0, write_n(p[1], 1));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	EXPECT_KEV(ev[0], p[0], EVFILT_READ, EV_ADD, 0, 1, UD(1));
	ASSERT_EQ(1, kq_poll(kq2, ev, 2));
	EXPECT_KEV(ev[0], p[0], EVFILT_READ, EV_ADD, 0, 1, UD(2));
}

/* Deleting, disabling or clearing in one kqueue leaves the other alone. */
TEST_F(kqueue_flags, two_kqueues_independent)
{
	int kq2 = epollmod_kqueue(), kq3 = epollmod_kqueue(), p[2];
	struct kevent ev[2];

	ASSERT_LE(0, kq2);
	ASSERT_LE(0, kq3);
	ASSERT_EQ(0, kq_pipe(self->kq, p, EV_ADD, UD(1)));
	ASSERT_EQ(0, kq_change(kq2, p[0], EVFILT_READ, EV_ADD | EV_DISABLE,
			       0, 0, UD(2)));
	ASSERT_EQ(0, kq_change(kq3, p[0], EVFILT_READ, EV_ADD | EV_CLEAR, 0,
			       0, UD(3)));
	ASSERT_EQ(0, write_n(p[1], 1));
	ASSERT_EQ(1, kq_poll(kq3, ev, 2));
	EXPECT_KEV(ev[0], p[0], EVFILT_READ, EV_ADD | EV_CLEAR, 0, 1, UD(3));
	EXPECT_EQ(0, kq_poll(kq3, ev, 2));
	EXPECT_EQ(0, kq_poll(kq2, ev, 2));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	ASSERT_EQ(0, kq_change(self->kq, p[0], EVFILT_READ, EV_DELETE, 0, 0,
			       NULL));
	ASSERT_EQ(0, kq_change(kq2, p[0], EVFILT_READ, EV_ENABLE, 0, 0,
			       UD(4)));
	ASSERT_EQ(1, kq_poll(kq2, ev, 2));
	EXPECT_KEV(ev[0], p[0], EVFILT_READ, EV_ADD, 0, 1, UD(4));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
}

/* Several ready knotes in one call, each once; nevents caps the count. */
TEST_F(kqueue_flags, several_events_capped_by_nevents)
{
	struct kevent ev[4];
	int p[3][2], seen = 0, n;

	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, kq_pipe(self->kq, p[i], EV_ADD, UD(i)));
		ASSERT_EQ(0, write_n(p[i][1], i + 1));
	}
	ASSERT_EQ(2, kq_poll(self->kq, ev, 2));
	ASSERT_EQ(3, n = kq_poll(self->kq, ev, 4));
	for (int i = 0; i < n; i++) {
		int k = (uintptr_t)ev[i].udata;

		ASSERT_TRUE(k >= 0 && k < 3);
		seen |= 1 << k;
		EXPECT_KEV(ev[i], p[k][0], EVFILT_READ, EV_ADD, 0, k + 1,
			   UD(k));
	}
	EXPECT_EQ(7, seen);
}

/*
 * Two level knotes always ready, one event per call: each call reports the
 * other one, as native epoll rotates its level-triggered items.
 */
TEST_F(kqueue_flags, level_events_rotate)
{
	struct epoll_event nev[2];
	struct kevent ev[1];
	int p[2][2], ep = epoll_create1(EPOLL_CLOEXEC);
	uint64_t last_kq = 99, last_ep = 99;

	ASSERT_LE(0, ep);
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, pipe_new(p[i]));
		ASSERT_EQ(0, write_n(p[i][1], 1));
		ASSERT_EQ(0, kq_change(self->kq, p[i][0], EVFILT_READ, EV_ADD,
				       0, 0, UD(i)));
		nev[0] = ev_of(EPOLLIN, i);
		ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, p[i][0], nev));
	}
	for (int round = 0; round < 4; round++) {
		ASSERT_EQ(1, kq_poll(self->kq, ev, 1));
		EXPECT_NE(last_kq, (uintptr_t)ev[0].udata);
		last_kq = (uintptr_t)ev[0].udata;
		POISON(nev);
		ASSERT_EQ(1, epoll_wait(ep, nev, 1, 0));
		EXPECT_NE(last_ep, nev[0].data.u64);
		last_ep = nev[0].data.u64;
	}
}

/* Knotes not returned for want of room stay pending: EV_CLEAR ones too. */
TEST_F(kqueue_flags, clear_events_left_over_stay_pending)
{
	struct kevent ev[4];
	int p[3][2], seen = 0;

	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, kq_pipe(self->kq, p[i], EV_ADD | EV_CLEAR, UD(i)));
		ASSERT_EQ(0, write_n(p[i][1], 1));
	}
	for (int i = 0; i < 3; i++) {
		int k;

		ASSERT_EQ(1, kq_poll(self->kq, ev, 1));
		k = (uintptr_t)ev[0].udata;
		ASSERT_TRUE(k >= 0 && k < 3);
		seen |= 1 << k;
	}
	EXPECT_EQ(7, seen);
	EXPECT_EQ(0, kq_poll(self->kq, ev, 4));
}

EPM_HARNESS_MAIN
