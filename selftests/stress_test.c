// SPDX-License-Identifier: GPL-2.0
/*
 * Stress, differentially: worker threads on shared instances doing random
 * ADD, MOD and DEL, waits with random timeouts and signal masks, events,
 * closes and reopens of watched files and of instances, dups, forks,
 * nesting and unnesting, with signals arriving - for EPM_STRESS_SECONDS
 * (default 10). Invariants checked as it runs:
 *
 *  - no lost wakeup: every instance holds a level-triggered beacon that
 *    is always ready, so every wait on it that may block must return at
 *    least one event (or EINTR); Linux's own look before a wait that may
 *    not block is racy by design, and such a wait may find nothing;
 *  - no event for a closed registration: a wait that starts after a
 *    watched file's only fd was closed never reports that file's watch.
 *    Closes of those files wait for waits, nesting and instance closes in
 *    flight (native epoll holds each file it polls or unhooks for a
 *    moment, and a file closed meanwhile rightly lives that long), and a
 *    wait must start 50 ms after the close: native epoll, next to forking
 *    threads, was seen to report a closed file for a few milliseconds;
 *  - every event's data names a slot and a generation that existed;
 *  - counts consistent: once everything is closed the module's counters
 *    are back where they were (epollmod), and a new instance works.
 *
 * On epollmod, instance 1 also has a ready ring that waits harvest from
 * (its waits are not held to the beacon: a harvest by another thread
 * takes it until the next wait enters the kernel), some ctls go through a
 * wait's change list, and instances turn FIFO wakeups on and off.
 */
#include "lib/harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include <epollmod/ring.h>

#include "lib/backend.h"
#include "lib/util.h"

DIFF_FIXTURE(stress);

#define WORKERS		8
#define INSTANCES	4
#define SLOTS		24	/* watched files; the first half are closable */
#define CLOSABLE	(SLOTS / 2)
#define BEACON_DATA	0xbeac0000ULL

struct slot {
	pthread_mutex_t lock;	/* ctl and close on this slot's fd */
	int fd;
	uint32_t gen;
	/* The generation last closed << 40 | when (in microseconds). */
	_Atomic uint64_t closed;
};

struct instance {
	pthread_rwlock_t lock;	/* waits and ctls read, reopen writes */
	int ep;
	int beacon;
	bool has_ring;		/* epollmod's instance 1 */
	struct epollmod_ring ring;
};

#define STALE_GRACE_US	50000
#define US_MASK		((1ULL << 40) - 1)

static uint64_t now_us(void)
{
	return (uint64_t)now_ns() / 1000 & US_MASK;
}

struct world {
	/*
	 * A child inherits every fd: closes wait while one is being forked,
	 * until it has dropped what it does not use, or a closed file would
	 * live on in it (rightly, as in Linux) and look like a stale event.
	 */
	pthread_rwlock_t fork_lock;
	/*
	 * Closes of closable slots write; whatever makes native epoll hold a
	 * watched file for a moment reads: waits, nesting, instance closes.
	 */
	pthread_rwlock_t wait_lock;
	struct slot slots[SLOTS];
	struct instance eps[INSTANCES];
	_Atomic bool stop;
	_Atomic long ops, waits, events, lost, stale, garbage, forks;
	pthread_t workers[WORKERS];
};

static struct world w;

static uint64_t data_of(int slot, uint32_t gen)
{
	return (uint64_t)gen << 16 | slot;
}

static uint32_t rnd(unsigned int *seed, uint32_t n)
{
	return rand_r(seed) % n;
}

static void open_instance(struct instance *in)
{
	in->ep = ep_create1(EPOLL_CLOEXEC);
	in->has_ring = be == &backend_epollmod && in == &w.eps[1] &&
		       !epollmod_ring_setup(in->ep, 64, &in->ring);
	in->beacon = efd_new(1);
	ctl(in->ep, EPOLL_CTL_ADD, in->beacon, EPOLLIN, BEACON_DATA);
}

static void open_slot(struct slot *s, unsigned int *seed)
{
	int p[2];

	s->gen++;
	if (rnd(seed, 3)) {
		s->fd = efd_new(rnd(seed, 2));
	} else if (!pipe_new(p)) {
		/* The read end; the write end goes, so HUP comes too. */
		close(p[1]);
		s->fd = p[0];
	}
}

