// SPDX-License-Identifier: GPL-2.0
/*
 * Thread cancellation and the waits, differentially: a wait is a
 * cancellation point (a cancel wakes a blocked wait; a pending one acts
 * before the wait takes anything), it leaves the signal mask as it found
 * it, and a cancel never loses events a wait has taken.
 *
 * That last one is epollmod's promise, not native's on every glibc: before
 * glibc 2.41 (BZ #12683), epoll_wait() runs with asynchronous cancellation
 * and a cancel that lands after the kernel took the events loses them. On
 * such a glibc the native variant reports how many it lost.
 */
#define _GNU_SOURCE
#include "lib/harness.h"

#include <gnu/libc-version.h>
#include <pthread.h>
#include <stdatomic.h>

#include "lib/backend.h"
#include "lib/util.h"

DIFF_FIXTURE(cancel);

enum which_wait { WAIT, PWAIT, PWAIT2 };

struct waiter {
	int ep;
	int timeout_ms;			/* -1: block */
	enum which_wait how;
	atomic_int waiting;		/* about to wait (again) */
	atomic_int got;			/* events returned */
	int disable_first;		/* enter with a cancel already pending */
	atomic_int may_go;
};

static int one_wait(struct waiter *w, struct epoll_event *ev)
{
	sigset_t mask;
	struct timespec ts;

	switch (w->how) {
	case PWAIT:
		sigemptyset(&mask);
		sigaddset(&mask, SIGUSR1);
		return ep_pwait(w->ep, ev, 1, w->timeout_ms, &mask);
	case PWAIT2:
		ts.tv_sec = w->timeout_ms / 1000;
		ts.tv_nsec = (w->timeout_ms % 1000) * 1000000L;
		return ep_pwait2(w->ep, ev, 1, w->timeout_ms < 0 ? NULL : &ts,
				 NULL);
	default:
		return ep_wait(w->ep, ev, 1, w->timeout_ms);
	}
}

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	struct epoll_event ev;

	if (w->disable_first) {
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		atomic_store(&w->waiting, 1);
		while (!atomic_load(&w->may_go))
			sched_yield();
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	}
	for (;;) {
		int n;

		atomic_store(&w->waiting, 1);
		n = one_wait(w, &ev);
		if (n > 0)
			atomic_fetch_add(&w->got, n);
		if (n < 0 && errno != EINTR)
			return (void *)(intptr_t)errno;
	}
	return NULL;
}

/* Join, failing after @ms instead of hanging. */
static int join_within(pthread_t t, void **ret, int ms)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += ms / 1000;
	deadline.tv_nsec += (ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	return pthread_timedjoin_np(t, ret, &deadline);
}

/* Start @w's thread on its instance, watching @efd, and let it reach its wait. */
static void start_waiter(struct __test_metadata *_metadata, struct waiter *w,
			 int efd, uint32_t events, pthread_t *t)
{
	ASSERT_LE(0, w->ep);
	ASSERT_EQ(0, ctl(w->ep, EPOLL_CTL_ADD, efd, events, 1));
	ASSERT_EQ(0, pthread_create(t, NULL, waiter_main, w));
	while (!atomic_load(&w->waiting))
		sched_yield();
}

/* A wait blocked with nothing to report ends with the cancel, each kind. */
TEST_F(cancel, wakes_a_blocked_wait)
{
	enum which_wait kinds[] = { WAIT, PWAIT, PWAIT2 };

	for (unsigned int i = 0; i < ARRAY_SIZE(kinds); i++) {
		struct waiter w = { .ep = ep_create1(EPOLL_CLOEXEC),
				    .timeout_ms = -1, .how = kinds[i] };
		int efd = efd_new(0);
		pthread_t t;
		void *ret = NULL;

		start_waiter(_metadata, &w, efd, EPOLLIN, &t);
		sleep_ms(50);
		ASSERT_EQ(0, pthread_cancel(t));
		ASSERT_EQ(0, join_within(t, &ret, 10000)) TH_LOG("kind %u", i);
		EXPECT_EQ(PTHREAD_CANCELED, ret) TH_LOG("kind %u", i);
		close(efd);
		close(w.ep);
	}
}

/*
 * A cancel pending when the wait starts acts before it takes anything:
 * the event is still there for the next wait, blocking or not.
 */
