// SPDX-License-Identifier: GPL-2.0
/*
 * Waiters in threads, differentially: who is woken and how often, waiters
 * in poll() on the instance, EPOLLEXCLUSIVE, and the races (MOD against an
 * event, a timeout against an event, many timed waiters against a stream
 * of events), each run for many iterations.
 */
#include "lib/harness.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

#include "lib/backend.h"
#include "lib/util.h"

DIFF_FIXTURE(threads);

struct waiter {
	int ep;
	int timeout;
	int result;		/* what the wait returned */
	int err;
	struct epoll_event ev;
	pthread_t thread;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;

	POISON(w->ev);
	w->result = ep_wait(w->ep, &w->ev, 1, w->timeout);
	w->err = w->result < 0 ? errno : 0;
	return NULL;
}

static int start_waiter(struct waiter *w, int ep, int timeout)
{
	w->ep = ep;
	w->timeout = timeout;
	w->result = -2;
	return pthread_create(&w->thread, NULL, wait_thread, w);
}

TEST_F(threads, waiter_woken_by_event)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct waiter w;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 42));
	ASSERT_EQ(0, start_waiter(&w, ep, -1));
	sleep_ms(50);
	ASSERT_EQ(0, efd_add(efd, 1));
	pthread_join(w.thread, NULL);
	EXPECT_EQ(1, w.result);
	EXPECT_EQ(EPOLLIN, w.ev.events);
	EXPECT_EQ(42, w.ev.data.u64);
}

/* Edge-triggered: one event, one waiter gets it, the other sleeps on. */
TEST_F(threads, two_waiters_edge_one_wakes)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct waiter w[2];

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLET, 1));
	for (int i = 0; i < 2; i++)
		ASSERT_EQ(0, start_waiter(&w[i], ep, 1000));
	sleep_ms(100);
	ASSERT_EQ(0, efd_add(efd, 1));
	for (int i = 0; i < 2; i++)
		pthread_join(w[i].thread, NULL);
	EXPECT_EQ(1, w[0].result + w[1].result);
	EXPECT_EQ(0, w[0].result * w[1].result);
}

/*
 * Level-triggered: the first waiter's harvest leaves the item ready and
 * wakes the next waiter, so both see it.
 */
TEST_F(threads, two_waiters_level_both_see_it)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct waiter w[2];

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
	for (int i = 0; i < 2; i++)
		ASSERT_EQ(0, start_waiter(&w[i], ep, 2000));
	sleep_ms(100);
	ASSERT_EQ(0, efd_add(efd, 1));
	for (int i = 0; i < 2; i++) {
		pthread_join(w[i].thread, NULL);
		EXPECT_EQ(1, w[i].result);
	}
}

/* Many waiters, many edge-triggered events: each delivered exactly once. */
struct consumer {
	int ep;
	atomic_int *remaining;
	int got;
	int dup;
	int *seen;
	pthread_t thread;
};

static void *consume(void *arg)
{
	struct consumer *c = arg;
	struct epoll_event ev[4];

	while (atomic_load(c->remaining) > 0) {
		int n = ep_wait(c->ep, ev, 4, 20);

		for (int i = 0; i < n; i++) {
			int id = (int)ev[i].data.u64;

			/* The writer waits for this before the next edge. */
			if (__atomic_fetch_add(&c->seen[id], 1, __ATOMIC_SEQ_CST))
				c->dup++;
			c->got++;
			atomic_fetch_sub(c->remaining, 1);
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(threads, many_waiters_each_event_once, 120)
{
	enum { THREADS = 8, FDS = 16, EVENTS = 400 };
	int ep = ep_create1(0), fds[FDS], total = 0, dups = 0;
	struct consumer c[THREADS];
	atomic_int remaining = EVENTS;
	static int seen[EVENTS];

	for (int i = 0; i < FDS; i++) {
		fds[i] = efd_new(0);
		ASSERT_LE(0, fds[i]);
	}
	for (int t = 0; t < THREADS; t++) {
		c[t] = (struct consumer){ .ep = ep, .remaining = &remaining,
					  .seen = seen };
		ASSERT_EQ(0, pthread_create(&c[t].thread, NULL, consume, &c[t]));
	}
	for (int e = 0; e < EVENTS; e++) {
		int fd = fds[e % FDS];

		/* A fresh watch per event: its data names the event. */
		ep_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
		ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLET, e));
		ASSERT_EQ(0, efd_add(fd, 1));
		/* Let it be taken before reusing the fd. */
		while (!__atomic_load_n(&seen[e], __ATOMIC_SEQ_CST) &&
		       atomic_load(&remaining) > 0)
			sched_yield();
		efd_drain(fd);
	}
	for (int t = 0; t < THREADS; t++) {
		pthread_join(c[t].thread, NULL);
		total += c[t].got;
		dups += c[t].dup;
	}
	EXPECT_EQ(EVENTS, total);
	EXPECT_EQ(0, dups);
}

/*
 * EPOLLEXCLUSIVE: instances watching one file exclusively, a waiter in
 * each. One event wakes one of them; without the flag, all.
 */
static int count_woken(struct __test_metadata *_metadata, uint32_t flags)
{
	enum { N = 4 };
	int efd = efd_new(0), woken = 0;
	struct waiter w[N];

	for (int i = 0; i < N; i++) {
		int ep = ep_create1(0);

		if (ep < 0 || ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | flags, i))
			return -1;
		if (start_waiter(&w[i], ep, 500))
			return -1;
	}
	sleep_ms(100);
	if (efd_add(efd, 1))
		return -1;
	for (int i = 0; i < N; i++) {
		pthread_join(w[i].thread, NULL);
		woken += w[i].result == 1;
	}
	return woken;
}

