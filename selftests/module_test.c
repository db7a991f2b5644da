// SPDX-License-Identifier: GPL-2.0
/*
 * The module itself: rmmod is refused while an instance exists and works
 * once the last one is closed, leaving no slab cache behind; insmod and
 * rmmod repeat with traffic in between; parameters and statistics.
 *
 * Needs root and EPM_MODULE, the path of epollmod.ko (the in-VM runner
 * sets it). Every test leaves the module loaded.
 */
#include "lib/harness.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <epollmod/epollmod.h>

#include "lib/backend.h"
#include "lib/util.h"

FIXTURE(module) {
	const char *ko;
};

static int load(const char *ko)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return ret;
}

static int unload(void)
{
	return syscall(SYS_delete_module, "epollmod", O_NONBLOCK);
}

static bool loaded(void)
{
	return access("/sys/module/epollmod", F_OK) == 0;
}

/* Any cache of ours in /proc/slabinfo? */
static int our_slab_caches(void)
{
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/slabinfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "epm_", 4))
			n++;
	fclose(f);
	return n;
}

FIXTURE_SETUP(module)
{
	self->ko = getenv("EPM_MODULE");
	if (!self->ko || getuid() != 0) {
		if (getenv("EPM_REQUIRE_MODULE"))
			ASSERT_NE(NULL, self->ko);
		EPM_SKIP_TEST("needs root and EPM_MODULE=path/to/epollmod.ko");
	}
	ASSERT_TRUE(loaded());
	be = &backend_epollmod;
}

FIXTURE_TEARDOWN(module)
{
	if (!loaded())
		load(self->ko);
}

/* Close everything, then wait for instances whose watches are reaped. */
static void drop_everything(void)
{
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	epm_stat_settle("instances", 0, 3000);
}

TEST_F(module, rmmod_refused_while_an_instance_exists)
{
	int ep = ep_create1(0);

	ASSERT_LE(0, ep);
	errno = 0;
	EXPECT_EQ(-1, unload());
	EXPECT_EQ(EWOULDBLOCK, errno);
	EXPECT_TRUE(loaded());
	close(ep);
	EXPECT_EQ(0, unload());
	EXPECT_FALSE(loaded());
	EXPECT_EQ(0, our_slab_caches());
	errno = 0;
	EXPECT_EQ(-1, epollmod_create1(0));
	EXPECT_EQ(ENODEV, errno);
	ASSERT_EQ(0, load(self->ko));
	EXPECT_LE(0, ep = ep_create1(0));
}

/* A nested instance kept only by an outer one holds the module too. */
TEST_F(module, rmmod_refused_while_a_nested_instance_exists)
{
	int outer = ep_create1(0), inner = ep_create1(0);

	ASSERT_EQ(0, ctl(outer, EPOLL_CTL_ADD, inner, EPOLLIN, 0));
	close(inner);
	errno = 0;
	EXPECT_EQ(-1, unload());
	EXPECT_EQ(EWOULDBLOCK, errno);
	close(outer);
	drop_everything();
	EXPECT_EQ(0, unload());
	EXPECT_EQ(0, our_slab_caches());
	ASSERT_EQ(0, load(self->ko));
}

/* Watches of every kind are gone when the last instance is. */
TEST_F(module, unload_after_heavy_use_leaves_nothing)
{
	int ep = ep_create1(0), inner = ep_create1(0), s[2];
	int fds[1000];

	ASSERT_EQ(0, nofile_at_least(1100));
	ASSERT_EQ(0, unix_pair(s));
	for (int i = 0; i < 1000; i++) {
		fds[i] = efd_new(i % 2);
		ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, fds[i],
				 i % 3 ? EPOLLIN : EPOLLIN | EPOLLET, i));
	}
	ASSERT_EQ(0, ctl(inner, EPOLL_CTL_ADD, s[0], EPOLLIN, 0));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, inner, EPOLLIN, 0));
	EXPECT_LT(0, epm_stat("watches"));
	drop_everything();
	EXPECT_EQ(0, epm_stat("instances"));
	EXPECT_EQ(0, epm_stat("watches"));
	EXPECT_EQ(0, epm_stat("watched_files"));
	EXPECT_EQ(0, unload());
	EXPECT_EQ(0, our_slab_caches());
	ASSERT_EQ(0, load(self->ko));
}

/*
 * Watched sockets and instances in flight inside each other, 200 times,
 * every fd closed: the unix collector frees them all (the module holds no
 * reference it cannot see), the counters are back to zero and rmmod goes.
 */
TEST_F_TIMEOUT(module, gc_cycles_leave_nothing, 120)
{
	int s[2];

	drop_everything();
	for (int i = 0; i < 200; i++)
		ASSERT_EQ(0, in_flight_round(i % 3));
	/* One more unix socket closed: that runs the collector. */
	ASSERT_EQ(0, unix_pair(s));
	close(s[0]);
	close(s[1]);
	/* Newer kernels collect in a work item. */
	EXPECT_EQ(0, epm_stat_settle("instances", 0, 10000));
	EXPECT_EQ(0, epm_stat("watches"));
	EXPECT_EQ(0, epm_stat("watched_files"));
	EXPECT_EQ(0, unload());
	EXPECT_EQ(0, our_slab_caches());
	ASSERT_EQ(0, load(self->ko));
}

