// SPDX-License-Identifier: GPL-2.0
/*
 * Minimum-wait batching (epollmod_wait_batch(), epollmod_kevent_batch()),
 * one rule per test: min_events ready returns at once; fewer wait for the
 * timeout, or for min_wait when it is shorter; once min_wait has passed the
 * first event returns; min_events is clamped to maxevents; a zero timeout
 * never waits; signals interrupt; the errnos. Where native epoll has the
 * behaviour (min_events 0 or 1 is an ordinary wait) native answers too.
 *
 * Time checks: lower bounds at 80% of what the rule promises, upper bounds
 * in seconds (QEMU without KVM on a shared host).
 */
#include "lib/harness.h"

#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>

#include <epollmod/epollmod.h>
#include <linux/epollmod.h>

#include "lib/backend.h"
#include "lib/kq.h"
#include "lib/util.h"

#define MS		1000000LL
#define NFDS		6
#define GENEROUS	(4000 * MS)	/* "at once", on a slow VM */

FIXTURE(minwait) {
	int ep;
	int efd[NFDS];
};

FIXTURE_SETUP(minwait)
{
	int i;

	BACKEND_SELECT(&backend_epollmod);
	self->ep = epollmod_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, self->ep) TH_LOG("epollmod_create1: %s", strerror(errno));
	for (i = 0; i < NFDS; i++) {
		self->efd[i] = efd_new(0);
		ASSERT_LE(0, self->efd[i]);
		ASSERT_EQ(0, ctl(self->ep, EPOLL_CTL_ADD, self->efd[i],
				 EPOLLIN, 100 + i));
	}
}

FIXTURE_TEARDOWN(minwait)
{
	int i;

	for (i = 0; i < NFDS; i++)
		close(self->efd[i]);
	close(self->ep);
}

static struct timespec ts_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	return ts;
}

/* Make the first @n eventfds readable. */
static void ready(int *efd, int n)
{
	int i;

	for (i = 0; i < n; i++)
		efd_add(efd[i], 1);
}

/* The data of @n events, as a bit set (order is not part of the rules). */
static uint64_t seen(const struct epoll_event *ev, int n)
{
	uint64_t set = 0;
	int i;

	for (i = 0; i < n; i++)
		set |= 1ULL << (ev[i].data.u64 - 100);
	return set;
}

/*
 * A native instance watching @n fresh eventfds of which @nready are
 * readable: the oracle for min_events 0 and 1.
 */
static int native_ready(int n, int nready, int *efds)
{
	int ep = epoll_create1(EPOLL_CLOEXEC), i;

	for (i = 0; i < n; i++) {
		struct epoll_event ev = ev_of(EPOLLIN, 100 + i);

		efds[i] = efd_new(i < nready);
		epoll_ctl(ep, EPOLL_CTL_ADD, efds[i], &ev);
	}
	return ep;
}

static void close_all(int ep, int *efds, int n)
{
	while (n--)
		close(efds[n]);
	close(ep);
}

TEST_F(minwait, n_ready_returns_n_at_once)
{
	struct epoll_event ev[NFDS];
	struct timespec timeout = ts_ms(10000);
	int64_t start;

	ready(self->efd, 4);
	POISON(ev);
	start = now_ns();
	EXPECT_EQ(4, epollmod_wait_batch(self->ep, ev, NFDS, 4, NULL, &timeout,
					 NULL));
	EXPECT_GT(GENEROUS, now_ns() - start);
	EXPECT_EQ(0xfULL, seen(ev, 4));
}

