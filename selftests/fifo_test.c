// SPDX-License-Identifier: GPL-2.0
/*
 * EPOLLMOD_OPT_FIFO_EXCLUSIVE: the options ioctl, the order in which
 * threads waiting on one instance are woken, and the order in which
 * instances sharing a file through EPOLLEXCLUSIVE watches are woken. The
 * default must be Linux's: each order is also taken on native epoll in the
 * same boot, and epollmod's default must equal it.
 *
 * Order tests start the waiters one by one, each confirmed asleep in the
 * wait (state S with a wchan in the wait, then a margin) before the next
 * starts or an event is sent, and send one event at a time, each only once
 * the previous one was taken.
 */
#include "lib/harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include <epollmod/epollmod.h>
#include <linux/epollmod.h>

#include "lib/backend.h"
#include "lib/kq.h"
#include "lib/util.h"

#define NWAITERS	4

FIXTURE(fifo) {
	int ep;
};

FIXTURE_SETUP(fifo)
{
	BACKEND_SELECT(&backend_epollmod);
	self->ep = epollmod_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, self->ep) TH_LOG("epollmod_create1: %s", strerror(errno));
}

FIXTURE_TEARDOWN(fifo)
{
	close(self->ep);
}

static int options_ioctl(int fd, uint32_t size, uint32_t flags, uint64_t *opt)
{
	struct epollmod_options arg = {
		.size = size, .flags = flags, .options = *opt,
	};
	int ret = ioctl(fd, EPOLLMOD_IOC_OPTIONS, &arg);

	*opt = arg.options;
	return ret;
}

TEST_F(fifo, options_return_the_previous_ones)
{
	uint64_t opt = EPOLLMOD_OPT_FIFO_EXCLUSIVE;

	ASSERT_EQ(0, options_ioctl(self->ep, 16, 0, &opt));
	EXPECT_EQ(0, opt);
	opt = EPOLLMOD_OPT_FIFO_EXCLUSIVE;
	ASSERT_EQ(0, options_ioctl(self->ep, 16, 0, &opt));
	EXPECT_EQ(EPOLLMOD_OPT_FIFO_EXCLUSIVE, opt);
	opt = 0;
	ASSERT_EQ(0, options_ioctl(self->ep, 16, 0, &opt));
	EXPECT_EQ(EPOLLMOD_OPT_FIFO_EXCLUSIVE, opt);
	opt = 0;
	ASSERT_EQ(0, options_ioctl(self->ep, 16, 0, &opt));
	EXPECT_EQ(0, opt);
}

TEST_F(fifo, unknown_option_einval_and_unchanged)
{
	unsigned long long old = 99;
	uint64_t opt = EPOLLMOD_OPT_FIFO_EXCLUSIVE;

	ASSERT_EQ(0, options_ioctl(self->ep, 16, 0, &opt));
	opt = EPOLLMOD_OPT_FIFO_EXCLUSIVE << 1;
	errno = 0;
	EXPECT_EQ(-1, options_ioctl(self->ep, 16, 0, &opt));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, epollmod_set_options(self->ep, 1ULL << 63, &old));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(99, old);
	/* Still set. */
	EXPECT_EQ(0, epollmod_set_options(self->ep, 0, &old));
	EXPECT_EQ(EPOLLMOD_FIFO_EXCLUSIVE, old);
}

TEST_F(fifo, flags_nonzero_einval_and_unchanged)
{
	unsigned long long old = 99;
	uint64_t opt = EPOLLMOD_OPT_FIFO_EXCLUSIVE;

	errno = 0;
	EXPECT_EQ(-1, options_ioctl(self->ep, 16, 1, &opt));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, epollmod_set_options(self->ep, 0, &old));
	EXPECT_EQ(0, old);
}

