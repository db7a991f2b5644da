// SPDX-License-Identifier: GPL-2.0
/*
 * The ready ring (EPOLLMOD_IOC_RING, <epollmod/ring.h>): events harvested
 * from shared memory. Where native epoll has the behaviour, the same
 * scenario runs through native epoll_wait() and the two must agree; the
 * rest is checked against the protocol the uapi header describes.
 */
#include "lib/harness.h"

#include <pthread.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <linux/epollmod.h>
#include <epollmod/epollmod.h>
#include <epollmod/kqueue.h>
#include <epollmod/ring.h>

#include "lib/util.h"

FIXTURE(ring) {
	int ep;
	struct epollmod_ring ring;
};

FIXTURE_SETUP(ring)
{
	self->ep = epollmod_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, self->ep);
	ASSERT_EQ(0, epollmod_ring_setup(self->ep, 16, &self->ring));
}

FIXTURE_TEARDOWN(ring)
{
	if (self->ring.map)
		epollmod_ring_unmap(&self->ring);
	close(self->ep);
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = ev_of(events, data);

	return epollmod_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int harvest(struct epollmod_ring *ring, struct epoll_event *ev, int n)
{
	memset(ev, POISON_BYTE, n * sizeof(*ev));
	return epollmod_ring_harvest(ring, ev, n);
}

TEST_F(ring, harvest_makes_no_system_call_into_the_module)
{
	struct epoll_event ev[4];
	int efd = efd_new(1);
	long waits;

	ASSERT_EQ(0, add(self->ep, efd, EPOLLIN | EPOLLET, 0x1234));
	waits = epm_stat("waits");
	ASSERT_EQ(1, harvest(&self->ring, ev, 4));
	EXPECT_EQ(native_events(efd, EPOLLIN), ev[0].events);
	EXPECT_EQ(0x1234, ev[0].data.u64);
	EXPECT_EQ(waits, epm_stat("waits"));
	close(efd);
}

TEST_F(ring, edge_events_coalesce)
{
	struct epoll_event ev[4];
	int efd = efd_new(0);

	ASSERT_EQ(0, add(self->ep, efd, EPOLLIN | EPOLLET, 1));
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, efd_add(efd, 1));
	EXPECT_EQ(1, harvest(&self->ring, ev, 4));
	EXPECT_EQ(0, harvest(&self->ring, ev, 4));
	close(efd);
}

TEST_F(ring, edge_reported_again_on_new_event)
{
	struct epoll_event ev[4];
	int efd = efd_new(0);

	ASSERT_EQ(0, add(self->ep, efd, EPOLLIN | EPOLLET, 1));
	ASSERT_EQ(0, efd_add(efd, 1));
	ASSERT_EQ(1, harvest(&self->ring, ev, 4));
	ASSERT_EQ(0, efd_add(efd, 1));
	EXPECT_EQ(1, harvest(&self->ring, ev, 4));
	close(efd);
}

/* Level-triggered: polled again when the owner enters a wait, as native. */
TEST_F(ring, level_repolled_by_the_next_wait)
{
	struct epoll_event ev[4];
	int efd = efd_new(1);

	ASSERT_EQ(0, add(self->ep, efd, EPOLLIN, 7));
	ASSERT_EQ(1, harvest(&self->ring, ev, 4));
	EXPECT_EQ(0, harvest(&self->ring, ev, 4));
	EXPECT_EQ(1, epollmod_ring_wait(&self->ring, ev, 4, 0));
	EXPECT_EQ(7, ev[0].data.u64);
	/* Not readable any more: a wait finds nothing, as native's. */
	ASSERT_EQ(0, efd_drain(efd));
	EXPECT_EQ(0, epollmod_ring_wait(&self->ring, ev, 4, 0));
	EXPECT_EQ(0, native_events(efd, EPOLLIN));
	close(efd);
}

