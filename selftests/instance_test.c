// SPDX-License-Identifier: GPL-2.0
/*
 * Creating instances: epoll_create(2) and epoll_create1(2), differentially.
 */
#include "lib/harness.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "lib/backend.h"
#include "lib/util.h"

DIFF_FIXTURE(instance);

TEST_F(instance, create1_gives_rdwr_fd)
{
	int ep = ep_create1(0);

	ASSERT_LE(0, ep);
	EXPECT_EQ(O_RDWR, fcntl(ep, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(0, fcntl(ep, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, close(ep));
}

TEST_F(instance, create1_cloexec_sets_fd_cloexec)
{
	int ep = ep_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, ep);
	EXPECT_EQ(FD_CLOEXEC, fcntl(ep, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, close(ep));
}

/* Every flag but EPOLL_CLOEXEC is refused, one bit at a time. */
TEST_F(instance, create1_unknown_flag_einval)
{
	for (int bit = 0; bit < 32; bit++) {
		int flags = (int)(1U << bit);

		if (flags == EPOLL_CLOEXEC)
			continue;
		errno = 0;
		EXPECT_EQ(-1, ep_create1(flags)) TH_LOG("bit %d", bit);
		EXPECT_EQ(EINVAL, errno) TH_LOG("bit %d", bit);
	}
}

TEST_F(instance, create_positive_size)
{
	int sizes[] = { 1, 2, 1000, 0x7fffffff };

	for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
		int ep = ep_create(sizes[i]);

		ASSERT_LE(0, ep) TH_LOG("size %d", sizes[i]);
		EXPECT_EQ(0, fcntl(ep, F_GETFD) & FD_CLOEXEC);
		close(ep);
	}
}

TEST_F(instance, create_zero_size_einval)
{
	errno = 0;
	EXPECT_EQ(-1, ep_create(0));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(instance, create_negative_size_einval)
{
	errno = 0;
	EXPECT_EQ(-1, ep_create(-1));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, ep_create((int)0x80000000));
	EXPECT_EQ(EINVAL, errno);
}

/* With no fd slot left, creation fails with EMFILE and leaks nothing. */
TEST_F(instance, create1_emfile)
{
	struct rlimit rl;
	int ep = ep_create1(0);

	ASSERT_LE(0, ep);
	/* Lowest free fd is ep + 1 at most; cap the table right there. */
	close(ep);
	rl.rlim_cur = rl.rlim_max = ep;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	errno = 0;
	EXPECT_EQ(-1, ep_create1(0));
	EXPECT_EQ(EMFILE, errno);
	errno = 0;
	EXPECT_EQ(-1, ep_create(1));
	EXPECT_EQ(EMFILE, errno);
}

/* Is fd still open in a freshly exec'ed image? Asks /bin/sh. */
static int open_after_exec(int fd)
{
	char cmd[64];
	int status;
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "test -e /proc/self/fd/%d", fd);
	pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status) == 0;
}

TEST_F(instance, cloexec_closes_on_exec)
{
	int keep = ep_create1(0);
	int drop = ep_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, keep);
	ASSERT_LE(0, drop);
	EXPECT_EQ(1, open_after_exec(keep));
	EXPECT_EQ(0, open_after_exec(drop));
}

/* Instances are independent files: many of them, each its own fd. */
TEST_F(instance, many_instances)
{
	int eps[256];

	for (unsigned int i = 0; i < ARRAY_SIZE(eps); i++) {
		eps[i] = ep_create1(EPOLL_CLOEXEC);
		ASSERT_LE(0, eps[i]);
		if (i)
			ASSERT_NE(eps[i - 1], eps[i]);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(eps); i++) {
		EXPECT_EQ(0, close(eps[i]));
	}
}

/* An instance is not a stream: lseek() is a no-op, read() and write() fail. */
TEST_F(instance, file_operations_as_native)
{
	int ep = ep_create1(EPOLL_CLOEXEC);
	char buf[16];

	ASSERT_LE(0, ep);
	EXPECT_EQ(0, lseek(ep, 0, SEEK_SET));
	EXPECT_EQ(0, lseek(ep, 100, SEEK_CUR));
	errno = 0;
	EXPECT_EQ(-1, read(ep, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, write(ep, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED, ep, 0));
	EXPECT_EQ(ENODEV, errno);
}

/* A dup is the same instance: one interest set, one ready list. */
TEST_F(instance, dup_shares_the_instance)
{
	int ep = ep_create1(0), other = dup(ep), efd = efd_new(1);
	struct epoll_event ev;

	ASSERT_EQ(0, ctl(other, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLET, 4));
	POISON(ev);
	ASSERT_EQ(1, ep_wait(ep, &ev, 1, 0));
	EXPECT_EQ(4, ev.data.u64);
	EXPECT_EQ(0, ep_wait(other, &ev, 1, 0));
	ASSERT_EQ(0, ep_ctl(ep, EPOLL_CTL_DEL, efd, NULL));
	errno = 0;
	EXPECT_EQ(-1, ep_ctl(other, EPOLL_CTL_DEL, efd, NULL));
	EXPECT_EQ(ENOENT, errno);
	/* Closing one fd leaves the instance to the other. */
	close(ep);
	EXPECT_EQ(0, ctl(other, EPOLL_CTL_ADD, efd, EPOLLIN, 5));
	EXPECT_EQ(1, ep_wait(other, &ev, 1, 0));
}

/* A child shares the parent's instance. */
TEST_F(instance, fork_shares_the_instance)
{
	int ep = ep_create1(0), efd = efd_new(1), status;
	struct epoll_event ev;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The child adds; the parent will see it. */
		_exit(ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 9) ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	POISON(ev);
	ASSERT_EQ(1, ep_wait(ep, &ev, 1, 0));
	EXPECT_EQ(9, ev.data.u64);

	/* And the child waits on what the parent added. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(ep_wait(ep, &ev, 1, 1000) == 1 && ev.data.u64 == 9 ?
		      0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* An instance passed over a unix socket is the same instance. */
TEST_F(instance, scm_rights_shares_the_instance)
{
	int ep = ep_create1(0), efd = efd_new(1), s[2], got;
	struct epoll_event ev;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s));
	ASSERT_EQ(0, send_fd(s[0], ep));
	close(ep);
	got = recv_fd(s[1], MSG_CMSG_CLOEXEC);
	ASSERT_LE(0, got);
	ASSERT_EQ(0, ctl(got, EPOLL_CTL_ADD, efd, EPOLLIN, 6));
	POISON(ev);
	ASSERT_EQ(1, ep_wait(got, &ev, 1, 0));
	EXPECT_EQ(6, ev.data.u64);
}

EPM_HARNESS_MAIN
