// SPDX-License-Identifier: GPL-2.0
/*
 * epoll_ctl(2), differentially: each errno path on its own, the order in
 * which the checks fire, and what ADD, MOD and DEL do to the interest set.
 */
#include "lib/harness.h"

#include <fcntl.h>
#include <sys/mman.h>

#include "lib/backend.h"
#include "lib/util.h"

DIFF_FIXTURE(ctl);

/* A file without ->poll: ctl refuses it with EPERM. */
static int regular_file(void)
{
	return memfd_create("epm-regular", MFD_CLOEXEC);
}

#define EXPECT_CTL_ERR(err, ep, op, fd, evp) do {			\
	errno = 0;							\
	EXPECT_EQ(-1, ep_ctl(ep, op, fd, evp));				\
	EXPECT_EQ(err, errno) TH_LOG("errno %d (%s)", errno,		\
				     strerror(errno));			\
} while (0)

TEST_F(ctl, add_mod_del_succeed)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct epoll_event ev = ev_of(EPOLLIN, 1);

	ASSERT_LE(0, ep);
	ASSERT_LE(0, efd);
	EXPECT_EQ(0, ep_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	ev = ev_of(EPOLLOUT, 2);
	EXPECT_EQ(0, ep_ctl(ep, EPOLL_CTL_MOD, efd, &ev));
	EXPECT_EQ(0, ep_ctl(ep, EPOLL_CTL_DEL, efd, NULL));
}

TEST_F(ctl, add_twice_eexist)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct epoll_event ev = ev_of(EPOLLIN, 1);

	ASSERT_EQ(0, ep_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	EXPECT_CTL_ERR(EEXIST, ep, EPOLL_CTL_ADD, efd, &ev);
}

TEST_F(ctl, del_missing_enoent)
{
	int ep = ep_create1(0), efd = efd_new(0);

	EXPECT_CTL_ERR(ENOENT, ep, EPOLL_CTL_DEL, efd, NULL);
}

TEST_F(ctl, mod_missing_enoent)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct epoll_event ev = ev_of(EPOLLIN, 1);

	EXPECT_CTL_ERR(ENOENT, ep, EPOLL_CTL_MOD, efd, &ev);
}

TEST_F(ctl, del_twice_enoent)
{
	int ep = ep_create1(0), efd = efd_new(0);

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 0));
	ASSERT_EQ(0, ep_ctl(ep, EPOLL_CTL_DEL, efd, NULL));
	EXPECT_CTL_ERR(ENOENT, ep, EPOLL_CTL_DEL, efd, NULL);
}

TEST_F(ctl, bad_fd_ebadf)
{
	int ep = ep_create1(0), closed = efd_new(0);
	struct epoll_event ev = ev_of(EPOLLIN, 1);

	close(closed);
	EXPECT_CTL_ERR(EBADF, ep, EPOLL_CTL_ADD, -1, &ev);
	EXPECT_CTL_ERR(EBADF, ep, EPOLL_CTL_ADD, closed, &ev);
	EXPECT_CTL_ERR(EBADF, ep, EPOLL_CTL_MOD, closed, &ev);
	EXPECT_CTL_ERR(EBADF, ep, EPOLL_CTL_DEL, closed, NULL);
}

TEST_F(ctl, bad_epfd_ebadf)
{
	int efd = efd_new(0), closed = efd_new(0);
	struct epoll_event ev = ev_of(EPOLLIN, 1);

	close(closed);
	EXPECT_CTL_ERR(EBADF, -1, EPOLL_CTL_ADD, efd, &ev);
	EXPECT_CTL_ERR(EBADF, closed, EPOLL_CTL_ADD, efd, &ev);
	EXPECT_CTL_ERR(EBADF, closed, EPOLL_CTL_DEL, efd, NULL);
}

TEST_F(ctl, epfd_not_an_instance_einval)
{
	int efd = efd_new(0), other = efd_new(0);
	int foreign = other_backend_instance();
	struct epoll_event ev = ev_of(EPOLLIN, 1);

	EXPECT_CTL_ERR(EINVAL, efd, EPOLL_CTL_ADD, other, &ev);
	EXPECT_CTL_ERR(EINVAL, efd, EPOLL_CTL_DEL, other, NULL);
	EXPECT_CTL_ERR(EINVAL, efd, EPOLL_CTL_ADD, efd, &ev);
	if (foreign >= 0) {
		EXPECT_CTL_ERR(EINVAL, foreign, EPOLL_CTL_ADD, other, &ev);
	}
}