TEST_F(ring, oneshot_once_until_mod)
{
	struct epoll_event ev[4], mod = ev_of(EPOLLIN | EPOLLONESHOT, 9);
	int efd = efd_new(1);

	ASSERT_EQ(0, add(self->ep, efd, EPOLLIN | EPOLLONESHOT, 9));
	ASSERT_EQ(1, harvest(&self->ring, ev, 4));
	ASSERT_EQ(0, efd_add(efd, 1));
	EXPECT_EQ(0, epollmod_ring_wait(&self->ring, ev, 4, 0));
	ASSERT_EQ(0, epollmod_ctl(self->ep, EPOLL_CTL_MOD, efd, &mod));
	EXPECT_EQ(1, harvest(&self->ring, ev, 4));
	close(efd);
}

TEST_F(ring, removed_watch_never_harvested)
{
	struct epoll_event ev[4];
	int a = efd_new(1);

	ASSERT_EQ(0, add(self->ep, a, EPOLLIN | EPOLLET, 1));
	ASSERT_EQ(0, epollmod_ctl(self->ep, EPOLL_CTL_DEL, a, NULL));
	EXPECT_EQ(0, harvest(&self->ring, ev, 4));
	close(a);
}

/* A new watch in the removed one's slot gets only its own events. */
TEST_F(ring, reused_slot_gets_no_old_event)
{
	struct epoll_event ev[4];
	int a = efd_new(1), b = efd_new(0);

	ASSERT_EQ(0, add(self->ep, a, EPOLLIN | EPOLLET, 1));
	ASSERT_EQ(0, epollmod_ctl(self->ep, EPOLL_CTL_DEL, a, NULL));
	ASSERT_EQ(0, add(self->ep, b, EPOLLIN | EPOLLET, 2));
	EXPECT_EQ(0, harvest(&self->ring, ev, 4));
	ASSERT_EQ(0, efd_add(b, 1));
	ASSERT_EQ(1, harvest(&self->ring, ev, 4));
	EXPECT_EQ(2, ev[0].data.u64);
	EXPECT_EQ(0, harvest(&self->ring, ev, 4));
	close(a);
	close(b);
}

TEST_F(ring, closed_file_never_harvested)
{
	struct epoll_event ev[4];
	int a = efd_new(1);

	ASSERT_EQ(0, add(self->ep, a, EPOLLIN | EPOLLET, 1));
	close(a);
	EXPECT_EQ(0, harvest(&self->ring, ev, 4));
}

/* epoll_wait() on a ring instance: the same events as native's. */
TEST_F(ring, plain_wait_agrees_with_native)
{
	int nep = epoll_create1(EPOLL_CLOEXEC), fds[3];
	struct epoll_event ev[8], nev[8];
	uint64_t seen = 0, nseen = 0;

	for (int i = 0; i < 3; i++) {
		fds[i] = efd_new(i != 1);
		ASSERT_EQ(0, add(self->ep, fds[i], EPOLLIN, i));
		ASSERT_EQ(0, epoll_ctl(nep, EPOLL_CTL_ADD, fds[i],
				       &(struct epoll_event){ EPOLLIN, { .u64 = i } }));
	}
	int n = epollmod_wait(self->ep, ev, 8, 0);
	int nn = epoll_wait(nep, nev, 8, 0);

	ASSERT_EQ(nn, n);
	for (int i = 0; i < n; i++) {
		seen |= 1ull << ev[i].data.u64;
		nseen |= 1ull << nev[i].data.u64;
		EXPECT_EQ(EPOLLIN, ev[i].events);
	}
	EXPECT_EQ(nseen, seen);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	close(nep);
}

TEST_F(ring, more_watches_than_slots_enospc)
{
	int fds[17], i;

	for (i = 0; i < 16; i++) {
		fds[i] = efd_new(1);
		ASSERT_EQ(0, add(self->ep, fds[i], EPOLLIN | EPOLLET, i));
	}
	fds[16] = efd_new(1);
	EXPECT_EQ(-1, add(self->ep, fds[16], EPOLLIN, 16));
	EXPECT_EQ(ENOSPC, errno);
	/* Every slot ready at once: the ring holds them all. */
	struct epoll_event ev[32];

	EXPECT_EQ(16, harvest(&self->ring, ev, 32));
	for (i = 0; i < 17; i++)
		close(fds[i]);
}