/* 0 and 1 are epoll_pwait2(): compared with native, both waiting and not. */
TEST_F(minwait, min_events_0_and_1_are_an_ordinary_wait)
{
	struct epoll_event ev[NFDS], nev[NFDS];
	struct timespec timeout = ts_ms(10000), zero = {0, 0};
	int nefd[NFDS], nep, min, got, want;
	int64_t start;

	ready(self->efd, 2);
	nep = native_ready(NFDS, 2, nefd);
	for (min = 0; min <= 1; min++) {
		POISON(ev);
		POISON(nev);
		start = now_ns();
		got = epollmod_wait_batch(self->ep, ev, NFDS, min, NULL,
					  &timeout, NULL);
		EXPECT_GT(GENEROUS, now_ns() - start);
		want = epoll_pwait2(nep, nev, NFDS, &timeout, NULL);
		EXPECT_EQ(2, want);
		EXPECT_EQ(want, got);
		EXPECT_EQ(seen(nev, want), seen(ev, got));
	}
	/* Nothing ready, zero timeout: 0 from both. */
	efd_drain(self->efd[0]);
	efd_drain(self->efd[1]);
	efd_drain(nefd[0]);
	efd_drain(nefd[1]);
	EXPECT_EQ(0, epoll_pwait2(nep, nev, NFDS, &zero, NULL));
	EXPECT_EQ(0, epollmod_wait_batch(self->ep, ev, NFDS, 1, NULL, &zero,
					 NULL));
	close_all(nep, nefd, NFDS);
}

TEST_F(minwait, fewer_ready_waits_for_the_timeout)
{
	struct epoll_event ev[NFDS];
	struct timespec timeout = ts_ms(200);
	int64_t start, took;

	ready(self->efd, 2);
	POISON(ev);
	start = now_ns();
	EXPECT_EQ(2, epollmod_wait_batch(self->ep, ev, NFDS, 4, NULL, &timeout,
					 NULL));
	took = now_ns() - start;
	EXPECT_LE(160 * MS, took) TH_LOG("returned after %lld ns",
					 (long long)took);
	EXPECT_EQ(0x3ULL, seen(ev, 2));
}

TEST_F(minwait, fewer_ready_return_after_min_wait)
{
	struct epoll_event ev[NFDS];
	struct timespec min_wait = ts_ms(50), timeout = ts_ms(5000);
	int64_t start, took;

	ready(self->efd, 2);
	POISON(ev);
	start = now_ns();
	EXPECT_EQ(2, epollmod_wait_batch(self->ep, ev, NFDS, 4, &min_wait,
					 &timeout, NULL));
	took = now_ns() - start;
	EXPECT_LE(40 * MS, took);
	EXPECT_GT(GENEROUS, took) TH_LOG("returned after %lld ns",
					 (long long)took);
	EXPECT_EQ(0x3ULL, seen(ev, 2));
}

struct later {
	int fd;
	int ms;
};

static void *write_later(void *p)
{
	struct later *l = p;

	sleep_ms(l->ms);
	efd_add(l->fd, 1);
	return NULL;
}

/* min_wait passed with nothing ready: the first event ends the wait. */
TEST_F(minwait, after_min_wait_the_first_event_returns)
{
	struct epoll_event ev[NFDS];
	struct timespec min_wait = ts_ms(50), timeout = ts_ms(20000);
	struct later l = {self->efd[3], 100};
	int64_t start, took;
	pthread_t t;

	POISON(ev);
	start = now_ns();
	ASSERT_EQ(0, pthread_create(&t, NULL, write_later, &l));
	EXPECT_EQ(1, epollmod_wait_batch(self->ep, ev, NFDS, 4, &min_wait,
					 &timeout, NULL));
	took = now_ns() - start;
	pthread_join(t, NULL);
	EXPECT_LE(80 * MS, took);
	/* Well before the timeout: it did not wait for more. */
	EXPECT_GT(10000 * MS, took) TH_LOG("returned after %lld ns",
					   (long long)took);
	EXPECT_EQ(1ULL << 3, seen(ev, 1));
}

TEST_F(minwait, min_events_above_maxevents_is_clamped)
{
	struct epoll_event ev[NFDS];
	struct timespec timeout = ts_ms(20000);
	int64_t start, took;

	ready(self->efd, 3);
	POISON(ev);
	start = now_ns();
	EXPECT_EQ(3, epollmod_wait_batch(self->ep, ev, 3, 1000, NULL, &timeout,
					 NULL));
	took = now_ns() - start;
	EXPECT_GT(10000 * MS, took) TH_LOG("returned after %lld ns",
					   (long long)took);
	EXPECT_EQ(0x7ULL, seen(ev, 3));
	/* INT_MAX too. */
	EXPECT_EQ(3, epollmod_wait_batch(self->ep, ev, 3, INT32_MAX, NULL,
					 &timeout, NULL));
}