TEST_F(fifo, library_answers_for_other_fds)
{
	int efd = efd_new(0), closed = efd_new(0);
	int native = epoll_create1(EPOLL_CLOEXEC);

	close(closed);
	errno = 0;
	EXPECT_EQ(-1, epollmod_set_options(efd, EPOLLMOD_FIFO_EXCLUSIVE, NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, epollmod_set_options(native, 0, NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, epollmod_set_options(closed, 0, NULL));
	EXPECT_EQ(EBADF, errno);
	close(efd);
	close(native);
}

/* Options belong to kqueues too. */
TEST_F(fifo, kqueue_takes_options)
{
	unsigned long long old = 99;
	int kq = epollmod_kqueue();

	ASSERT_LE(0, kq);
	EXPECT_EQ(0, epollmod_set_options(kq, EPOLLMOD_FIFO_EXCLUSIVE, &old));
	EXPECT_EQ(0, old);
	EXPECT_EQ(0, epollmod_set_options(kq, 0, &old));
	EXPECT_EQ(EPOLLMOD_FIFO_EXCLUSIVE, old);
	close(kq);
}

/* ---- order of wakeups ---------------------------------------------- */

struct waiter {
	const struct backend *be;
	int ep, efd, id, rounds;
	atomic_int tid;
	atomic_int waits;		/* calls into the wait so far */
	atomic_int *next;		/* shared: index into order */
	int *order;			/* shared: who woke, in turn */
};

/* Is thread @tid asleep in an epoll wait? */
static bool asleep_in_wait(int tid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	if (read_text(path, buf, sizeof(buf)) < 0)
		return false;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || p[2] != 'S')
		return false;
	snprintf(path, sizeof(path), "/proc/self/task/%d/wchan", tid);
	if (read_text(path, buf, sizeof(buf)) < 0)
		return true;	/* no wchan: the state and the margin */
	/* The wait's function ("0" is a thread on its way to or from it). */
	return strstr(buf, "ep_poll") || strstr(buf, "epoll_wait") ||
	       strstr(buf, "epm_");
}

/* Wait until @w made its @n-th wait call and sleeps in it. */
static int settle(struct waiter *w, int n)
{
	int i;

	for (i = 0; i < 5000; i++) {
		if (atomic_load(&w->waits) >= n && atomic_load(&w->tid) &&
		    asleep_in_wait(atomic_load(&w->tid))) {
			sleep_ms(20);	/* the margin */
			return 0;
		}
		sleep_ms(1);
	}
	{
		char path[64], buf[128] = "?";

		snprintf(path, sizeof(path), "/proc/self/task/%d/wchan",
			 atomic_load(&w->tid));
		read_text(path, buf, sizeof(buf));
		fprintf(stderr, "# waiter %d not asleep in its wait %d: "
			"wchan %s\n", w->id, n, buf);
	}
	return -1;
}

static void *wait_rounds(void *p)
{
	struct waiter *w = p;
	struct epoll_event ev[1];
	uint64_t v;
	int r;

	atomic_store(&w->tid, (int)syscall(SYS_gettid));
	for (r = 0; r < w->rounds; r++) {
		atomic_fetch_add(&w->waits, 1);
		if (w->be->wait(w->ep, ev, 1, 30000) != 1)
			break;
		if (read(w->efd, &v, sizeof(v)) < 0)
			v = 0;	/* another instance's waiter drained it */
		w->order[atomic_fetch_add(w->next, 1)] = w->id;
	}
	return NULL;
}

/* Wait until @n wakeups were recorded. */
static int recorded(atomic_int *next, int n)
{
	int i;

	for (i = 0; i < 10000 && atomic_load(next) < n; i++)
		sleep_ms(1);
	return atomic_load(next) >= n ? 0 : -1;
}

/*
 * NWAITERS threads wait on one instance of @be, started in order, each
 * asleep before the next; NWAITERS single events wake them one at a time.
 * Fills @order with the waiters' ids in the order they woke; 0 or -1.
 */
static int threads_order(const struct backend *be, bool fifo, int *order)
{
	struct waiter w[NWAITERS];
	pthread_t t[NWAITERS];
	atomic_int next = 0;
	int ep = be->create1(EPOLL_CLOEXEC), efd = efd_new(0);
	struct epoll_event ev = ev_of(EPOLLIN | EPOLLET, 1);
	int i, ret = 0;

	/* be's own ctl: the fixture's backend is epollmod. */
	if (ep < 0 || efd < 0 || be->ctl(ep, EPOLL_CTL_ADD, efd, &ev) ||
	    (fifo && epollmod_set_options(ep, EPOLLMOD_FIFO_EXCLUSIVE, NULL)))
		return -1;
	for (i = 0; i < NWAITERS; i++) {
		w[i] = (struct waiter){.be = be, .ep = ep, .efd = efd, .id = i,
				       .rounds = 1, .next = &next,
				       .order = order};
		pthread_create(&t[i], NULL, wait_rounds, &w[i]);
		if (settle(&w[i], 1))
			ret = -1;
	}
	for (i = 0; i < NWAITERS; i++) {
		efd_add(efd, 1);
		if (recorded(&next, i + 1))
			ret = -1;
	}
	for (i = 0; i < NWAITERS; i++)
		pthread_join(t[i], NULL);
	close(efd);
	close(ep);
	return ret;
}

static void print_order(struct __test_metadata *_metadata, const char *what,
			const int *order, int n)
{
	char buf[128];
	int i, len = 0;

	for (i = 0; i < n; i++)
		len += snprintf(buf + len, sizeof(buf) - len, " %d", order[i]);
	TH_LOG("%s:%s", what, buf);
}

TEST_F(fifo, threads_default_order_is_natives_lifo)
{
	int native[NWAITERS], mod[NWAITERS], i;

	ASSERT_EQ(0, threads_order(&backend_native, false, native));
	ASSERT_EQ(0, threads_order(&backend_epollmod, false, mod));
	print_order(_metadata, "native", native, NWAITERS);
	print_order(_metadata, "epollmod", mod, NWAITERS);
	for (i = 0; i < NWAITERS; i++) {
		EXPECT_EQ(native[i], mod[i]);
		/* Linux's rule: the last to come is woken first. */
		EXPECT_EQ(NWAITERS - 1 - i, mod[i]);
	}
}

TEST_F(fifo, threads_fifo_order_is_arrival)
{
	int order[NWAITERS], i;

	ASSERT_EQ(0, threads_order(&backend_epollmod, true, order));
	print_order(_metadata, "fifo", order, NWAITERS);
	for (i = 0; i < NWAITERS; i++)
		EXPECT_EQ(i, order[i]);
}

#define ROUNDS 2

/*
 * NWAITERS instances of @be each watch one shared eventfd with
 * EPOLLEXCLUSIVE, added in order, one thread waiting on each. One event at
 * a time, each once the last woken thread is asleep again: fills @order
 * with the instance woken by each of NWAITERS * ROUNDS events.
 */
static int instances_order(const struct backend *be, bool fifo, int *order)
{
	struct waiter w[NWAITERS];
	pthread_t t[NWAITERS];
	atomic_int next = 0;
	int efd = efd_new(0), ep[NWAITERS];
	int i, ret = 0;

	for (i = 0; i < NWAITERS; i++) {
		struct epoll_event ev =
			ev_of(EPOLLIN | EPOLLET | EPOLLEXCLUSIVE, i);

		ep[i] = be->create1(EPOLL_CLOEXEC);
		if (ep[i] < 0 || be->ctl(ep[i], EPOLL_CTL_ADD, efd, &ev))
			return -1;
		if (fifo && epollmod_set_options(ep[i],
						 EPOLLMOD_FIFO_EXCLUSIVE, NULL))
			return -1;
	}
	for (i = 0; i < NWAITERS; i++) {
		w[i] = (struct waiter){.be = be, .ep = ep[i], .efd = efd,
				       /* One more: it waits after the last. */
				       .id = i, .rounds = ROUNDS * NWAITERS + 1,
				       .next = &next, .order = order};
		pthread_create(&t[i], NULL, wait_rounds, &w[i]);
		if (settle(&w[i], 1))
			ret = -1;
	}
	for (i = 0; i < NWAITERS * ROUNDS && !ret; i++) {
		int woken = 0, j;

		efd_add(efd, 1);
		if (recorded(&next, i + 1)) {
			ret = -1;
			break;
		}
		/* The woken one waits again before the next event. */
		for (j = 0; j <= i; j++)
			woken += order[j] == order[i];
		if (settle(&w[order[i]], woken + 1))
			ret = -1;
	}
	/* The waits are cancellation points, native's and the library's. */
	for (i = 0; i < NWAITERS; i++)
		pthread_cancel(t[i]);
	for (i = 0; i < NWAITERS; i++) {
		pthread_join(t[i], NULL);
		close(ep[i]);
	}
	close(efd);
	return ret;
}

TEST_F(fifo, exclusive_instances_default_order_is_natives)
{
	int native[NWAITERS * ROUNDS], mod[NWAITERS * ROUNDS], i;

	ASSERT_EQ(0, instances_order(&backend_native, false, native));
	ASSERT_EQ(0, instances_order(&backend_epollmod, false, mod));
	print_order(_metadata, "native", native, NWAITERS * ROUNDS);
	print_order(_metadata, "epollmod", mod, NWAITERS * ROUNDS);
	for (i = 0; i < NWAITERS * ROUNDS; i++)
		EXPECT_EQ(native[i], mod[i]);
}

TEST_F(fifo, exclusive_instances_fifo_take_turns)
{
	int order[NWAITERS * ROUNDS], i;

	ASSERT_EQ(0, instances_order(&backend_epollmod, true, order));
	print_order(_metadata, "fifo", order, NWAITERS * ROUNDS);
	for (i = 0; i < NWAITERS * ROUNDS; i++)
		EXPECT_EQ(i % NWAITERS, order[i]);
}

EPM_HARNESS_MAIN
