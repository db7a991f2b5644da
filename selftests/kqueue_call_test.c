// SPDX-License-Identifier: GPL-2.0
/*
 * kevent(2)'s one call: the change list applied in order before any event
 * is collected, a result entry for each failed change or EV_RECEIPT, what
 * happens when there is no room for one, the errnos of the call itself,
 * the timeout, and the same array as change list and event list.
 */
#include "lib/harness.h"

#include <pthread.h>
#include <signal.h>

#include <epollmod/epollmod.h>

#include "lib/kq.h"

KQ_FIXTURE(kqueue_call);

/* An fd number that is not open. */
static int closed_fd(void)
{
	int fd = dup(0);

	close(fd);
	return fd;
}

TEST_F(kqueue_call, poll_with_nothing_returns_0)
{
	struct kevent ev[4];

	EXPECT_EQ(0, kq_poll(self->kq, ev, 4));
}

TEST_F(kqueue_call, nevents_negative_einval)
{
	struct kevent ev[1];

	kev_poison(ev, 1);
	errno = 0;
	EXPECT_EQ(-1, kq_call(self->kq, NULL, 0, ev, -1, 0));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(kqueue_call, nchanges_negative_einval)
{
	struct kevent ch = kev(1, EVFILT_USER, EV_ADD, 0, 0, NULL), ev[1];

	kev_poison(ev, 1);
	errno = 0;
	EXPECT_EQ(-1, kq_call(self->kq, &ch, -1, ev, 1, 0));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(kqueue_call, kq_not_open_ebadf)
{
	struct kevent ev[1];

	kev_poison(ev, 1);
	errno = 0;
	EXPECT_EQ(-1, kq_call(closed_fd(), NULL, 0, ev, 1, 0));
	EXPECT_EQ(EBADF, errno);
}

TEST_F(kqueue_call, kq_not_a_kqueue_ebadf)
{
	struct kevent ev[1];
	int p[2];

	ASSERT_EQ(0, pipe_new(p));
	kev_poison(ev, 1);
	errno = 0;
	EXPECT_EQ(-1, kq_call(p[0], NULL, 0, ev, 1, 0));
	EXPECT_EQ(EBADF, errno);
}

/* An epollmod instance of the epoll face is not a kqueue either. */
TEST_F(kqueue_call, kq_epoll_instance_ebadf)
{
	struct kevent ev[1];
	int ep = epollmod_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, ep);
	kev_poison(ev, 1);
	errno = 0;
	EXPECT_EQ(-1, kq_call(ep, NULL, 0, ev, 1, 0));
	EXPECT_EQ(EBADF, errno);
}

/* ... and a kqueue takes no epoll calls. */
TEST_F(kqueue_call, epoll_ctl_on_kqueue_einval)
{
	struct epoll_event ev = ev_of(EPOLLIN, 1);
	int p[2];

	ASSERT_EQ(0, pipe_new(p));
	errno = 0;
	EXPECT_EQ(-1, epollmod_ctl(self->kq, EPOLL_CTL_ADD, p[0], &ev));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(kqueue_call, epoll_wait_on_kqueue_einval)
{
	struct epoll_event ev;

	POISON(ev);
	errno = 0;
	EXPECT_EQ(-1, epollmod_wait(self->kq, &ev, 1, 0));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(kqueue_call, changelist_unreadable_efault)
{
	struct kevent ev[1];

	kev_poison(ev, 1);
	errno = 0;
	EXPECT_EQ(-1, kq_call(self->kq, (const struct kevent *)8, 1, ev, 1, 0));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(kqueue_call, eventlist_unwritable_efault)
{
	ASSERT_EQ(0, kq_change(self->kq, 1, EVFILT_USER, EV_ADD, NOTE_TRIGGER,
			       0, NULL));
	errno = 0;
	EXPECT_EQ(-1, kq_call(self->kq, NULL, 0, (struct kevent *)8, 1, 0));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(kqueue_call, timeout_unreadable_efault)
{
	struct kevent ev[1];

	kev_poison(ev, 1);
	errno = 0;
	EXPECT_EQ(-1, epollmod_kevent(self->kq, NULL, 0, ev, 1,
				      (const struct timespec *)8));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(kqueue_call, timeout_nsec_out_of_range_einval)
{
	struct timespec ts = { 0, 1000000000 };
	struct kevent ev[1];

	kev_poison(ev, 1);
	errno = 0;
	EXPECT_EQ(-1, epollmod_kevent(self->kq, NULL, 0, ev, 1, &ts));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(kqueue_call, timeout_negative_einval)
{
	struct timespec ts = { -1, 0 };
	struct kevent ev[1];

	kev_poison(ev, 1);
	errno = 0;
	EXPECT_EQ(-1, epollmod_kevent(self->kq, NULL, 0, ev, 1, &ts));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(kqueue_call, unknown_filter_posts_einval)
{
	struct kevent ch = kev(3, -50, EV_ADD, 0x5, 6, UD(7)), out;

	ASSERT_EQ(1, kq_change1(self->kq, ch, &out));
	EXPECT_KEV_ERR(out, ch, EINVAL);
}

TEST_F(kqueue_call, read_bad_fd_posts_ebadf)
{
	struct kevent ch = kev(closed_fd(), EVFILT_READ, EV_ADD, 0, 0, UD(1));
	struct kevent out;

	ASSERT_EQ(1, kq_change1(self->kq, ch, &out));
	EXPECT_KEV_ERR(out, ch, EBADF);
}

TEST_F(kqueue_call, write_bad_fd_posts_ebadf)
{
	struct kevent ch = kev(closed_fd(), EVFILT_WRITE, EV_ADD, 0, 0, UD(1));
	struct kevent out;

	ASSERT_EQ(1, kq_change1(self->kq, ch, &out));
	EXPECT_KEV_ERR(out, ch, EBADF);
}

TEST_F(kqueue_call, delete_missing_posts_enoent)
{
	struct kevent ch = kev(5, EVFILT_USER, EV_DELETE, 0, 0, UD(2)), out;

	ASSERT_EQ(1, kq_change1(self->kq, ch, &out));
	EXPECT_KEV_ERR(out, ch, ENOENT);
}

TEST_F(kqueue_call, flags_0_on_missing_posts_enoent)
{
	struct kevent ch = kev(5, EVFILT_USER, 0, NOTE_TRIGGER, 0, UD(2)), out;

	ASSERT_EQ(1, kq_change1(self->kq, ch, &out));
	EXPECT_KEV_ERR(out, ch, ENOENT);
}

TEST_F(kqueue_call, enable_missing_posts_enoent)
{
	struct kevent ch = kev(5, EVFILT_USER, EV_ENABLE, 0, 0, UD(2)), out;

	ASSERT_EQ(1, kq_change1(self->kq, ch, &out));
	EXPECT_KEV_ERR(out, ch, ENOENT);
}

TEST_F(kqueue_call, disable_missing_posts_enoent)
{
	struct kevent ch = kev(5, EVFILT_USER, EV_DISABLE, 0, 0, UD(2)), out;

	ASSERT_EQ(1, kq_change1(self->kq, ch, &out));
	EXPECT_KEV_ERR(out, ch, ENOENT);
}

/* A missing READ knote on an open fd is ENOENT, not EBADF. */
TEST_F(kqueue_call, delete_missing_read_posts_enoent)
{
	struct kevent ch, out;
	int p[2];

	ASSERT_EQ(0, pipe_new(p));
	ch = kev(p[0], EVFILT_READ, EV_DELETE, 0, 0, NULL);
	ASSERT_EQ(1, kq_change1(self->kq, ch, &out));
	EXPECT_KEV_ERR(out, ch, ENOENT);
}

/* The same knote is a different one in another filter. */
TEST_F(kqueue_call, delete_other_filter_posts_enoent)
{
	struct kevent ch = kev(5, EVFILT_TIMER, EV_DELETE, 0, 0, NULL), out;

	ASSERT_EQ(0, kq_change(self->kq, 5, EVFILT_USER, EV_ADD, 0, 0, NULL));
	ASSERT_EQ(1, kq_change1(self->kq, ch, &out));
	EXPECT_KEV_ERR(out, ch, ENOENT);
}

TEST_F(kqueue_call, receipt_posts_zero)
{
	struct kevent ch = kev(9, EVFILT_USER, EV_ADD | EV_RECEIPT, 0x3, 4,
			       UD(5)), out;

	ASSERT_EQ(1, kq_change1(self->kq, ch, &out));
	EXPECT_KEV_ERR(out, ch, 0);
	/* and the change was applied */
	EXPECT_EQ(0, kq_change(self->kq, 9, EVFILT_USER, EV_DELETE, 0, 0,
			       NULL));
}

/* A receipt on a change that fails carries its errno, not 0. */
TEST_F(kqueue_call, receipt_of_failed_change_posts_errno)
{
	struct kevent ch = kev(5, EVFILT_USER, EV_DELETE | EV_RECEIPT, 0, 0,
			       UD(3)), out;

	ASSERT_EQ(1, kq_change1(self->kq, ch, &out));
	EXPECT_KEV_ERR(out, ch, ENOENT);
}

/* An error entry ends the call: pending events are not collected. */
TEST_F(kqueue_call, error_returns_without_collecting)
{
	struct kevent ch = kev(5, EVFILT_USER, EV_DELETE, 0, 0, NULL), ev[4];

	ASSERT_EQ(0, kq_change(self->kq, 1, EVFILT_USER, EV_ADD, NOTE_TRIGGER,
			       0, UD(1)));
	kev_poison(ev, 4);
	ASSERT_EQ(1, kq_call(self->kq, &ch, 1, ev, 4, 0));
	EXPECT_KEV_ERR(ev[0], ch, ENOENT);
	/* the event is still there */
	ASSERT_EQ(1, kq_poll(self->kq, ev, 4));
	EXPECT_KEV(ev[0], 1, EVFILT_USER, EV_ADD, 0, 0, UD(1));
}

/* ... and does not wait, even with no timeout. */
TEST_F(kqueue_call, error_returns_without_waiting)
{
	struct kevent ch = kev(5, EVFILT_USER, EV_DELETE, 0, 0, NULL), ev[4];

	kev_poison(ev, 4);
	ASSERT_EQ(1, kq_call(self->kq, &ch, 1, ev, 4, -1));
	EXPECT_KEV_ERR(ev[0], ch, ENOENT);
}

TEST_F(kqueue_call, receipt_returns_without_collecting_or_waiting)
{
	struct kevent ch = kev(2, EVFILT_USER, EV_ADD | EV_RECEIPT, 0, 0,
			       UD(2)), ev[4];

	ASSERT_EQ(0, kq_change(self->kq, 1, EVFILT_USER, EV_ADD, NOTE_TRIGGER,
			       0, UD(1)));
	kev_poison(ev, 4);
	ASSERT_EQ(1, kq_call(self->kq, &ch, 1, ev, 4, -1));
	EXPECT_KEV_ERR(ev[0], ch, 0);
	ASSERT_EQ(1, kq_poll(self->kq, ev, 4));
	EXPECT_KEV(ev[0], 1, EVFILT_USER, EV_ADD, 0, 0, UD(1));
}

/* A failed change does not stop the ones after it. */
TEST_F(kqueue_call, changes_after_an_error_are_applied)
{
	struct kevent ch[3], ev[4];

	ch[0] = kev(1, EVFILT_USER, EV_ADD, 0, 0, UD(1));
	ch[1] = kev(2, EVFILT_USER, EV_DELETE, 0, 0, UD(2));
	ch[2] = kev(3, EVFILT_USER, EV_ADD, 0, 0, UD(3));
	kev_poison(ev, 4);
	ASSERT_EQ(1, kq_call(self->kq, ch, 3, ev, 4, 0));
	EXPECT_KEV_ERR(ev[0], ch[1], ENOENT);
	EXPECT_EQ(0, kq_change(self->kq, 1, EVFILT_USER, EV_DELETE, 0, 0,
			       NULL));
	EXPECT_EQ(0, kq_change(self->kq, 3, EVFILT_USER, EV_DELETE, 0, 0,
			       NULL));
}

/* Errors and receipts are posted in the order of their changes. */
TEST_F(kqueue_call, entries_in_change_order)
{
	struct kevent ch[4], ev[4];

	ch[0] = kev(1, EVFILT_USER, EV_ADD | EV_RECEIPT, 0, 0, UD(1));
	ch[1] = kev(2, EVFILT_USER, EV_DELETE, 0, 0, UD(2));
	ch[2] = kev(closed_fd(), EVFILT_READ, EV_ADD, 0, 0, UD(3));
	ch[3] = kev(4, EVFILT_USER, EV_ADD | EV_RECEIPT, 0, 0, UD(4));
	kev_poison(ev, 4);
	ASSERT_EQ(4, kq_call(self->kq, ch, 4, ev, 4, 0));
	EXPECT_KEV_ERR(ev[0], ch[0], 0);
	EXPECT_KEV_ERR(ev[1], ch[1], ENOENT);
	EXPECT_KEV_ERR(ev[2], ch[2], EBADF);
	EXPECT_KEV_ERR(ev[3], ch[3], 0);
}

/* In order: add, delete, add again leaves the last add's knote. */
TEST_F(kqueue_call, changes_applied_in_order)
{
	struct kevent ch[3], ev[2];

	ch[0] = kev(1, EVFILT_USER, EV_ADD, 0, 0, UD(1));
	ch[1] = kev(1, EVFILT_USER, EV_DELETE, 0, 0, UD(2));
	ch[2] = kev(1, EVFILT_USER, EV_ADD, NOTE_TRIGGER, 0, UD(3));
	kev_poison(ev, 2);
	ASSERT_EQ(1, kq_call(self->kq, ch, 3, ev, 2, 0));
	EXPECT_KEV(ev[0], 1, EVFILT_USER, EV_ADD, 0, 0, UD(3));
}

/* Delete before add of the same knote: the delete fails, the add holds. */
TEST_F(kqueue_call, delete_before_add_fails_alone)
{
	struct kevent ch[2], ev[2];

	ch[0] = kev(1, EVFILT_USER, EV_DELETE, 0, 0, UD(1));
	ch[1] = kev(1, EVFILT_USER, EV_ADD, NOTE_TRIGGER, 0, UD(2));
	kev_poison(ev, 2);
	ASSERT_EQ(1, kq_call(self->kq, ch, 2, ev, 2, 0));
	EXPECT_KEV_ERR(ev[0], ch[0], ENOENT);
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	EXPECT_KEV(ev[0], 1, EVFILT_USER, EV_ADD, 0, 0, UD(2));
}

/* Changes come first: what they make ready is collected in the same call. */
TEST_F(kqueue_call, changes_then_events_in_one_call)
{
	struct kevent ch[2], ev[4];
	int p[2];

	ASSERT_EQ(0, pipe_new(p));
	ASSERT_EQ(0, write_n(p[1], 3));
	ch[0] = kev(p[0], EVFILT_READ, EV_ADD, 0, 0, UD(10));
	ch[1] = kev(7, EVFILT_USER, EV_ADD, NOTE_TRIGGER, 0, UD(11));
	kev_poison(ev, 4);
	ASSERT_EQ(2, kq_call(self->kq, ch, 2, ev, 4, 0));
	if (ev[0].filter == EVFILT_USER) {
		struct kevent t = ev[0];

		ev[0] = ev[1];
		ev[1] = t;
	}
	EXPECT_KEV(ev[0], p[0], EVFILT_READ, EV_ADD, 0, 3, UD(10));
	EXPECT_KEV(ev[1], 7, EVFILT_USER, EV_ADD, 0, 0, UD(11));
}

/* Changes first, then the wait: a timer added in the call ends it. */
TEST_F(kqueue_call, changes_then_wait_in_one_call)
{
	struct kevent ch = kev(3, EVFILT_TIMER, EV_ADD | EV_ONESHOT, 0, 50,
			       UD(3)), ev[2];
	int64_t start = now_ns();

	kev_poison(ev, 2);
	ASSERT_EQ(1, kq_call(self->kq, &ch, 1, ev, 2, -1));
	EXPECT_LE(50000000LL, now_ns() - start);
	EXPECT_KEV(ev[0], 3, EVFILT_TIMER, EV_ADD | EV_ONESHOT | EV_CLEAR, 0,
		   1, UD(3));
}

/* A change that ends an event is applied before collecting too. */
TEST_F(kqueue_call, delete_in_changes_drops_pending_event)
{
	struct kevent ch, ev[2];

	ASSERT_EQ(0, kq_change(self->kq, 1, EVFILT_USER, EV_ADD, NOTE_TRIGGER,
			       0, NULL));
	ch = kev(1, EVFILT_USER, EV_DELETE, 0, 0, NULL);
	kev_poison(ev, 2);
	EXPECT_EQ(0, kq_call(self->kq, &ch, 1, ev, 2, 0));
}

TEST_F(kqueue_call, nevents_0_applies_changes_without_waiting)
{
	struct kevent ch = kev(1, EVFILT_USER, EV_ADD, NOTE_TRIGGER, 0, UD(4));
	struct kevent ev[1];

	/* No timeout: it would block forever if it waited. */
	ASSERT_EQ(0, kq_call(self->kq, &ch, 1, NULL, 0, -1));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 1));
	EXPECT_KEV(ev[0], 1, EVFILT_USER, EV_ADD, 0, 0, UD(4));
}

/* With nowhere to post it, a failing change fails the call. */
TEST_F(kqueue_call, nevents_0_error_fails_call)
{
	struct kevent ch = kev(1, EVFILT_USER, EV_DELETE, 0, 0, NULL);

	errno = 0;
	EXPECT_EQ(-1, kq_call(self->kq, &ch, 1, NULL, 0, 0));
	EXPECT_EQ(ENOENT, errno);
}

/* The error list full: the call fails with the errno and stops there. */
TEST_F(kqueue_call, error_list_full_fails_and_stops)
{
	struct kevent ch[3], ev[1];

	ch[0] = kev(1, EVFILT_USER, EV_DELETE, 0, 0, UD(1));
	ch[1] = kev(closed_fd(), EVFILT_READ, EV_ADD, 0, 0, UD(2));
	ch[2] = kev(3, EVFILT_USER, EV_ADD, 0, 0, UD(3));
	kev_poison(ev, 1);
	errno = 0;
	EXPECT_EQ(-1, kq_call(self->kq, ch, 3, ev, 1, 0));
	EXPECT_EQ(EBADF, errno);
	EXPECT_KEV_ERR(ev[0], ch[0], ENOENT);
	/* the change after the one with no room was not applied */
	errno = 0;
	EXPECT_EQ(-1, kq_change(self->kq, 3, EVFILT_USER, EV_DELETE, 0, 0,
				NULL));
	EXPECT_EQ(ENOENT, errno);
}

/* A receipt with no room left: the count posted so far, and a stop. */
TEST_F(kqueue_call, receipt_list_full_returns_count_and_stops)
{
	struct kevent ch[3], ev[1];

	ch[0] = kev(1, EVFILT_USER, EV_ADD | EV_RECEIPT, 0, 0, UD(1));
	ch[1] = kev(2, EVFILT_USER, EV_ADD | EV_RECEIPT, 0, 0, UD(2));
	ch[2] = kev(3, EVFILT_USER, EV_ADD, 0, 0, UD(3));
	kev_poison(ev, 1);
	EXPECT_EQ(1, kq_call(self->kq, ch, 3, ev, 1, 0));
	EXPECT_KEV_ERR(ev[0], ch[0], 0);
	errno = 0;
	EXPECT_EQ(-1, kq_change(self->kq, 3, EVFILT_USER, EV_DELETE, 0, 0,
				NULL));
	EXPECT_EQ(ENOENT, errno);
}

/* A long change list, and as many events back from one call. */
TEST_F(kqueue_call, many_changes_and_events_in_one_call)
{
	enum { N = 1000 };
	static struct kevent ch[N], ev[N + 1];
	static char seen[N];
	int i, n;

	for (i = 0; i < N; i++)
		ch[i] = kev(i, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0,
			    UD(i + 1));
	ASSERT_EQ(0, kq_call(self->kq, ch, N, NULL, 0, 0));
	for (i = 0; i < N; i++)
		ch[i] = kev(i, EVFILT_USER, 0, NOTE_TRIGGER, 0, UD(i + 1));
	kev_poison(ev, N + 1);
	ASSERT_EQ(N, n = kq_call(self->kq, ch, N, ev, N + 1, 0));
	for (i = 0; i < n; i++) {
		ASSERT_LT(ev[i].ident, N);
		EXPECT_FALSE(seen[ev[i].ident]);
		seen[ev[i].ident] = 1;
		EXPECT_KEV(ev[i], ev[i].ident, EVFILT_USER, EV_ADD | EV_CLEAR,
			   0, 0, UD(ev[i].ident + 1));
	}
	EXPECT_EQ(0, kq_poll(self->kq, ev, N));
}

/* The same array as change list and event list: error entries. */
TEST_F(kqueue_call, same_array_errors)
{
	struct kevent a[3], want[3];

	a[0] = kev(1, EVFILT_USER, EV_DELETE, 0x11, 0, UD(1));
	a[1] = kev(2, EVFILT_USER, EV_ADD | EV_RECEIPT, 0x22, 0, UD(2));
	a[2] = kev(3, -60, EV_ADD, 0x33, 0, UD(3));
	memcpy(want, a, sizeof(a));
	ASSERT_EQ(3, kq_call(self->kq, a, 3, a, 3, 0));
	EXPECT_KEV_ERR(a[0], want[0], ENOENT);
	EXPECT_KEV_ERR(a[1], want[1], 0);
	EXPECT_KEV_ERR(a[2], want[2], EINVAL);
}

/* The same array: changes read in full before events overwrite them. */
TEST_F(kqueue_call, same_array_events)
{
	struct kevent a[3];
	int i, seen = 0;

	for (i = 0; i < 3; i++)
		a[i] = kev(10 + i, EVFILT_USER, EV_ADD, NOTE_TRIGGER, 0,
			   UD(100 + i));
	ASSERT_EQ(3, kq_call(self->kq, a, 3, a, 3, 0));
	for (i = 0; i < 3; i++) {
		int k = a[i].ident - 10;

		ASSERT_TRUE(k >= 0 && k < 3);
		seen |= 1 << k;
		EXPECT_KEV(a[i], 10 + k, EVFILT_USER, EV_ADD, 0, 0,
			   UD(100 + k));
	}
	EXPECT_EQ(7, seen);
}

/* Change flags of the output only (EV_EOF, EV_ERROR) are ignored. */
TEST_F(kqueue_call, output_flags_in_change_ignored)
{
	struct kevent ch = kev(1, EVFILT_USER,
			       EV_ADD | EV_EOF | EV_ERROR, NOTE_TRIGGER, 0,
			       UD(6)), ev[1];

	kev_poison(ev, 1);
	ASSERT_EQ(1, kq_call(self->kq, &ch, 1, ev, 1, 0));
	EXPECT_KEV(ev[0], 1, EVFILT_USER, EV_ADD, 0, 0, UD(6));
}

TEST_F(kqueue_call, zero_timeout_returns_at_once)
{
	struct kevent ev[1];
	int64_t start = now_ns();

	EXPECT_EQ(0, kq_wait(self->kq, ev, 1, 0));
	/* huge margin: a poll that waited would take a while at least */
	EXPECT_GT(2000000000LL, now_ns() - start);
}

TEST_F(kqueue_call, timeout_waits_at_least_that_long)
{
	struct kevent ev[1];
	int64_t start = now_ns();

	EXPECT_EQ(0, kq_wait(self->kq, ev, 1, 200));
	EXPECT_LE(200000000LL, now_ns() - start);
	EXPECT_GT(10000000000LL, now_ns() - start);
}

/* A subsecond timeout with whole seconds too. */
TEST_F(kqueue_call, timeout_with_seconds_and_nanoseconds)
{
	struct timespec ts = { 1, 100000000 };
	struct kevent ev[1];
	int64_t start = now_ns();

	kev_poison(ev, 1);
	EXPECT_EQ(0, epollmod_kevent(self->kq, NULL, 0, ev, 1, &ts));
	EXPECT_LE(1100000000LL, now_ns() - start);
}

static void on_usr1(int sig)
{
}

/* A signal ends a blocking wait with EINTR. */
TEST_F(kqueue_call, signal_interrupts_wait_eintr)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct kevent ev[1];
	pthread_t t;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));	/* no SA_RESTART */
	ASSERT_EQ(0, signal_when_asleep(&t, SIGUSR1));
	errno = 0;
	EXPECT_EQ(-1, kq_wait(self->kq, ev, 1, 30000));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(0, join_act(t));
}

EPM_HARNESS_MAIN