/* The final-fput probe sits on one of its two places and missed nothing. */
TEST_F(module, final_fput_probe_attached)
{
	char text[256], symbol[64];
	unsigned long missed;
	int ftrace;

	ASSERT_EQ(0, read_text("/sys/kernel/debug/epollmod/probe", text,
			       sizeof(text)));
	ASSERT_EQ(3, sscanf(text, "symbol %63s ftrace %d missed %lu", symbol,
			    &ftrace, &missed)) TH_LOG("%s", text);
	EXPECT_TRUE(!strcmp(symbol, "__fput") ||
		    !strcmp(symbol, "locks_remove_file")) TH_LOG("%s", symbol);
	EXPECT_EQ(0, missed);
	TH_LOG("probe on %s, %s", symbol,
	       ftrace ? "an ftrace call" : "a breakpoint");
}

#define KPROBES_ENABLED "/sys/kernel/debug/kprobes/enabled"

/*
 * With kprobes disarmed, a registered probe never fires, and no watch
 * could end with its file: insmod is refused, saying why.
 */
TEST_F(module, refused_while_kprobes_are_disarmed)
{
	int err;

	if (access(KPROBES_ENABLED, W_OK))
		EPM_SKIP_TEST("no %s", KPROBES_ENABLED);
	drop_everything();
	ASSERT_EQ(0, unload());
	ASSERT_EQ(0, write_text(KPROBES_ENABLED, "0"));
	errno = 0;
	err = load(self->ko);
	ASSERT_EQ(0, write_text(KPROBES_ENABLED, "1"));
	EXPECT_EQ(-1, err);
	EXPECT_EQ(EHOSTDOWN, errno);
	EXPECT_FALSE(loaded());
	ASSERT_EQ(0, load(self->ko));
}

/*
 * Disarmed while loaded: within a few seconds the module notices, and new
 * watches fail with EIO. Existing ones stay until they are removed (their
 * files stay open here: a close the probe misses would leave hooks on a
 * freed wait queue). Loading afresh cures it.
 */
TEST_F_TIMEOUT(module, add_refused_once_the_probe_stops, 60)
{
	int ep = ep_create1(0), efd = efd_new(0), other = efd_new(0);
	int ret = 0;

	if (access(KPROBES_ENABLED, W_OK))
		EPM_SKIP_TEST("no %s", KPROBES_ENABLED);
	/* A watch keeps the canary running. */
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
	ASSERT_EQ(0, write_text(KPROBES_ENABLED, "0"));
	for (int waited = 0; waited < 20000; waited += 100) {
		ret = ctl(ep, EPOLL_CTL_ADD, other, EPOLLIN, 2);
		if (ret)
			break;
		ASSERT_EQ(0, ctl(ep, EPOLL_CTL_DEL, other, 0, 0));
		sleep_ms(100);
	}
	ASSERT_EQ(0, write_text(KPROBES_ENABLED, "1"));
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EIO, errno);
	/* Still refused: the module cannot know what it missed meanwhile. */
	EXPECT_EQ(-1, ctl(ep, EPOLL_CTL_ADD, other, EPOLLIN, 2));
	EXPECT_EQ(0, ctl(ep, EPOLL_CTL_DEL, efd, 0, 0));
	close(ep);
	close(efd);
	close(other);
	drop_everything();
	ASSERT_EQ(0, unload());
	ASSERT_EQ(0, load(self->ko));
	ep = ep_create1(0);
	efd = efd_new(0);
	EXPECT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
}

/* insmod and rmmod, 100 times, with instances and events in between. */
TEST_F_TIMEOUT(module, load_unload_cycles, 300)
{
	for (int round = 0; round < 100; round++) {
		int ep = ep_create1(0), efd = efd_new(1);
		struct epoll_event ev;

		ASSERT_LE(0, ep) TH_LOG("round %d", round);
		ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, round));
		ASSERT_EQ(1, ep_wait(ep, &ev, 1, 0));
		ASSERT_EQ(round, ev.data.u64);
		close(ep);
		close(efd);
		ASSERT_EQ(0, unload()) TH_LOG("round %d", round);
		ASSERT_EQ(0, load(self->ko)) TH_LOG("round %d", round);
	}
}

/* Counters follow what exists; debugfs shows no kernel address. */
TEST_F(module, statistics_follow_objects)
{
	long inst = epm_stat("instances"), watches = epm_stat("watches");
	long waits = epm_stat("waits"), events = epm_stat("events");
	int ep = ep_create1(0), efd = efd_new(1);
	struct epoll_event ev;

	ASSERT_LE(0, inst);
	EXPECT_EQ(inst + 1, epm_stat("instances"));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 0));
	EXPECT_EQ(watches + 1, epm_stat("watches"));
	ASSERT_EQ(1, ep_wait(ep, &ev, 1, 0));
	EXPECT_EQ(waits + 1, epm_stat("waits"));
	EXPECT_EQ(events + 1, epm_stat("events"));
	close(ep);
	EXPECT_EQ(inst, epm_stat("instances"));
	EXPECT_EQ(watches, epm_stat("watches"));
}

/* Parameters: readable by all, writable by root only. */
TEST_F(module, parameters_are_root_writable)
{
	const char *params[] = {
		"/sys/module/epollmod/parameters/max_user_watches",
	};
	struct stat st;

	for (unsigned int i = 0; i < ARRAY_SIZE(params); i++) {
		ASSERT_EQ(0, stat(params[i], &st)) TH_LOG("%s", params[i]);
		EXPECT_EQ(0644, st.st_mode & 0777);
		EXPECT_EQ(0, st.st_uid);
	}
}

/* The device is for everyone, as epoll is. */
TEST_F(module, device_mode_0666)
{
	struct stat st;

	ASSERT_EQ(0, stat("/dev/epollmod", &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0666, st.st_mode & 0777);
}

EPM_HARNESS_MAIN