TEST_F(cancel, pending_cancel_takes_nothing)
{
	int timeouts[] = { -1, 0, 100 };

	for (unsigned int i = 0; i < ARRAY_SIZE(timeouts); i++) {
		struct waiter w = { .ep = ep_create1(EPOLL_CLOEXEC),
				    .timeout_ms = timeouts[i],
				    .disable_first = 1 };
		int efd = efd_new(1);
		struct epoll_event ev;
		pthread_t t;
		void *ret = NULL;

		start_waiter(_metadata, &w, efd, EPOLLIN | EPOLLET, &t);
		ASSERT_EQ(0, pthread_cancel(t));
		atomic_store(&w.may_go, 1);
		ASSERT_EQ(0, join_within(t, &ret, 10000));
		EXPECT_EQ(PTHREAD_CANCELED, ret);
		EXPECT_EQ(0, atomic_load(&w.got));
		EXPECT_EQ(1, ep_wait(w.ep, &ev, 1, 0)) TH_LOG("timeout %d",
							     timeouts[i]);
		close(efd);
		close(w.ep);
	}
}

static int sigblk_of_self(unsigned long long *blk)
{
	char path[64], line[128];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", gettid());
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		found |= sscanf(line, "SigBlk: %llx", blk) == 1;
	fclose(f);
	return found ? 0 : -1;
}

/* A wait leaves the thread's signal mask as it was, whatever it returns. */
TEST_F(cancel, wait_keeps_the_signal_mask)
{
	int ep = ep_create1(EPOLL_CLOEXEC), efd = efd_new(0);
	unsigned long long before, after;
	struct epoll_event ev;
	sigset_t usr2;

	ASSERT_LE(0, ep);
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &usr2, NULL));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
	ASSERT_EQ(0, sigblk_of_self(&before));
	EXPECT_EQ(0, ep_wait(ep, &ev, 1, 10));
	ASSERT_EQ(0, sigblk_of_self(&after));
	EXPECT_EQ(before, after);
	ASSERT_EQ(0, efd_add(efd, 1));
	EXPECT_EQ(1, ep_wait(ep, &ev, 1, -1));
	ASSERT_EQ(0, sigblk_of_self(&after));
	EXPECT_EQ(before, after);
	EXPECT_EQ(1, ep_pwait(ep, &ev, 1, -1, &usr2));
	ASSERT_EQ(0, sigblk_of_self(&after));
	EXPECT_EQ(before, after);
	errno = 0;
	EXPECT_EQ(-1, ep_wait(ep, &ev, 0, -1));
	ASSERT_EQ(0, sigblk_of_self(&after));
	EXPECT_EQ(before, after);
}

static bool glibc_cancel_is_lossless(void)
{
	int major = 0, minor = 0;

	sscanf(gnu_get_libc_version(), "%d.%d", &major, &minor);
	return major > 2 || (major == 2 && minor >= 41);
}

/*
 * The race of the issue: an edge-triggered event made ready, then the
 * waiter cancelled at once, over and over. Each event must come out of a
 * wait the waiter returned from, or still be there afterwards.
 */
TEST_F(cancel, loses_no_event)
{
	int rounds = 200, lost = 0, returned = 0, left = 0;
	int64_t deadline = now_ns() + 20 * 1000000000LL;
	int r;

	for (r = 0; r < rounds && now_ns() < deadline; r++) {
		struct waiter w = { .ep = ep_create1(EPOLL_CLOEXEC),
				    .timeout_ms = -1 };
		int efd = efd_new(0);
		struct epoll_event ev;
		pthread_t t;
		void *ret = NULL;

		start_waiter(_metadata, &w, efd, EPOLLIN | EPOLLET, &t);
		/* Now and then give it time to block, now and then not. */
		if (r % 2)
			sleep_ms(1);
		ASSERT_EQ(0, efd_add(efd, 1));
		ASSERT_EQ(0, pthread_cancel(t));
		ASSERT_EQ(0, join_within(t, &ret, 10000));
		ASSERT_EQ(PTHREAD_CANCELED, ret);
		if (atomic_load(&w.got))
			returned++;
		else if (ep_wait(w.ep, &ev, 1, 0) == 1)
			left++;
		else
			lost++;
		close(efd);
		close(w.ep);
	}
	TH_LOG("%s: %d rounds: %d events returned, %d left queued, %d lost",
	       be->name, r, returned, left, lost);
	if (be == &backend_native && !glibc_cancel_is_lossless()) {
		TH_LOG("glibc %s: native epoll_wait may lose events to a cancel",
		       gnu_get_libc_version());
		return;
	}
	EXPECT_EQ(0, lost);
}

EPM_HARNESS_MAIN
