// SPDX-License-Identifier: GPL-2.0
/*
 * Without privileges, differentially: a process with no capabilities,
 * running as nobody, can do everything epoll offers (epoll needs no
 * privilege); only EPOLLWAKEUP, which needs CAP_BLOCK_SUSPEND, is silently
 * dropped, and the per-user limit cannot be changed.
 */
#include "lib/harness.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/capability.h>
#include <sys/socket.h>

#include "lib/backend.h"
#include "lib/util.h"

#define NOBODY 65534

FIXTURE(unprivileged) {
	int unused;
};

DIFF_FIXTURE_VARIANTS(unprivileged);

FIXTURE_SETUP(unprivileged)
{
	BACKEND_SELECT(variant->be);
	if (getuid() != 0)
		EPM_SKIP_TEST("needs root to drop to nobody");
	/* Every uid non-zero: the kernel clears all capabilities. */
	ASSERT_EQ(0, setgroups(0, NULL));
	ASSERT_EQ(0, setresgid(NOBODY, NOBODY, NOBODY));
	ASSERT_EQ(0, setresuid(NOBODY, NOBODY, NOBODY));
}

FIXTURE_TEARDOWN(unprivileged)
{
}

TEST_F(unprivileged, no_capability_left)
{
	cap_t caps = cap_get_proc(), none = cap_init();

	ASSERT_NE(NULL, caps);
	EXPECT_EQ(0, cap_compare(caps, none));
	EXPECT_EQ(NOBODY, geteuid());
	cap_free(caps);
	cap_free(none);
}

TEST_F(unprivileged, create_ctl_wait)
{
	int ep = ep_create1(EPOLL_CLOEXEC), lt = efd_new(1), et = efd_new(1);
	int p[2], s[2];
	struct epoll_event ev[4];

	ASSERT_LE(0, ep);
	ASSERT_LE(0, ep_create(1));
	ASSERT_EQ(0, pipe_new(p));
	ASSERT_EQ(0, unix_pair(s));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, lt, EPOLLIN, 1));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, et, EPOLLIN | EPOLLET, 2));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, p[1], EPOLLOUT | EPOLLONESHOT, 3));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, s[0], EPOLLIN | EPOLLRDHUP, 4));
	EXPECT_EQ(3, ep_wait(ep, ev, 4, 0));
	EXPECT_EQ(1, ep_wait(ep, ev, 4, 0));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_MOD, p[1], EPOLLOUT, 5));
	ASSERT_EQ(0, shutdown(s[1], SHUT_WR));
	EXPECT_EQ(3, ep_wait(ep, ev, 4, 100));
	ASSERT_EQ(0, ep_ctl(ep, EPOLL_CTL_DEL, lt, NULL));
	EXPECT_EQ(2, ep_wait(ep, ev, 4, 0));
}

TEST_F(unprivileged, exclusive_and_timeouts)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	struct epoll_event ev;
	sigset_t mask;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLEXCLUSIVE, 1));
	sigemptyset(&mask);
	EXPECT_EQ(0, ep_pwait(ep, &ev, 1, 5, &mask));
	EXPECT_EQ(0, ep_pwait2(ep, &ev, 1, &ts, &mask));
	ASSERT_EQ(0, efd_add(efd, 1));
	EXPECT_EQ(1, ep_pwait2(ep, &ev, 1, &ts, NULL));
}

TEST_F(unprivileged, nesting_and_poll)
{
	int outer = ep_create1(0), inner = ep_create1(0), efd = efd_new(1);
	struct pollfd pfd = { .fd = outer, .events = POLLIN };
	struct epoll_event ev;

	ASSERT_EQ(0, ctl(inner, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
	ASSERT_EQ(0, ctl(outer, EPOLL_CTL_ADD, inner, EPOLLIN, 2));
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_EQ(1, ep_wait(outer, &ev, 1, 0));
	EXPECT_EQ(2, ev.data.u64);
	errno = 0;
	EXPECT_EQ(-1, ctl(inner, EPOLL_CTL_ADD, outer, EPOLLIN, 3));
	EXPECT_EQ(ELOOP, errno);
}

/* EPOLLWAKEUP needs CAP_BLOCK_SUSPEND: dropped without a word. */
TEST_F(unprivileged, epollwakeup_dropped)
{
	int ep = ep_create1(0), efd = efd_new(1);
	unsigned int events = 0;
	struct epoll_event ev;
	char line[256];
	FILE *f;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLWAKEUP, 1));
	ASSERT_EQ(1, ep_wait(ep, &ev, 1, 0));
	EXPECT_EQ(EPOLLIN, ev.events);
	f = fdinfo_open(ep);
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		sscanf(line, "tfd: %*d events: %x", &events);
	fclose(f);
	EXPECT_EQ(EPOLLIN | EPOLLERR | EPOLLHUP, events);
}

TEST_F(unprivileged, limit_cannot_be_changed)
{
	errno = 0;
	EXPECT_EQ(-1, open(be->max_user_watches, O_WRONLY));
	EXPECT_EQ(EACCES, errno);
}

EPM_HARNESS_MAIN