TEST_F(minwait, zero_timeout_returns_what_is_ready)
{
	struct epoll_event ev[NFDS];
	struct timespec zero = {0, 0}, min_wait = ts_ms(20000);
	int64_t start;

	ready(self->efd, 2);
	POISON(ev);
	start = now_ns();
	EXPECT_EQ(2, epollmod_wait_batch(self->ep, ev, NFDS, 4, &min_wait,
					 &zero, NULL));
	EXPECT_EQ(0x3ULL, seen(ev, 2));
	efd_drain(self->efd[0]);
	efd_drain(self->efd[1]);
	EXPECT_EQ(0, epollmod_wait_batch(self->ep, ev, NFDS, 4, &min_wait,
					 &zero, NULL));
	/* Far less than min_wait: it did not wait for it. */
	EXPECT_GT(10000 * MS, now_ns() - start);
}

static void on_signal(int sig)
{
}

/* One event of four ready, no min_wait: a signal ends the wait, EINTR. */
TEST_F(minwait, signal_interrupts_a_batching_wait)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct timespec timeout = ts_ms(20000);
	struct epoll_event ev[NFDS];
	int64_t start, took;
	pthread_t t;
	int ret, err;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ready(self->efd, 1);
	ASSERT_EQ(0, signal_when_asleep(&t, SIGUSR1));
	start = now_ns();
	ret = epollmod_wait_batch(self->ep, ev, NFDS, 4, NULL, &timeout, NULL);
	err = errno;
	took = now_ns() - start;
	EXPECT_EQ(0, join_act(t));
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINTR, err);
	EXPECT_GT(10000 * MS, took);
	/* The event is still there: nothing was taken. */
	EXPECT_EQ(1, epollmod_wait(self->ep, ev, NFDS, 0));
}

/* The library's errnos, before anything is asked of the module. */
TEST_F(minwait, bad_batching_einval)
{
	struct epoll_event ev[NFDS];
	struct timespec timeout = ts_ms(0);
	struct timespec bad[] = {{-1, 0}, {0, -1}, {0, 1000000000}};
	unsigned int i;

	ready(self->efd, 1);
	POISON(ev);
	errno = 0;
	EXPECT_EQ(-1, epollmod_wait_batch(self->ep, ev, NFDS, -1, NULL,
					  &timeout, NULL));
	EXPECT_EQ(EINVAL, errno);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		errno = 0;
		EXPECT_EQ(-1, epollmod_wait_batch(self->ep, ev, NFDS, 2,
						  &bad[i], &timeout, NULL));
		EXPECT_EQ(EINVAL, errno);
	}
	/* Nothing was harvested. */
	EXPECT_EQ(1, epollmod_wait(self->ep, ev, NFDS, 0));
}

/* The module's: reserved must be zero, in both structs. */
TEST_F(minwait, reserved_nonzero_einval)
{
	struct epoll_event ev[NFDS];
	struct kevent kev_out[2];
	struct timespec zero = {0, 0};
	struct epollmod_wait w = {
		.size = sizeof(w),
		.events = (uintptr_t)ev,
		.maxevents = NFDS,
		.min_events = 2,
		.reserved = 1,
	};
	struct epollmod_kevent k = {
		.size = sizeof(k),
		.events = (uintptr_t)kev_out,
		.nevents = 2,
		.timeout = (uintptr_t)&zero,
		.min_events = 2,
		.reserved = 1,
	};
	int kq = epollmod_kqueue();

	ready(self->efd, 1);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->ep, EPOLLMOD_IOC_WAIT, &w));
	EXPECT_EQ(EINVAL, errno);
	w.reserved = 0;
	EXPECT_EQ(1, ioctl(self->ep, EPOLLMOD_IOC_WAIT, &w));

	ASSERT_LE(0, kq);
	ASSERT_EQ(0, kq_change(kq, 1, EVFILT_USER, EV_ADD, NOTE_TRIGGER, 0,
			       NULL));
	errno = 0;
	EXPECT_EQ(-1, ioctl(kq, EPOLLMOD_IOC_KEVENT, &k));
	EXPECT_EQ(EINVAL, errno);
	k.reserved = 0;
	EXPECT_EQ(1, ioctl(kq, EPOLLMOD_IOC_KEVENT, &k));
	close(kq);
}