/* Checks on the arguments come before the check on epfd's kind. */
TEST_F(ctl, epfd_kind_checked_last)
{
	int efd = efd_new(0), file = regular_file();
	struct epoll_event ev = ev_of(EPOLLIN, 1);

	EXPECT_CTL_ERR(EFAULT, efd, EPOLL_CTL_ADD, efd, NULL);
	EXPECT_CTL_ERR(EBADF, efd, EPOLL_CTL_ADD, -1, &ev);
	EXPECT_CTL_ERR(EPERM, efd, EPOLL_CTL_ADD, file, &ev);
}

TEST_F(ctl, regular_file_eperm)
{
	int ep = ep_create1(0), file = regular_file();
	struct epoll_event ev = ev_of(EPOLLIN, 1);

	ASSERT_LE(0, file);
	EXPECT_CTL_ERR(EPERM, ep, EPOLL_CTL_ADD, file, &ev);
	EXPECT_CTL_ERR(EPERM, ep, EPOLL_CTL_MOD, file, &ev);
	EXPECT_CTL_ERR(EPERM, ep, EPOLL_CTL_DEL, file, NULL);
}

TEST_F(ctl, add_itself_einval)
{
	int ep = ep_create1(0);
	struct epoll_event ev = ev_of(EPOLLIN, 1);

	EXPECT_CTL_ERR(EINVAL, ep, EPOLL_CTL_ADD, ep, &ev);
}

TEST_F(ctl, unknown_op_einval)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct epoll_event ev = ev_of(EPOLLIN, 1);
	int ops[] = { 0, 4, 99, -1 };

	for (unsigned int i = 0; i < ARRAY_SIZE(ops); i++) {
		EXPECT_CTL_ERR(EINVAL, ep, ops[i], efd, &ev);
	}
	/* Even for a watched fd. */
	ASSERT_EQ(0, ep_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	EXPECT_CTL_ERR(EINVAL, ep, 4, efd, &ev);
}

TEST_F(ctl, null_event_efault)
{
	int ep = ep_create1(0), efd = efd_new(0);

	EXPECT_CTL_ERR(EFAULT, ep, EPOLL_CTL_ADD, efd, NULL);
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 0));
	EXPECT_CTL_ERR(EFAULT, ep, EPOLL_CTL_MOD, efd, NULL);
	/* An unknown op reads the event too. */
	EXPECT_CTL_ERR(EFAULT, ep, 99, efd, NULL);
}

TEST_F(ctl, unmapped_event_efault)
{
	int ep = ep_create1(0), efd = efd_new(0);
	long page = sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);

	ASSERT_NE(MAP_FAILED, map);
	EXPECT_CTL_ERR(EFAULT, ep, EPOLL_CTL_ADD, efd,
		       (struct epoll_event *)map);
	EXPECT_CTL_ERR(EFAULT, ep, EPOLL_CTL_ADD, efd,
		       (struct epoll_event *)-4096L);
}

TEST_F(ctl, del_ignores_event_pointer)
{
	int ep = ep_create1(0), efd = efd_new(0);

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 0));
	EXPECT_EQ(0, ep_ctl(ep, EPOLL_CTL_DEL, efd,
			    (struct epoll_event *)-4096L));
}

/* The event is read first: a bad pointer wins over a bad fd. */
TEST_F(ctl, efault_before_ebadf)
{
	int ep = ep_create1(0);

	EXPECT_CTL_ERR(EFAULT, ep, EPOLL_CTL_ADD, -1, NULL);
	EXPECT_CTL_ERR(EBADF, ep, EPOLL_CTL_DEL, -1, NULL);
}

/* The fd is checked before the op and before the file's kind. */
TEST_F(ctl, ebadf_before_einval)
{
	int ep = ep_create1(0);
	struct epoll_event ev = ev_of(EPOLLIN | EPOLLEXCLUSIVE, 1);

	EXPECT_CTL_ERR(EBADF, ep, 99, -1, &ev);
	EXPECT_CTL_ERR(EBADF, ep, EPOLL_CTL_MOD, -1, &ev);
}

/* A file that cannot be polled is refused before the op is looked at. */
TEST_F(ctl, eperm_before_einval)
{
	int ep = ep_create1(0), file = regular_file();
	struct epoll_event ev = ev_of(EPOLLIN | EPOLLEXCLUSIVE, 1);

	EXPECT_CTL_ERR(EPERM, ep, 99, file, &ev);
	EXPECT_CTL_ERR(EPERM, ep, EPOLL_CTL_MOD, file, &ev);
}

