// SPDX-License-Identifier: GPL-2.0
/*
 * Native epoll and epollmod instances nested in each other. Native epoll
 * cannot see inside an instance, nor an instance inside native epoll, so a
 * cycle through both is accepted by both ADDs. It must stay bounded (see
 * module/nest.c): wakeups flow, waiters on either side are woken, nothing
 * hangs, recursion stops, and everything is freed when closed. Native alone
 * refuses such cycles, so these tests have no native oracle: they check the
 * module's own counters instead.
 */
#include "lib/harness.h"

#include <poll.h>
#include <pthread.h>
#include <sys/select.h>

#include <epollmod/epollmod.h>

#include "lib/util.h"

FIXTURE(cross) {
	long instances;		/* live instances before the test */
	long files;		/* watched files before the test */
};

FIXTURE_SETUP(cross)
{
	int fd = epollmod_create1(EPOLL_CLOEXEC);

	if (fd < 0) {
		if (getenv("EPM_REQUIRE_MODULE"))
			ASSERT_LE(0, fd);
		EPM_SKIP_TEST("epollmod module not loaded");
	}
	close(fd);
	epm_stat_quiesce();
	self->instances = epm_stat("instances");
	self->files = epm_stat("watched_files");
	if (self->instances < 0)
		EPM_SKIP_TEST("no /sys/kernel/debug/epollmod/stats");
}

/* Whatever a test created is gone soon after closing: reaping is a work item. */
FIXTURE_TEARDOWN(cross)
{
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	EXPECT_EQ(self->instances, epm_stat_settle("instances",
						   self->instances, 3000));
	EXPECT_EQ(self->files, epm_stat_settle("watched_files", self->files,
					       3000));
}

static int native_add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = ev_of(events, data);

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int mod_add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = ev_of(events, data);

	return epollmod_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

struct blocked {
	int ep;
	bool native;
	int result;
	struct epoll_event ev;
	pthread_t thread;
};

static void *wait_blocked(void *arg)
{
	struct blocked *b = arg;

	POISON(b->ev);
	b->result = b->native ? epoll_wait(b->ep, &b->ev, 1, 5000) :
				epollmod_wait(b->ep, &b->ev, 1, 5000);
	return NULL;
}

static int block_on(struct blocked *b, int ep, bool native)
{
	b->ep = ep;
	b->native = native;
	b->result = -2;
	return pthread_create(&b->thread, NULL, wait_blocked, b);
}

/* A native epoll watching an instance, with a waiter blocked in it. */
TEST_F(cross, native_watches_instance)
{
	int nat = epoll_create1(0), mod = epollmod_create1(0), efd = efd_new(0);
	struct epoll_event ev;
	struct blocked b;

	ASSERT_EQ(0, mod_add(mod, efd, EPOLLIN, 1));
	ASSERT_EQ(0, native_add(nat, mod, EPOLLIN, 2));
	EXPECT_EQ(0, epoll_wait(nat, &ev, 1, 0));
	ASSERT_EQ(0, block_on(&b, nat, true));
	sleep_ms(50);
	ASSERT_EQ(0, efd_add(efd, 1));
	pthread_join(b.thread, NULL);
	ASSERT_EQ(1, b.result);
	EXPECT_EQ(EPOLLIN, b.ev.events);
	EXPECT_EQ(2, b.ev.data.u64);
	ASSERT_EQ(1, epollmod_wait(mod, &ev, 1, 0));
	EXPECT_EQ(1, ev.data.u64);
	/* Consumed inside: native's level-triggered watch goes quiet. */
	ASSERT_EQ(0, efd_drain(efd));
	EXPECT_EQ(0, epoll_wait(nat, &ev, 1, 0));
}

/* An instance watching a native epoll, with a waiter blocked in it. */
TEST_F(cross, instance_watches_native)
{
	int nat = epoll_create1(0), mod = epollmod_create1(0), efd = efd_new(0);
	long forwards = epm_stat("forwarded_wakes");
	struct epoll_event ev;
	struct blocked b;

	ASSERT_EQ(0, native_add(nat, efd, EPOLLIN, 1));
	ASSERT_EQ(0, mod_add(mod, nat, EPOLLIN, 2));
	ASSERT_EQ(0, block_on(&b, mod, false));
	sleep_ms(50);
	ASSERT_EQ(0, efd_add(efd, 1));
	pthread_join(b.thread, NULL);
	ASSERT_EQ(1, b.result);
	EXPECT_EQ(2, b.ev.data.u64);
	ASSERT_EQ(0, efd_drain(efd));
	EXPECT_EQ(0, epollmod_wait(mod, &ev, 1, 0));
	/* Nobody polls the instance: nothing needed forwarding. */
	EXPECT_EQ(forwards, epm_stat("forwarded_wakes"));
}

