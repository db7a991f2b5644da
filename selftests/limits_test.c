// SPDX-License-Identifier: GPL-2.0
/*
 * Limits and accounting, differentially: the per-user cap on watches
 * (/proc/sys/fs/epoll/max_user_watches natively, a module parameter for
 * epollmod): ENOSPC at the cap, counted per user across instances,
 * released as watches go; the setting is root's alone; watch memory is
 * charged to the caller's memory cgroup.
 */
#include "lib/harness.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "lib/backend.h"
#include "lib/util.h"

#define CAP 8
#define NOBODY 65534

FIXTURE(limits) {
	char saved[32];		/* the limit before the test */
};

FIXTURE_VARIANT(limits) { const struct backend *be; };
FIXTURE_VARIANT_ADD(limits, native) { .be = &backend_native };
FIXTURE_VARIANT_ADD(limits, epollmod) { .be = &backend_epollmod };

static int set_cap(unsigned long cap)
{
	char text[32];

	snprintf(text, sizeof(text), "%lu\n", cap);
	return write_text(be->max_user_watches, text);
}

FIXTURE_SETUP(limits)
{
	BACKEND_SELECT(variant->be);
	if (getuid() != 0)
		EPM_SKIP_TEST("needs root to change the limit");
	/* Watches of files closed by earlier tests must be gone first. */
	if (be == &backend_epollmod)
		epm_stat_quiesce();
	ASSERT_EQ(0, read_text(be->max_user_watches, self->saved,
			       sizeof(self->saved)));
}

FIXTURE_TEARDOWN(limits)
{
	write_text(be->max_user_watches, self->saved);
}

/* ADD eventfds until one fails; returns how many went in. */
static int fill(int ep, int max, int *fds)
{
	int n;

	for (n = 0; n < max; n++) {
		fds[n] = efd_new(0);
		if (fds[n] < 0 || ctl(ep, EPOLL_CTL_ADD, fds[n], EPOLLIN, n))
			break;
	}
	return n;
}

TEST_F(limits, enospc_at_the_cap)
{
	int ep = ep_create1(0), fds[CAP + 4];

	ASSERT_EQ(0, set_cap(CAP));
	EXPECT_EQ(CAP, fill(ep, CAP + 4, fds));
	EXPECT_EQ(ENOSPC, errno);
	/* MOD and DEL still work at the cap. */
	EXPECT_EQ(0, ctl(ep, EPOLL_CTL_MOD, fds[0], EPOLLOUT, 0));
}

TEST_F(limits, counted_across_instances)
{
	int a = ep_create1(0), b = ep_create1(0), fds[2 * CAP];

	ASSERT_EQ(0, set_cap(CAP));
	EXPECT_EQ(CAP / 2, fill(a, CAP / 2, fds));
	EXPECT_EQ(CAP / 2, fill(b, CAP, fds + CAP / 2));
	EXPECT_EQ(ENOSPC, errno);
	/* The same file in two instances counts twice. */
	errno = 0;
	EXPECT_EQ(-1, ctl(a, EPOLL_CTL_ADD, fds[CAP / 2], EPOLLIN, 0));
	EXPECT_EQ(ENOSPC, errno);
}

TEST_F(limits, del_gives_a_watch_back)
{
	int ep = ep_create1(0), fds[CAP + 1], more = efd_new(0);

	ASSERT_EQ(0, set_cap(CAP));
	ASSERT_EQ(CAP, fill(ep, CAP + 1, fds));
	ASSERT_EQ(0, ep_ctl(ep, EPOLL_CTL_DEL, fds[3], NULL));
	EXPECT_EQ(0, ctl(ep, EPOLL_CTL_ADD, more, EPOLLIN, 0));
	errno = 0;
	EXPECT_EQ(-1, ctl(ep, EPOLL_CTL_ADD, fds[3], EPOLLIN, 0));
	EXPECT_EQ(ENOSPC, errno);
}

/* Closing a watched file frees its watch, as Linux does at close. */
TEST_F(limits, closing_a_watched_file_gives_a_watch_back)
{
	int ep = ep_create1(0), fds[CAP + 1], more = efd_new(0);

	ASSERT_EQ(0, set_cap(CAP));
	ASSERT_EQ(CAP, fill(ep, CAP + 1, fds));
	close(fds[2]);
	EXPECT_EQ(0, ctl(ep, EPOLL_CTL_ADD, more, EPOLLIN, 0));
}

TEST_F(limits, closing_an_instance_gives_its_watches_back)
{
	int a = ep_create1(0), b = ep_create1(0), fds[2 * CAP + 2];

	ASSERT_EQ(0, set_cap(CAP));
	ASSERT_EQ(CAP, fill(a, CAP + 1, fds));
	close(a);
	EXPECT_EQ(CAP, fill(b, CAP + 1, fds + CAP + 1));
}

/* Drop to an unprivileged user, in this (child) process. */
static int become_nobody(void)
{
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		return -1;
	return 0;
}