/*
 * A removed watch's entry still on the ring holds its slot until a
 * consumer passes it: the ring never holds two entries of one slot.
 */
TEST(removed_entry_holds_its_slot_until_taken)
{
	struct epollmod_ring r;
	int ep = epollmod_create1(0), a = efd_new(1), b = efd_new(1);
	int c = efd_new(1);
	struct epoll_event ev[4];

	ASSERT_EQ(0, epollmod_ring_setup(ep, 2, &r));
	ASSERT_EQ(0, add(ep, a, EPOLLIN | EPOLLET, 1));
	ASSERT_EQ(0, add(ep, b, EPOLLIN | EPOLLET, 2));
	ASSERT_EQ(0, epollmod_ctl(ep, EPOLL_CTL_DEL, a, NULL));
	EXPECT_EQ(-1, add(ep, c, EPOLLIN | EPOLLET, 3));
	EXPECT_EQ(ENOSPC, errno);
	ASSERT_EQ(1, epollmod_ring_harvest(&r, ev, 4));
	EXPECT_EQ(2, ev[0].data.u64);
	EXPECT_EQ(0, add(ep, c, EPOLLIN | EPOLLET, 3));
	ASSERT_EQ(1, epollmod_ring_harvest(&r, ev, 4));
	EXPECT_EQ(3, ev[0].data.u64);
	epollmod_ring_unmap(&r);
	close(a);
	close(b);
	close(c);
	close(ep);
}

TEST_F(ring, epollwakeup_refused)
{
	int efd = efd_new(0);

	EXPECT_EQ(-1, add(self->ep, efd, EPOLLIN | EPOLLWAKEUP, 0));
	EXPECT_EQ(EINVAL, errno);
	close(efd);
}

TEST(setup_twice_ebusy)
{
	struct epollmod_ring r1, r2;
	int ep = epollmod_create1(0);

	ASSERT_EQ(0, epollmod_ring_setup(ep, 4, &r1));
	EXPECT_EQ(-1, epollmod_ring_setup(ep, 4, &r2));
	EXPECT_EQ(EBUSY, errno);
	epollmod_ring_unmap(&r1);
	close(ep);
}

TEST(setup_after_add_ebusy)
{
	struct epollmod_ring r;
	int ep = epollmod_create1(0), efd = efd_new(0);
	struct epoll_event ev = ev_of(EPOLLIN, 0);

	ASSERT_EQ(0, epollmod_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	EXPECT_EQ(-1, epollmod_ring_setup(ep, 4, &r));
	EXPECT_EQ(EBUSY, errno);
	close(efd);
	close(ep);
}

TEST(setup_bad_slots_einval)
{
	struct epollmod_ring r;
	int ep = epollmod_create1(0);

	EXPECT_EQ(-1, epollmod_ring_setup(ep, 0, &r));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, epollmod_ring_setup(ep, EPOLLMOD_RING_MAX_SLOTS + 1, &r));
	EXPECT_EQ(EINVAL, errno);
	close(ep);
}

TEST(setup_on_kqueue_einval)
{
	struct epollmod_ring r;
	int kq = epollmod_kqueue();

	ASSERT_LE(0, kq);
	EXPECT_EQ(-1, epollmod_ring_setup(kq, 4, &r));
	EXPECT_EQ(EINVAL, errno);
	close(kq);
}

TEST(mmap_without_ring_enodev)
{
	int ep = epollmod_create1(0);

	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED, ep, 0));
	EXPECT_EQ(ENODEV, errno);
	close(ep);
}