static uint32_t random_events(unsigned int *seed)
{
	static const uint32_t extra[] = { 0, EPOLLET, EPOLLONESHOT, EPOLLRDHUP,
					  EPOLLET | EPOLLONESHOT, EPOLLPRI };

	return (rnd(seed, 4) ? EPOLLIN : 0) | (rnd(seed, 3) ? 0 : EPOLLOUT) |
	       extra[rnd(seed, ARRAY_SIZE(extra))];
}

static void check_events(struct epoll_event *ev, int n, uint64_t started)
{
	for (int i = 0; i < n; i++) {
		uint64_t d = ev[i].data.u64;
		int slot = d & 0xffff;
		uint32_t gen = d >> 16;
		uint64_t closed;
		struct slot *s;

		if (d == BEACON_DATA || (d >= 1000 && d < 1000 + INSTANCES))
			continue;	/* a beacon, or a nested instance */
		if (slot >= SLOTS || !gen || gen > w.slots[slot].gen + 1) {
			atomic_fetch_add(&w.garbage, 1);
			continue;
		}
		s = &w.slots[slot];
		closed = atomic_load(&s->closed);
		if (slot < CLOSABLE && gen == closed >> 40 &&
		    (closed & US_MASK) + STALE_GRACE_US < started)
			atomic_fetch_add(&w.stale, 1);
	}
}

static void do_wait(struct instance *in, unsigned int *seed)
{
	struct epoll_event ev[8];
	uint64_t started;
	bool may_block;
	sigset_t mask;
	int n;

	sigemptyset(&mask);
	pthread_rwlock_rdlock(&w.wait_lock);
	pthread_rwlock_rdlock(&in->lock);
	started = now_us();
	if (in->has_ring && rnd(seed, 2)) {
		may_block = false;
		n = epollmod_ring_wait(&in->ring, ev, 1 + rnd(seed, 8),
				       rnd(seed, 4));
	} else if (rnd(seed, 4)) {
		int timeout = rnd(seed, 4);

		may_block = timeout != 0;
		n = ep_wait(in->ep, ev, 1 + rnd(seed, 8), timeout);
	} else {
		struct timespec ts = { 0, 1 + rnd(seed, 3000000) };

		may_block = true;
		n = ep_pwait2(in->ep, ev, 1 + rnd(seed, 8), &ts, &mask);
	}
	pthread_rwlock_unlock(&in->lock);
	pthread_rwlock_unlock(&w.wait_lock);
	atomic_fetch_add(&w.waits, 1);
	if (n < 0)
		return;		/* EINTR: a signal came */
	if (n == 0 && may_block)
		atomic_fetch_add(&w.lost, 1);	/* the beacon is always ready */
	atomic_fetch_add(&w.events, n);
	check_events(ev, n, started);
}

static void do_ctl(struct instance *in, struct slot *s, int idx,
		   unsigned int *seed)
{
	static const int ops[] = { EPOLL_CTL_ADD, EPOLL_CTL_ADD, EPOLL_CTL_MOD,
				   EPOLL_CTL_DEL };

	pthread_rwlock_rdlock(&in->lock);
	pthread_mutex_lock(&s->lock);
	if (s->fd >= 0 && be == &backend_epollmod && !rnd(seed, 4)) {
		/* The same change, made by a wait that does not block. */
		struct epollmod_change c = {
			.op = ops[rnd(seed, 4)], .fd = s->fd,
			.events = random_events(seed),
			.data = data_of(idx, s->gen),
		};
		struct timespec zero = { 0, 0 };
		struct epoll_event ev[8];
		uint64_t started = now_us();
		int n = epollmod_wait_changes(in->ep, &c, 1, ev, 8, 0, NULL,
					      &zero, NULL);

		if (n > 0)
			check_events(ev, n, started);
	} else if (s->fd >= 0) {
		ctl(in->ep, ops[rnd(seed, 4)], s->fd, random_events(seed),
		    data_of(idx, s->gen));
	}
	if (be == &backend_epollmod && !rnd(seed, 50))
		epollmod_set_options(in->ep, rnd(seed, 2) ?
				     EPOLLMOD_FIFO_EXCLUSIVE : 0, NULL);
	pthread_mutex_unlock(&s->lock);
	pthread_rwlock_unlock(&in->lock);
}