/* native > instance > native: a poller of the instance is forwarded to. */
TEST_F(cross, forwarded_wake_reaches_outer_native)
{
	int top = epoll_create1(0), mod = epollmod_create1(0);
	int low = epoll_create1(0), efd = efd_new(0);
	long forwards = epm_stat("forwarded_wakes");
	long dropped = epm_stat("forwarded_wakes_dropped");
	struct blocked b;

	ASSERT_EQ(0, native_add(low, efd, EPOLLIN, 1));
	ASSERT_EQ(0, mod_add(mod, low, EPOLLIN, 2));
	ASSERT_EQ(0, native_add(top, mod, EPOLLIN, 3));
	ASSERT_EQ(0, block_on(&b, top, true));
	sleep_ms(50);
	ASSERT_EQ(0, efd_add(efd, 1));
	pthread_join(b.thread, NULL);
	ASSERT_EQ(1, b.result);
	EXPECT_EQ(3, b.ev.data.u64);
	EXPECT_LE(forwards + 1, epm_stat("forwarded_wakes"));
	/* No cycle: nothing was cut off. */
	EXPECT_EQ(dropped, epm_stat("forwarded_wakes_dropped"));
}

/*
 * The cycle: the instance watches the native epoll, which watches the
 * instance. One event makes both ready, wakes waiters on both sides, and
 * costs a bounded number of forwarded wakes.
 */
TEST_F(cross, cycle_stays_bounded)
{
	int nat = epoll_create1(0), mod = epollmod_create1(0), efd = efd_new(0);
	long fwd0 = epm_stat("forwarded_wakes");
	long drop0 = epm_stat("forwarded_wakes_dropped");
	struct epoll_event ev[4];
	struct blocked bn, bm;
	long fwd, drop;

	ASSERT_EQ(0, mod_add(mod, efd, EPOLLIN | EPOLLET, 1));
	ASSERT_EQ(0, mod_add(mod, nat, EPOLLIN, 2));
	ASSERT_EQ(0, native_add(nat, mod, EPOLLIN, 3));

	ASSERT_EQ(0, block_on(&bn, nat, true));
	ASSERT_EQ(0, block_on(&bm, mod, false));
	sleep_ms(100);
	ASSERT_EQ(0, efd_add(efd, 1));
	pthread_join(bn.thread, NULL);
	pthread_join(bm.thread, NULL);
	EXPECT_EQ(1, bn.result);
	EXPECT_EQ(3, bn.ev.data.u64);
	EXPECT_EQ(1, bm.result);

	/* Each side reports the other; nothing hangs. */
	EXPECT_LE(1, epoll_wait(nat, ev, 4, 0));
	EXPECT_LE(1, epollmod_wait(mod, ev, 4, 0));

	/* The echo went round the cycle at most the hop limit (8) times. */
	sleep_ms(100);
	fwd = epm_stat("forwarded_wakes") - fwd0;
	drop = epm_stat("forwarded_wakes_dropped") - drop0;
	TH_LOG("forwarded %ld, dropped %ld", fwd, drop);
	EXPECT_LE(1, fwd);
	EXPECT_GE(64, fwd);
	EXPECT_LE(1, drop);
}

/* poll() and select() on an instance inside the cycle return. */
TEST_F(cross, cycle_poll_and_select)
{
	int nat = epoll_create1(0), mod = epollmod_create1(0), efd = efd_new(1);
	struct pollfd pfd[2] = { { .fd = mod, .events = POLLIN },
				 { .fd = nat, .events = POLLIN } };
	struct timeval tv = { 0, 0 };
	fd_set rd;

	ASSERT_EQ(0, mod_add(mod, efd, EPOLLIN, 1));
	ASSERT_EQ(0, mod_add(mod, nat, EPOLLIN, 2));
	ASSERT_EQ(0, native_add(nat, mod, EPOLLIN, 3));
	EXPECT_EQ(2, poll(pfd, 2, 1000));
	FD_ZERO(&rd);
	FD_SET(mod, &rd);
	FD_SET(nat, &rd);
	EXPECT_EQ(2, select(nat > mod ? nat + 1 : mod + 1, &rd, NULL, NULL,
			    &tv));
}

/*
 * A longer cycle through two of each: mod1 > nat1 > mod2 > nat2 > mod1.
 * A waiter at every level is woken by one event at the bottom.
 */