TEST(mmap_wrong_size_offset_or_private_einval)
{
	struct epollmod_ring r;
	int ep = epollmod_create1(0);

	ASSERT_EQ(0, epollmod_ring_setup(ep, 4, &r));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, r.map_size + 4096, PROT_READ,
				   MAP_SHARED, ep, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, r.map_size, PROT_READ, MAP_SHARED,
				   ep, 4096));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, r.map_size, PROT_READ, MAP_PRIVATE,
				   ep, 0));
	EXPECT_EQ(EINVAL, errno);
	epollmod_ring_unmap(&r);
	close(ep);
}

/* A second mapping is the same memory: what one takes the other sees. */
TEST_F(ring, second_mapping_shares_the_ring)
{
	void *map2 = mmap(NULL, self->ring.map_size, PROT_READ | PROT_WRITE,
			  MAP_SHARED, self->ep, 0);
	struct epollmod_ring other = self->ring;
	struct epoll_event ev[4];
	int efd = efd_new(1);

	ASSERT_NE(MAP_FAILED, map2);
	other.map = map2;
	other.header = map2;
	other.slots = (char *)map2 + ((char *)self->ring.slots -
				      (char *)self->ring.map);
	other.entries = (uint64_t *)((char *)map2 +
				     ((char *)self->ring.entries -
				      (char *)self->ring.map));
	ASSERT_EQ(0, add(self->ep, efd, EPOLLIN | EPOLLET, 5));
	EXPECT_EQ(1, harvest(&other, ev, 4));
	EXPECT_EQ(0, harvest(&self->ring, ev, 4));
	munmap(map2, self->ring.map_size);
	close(efd);
}

TEST_F(ring, fork_child_harvests_from_its_mapping)
{
	struct epoll_event ev[4];
	int efd = efd_new(0), status;
	pid_t pid;

	ASSERT_EQ(0, add(self->ep, efd, EPOLLIN | EPOLLET, 3));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		efd_add(efd, 1);
		_exit(harvest(&self->ring, ev, 4) == 1 &&
		      ev[0].data.u64 == 3 ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, harvest(&self->ring, ev, 4));
	close(efd);
}

