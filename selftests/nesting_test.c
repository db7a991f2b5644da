// SPDX-License-Identifier: GPL-2.0
/*
 * Instances as files, differentially: polled by poll() and select(),
 * nested in instances of the same kind through one and two levels with
 * waiters at the top, the depth limit, loops, and the limit on wakeup
 * paths.
 */
#include "lib/harness.h"

#include <poll.h>
#include <pthread.h>
#include <sys/select.h>

#include "lib/backend.h"
#include "lib/util.h"

DIFF_FIXTURE(nesting);

static int readable(int fd, int timeout)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n = poll(&pfd, 1, timeout);

	return n < 0 ? -1 : n ? pfd.revents : 0;
}

TEST_F(nesting, poll_level_triggered)
{
	int ep = ep_create1(0), efd = efd_new(0);

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
	EXPECT_EQ(0, readable(ep, 0));
	ASSERT_EQ(0, efd_add(efd, 1));
	EXPECT_EQ(POLLIN, readable(ep, 0));
	EXPECT_EQ(POLLIN, readable(ep, 0));
	ASSERT_EQ(0, efd_drain(efd));
	EXPECT_EQ(0, readable(ep, 0));
}

TEST_F(nesting, poll_edge_triggered)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct epoll_event ev;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLET, 1));
	ASSERT_EQ(0, efd_add(efd, 1));
	EXPECT_EQ(POLLIN, readable(ep, 0));
	ASSERT_EQ(1, ep_wait(ep, &ev, 1, 0));
	/* Delivered edge-triggered: a wait would find nothing now. */
	EXPECT_EQ(0, readable(ep, 0));
}

TEST_F(nesting, poll_oneshot)
{
	int ep = ep_create1(0), efd = efd_new(1);
	struct epoll_event ev;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLONESHOT, 1));
	EXPECT_EQ(POLLIN, readable(ep, 0));
	ASSERT_EQ(1, ep_wait(ep, &ev, 1, 0));
	EXPECT_EQ(0, readable(ep, 0));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_MOD, efd, EPOLLIN | EPOLLONESHOT, 1));
	EXPECT_EQ(POLLIN, readable(ep, 0));
}

/* An instance is never writable. */
TEST_F(nesting, poll_reports_only_pollin)
{
	int ep = ep_create1(0), efd = efd_new(1);
	struct pollfd pfd = { .fd = ep, .events = POLLIN | POLLOUT | POLLPRI };

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLOUT, 1));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN, pfd.revents);
}

TEST_F(nesting, select_sees_instance)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct timeval tv = { 0, 0 };
	fd_set rd, wr;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(ep, &rd);
	FD_SET(ep, &wr);
	EXPECT_EQ(0, select(ep + 1, &rd, &wr, NULL, &tv));
	ASSERT_EQ(0, efd_add(efd, 1));
	FD_SET(ep, &rd);
	FD_SET(ep, &wr);
	EXPECT_EQ(1, select(ep + 1, &rd, &wr, NULL, &tv));
	EXPECT_TRUE(FD_ISSET(ep, &rd));
	EXPECT_FALSE(FD_ISSET(ep, &wr));
}

/* outer > inner > eventfd: the outer reports the inner with EPOLLIN. */
static void nested_once(struct __test_metadata *_metadata, uint32_t outer_et,
			uint32_t inner_et)
{
	int outer = ep_create1(0), inner = ep_create1(0), efd = efd_new(0);
	struct epoll_event ev;

	ASSERT_EQ(0, ctl(inner, EPOLL_CTL_ADD, efd, EPOLLIN | inner_et, 1));
	ASSERT_EQ(0, ctl(outer, EPOLL_CTL_ADD, inner, EPOLLIN | outer_et, 2));
	EXPECT_EQ(0, ep_wait(outer, &ev, 1, 0));
	ASSERT_EQ(0, efd_add(efd, 1));
	POISON(ev);
	ASSERT_EQ(1, ep_wait(outer, &ev, 1, 0));
	EXPECT_EQ(EPOLLIN, ev.events);
	EXPECT_EQ(2, ev.data.u64);
	if (outer_et) {
		EXPECT_EQ(0, ep_wait(outer, &ev, 1, 0));
	} else {
		EXPECT_EQ(1, ep_wait(outer, &ev, 1, 0));
	}
	POISON(ev);
	ASSERT_EQ(1, ep_wait(inner, &ev, 1, 0));
	EXPECT_EQ(1, ev.data.u64);
	/* Consumed inside: the outer level-triggered item goes quiet. */
	ASSERT_EQ(0, efd_drain(efd));
	EXPECT_EQ(0, ep_wait(outer, &ev, 1, 0));
}