TEST_F(ctl, exclusive_add_succeeds)
{
	int ep = ep_create1(0), efd = efd_new(0);

	EXPECT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLEXCLUSIVE, 0));
	EXPECT_EQ(0, ep_ctl(ep, EPOLL_CTL_DEL, efd, NULL));
	EXPECT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd,
			 EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLET |
			 EPOLLEXCLUSIVE, 0));
}

/* Only IN, OUT, ERR, HUP, WAKEUP and ET go with EPOLLEXCLUSIVE. */
TEST_F(ctl, exclusive_with_other_flags_einval)
{
	int ep = ep_create1(0), efd = efd_new(0);
	uint32_t bad[] = { EPOLLONESHOT, EPOLLRDHUP, EPOLLPRI, EPOLLRDNORM,
			   EPOLLRDBAND, EPOLLWRNORM, EPOLLWRBAND, EPOLLMSG };

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		struct epoll_event ev = ev_of(EPOLLIN | EPOLLEXCLUSIVE | bad[i], 0);

		EXPECT_CTL_ERR(EINVAL, ep, EPOLL_CTL_ADD, efd, &ev);
	}
}

TEST_F(ctl, exclusive_mod_einval)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct epoll_event ev = ev_of(EPOLLIN | EPOLLEXCLUSIVE, 0);

	/* Refused before the lookup: not ENOENT. */
	EXPECT_CTL_ERR(EINVAL, ep, EPOLL_CTL_MOD, efd, &ev);
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 0));
	EXPECT_CTL_ERR(EINVAL, ep, EPOLL_CTL_MOD, efd, &ev);
}

TEST_F(ctl, mod_of_exclusive_watch_einval)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct epoll_event ev = ev_of(EPOLLOUT, 0);

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLEXCLUSIVE, 0));
	EXPECT_CTL_ERR(EINVAL, ep, EPOLL_CTL_MOD, efd, &ev);
	EXPECT_EQ(0, ep_ctl(ep, EPOLL_CTL_DEL, efd, NULL));
}

TEST_F(ctl, exclusive_on_epoll_instance_einval)
{
	int ep = ep_create1(0), inner = ep_create1(0);
	struct epoll_event ev = ev_of(EPOLLIN | EPOLLEXCLUSIVE, 0);

	EXPECT_CTL_ERR(EINVAL, ep, EPOLL_CTL_ADD, inner, &ev);
	ev.events = EPOLLIN;
	EXPECT_EQ(0, ep_ctl(ep, EPOLL_CTL_ADD, inner, &ev));
}

/* A dup is another key: the same file may be watched under both fds. */
TEST_F(ctl, dup_is_another_watch)
{
	int ep = ep_create1(0), efd = efd_new(1), dupfd = dup(efd);
	struct epoll_event ev = ev_of(EPOLLIN, 3), out[4];
	uint64_t seen = 0;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, dupfd, EPOLLIN, 2));
	EXPECT_CTL_ERR(EEXIST, ep, EPOLL_CTL_ADD, dupfd, &ev);
	POISON(out);
	ASSERT_EQ(2, ep_wait(ep, out, 4, 0));
	for (int i = 0; i < 2; i++) {
		EXPECT_EQ(EPOLLIN, out[i].events);
		seen |= out[i].data.u64;
	}
	EXPECT_EQ(3, seen);
	/* Deleting one leaves the other. */
	ASSERT_EQ(0, ep_ctl(ep, EPOLL_CTL_DEL, efd, NULL));
	POISON(out);
	ASSERT_EQ(1, ep_wait(ep, out, 4, 0));
	EXPECT_EQ(2, out[0].data.u64);
}