static void do_event(struct slot *s, unsigned int *seed)
{
	pthread_mutex_lock(&s->lock);
	if (s->fd >= 0) {
		if (rnd(seed, 2))
			efd_add(s->fd, 1);	/* fails harmlessly on a pipe */
		else
			efd_drain(s->fd);
	}
	pthread_mutex_unlock(&s->lock);
}

/* Close a closable slot's only fd, and give it a new file. */
static void do_close(struct slot *s, unsigned int *seed)
{
	pthread_rwlock_wrlock(&w.wait_lock);
	pthread_rwlock_rdlock(&w.fork_lock);
	pthread_mutex_lock(&s->lock);
	if (s->fd >= 0) {
		close(s->fd);
		atomic_store(&s->closed, (uint64_t)s->gen << 40 | now_us());
	}
	open_slot(s, seed);
	pthread_mutex_unlock(&s->lock);
	pthread_rwlock_unlock(&w.fork_lock);
	pthread_rwlock_unlock(&w.wait_lock);
}

static void do_reopen_instance(struct instance *in)
{
	/* Closing an instance references each watched file for a moment. */
	pthread_rwlock_rdlock(&w.wait_lock);
	pthread_rwlock_wrlock(&in->lock);
	if (in->has_ring)
		epollmod_ring_unmap(&in->ring);
	close(in->ep);
	close(in->beacon);
	open_instance(in);
	pthread_rwlock_unlock(&in->lock);
	pthread_rwlock_unlock(&w.wait_lock);
}

/* Nest instance 3 into instance 0, or take it out. */
static void do_nest(unsigned int *seed)
{
	struct instance *outer = &w.eps[0], *inner = &w.eps[3];

	/* Nesting polls the inner instance's items: a wait, in effect. */
	pthread_rwlock_rdlock(&w.wait_lock);
	pthread_rwlock_rdlock(&outer->lock);
	pthread_rwlock_rdlock(&inner->lock);
	ctl(outer->ep, rnd(seed, 2) ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, inner->ep,
	    EPOLLIN | (rnd(seed, 2) ? EPOLLET : 0), 1003);
	pthread_rwlock_unlock(&inner->lock);
	pthread_rwlock_unlock(&outer->lock);
	pthread_rwlock_unlock(&w.wait_lock);
}

/* A dup of a shared slot, used and closed; or a child that does the same. */
static void do_share(struct instance *in, unsigned int *seed)
{
	struct slot *s = &w.slots[CLOSABLE + rnd(seed, SLOTS - CLOSABLE)];
	int fd, status, ack[2];
	pid_t pid = -1;
	char c;

	pthread_mutex_lock(&s->lock);
	fd = s->fd >= 0 ? dup(s->fd) : -1;
	pthread_mutex_unlock(&s->lock);
	if (fd < 0)
		return;
	if (rnd(seed, 8)) {
		efd_add(fd, 1);
		close(fd);
		return;
	}
	pthread_rwlock_wrlock(&w.fork_lock);
	pthread_rwlock_rdlock(&in->lock);
	if (pipe(ack) == 0) {
		pid = fork();
		if (pid == 0) {
			struct epoll_event ev[4];

			for (int i = 0; i < 1024; i++)
				if (i != in->ep && i != fd && i != ack[1])
					close(i);
			/*
			 * It shares the instance and the file for a moment,
			 * then lets go of both before saying so: its wait, or
			 * the last close of an instance the parent reopened,
			 * would hold watched files (see w.wait_lock).
			 */
			efd_add(fd, 1);
			ep_wait(in->ep, ev, 4, 0);
			close(in->ep);
			close(fd);
			_exit(write(ack[1], "k", 1) == 1 ? 0 : 1);
		}
		close(ack[1]);
		if (pid > 0)
			read(ack[0], &c, 1);
		close(ack[0]);
	}
	pthread_rwlock_unlock(&in->lock);
	pthread_rwlock_unlock(&w.fork_lock);
	close(fd);
	if (pid > 0) {
		waitpid(pid, &status, 0);
		atomic_fetch_add(&w.forks, 1);
	}
}