TEST(munmap_before_close)
{
	struct epollmod_ring r;
	int ep = epollmod_create1(0), efd = efd_new(1);
	struct epoll_event ev = ev_of(EPOLLIN, 1);

	ASSERT_EQ(0, epollmod_ring_setup(ep, 4, &r));
	ASSERT_EQ(0, epollmod_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	ASSERT_EQ(0, epollmod_ring_unmap(&r));
	/* The instance still works, through the module. */
	EXPECT_EQ(1, epollmod_wait(ep, &ev, 1, 0));
	close(ep);
	close(efd);
}

TEST(close_before_munmap)
{
	struct epollmod_ring r;
	int ep = epollmod_create1(0), efd = efd_new(1);
	struct epoll_event ev = ev_of(EPOLLIN | EPOLLET, 1);

	ASSERT_EQ(0, epollmod_ring_setup(ep, 4, &r));
	ASSERT_EQ(0, epollmod_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	close(ep);
	/* The mapping keeps the ring: the event is still there to take. */
	EXPECT_EQ(1, epollmod_ring_harvest(&r, &ev, 1));
	EXPECT_EQ(0, epollmod_ring_unmap(&r));
	close(efd);
}

TEST(memlock_limit_enomem)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (!pid) {
		struct rlimit lim = { 0, 0 };
		cap_t caps = cap_get_proc();
		cap_value_t lock = CAP_IPC_LOCK;
		struct epollmod_ring r;
		int ep;

		cap_set_flag(caps, CAP_EFFECTIVE, 1, &lock, CAP_CLEAR);
		if (cap_set_proc(caps) || setrlimit(RLIMIT_MEMLOCK, &lim))
			_exit(2);
		ep = epollmod_create1(0);
		_exit(epollmod_ring_setup(ep, 4, &r) == -1 && errno == ENOMEM ?
		      0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

struct harvester {
	struct epollmod_ring *ring;
	volatile int *stop;
	uint8_t *seen;
	int count, dups;
};

static void *harvest_thread(void *arg)
{
	struct harvester *h = arg;
	struct epoll_event ev[8];

	for (;;) {
		int n = epollmod_ring_harvest(h->ring, ev, 8);

		for (int i = 0; i < n; i++) {
			if (__atomic_fetch_add(&h->seen[ev[i].data.u64], 1,
					       __ATOMIC_RELAXED))
				h->dups++;
			h->count++;
		}
		if (!n && *h->stop)
			break;
	}
	return NULL;
}

/* Threads harvesting one ring: every event once, to one of them. */
TEST(threads_harvest_concurrently)
{
	enum { FDS = 200, THREADS = 4 };
	struct harvester h[THREADS];
	struct epollmod_ring r;
	pthread_t t[THREADS];
	uint8_t seen[FDS] = { 0 };
	volatile int stop = 0;
	int ep = epollmod_create1(0), fds[FDS], total = 0, dups = 0;

	ASSERT_EQ(0, epollmod_ring_setup(ep, FDS, &r));
	for (int i = 0; i < FDS; i++) {
		struct epoll_event ev = ev_of(EPOLLIN | EPOLLET, i);

		fds[i] = efd_new(0);
		ASSERT_EQ(0, epollmod_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev));
	}
	for (int i = 0; i < THREADS; i++) {
		h[i] = (struct harvester){ &r, &stop, seen, 0, 0 };
		pthread_create(&t[i], NULL, harvest_thread, &h[i]);
	}
	for (int i = 0; i < FDS; i++)
		efd_add(fds[i], 1);
	stop = 1;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		total += h[i].count;
		dups += h[i].dups;
	}
	/* Whatever the threads left after stop, the ring still holds. */
	struct epoll_event rest[FDS];
	int left = epollmod_ring_harvest(&r, rest, FDS);

	for (int i = 0; i < left; i++)
		seen[rest[i].data.u64]++;
	EXPECT_EQ(FDS, total + left);
	EXPECT_EQ(0, dups);
	int wrong = 0;

	for (int i = 0; i < FDS; i++)
		wrong += seen[i] != 1;
	EXPECT_EQ(0, wrong);
	epollmod_ring_unmap(&r);
	for (int i = 0; i < FDS; i++)
		close(fds[i]);
	close(ep);
}

/* A ring instance in native epoll: readable while its ring holds events. */
TEST_F(ring, nested_in_native_epoll)
{
	int nep = epoll_create1(EPOLL_CLOEXEC), efd = efd_new(0);
	struct epoll_event ev = ev_of(EPOLLIN, 0), out[4];

	ASSERT_EQ(0, epoll_ctl(nep, EPOLL_CTL_ADD, self->ep, &ev));
	ASSERT_EQ(0, add(self->ep, efd, EPOLLIN | EPOLLET, 1));
	EXPECT_EQ(0, epoll_wait(nep, out, 4, 0));
	ASSERT_EQ(0, efd_add(efd, 1));
	EXPECT_EQ(1, epoll_wait(nep, out, 4, 1000));
	ASSERT_EQ(1, harvest(&self->ring, out, 4));
	close(efd);
	close(nep);
}

/* A sleeping ring_wait() wakes for an event from another thread. */
static void post_event(void *efd)
{
	efd_add(*(int *)efd, 1);
}

TEST_F(ring, wait_sleeps_until_an_event)
{
	struct epoll_event ev[4];
	int efd = efd_new(0);
	pthread_t t;

	ASSERT_EQ(0, add(self->ep, efd, EPOLLIN | EPOLLET, 4));
	ASSERT_EQ(0, act_when_asleep(&t, post_event, &efd));
	EXPECT_EQ(1, epollmod_ring_wait(&self->ring, ev, 4, 10000));
	EXPECT_EQ(4, ev[0].data.u64);
	EXPECT_EQ(0, join_act(t));
	close(efd);
}

EPM_HARNESS_MAIN