TEST_F(threads, exclusive_wakes_one_instance)
{
	EXPECT_EQ(1, count_woken(_metadata, EPOLLEXCLUSIVE));
}

TEST_F(threads, non_exclusive_wakes_every_instance)
{
	EXPECT_EQ(4, count_woken(_metadata, 0));
}

/* A waiter in poll() on the instance itself. */
struct poller {
	int fd;
	int timeout;
	int result;
	short revents;
	pthread_t thread;
};

static void *poll_thread(void *arg)
{
	struct poller *p = arg;
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };

	p->result = poll(&pfd, 1, p->timeout);
	p->revents = pfd.revents;
	return NULL;
}

static void poll_waiter_sees(struct __test_metadata *_metadata, uint32_t et)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct poller p = { .fd = ep, .timeout = 5000 };
	struct epoll_event ev;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | et, 5));
	ASSERT_EQ(0, pthread_create(&p.thread, NULL, poll_thread, &p));
	sleep_ms(50);
	ASSERT_EQ(0, efd_add(efd, 1));
	pthread_join(p.thread, NULL);
	EXPECT_EQ(1, p.result);
	EXPECT_EQ(POLLIN, p.revents);
	/* poll() reports; it does not consume. */
	ASSERT_EQ(1, ep_wait(ep, &ev, 1, 0));
	EXPECT_EQ(5, ev.data.u64);
}

TEST_F(threads, poll_waiter_level_triggered)
{
	poll_waiter_sees(_metadata, 0);
}

TEST_F(threads, poll_waiter_edge_triggered)
{
	poll_waiter_sees(_metadata, EPOLLET);
}

/* poll() reports what a wait would find: nothing once it is consumed. */
TEST_F(threads, poll_follows_consumption)
{
	int ep = ep_create1(0), lt = efd_new(1), et = efd_new(1);
	struct pollfd pfd = { .fd = ep, .events = POLLIN };
	struct epoll_event ev[2];

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, lt, EPOLLIN, 1));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, et, EPOLLIN | EPOLLET, 2));
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_EQ(2, ep_wait(ep, ev, 2, 0));
	/* The level-triggered one is still ready. */
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_EQ(0, efd_drain(lt));
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	EXPECT_EQ(0, ep_wait(ep, ev, 2, 0));
	ASSERT_EQ(0, efd_add(et, 1));
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN, pfd.revents);
}

/*
 * MOD against an event, many times: a one-shot watch is re-armed by MOD
 * while the other thread makes it ready. No event may be lost.
 */
struct writer {
	int fd;
	int rounds;
	atomic_int *acked;
	pthread_t thread;
};

static void *write_rounds(void *arg)
{
	struct writer *w = arg;

	for (int i = 0; i < w->rounds; i++) {
		efd_add(w->fd, 1);
		/* Wait until this round's event was consumed. */
		while (atomic_load(w->acked) <= i)
			sched_yield();
	}
	return NULL;
}