/* The feature bit says the module has all this. */
TEST_F(minwait, feature_bit)
{
	struct epollmod_info info = {.size = sizeof(info)};

	ASSERT_EQ(0, ioctl(self->ep, EPOLLMOD_IOC_INFO, &info));
	EXPECT_TRUE(info.features & EPOLLMOD_FEAT_MIN_WAIT);
	EXPECT_TRUE(info.features & EPOLLMOD_FEAT_FIFO_EXCLUSIVE);
}

/* The same three rules through kevent(), on EVFILT_USER knotes. */
FIXTURE(minwait_kevent) {
	int kq;
};

FIXTURE_SETUP(minwait_kevent)
{
	int i;

	BACKEND_SELECT(&backend_epollmod);
	self->kq = epollmod_kqueue();
	ASSERT_LE(0, self->kq) TH_LOG("epollmod_kqueue: %s", strerror(errno));
	for (i = 0; i < NFDS; i++)
		ASSERT_EQ(0, kq_change(self->kq, i, EVFILT_USER,
				       EV_ADD | EV_CLEAR, 0, 0, UD(i)));
}

FIXTURE_TEARDOWN(minwait_kevent)
{
	close(self->kq);
}

static void trigger(int kq, int n)
{
	int i;

	for (i = 0; i < n; i++)
		kq_change(kq, i, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
}

TEST_F(minwait_kevent, n_ready_returns_n_at_once)
{
	struct kevent ev[NFDS];
	struct timespec timeout = ts_ms(10000);
	int64_t start;

	trigger(self->kq, 4);
	kev_poison(ev, NFDS);
	start = now_ns();
	EXPECT_EQ(4, epollmod_kevent_batch(self->kq, NULL, 0, ev, NFDS, 4,
					   NULL, &timeout));
	EXPECT_GT(GENEROUS, now_ns() - start);
}

TEST_F(minwait_kevent, fewer_ready_waits_for_the_timeout)
{
	struct kevent ev[NFDS];
	struct timespec timeout = ts_ms(200);
	int64_t start, took;

	trigger(self->kq, 2);
	kev_poison(ev, NFDS);
	start = now_ns();
	EXPECT_EQ(2, epollmod_kevent_batch(self->kq, NULL, 0, ev, NFDS, 4,
					   NULL, &timeout));
	took = now_ns() - start;
	EXPECT_LE(160 * MS, took);
}

TEST_F(minwait_kevent, fewer_ready_return_after_min_wait)
{
	struct kevent ev[NFDS];
	struct timespec min_wait = ts_ms(50), timeout = ts_ms(5000);
	int64_t start, took;

	trigger(self->kq, 2);
	kev_poison(ev, NFDS);
	start = now_ns();
	EXPECT_EQ(2, epollmod_kevent_batch(self->kq, NULL, 0, ev, NFDS, 4,
					   &min_wait, &timeout));
	took = now_ns() - start;
	EXPECT_LE(40 * MS, took);
	EXPECT_GT(GENEROUS, took);
}

/* The changes count: a trigger in the call's own list is ready for it. */
TEST_F(minwait_kevent, changes_are_applied_first)
{
	struct kevent ch[2], ev[NFDS];
	struct timespec timeout = ts_ms(10000);
	int64_t start;

	ch[0] = kev(0, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
	ch[1] = kev(1, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
	kev_poison(ev, NFDS);
	start = now_ns();
	EXPECT_EQ(2, epollmod_kevent_batch(self->kq, ch, 2, ev, NFDS, 2, NULL,
					   &timeout));
	EXPECT_GT(GENEROUS, now_ns() - start);
	errno = 0;
	EXPECT_EQ(-1, epollmod_kevent_batch(self->kq, NULL, 0, ev, NFDS, -1,
					    NULL, &timeout));
	EXPECT_EQ(EINVAL, errno);
}

EPM_HARNESS_MAIN