TEST_F(nesting, one_level_lt_lt)
{
	nested_once(_metadata, 0, 0);
}

TEST_F(nesting, one_level_et_lt)
{
	nested_once(_metadata, EPOLLET, 0);
}

TEST_F(nesting, one_level_lt_et)
{
	nested_once(_metadata, 0, EPOLLET);
}

TEST_F(nesting, one_level_et_et)
{
	nested_once(_metadata, EPOLLET, EPOLLET);
}

/* Two levels, with a waiter blocked at the top: woken through both. */
struct top_waiter {
	int ep;
	int result;
	struct epoll_event ev;
	bool use_poll;
	pthread_t thread;
};

static void *wait_top(void *arg)
{
	struct top_waiter *w = arg;

	if (w->use_poll) {
		w->result = readable(w->ep, 5000) == POLLIN;
	} else {
		POISON(w->ev);
		w->result = ep_wait(w->ep, &w->ev, 1, 5000);
	}
	return NULL;
}

static void two_levels(struct __test_metadata *_metadata, uint32_t et,
		       bool use_poll)
{
	int top = ep_create1(0), mid = ep_create1(0), low = ep_create1(0);
	int efd = efd_new(0);
	struct top_waiter w = { .ep = top, .use_poll = use_poll };

	ASSERT_EQ(0, ctl(low, EPOLL_CTL_ADD, efd, EPOLLIN | et, 1));
	ASSERT_EQ(0, ctl(mid, EPOLL_CTL_ADD, low, EPOLLIN | et, 2));
	ASSERT_EQ(0, ctl(top, EPOLL_CTL_ADD, mid, EPOLLIN | et, 3));
	ASSERT_EQ(0, pthread_create(&w.thread, NULL, wait_top, &w));
	sleep_ms(50);
	ASSERT_EQ(0, efd_add(efd, 1));
	pthread_join(w.thread, NULL);
	EXPECT_EQ(1, w.result);
	if (!use_poll) {
		EXPECT_EQ(EPOLLIN, w.ev.events);
		EXPECT_EQ(3, w.ev.data.u64);
	}
}

TEST_F(nesting, two_levels_lt_wait)
{
	two_levels(_metadata, 0, false);
}

TEST_F(nesting, two_levels_et_wait)
{
	two_levels(_metadata, EPOLLET, false);
}

TEST_F(nesting, two_levels_lt_poll)
{
	two_levels(_metadata, 0, true);
}

TEST_F(nesting, two_levels_et_poll)
{
	two_levels(_metadata, EPOLLET, true);
}

/*
 * A chain of instances: each added into the one above. Returns the number
 * of ADDs that succeeded before the first failure, whose errno goes to
 * *err.
 */
static int build_chain(int n, bool bottom_up, int *err)
{
	int eps[16], i;

	for (i = 0; i < n; i++)
		eps[i] = ep_create1(EPOLL_CLOEXEC);
	*err = 0;
	for (i = 0; i < n - 1; i++) {
		/* bottom-up: eps[n-1] into eps[n-2] first; top-down: reverse */
		int k = bottom_up ? n - 2 - i : i;

		if (ctl(eps[k], EPOLL_CTL_ADD, eps[k + 1], EPOLLIN, k)) {
			*err = errno;
			break;
		}
	}
	for (int j = 0; j < n; j++)
		close(eps[j]);
	return i;
}

TEST_F(nesting, depth_limit_top_down)
{
	int err;

	/* Five instances nest in a chain; a sixth is refused. */
	EXPECT_EQ(4, build_chain(6, false, &err));
	EXPECT_EQ(ELOOP, err);
	EXPECT_EQ(4, build_chain(5, false, &err));
	EXPECT_EQ(0, err);
}

TEST_F(nesting, depth_limit_bottom_up)
{
	int err;

	EXPECT_EQ(4, build_chain(6, true, &err));
	EXPECT_EQ(ELOOP, err);
}