TEST_F_TIMEOUT(threads, race_mod_against_event, 120)
{
	enum { ROUNDS = 10000 };
	int ep = ep_create1(0), efd = efd_new(0);
	atomic_int acked = 0;
	struct writer w = { .fd = efd, .rounds = ROUNDS, .acked = &acked };
	struct epoll_event ev;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLONESHOT, 0));
	ASSERT_EQ(0, pthread_create(&w.thread, NULL, write_rounds, &w));
	for (int i = 0; i < ROUNDS; i++) {
		ASSERT_EQ(1, ep_wait(ep, &ev, 1, 10000)) TH_LOG("round %d", i);
		ASSERT_EQ(0, efd_drain(efd));
		/* Re-arm; the next write may already be racing with this. */
		ASSERT_EQ(0, ctl(ep, EPOLL_CTL_MOD, efd,
				 EPOLLIN | EPOLLONESHOT, i + 1));
		atomic_fetch_add(&acked, 1);
	}
	pthread_join(w.thread, NULL);
}

/*
 * One wait never reports an item twice, even while its events keep coming:
 * a writer thread hammers edge-triggered eventfds while the reader waits
 * with room for more events than there are items, so that the wait keeps
 * looking for more after delivering each one.
 */
struct hammer {
	const int *fds;
	int nfds;
	atomic_int stop;
	pthread_t thread;
};

static void *hammer_fds(void *arg)
{
	struct hammer *h = arg;

	for (unsigned int i = 0; !atomic_load(&h->stop); i++)
		efd_add(h->fds[i % h->nfds], 1);
	return NULL;
}

TEST_F_TIMEOUT(threads, race_event_during_harvest_no_duplicate, 120)
{
	enum { NFDS = 32, WAITS = 20000 };
	struct hammer h = { .nfds = NFDS };
	struct epoll_event ev[2 * NFDS];
	int ep = ep_create1(0), fds[NFDS], duplicates = 0, events = 0;

	for (int i = 0; i < NFDS; i++) {
		fds[i] = efd_new(0);
		ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, fds[i], EPOLLIN | EPOLLET,
				 i));
	}
	h.fds = fds;
	ASSERT_EQ(0, pthread_create(&h.thread, NULL, hammer_fds, &h));
	for (int i = 0; i < WAITS && !duplicates; i++) {
		bool seen[NFDS] = { false };
		int n;

		POISON(ev);
		n = ep_wait(ep, ev, 2 * NFDS, 100);
		ASSERT_LE(0, n);
		for (int j = 0; j < n; j++) {
			ASSERT_GT(NFDS, ev[j].data.u64);
			duplicates += seen[ev[j].data.u64];
			seen[ev[j].data.u64] = true;
		}
		events += n;
	}
	atomic_store(&h.stop, 1);
	pthread_join(h.thread, NULL);
	EXPECT_EQ(0, duplicates) TH_LOG("%d events", events);
	for (int i = 0; i < NFDS; i++)
		close(fds[i]);
	close(ep);
}

/*
 * A timeout against an event, many times: short timed waits while a
 * writer makes edges at its own pace. Every edge is seen exactly once.
 */
struct edge_writer {
	int fd;
	int edges;
	atomic_int *seen;
	pthread_t thread;
};

static void *write_edges(void *arg)
{
	struct edge_writer *w = arg;
	unsigned int seed = 1;

	for (int i = 0; i < w->edges; i++) {
		/* 0 to 2 ms: around the reader's 1 ms timeout. */
		struct timespec pause = { 0, rand_r(&seed) % 2000000 };

		nanosleep(&pause, NULL);
		efd_add(w->fd, 1);
		while (atomic_load(w->seen) <= i)
			sched_yield();
	}
	return NULL;
}

TEST_F_TIMEOUT(threads, race_timeout_against_event, 120)
{
	enum { EDGES = 1000 };
	int ep = ep_create1(0), efd = efd_new(0), timeouts = 0;
	atomic_int seen = 0;
	struct edge_writer w = { .fd = efd, .edges = EDGES, .seen = &seen };
	struct epoll_event ev;
	int64_t deadline = now_ns() + 100LL * 1000000000;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLET, 0));
	ASSERT_EQ(0, pthread_create(&w.thread, NULL, write_edges, &w));
	while (atomic_load(&seen) < EDGES && now_ns() < deadline) {
		int n = ep_wait(ep, &ev, 1, 1);

		ASSERT_LE(0, n);
		if (!n) {
			timeouts++;
			continue;
		}
		efd_drain(efd);
		atomic_fetch_add(&seen, 1);
	}
	pthread_join(w.thread, NULL);
	EXPECT_EQ(EDGES, atomic_load(&seen));
	TH_LOG("%d timed out waits", timeouts);
}