/* One user at the cap does not stop another. */
TEST_F(limits, counted_per_user)
{
	int ep = ep_create1(0), fds[CAP + 1], status;
	pid_t pid;

	ASSERT_EQ(0, set_cap(CAP));
	ASSERT_EQ(CAP, fill(ep, CAP + 1, fds));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int mine, own[CAP + 1];

		if (become_nobody())
			_exit(10);
		mine = ep_create1(0);
		if (mine < 0)
			_exit(11);
		if (fill(mine, CAP + 1, own) != CAP)
			_exit(12);
		_exit(errno == ENOSPC ? 0 : 13);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * The unix garbage collector and watches. A watched socket, its instance
 * or both are sent in flight inside the socket itself and every fd is
 * closed: whatever only the in-flight messages keep must be freed (by the
 * socket's release, or by the collector for the cycles), and its watch
 * given back to the user. 200 rounds as one user, under a cap of 256:
 * leaked watches leave no room to fill up to the cap again.
 */
#define GC_ROUNDS	200
#define GC_CAP		256

/* Fill an instance up to GC_CAP watches, retrying while frees are due. */
static bool refill_to_cap(int limit_ms)
{
	static int fds[GC_CAP + 1];

	for (int waited = 0;; waited += 50) {
		int ep = ep_create1(0), n = fill(ep, GC_CAP + 1, fds);
		bool full = n == GC_CAP && errno == ENOSPC;

		for (int i = 0; i <= n && i <= GC_CAP; i++)
			close(fds[i]);
		close(ep);
		if (full || waited >= limit_ms)
			return full;
		sleep_ms(50);
	}
}

static void gc_gives_watches_back(struct __test_metadata *_metadata,
				  enum in_flight what)
{
	int status, s[2];
	pid_t pid;

	ASSERT_EQ(0, set_cap(GC_CAP));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (become_nobody())
			_exit(10);
		for (int i = 0; i < GC_ROUNDS; i++)
			if (in_flight_round(what))
				_exit(11);
		/* One more unix socket closed: that runs the collector. */
		if (unix_pair(s))
			_exit(12);
		close(s[0]);
		close(s[1]);
		/* Newer kernels collect in a work item: give it time. */
		_exit(refill_to_cap(10000) ? 0 : 13);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("13: watches were not given back");
}

TEST_F_TIMEOUT(limits, gc_frees_socket_and_instance_in_flight, 120)
{
	gc_gives_watches_back(_metadata, IN_FLIGHT_BOTH);
}

TEST_F_TIMEOUT(limits, gc_frees_instance_in_flight, 120)
{
	gc_gives_watches_back(_metadata, IN_FLIGHT_INSTANCE);
}

TEST_F_TIMEOUT(limits, gc_frees_socket_in_flight, 120)
{
	gc_gives_watches_back(_metadata, IN_FLIGHT_SOCKET);
}

/* Only root may change the limit. */
TEST_F(limits, setting_is_root_only)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (become_nobody())
			_exit(10);
		if (open(be->max_user_watches, O_WRONLY) >= 0)
			_exit(11);
		_exit(errno == EACCES ? 0 : 12);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* The memory of watches is charged to the caller's memory cgroup. */
static long cgroup_current(const char *cg)
{
	char path[256], text[64];

	snprintf(path, sizeof(path), "%s/memory.current", cg);
	return read_text(path, text, sizeof(text)) ? -1 : atol(text);
}

/* 20,000 ADDs: minutes on the debug kernel when the host is busy. */
TEST_F_TIMEOUT(limits, watches_charged_to_memcg, 300)
{
	enum { N = 20000 };
	char cg[128], procs[160], text[32];
	static int fds[N];
	int ep, status, report[2];
	long delta = -1;
	pid_t pid;

	if (access("/sys/fs/cgroup/cgroup.subtree_control", F_OK))
		mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL);
	if (write_text("/sys/fs/cgroup/cgroup.subtree_control", "+memory"))
		EPM_SKIP_TEST("no cgroup2 memory controller");
	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/epm-test-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	ASSERT_EQ(0, pipe(report));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		long before, after;

		snprintf(text, sizeof(text), "%d", getpid());
		if (write_text(procs, text) || nofile_at_least(N + 64))
			_exit(10);
		ep = ep_create1(0);
		/* The eventfds first: only the watches are measured. */
		for (int i = 0; i < N; i++)
			fds[i] = efd_new(0);
		before = cgroup_current(cg);
		for (int i = 0; i < N; i++)
			if (ctl(ep, EPOLL_CTL_ADD, fds[i], EPOLLIN, i))
				_exit(11);
		after = cgroup_current(cg);
		before = after - before;
		_exit(write(report[1], &before, sizeof(before)) ==
		      sizeof(before) ? 0 : 12);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(sizeof(delta), read(report[0], &delta, sizeof(delta)));
	rmdir(cg);
	TH_LOG("%ld bytes charged for %d watches (%ld per watch)", delta, N,
	       delta / N);
	/* A watch is well over 64 bytes in either implementation. */
	EXPECT_LE(64L * N, delta);
}

/* Both defaults are "4% of low memory" divided by what a watch costs. */
TEST(default_limit_like_linux)
{
	char nat[32], mod[32];
	double ratio;

	if (read_text(backend_epollmod.max_user_watches, mod, sizeof(mod)))
		SKIP(return, "epollmod module not loaded");
	ASSERT_EQ(0, read_text(backend_native.max_user_watches, nat,
			       sizeof(nat)));
	ratio = (double)atol(mod) / atol(nat);
	TH_LOG("native %ld, epollmod %ld", atol(nat), atol(mod));
	EXPECT_LT(0.5, ratio);
	EXPECT_GT(2.0, ratio);
}

EPM_HARNESS_MAIN