/* Two chains that are fine alone, too deep joined. */
TEST_F(nesting, depth_limit_joining_chains)
{
	int a[3], b[3];

	for (int i = 0; i < 3; i++) {
		a[i] = ep_create1(0);
		b[i] = ep_create1(0);
	}
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, ctl(a[i], EPOLL_CTL_ADD, a[i + 1], EPOLLIN, 0));
		ASSERT_EQ(0, ctl(b[i], EPOLL_CTL_ADD, b[i + 1], EPOLLIN, 0));
	}
	errno = 0;
	EXPECT_EQ(-1, ctl(a[2], EPOLL_CTL_ADD, b[0], EPOLLIN, 0));
	EXPECT_EQ(ELOOP, errno);
	/* Joining at a shallower point fits. */
	EXPECT_EQ(0, ctl(a[0], EPOLL_CTL_ADD, b[1], EPOLLIN, 0));
}

TEST_F(nesting, loop_direct_eloop)
{
	int a = ep_create1(0), b = ep_create1(0);

	ASSERT_EQ(0, ctl(a, EPOLL_CTL_ADD, b, EPOLLIN, 0));
	errno = 0;
	EXPECT_EQ(-1, ctl(b, EPOLL_CTL_ADD, a, EPOLLIN, 0));
	EXPECT_EQ(ELOOP, errno);
}

TEST_F(nesting, loop_indirect_eloop)
{
	int a = ep_create1(0), b = ep_create1(0), c = ep_create1(0);

	ASSERT_EQ(0, ctl(a, EPOLL_CTL_ADD, b, EPOLLIN, 0));
	ASSERT_EQ(0, ctl(b, EPOLL_CTL_ADD, c, EPOLLIN, 0));
	errno = 0;
	EXPECT_EQ(-1, ctl(c, EPOLL_CTL_ADD, a, EPOLLIN, 0));
	EXPECT_EQ(ELOOP, errno);
	/* Breaking the chain makes the ADD acceptable. */
	ASSERT_EQ(0, ep_ctl(b, EPOLL_CTL_DEL, c, NULL));
	EXPECT_EQ(0, ctl(c, EPOLL_CTL_ADD, a, EPOLLIN, 0));
}

/* The same instance nested twice (a diamond) is no loop. */
TEST_F(nesting, diamond_is_fine)
{
	int top = ep_create1(0), l = ep_create1(0), r = ep_create1(0);
	int low = ep_create1(0), efd = efd_new(1);
	struct epoll_event ev[2];

	ASSERT_EQ(0, ctl(low, EPOLL_CTL_ADD, efd, EPOLLIN, 0));
	ASSERT_EQ(0, ctl(l, EPOLL_CTL_ADD, low, EPOLLIN, 0));
	ASSERT_EQ(0, ctl(r, EPOLL_CTL_ADD, low, EPOLLIN, 0));
	ASSERT_EQ(0, ctl(top, EPOLL_CTL_ADD, l, EPOLLIN, 1));
	ASSERT_EQ(0, ctl(top, EPOLL_CTL_ADD, r, EPOLLIN, 2));
	EXPECT_EQ(2, ep_wait(top, ev, 2, 0));
}

/*
 * Wakeup paths: one file watched by instances that are nested in a top
 * instance. Linux allows 500 paths of length two from one file.
 */
TEST_F_TIMEOUT(nesting, wakeup_path_limit, 120)
{
	enum { N = 520 };
	int top = ep_create1(0), efd = efd_new(0), i;
	static int inner[N];

	ASSERT_EQ(0, nofile_at_least(N + 64));
	for (i = 0; i < N; i++) {
		inner[i] = ep_create1(EPOLL_CLOEXEC);
		ASSERT_LE(0, inner[i]);
		ASSERT_EQ(0, ctl(inner[i], EPOLL_CTL_ADD, efd, EPOLLIN, i));
	}
	for (i = 0; i < N; i++) {
		if (ctl(top, EPOLL_CTL_ADD, inner[i], EPOLLIN, i))
			break;
	}
	EXPECT_EQ(500, i);
	EXPECT_EQ(EINVAL, errno);
	/* The failed ADD left nothing behind. */
	errno = 0;
	EXPECT_EQ(-1, ep_ctl(top, EPOLL_CTL_DEL, inner[500], NULL));
	EXPECT_EQ(ENOENT, errno);
}

EPM_HARNESS_MAIN