TEST_F(cross, long_cycle_wakes_everyone)
{
	int mod1 = epollmod_create1(0), mod2 = epollmod_create1(0);
	int nat1 = epoll_create1(0), nat2 = epoll_create1(0);
	int efd = efd_new(0);
	struct blocked b[4];

	ASSERT_EQ(0, mod_add(mod2, efd, EPOLLIN | EPOLLET, 1));
	ASSERT_EQ(0, mod_add(mod1, nat1, EPOLLIN, 2));
	ASSERT_EQ(0, native_add(nat1, mod2, EPOLLIN, 3));
	ASSERT_EQ(0, mod_add(mod2, nat2, EPOLLIN, 4));
	ASSERT_EQ(0, native_add(nat2, mod1, EPOLLIN, 5));

	ASSERT_EQ(0, block_on(&b[0], mod1, false));
	ASSERT_EQ(0, block_on(&b[1], nat1, true));
	ASSERT_EQ(0, block_on(&b[2], mod2, false));
	ASSERT_EQ(0, block_on(&b[3], nat2, true));
	sleep_ms(100);
	ASSERT_EQ(0, efd_add(efd, 1));
	for (int i = 0; i < 4; i++) {
		pthread_join(b[i].thread, NULL);
		EXPECT_EQ(1, b[i].result) TH_LOG("waiter %d", i);
	}
}

/* Many events through a cycle, from another thread, with waits going on. */
struct hammer {
	int efd;
	int count;
};

static void *hammer_writes(void *arg)
{
	struct hammer *h = arg;

	for (int i = 0; i < h->count; i++)
		efd_add(h->efd, 1);
	return NULL;
}

TEST_F_TIMEOUT(cross, cycle_under_load, 120)
{
	int nat = epoll_create1(0), mod = epollmod_create1(0), efd = efd_new(0);
	struct hammer h = { .efd = efd, .count = 2000 };
	struct epoll_event ev[4];
	pthread_t t;

	ASSERT_EQ(0, mod_add(mod, efd, EPOLLIN, 1));
	ASSERT_EQ(0, mod_add(mod, nat, EPOLLIN, 2));
	ASSERT_EQ(0, native_add(nat, mod, EPOLLIN, 3));
	ASSERT_EQ(0, pthread_create(&t, NULL, hammer_writes, &h));
	for (int i = 0; i < 500; i++) {
		ASSERT_LE(0, epollmod_wait(mod, ev, 4, 1));
		ASSERT_LE(0, epoll_wait(nat, ev, 4, 1));
		if (i % 50 == 0)
			efd_drain(efd);
	}
	pthread_join(t, NULL);
}

/* Native's eventpoll_release() unhooks it when the instance is closed. */
TEST_F(cross, instance_closed_under_native)
{
	int nat = epoll_create1(0), mod = epollmod_create1(0), efd = efd_new(1);
	struct epoll_event ev;

	ASSERT_EQ(0, mod_add(mod, efd, EPOLLIN, 1));
	ASSERT_EQ(0, native_add(nat, mod, EPOLLIN, 2));
	ASSERT_EQ(1, epoll_wait(nat, &ev, 1, 0));
	close(mod);
	EXPECT_EQ(0, epoll_wait(nat, &ev, 1, 0));
	EXPECT_EQ(self->instances, epm_stat_settle("instances",
						   self->instances, 3000));
}

/* A native epoll closed by its user is dropped from the instance. */
TEST_F(cross, native_closed_under_instance)
{
	int nat = epoll_create1(0), mod = epollmod_create1(0), efd = efd_new(1);
	struct epoll_event ev;

	ASSERT_EQ(0, native_add(nat, efd, EPOLLIN, 1));
	ASSERT_EQ(0, mod_add(mod, nat, EPOLLIN, 2));
	ASSERT_EQ(1, epollmod_wait(mod, &ev, 1, 0));
	close(nat);
	EXPECT_EQ(0, epollmod_wait(mod, &ev, 1, 0));
	/* Its close ended the watch; the reaping follows at once. */
	EXPECT_EQ(self->files,
		  epm_stat_settle("watched_files", self->files, 1500));
}

/* Every order of closing a cycle frees it. */
TEST_F(cross, cycle_closed_in_any_order)
{
	for (int order = 0; order < 3; order++) {
		int nat = epoll_create1(0), mod = epollmod_create1(0);
		int efd = efd_new(1);

		ASSERT_EQ(0, mod_add(mod, efd, EPOLLIN, 1));
		ASSERT_EQ(0, mod_add(mod, nat, EPOLLIN, 2));
		ASSERT_EQ(0, native_add(nat, mod, EPOLLIN, 3));
		switch (order) {
		case 0:
			close(mod);
			close(nat);
			close(efd);
			break;
		case 1:
			close(nat);
			close(efd);
			close(mod);
			break;
		default:
			close(efd);
			close(mod);
			close(nat);
			break;
		}
		EXPECT_EQ(self->instances,
			  epm_stat_settle("instances", self->instances, 3000))
			TH_LOG("order %d", order);
	}
}

EPM_HARNESS_MAIN