static void on_signal(int sig)
{
}

static void *worker(void *arg)
{
	unsigned int seed = (uintptr_t)arg * 7919 + 1;

	while (!atomic_load(&w.stop)) {
		struct instance *in = &w.eps[rnd(&seed, INSTANCES)];
		int idx = rnd(&seed, SLOTS);
		uint32_t dice = rnd(&seed, 100);

		if (dice < 30)
			do_wait(in, &seed);
		else if (dice < 60)
			do_ctl(in, &w.slots[idx], idx, &seed);
		else if (dice < 85)
			do_event(&w.slots[idx], &seed);
		else if (dice < 92)
			do_close(&w.slots[rnd(&seed, CLOSABLE)], &seed);
		else if (dice < 95)
			do_share(in, &seed);
		else if (dice < 98)
			do_nest(&seed);
		else
			do_reopen_instance(in);
		atomic_fetch_add(&w.ops, 1);
	}
	return NULL;
}

TEST_F_TIMEOUT(stress, random_operations_keep_invariants, 600)
{
	const char *env = getenv("EPM_STRESS_SECONDS");
	int seconds = env ? atoi(env) : 10;
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned int seed = 1;
	long before[3] = { 0 };
	int64_t end;

	if (be == &backend_epollmod) {
		epm_stat_quiesce();
		before[0] = epm_stat("instances");
		before[1] = epm_stat("watches");
		before[2] = epm_stat("watched_files");
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	pthread_rwlock_init(&w.fork_lock, NULL);
	pthread_rwlock_init(&w.wait_lock, NULL);
	for (int i = 0; i < SLOTS; i++) {
		pthread_mutex_init(&w.slots[i].lock, NULL);
		w.slots[i].fd = -1;
		open_slot(&w.slots[i], &seed);
	}
	for (int i = 0; i < INSTANCES; i++) {
		pthread_rwlock_init(&w.eps[i].lock, NULL);
		open_instance(&w.eps[i]);
		ASSERT_LE(0, w.eps[i].ep);
	}
	for (int i = 0; i < WORKERS; i++)
		ASSERT_EQ(0, pthread_create(&w.workers[i], NULL, worker,
					    (void *)(uintptr_t)i));

	/* Signals at random workers while they run. */
	end = now_ns() + seconds * 1000000000LL;
	while (now_ns() < end) {
		sleep_ms(5);
		pthread_kill(w.workers[rnd(&seed, WORKERS)], SIGUSR1);
	}
	atomic_store(&w.stop, true);
	for (int i = 0; i < WORKERS; i++)
		pthread_join(w.workers[i], NULL);

	TH_LOG("%ld ops, %ld waits, %ld events, %ld forks in %d s",
	       atomic_load(&w.ops), atomic_load(&w.waits),
	       atomic_load(&w.events), atomic_load(&w.forks), seconds);
	EXPECT_EQ(0, atomic_load(&w.lost)) TH_LOG("waits that lost the beacon");
	EXPECT_EQ(0, atomic_load(&w.stale)) TH_LOG("events of closed watches");
	EXPECT_EQ(0, atomic_load(&w.garbage)) TH_LOG("events with bad data");
	EXPECT_LT(1000, atomic_load(&w.ops));

	for (int i = 0; i < SLOTS; i++)
		close(w.slots[i].fd);
	for (int i = 0; i < INSTANCES; i++) {
		if (w.eps[i].has_ring)
			epollmod_ring_unmap(&w.eps[i].ring);
		close(w.eps[i].ep);
		close(w.eps[i].beacon);
	}
	if (be == &backend_epollmod) {
		EXPECT_EQ(before[0], epm_stat_settle("instances", before[0], 3000));
		EXPECT_EQ(before[1], epm_stat_settle("watches", before[1], 3000));
		EXPECT_EQ(before[2], epm_stat_settle("watched_files", before[2],
						     3000));
	}
	/* And the backend still works. */
	{
		int ep = ep_create1(0), efd = efd_new(1);
		struct epoll_event ev;

		ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 5));
		EXPECT_EQ(1, ep_wait(ep, &ev, 1, 0));
	}
}

EPM_HARNESS_MAIN