/*
 * Many timed waiters, one stream of events (the bug Akaros fixed: timed
 * waiters consumed each other's wakeups). Every event reaches some
 * waiter, and no waiter sleeps much past its own timeout.
 */
enum { TIMED_FDS = 8 };

struct timed {
	int ep;
	int timeout;
	int *fds;
	atomic_int *pending;	/* per fd: an edge not yet consumed */
	atomic_int *left;
	int got;
	int64_t worst_overshoot;
	pthread_t thread;
};

static void *timed_waits(void *arg)
{
	struct timed *t = arg;
	struct epoll_event ev[2];

	while (atomic_load(t->left) > 0) {
		int64_t start = now_ns(), late;
		int n = ep_wait(t->ep, ev, 2, t->timeout);

		late = now_ns() - start - t->timeout * 1000000LL;
		if (!n && late > t->worst_overshoot)
			t->worst_overshoot = late;
		for (int i = 0; i < n; i++) {
			int idx = (int)ev[i].data.u64;

			efd_drain(t->fds[idx]);
			atomic_store(&t->pending[idx], 0);
			atomic_fetch_sub(t->left, 1);
			t->got++;
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(threads, timed_waiters_lose_no_event, 120)
{
	enum { WAITERS = 6, EVENTS = 3000 };
	int ep = ep_create1(0), fds[TIMED_FDS], got = 0;
	atomic_int left = EVENTS, pending[TIMED_FDS];
	struct timed t[WAITERS];
	int64_t worst = 0;

	for (int i = 0; i < TIMED_FDS; i++) {
		fds[i] = efd_new(0);
		atomic_init(&pending[i], 0);
		ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, fds[i], EPOLLIN | EPOLLET, i));
	}
	for (int i = 0; i < WAITERS; i++) {
		t[i] = (struct timed){ .ep = ep, .timeout = 1 + 3 * i,
				       .fds = fds, .pending = pending,
				       .left = &left };
		ASSERT_EQ(0, pthread_create(&t[i].thread, NULL, timed_waits,
					    &t[i]));
	}
	for (int e = 0; e < EVENTS; e++) {
		int idx = e % TIMED_FDS;

		/* One edge at a time per fd, or two would count as one. */
		while (atomic_load(&pending[idx]))
			sched_yield();
		atomic_store(&pending[idx], 1);
		ASSERT_EQ(0, efd_add(fds[idx], 1));
	}
	for (int i = 0; i < WAITERS; i++) {
		pthread_join(t[i].thread, NULL);
		got += t[i].got;
		if (t[i].worst_overshoot > worst)
			worst = t[i].worst_overshoot;
	}
	EXPECT_EQ(EVENTS, got);
	/* Generous for an emulated machine: no waiter forgot its timeout. */
	EXPECT_GT(2000000000LL, worst) TH_LOG("worst overshoot %lld ns",
					      (long long)worst);
}

/*
 * Non-blocking waits on one always-ready level-triggered item, from two
 * threads at once: while one harvests, the item is in transit, and the
 * other must still see it. Found by the stress test as a rare 0. Linux
 * promises less (its look before a wait that may not block is racy by
 * design), so this is epollmod's own guarantee, tested on epollmod alone.
 */
struct poller_loop {
	int ep;
	long rounds;
	long empty;
	pthread_t thread;
};

static void *nonblocking_waits(void *arg)
{
	struct poller_loop *p = arg;
	struct epoll_event ev;

	for (long i = 0; i < p->rounds; i++)
		if (ep_wait(p->ep, &ev, 1, 0) == 0)
			p->empty++;
	return NULL;
}

TEST(epollmod_nonblocking_wait_never_misses_level_item)
{
	struct poller_loop p[2];
	int ep, efd = efd_new(1);

	be = &backend_epollmod;
	if (!be->available()) {
		ASSERT_EQ(NULL, getenv("EPM_REQUIRE_MODULE"));
		SKIP(return, "epollmod module not loaded");
	}
	ep = ep_create1(0);
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
	for (int i = 0; i < 2; i++) {
		p[i] = (struct poller_loop){ .ep = ep, .rounds = 100000 };
		ASSERT_EQ(0, pthread_create(&p[i].thread, NULL,
					    nonblocking_waits, &p[i]));
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(p[i].thread, NULL);
		EXPECT_EQ(0, p[i].empty) TH_LOG("thread %d", i);
	}
}

EPM_HARNESS_MAIN