/* One file in two instances: each reports it. */
TEST_F(ctl, file_in_two_instances)
{
	int ep1 = ep_create1(0), ep2 = ep_create1(0), efd = efd_new(0);
	struct epoll_event out[2];

	ASSERT_EQ(0, ctl(ep1, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
	ASSERT_EQ(0, ctl(ep2, EPOLL_CTL_ADD, efd, EPOLLIN, 2));
	ASSERT_EQ(0, efd_add(efd, 1));
	POISON(out);
	ASSERT_EQ(1, ep_wait(ep1, out, 2, 0));
	EXPECT_EQ(1, out[0].data.u64);
	POISON(out);
	ASSERT_EQ(1, ep_wait(ep2, out, 2, 0));
	EXPECT_EQ(2, out[0].data.u64);
	/* DEL in one does not touch the other. */
	ASSERT_EQ(0, ep_ctl(ep1, EPOLL_CTL_DEL, efd, NULL));
	EXPECT_EQ(0, ep_wait(ep1, out, 2, 0));
	EXPECT_EQ(1, ep_wait(ep2, out, 2, 0));
}

/*
 * A closed fd's number given to a new file is a new key: ADD succeeds, and
 * only the new file's events are reported.
 */
TEST_F(ctl, reused_fd_number_is_a_new_watch)
{
	int ep = ep_create1(0), efd = efd_new(1), again;
	struct epoll_event out[2];

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
	close(efd);
	again = efd_new(0);
	ASSERT_EQ(efd, again);
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, again, EPOLLIN, 2));
	EXPECT_EQ(0, ep_wait(ep, out, 2, 0));
	ASSERT_EQ(0, efd_add(again, 1));
	POISON(out);
	ASSERT_EQ(1, ep_wait(ep, out, 2, 0));
	EXPECT_EQ(2, out[0].data.u64);
	EXPECT_EQ(0, ep_ctl(ep, EPOLL_CTL_DEL, again, NULL));
}

/* Readiness that exists at ADD time is reported. */
TEST_F(ctl, add_reports_existing_readiness)
{
	int ep = ep_create1(0), efd = efd_new(5);
	struct epoll_event out[2];

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLOUT, 7));
	POISON(out);
	ASSERT_EQ(1, ep_wait(ep, out, 2, 0));
	EXPECT_EQ(EPOLLIN | EPOLLOUT, out[0].events);
	EXPECT_EQ(7, out[0].data.u64);
}

/* MOD takes the new mask and data, and reports what is ready under it. */
TEST_F(ctl, mod_changes_mask_and_data)
{
	int ep = ep_create1(0), efd = efd_new(1);
	struct epoll_event out[2];

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLOUT, 1));
	POISON(out);
	ASSERT_EQ(1, ep_wait(ep, out, 2, 0));
	EXPECT_EQ(EPOLLOUT, out[0].events);
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_MOD, efd, EPOLLIN, 2));
	POISON(out);
	ASSERT_EQ(1, ep_wait(ep, out, 2, 0));
	EXPECT_EQ(EPOLLIN, out[0].events);
	EXPECT_EQ(2, out[0].data.u64);
	/* A mask nothing matches: silent. */
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_MOD, efd, EPOLLPRI, 3));
	EXPECT_EQ(0, ep_wait(ep, out, 2, 0));
}

/* DEL takes a ready watch off the ready list. */
TEST_F(ctl, del_forgets_ready_watch)
{
	int ep = ep_create1(0), efd = efd_new(1);
	struct epoll_event out[2];

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
	ASSERT_EQ(0, ep_ctl(ep, EPOLL_CTL_DEL, efd, NULL));
	EXPECT_EQ(0, ep_wait(ep, out, 2, 0));
}

/* ERR and HUP are always watched: an empty mask still reports them. */
TEST_F(ctl, empty_mask_reports_hup)
{
	int ep = ep_create1(0), p[2];
	struct epoll_event out[2];

	ASSERT_EQ(0, pipe_new(p));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, p[0], 0, 9));
	EXPECT_EQ(0, ep_wait(ep, out, 2, 0));
	close(p[1]);
	POISON(out);
	ASSERT_EQ(1, ep_wait(ep, out, 2, 0));
	EXPECT_EQ(EPOLLHUP, out[0].events);
	EXPECT_EQ(9, out[0].data.u64);
}

/* Many watches in one instance. */
TEST_F(ctl, many_watches)
{
	enum { N = 2000 };
	struct epoll_event out[64];
	int ep = ep_create1(0);
	static int fds[N];

	ASSERT_EQ(0, nofile_at_least(N + 64));
	for (int i = 0; i < N; i++) {
		fds[i] = efd_new(i % 2);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, fds[i], EPOLLIN, i));
	}
	int total = 0, n;

	while ((n = ep_wait(ep, out, 64, 0)) > 0) {
		for (int i = 0; i < n; i++) {
			EXPECT_EQ(1, out[i].data.u64 % 2);
			efd_drain(fds[out[i].data.u64]);
		}
		total += n;
	}
	EXPECT_EQ(0, n);
	EXPECT_EQ(N / 2, total);
	for (int i = 0; i < N; i++) {
		ASSERT_EQ(0, ep_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL));
	}
}

EPM_HARNESS_MAIN
