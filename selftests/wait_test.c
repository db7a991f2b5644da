// SPDX-License-Identifier: GPL-2.0
/*
 * epoll_wait(2), epoll_pwait(2) and epoll_pwait2(2), differentially: every
 * errno path on its own, the events buffer, timeouts, signals and the
 * atomicity of the signal mask.
 */
#include "lib/harness.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>

#include "lib/backend.h"
#include "lib/util.h"

DIFF_FIXTURE(wait);

#define EXPECT_FAILS(err, call) do {					\
	errno = 0;							\
	EXPECT_EQ(-1, (call));						\
	EXPECT_EQ(err, errno) TH_LOG("errno %d (%s)", errno,		\
				     strerror(errno));			\
} while (0)

#define MAX_EVENTS ((int)(INT_MAX / sizeof(struct epoll_event)))

TEST_F(wait, bad_epfd_ebadf)
{
	struct epoll_event out[1];
	int closed = efd_new(0);

	close(closed);
	EXPECT_FAILS(EBADF, ep_wait(-1, out, 1, 0));
	EXPECT_FAILS(EBADF, ep_wait(closed, out, 1, 0));
	EXPECT_FAILS(EBADF, ep_pwait(closed, out, 1, 0, NULL));
	EXPECT_FAILS(EBADF, ep_pwait2(closed, out, 1, NULL, NULL));
}

TEST_F(wait, epfd_not_an_instance_einval)
{
	int efd = efd_new(1), foreign = other_backend_instance();
	struct epoll_event out[1];

	EXPECT_FAILS(EINVAL, ep_wait(efd, out, 1, 0));
	EXPECT_FAILS(EINVAL, ep_pwait(efd, out, 1, -1, NULL));
	EXPECT_FAILS(EINVAL, ep_pwait2(efd, out, 1, NULL, NULL));
	if (foreign >= 0) {
		EXPECT_FAILS(EINVAL, ep_wait(foreign, out, 1, -1));
	}
}

/*
 * A bad fd and a bad maxevents or buffer at once: which fault is reported
 * depends on the running kernel. Up to 6.14 epoll_wait checks maxevents
 * and the buffer first; from 6.15 on it looks the fd up first. Native
 * epoll in this boot is the oracle (it must give one of the two), and the
 * backend must give the same. The signal mask comes before either on every
 * kernel.
 */
static int native_wait_errno(int epfd, struct epoll_event *events,
			     int maxevents)
{
	errno = 0;
	if (backend_native.wait(epfd, events, maxevents, 0) != -1)
		return 0;
	return errno;
}

TEST_F(wait, epfd_and_arguments_bad_as_native)
{
	struct epoll_event out[1], *kbuf = (struct epoll_event *)-4096L;
	int closed = efd_new(0), native;

	close(closed);
	native = native_wait_errno(-1, out, 0);
	EXPECT_TRUE(native == EBADF || native == EINVAL)
		TH_LOG("native: errno %d", native);
	EXPECT_FAILS(native, ep_wait(-1, out, 0, 0));
	EXPECT_FAILS(native, ep_wait(closed, out, 0, 0));

	native = native_wait_errno(-1, kbuf, 1);
	EXPECT_TRUE(native == EBADF || native == EFAULT)
		TH_LOG("native: errno %d", native);
	EXPECT_FAILS(native, ep_wait(-1, kbuf, 1, 0));
	EXPECT_FAILS(native, ep_pwait2(closed, kbuf, 1, NULL, NULL));

	EXPECT_FAILS(EFAULT, ep_pwait(-1, out, 1, 0, (sigset_t *)-4096L));
}

TEST_F(wait, maxevents_zero_einval)
{
	struct epoll_event out[1];
	int ep = ep_create1(0);

	EXPECT_FAILS(EINVAL, ep_wait(ep, out, 0, 0));
	EXPECT_FAILS(EINVAL, ep_pwait(ep, out, 0, 0, NULL));
	EXPECT_FAILS(EINVAL, ep_pwait2(ep, out, 0, NULL, NULL));
}

TEST_F(wait, maxevents_negative_einval)
{
	struct epoll_event out[1];
	int ep = ep_create1(0);

	EXPECT_FAILS(EINVAL, ep_wait(ep, out, -1, 0));
	EXPECT_FAILS(EINVAL, ep_wait(ep, out, INT_MIN, 0));
}

TEST_F(wait, maxevents_too_many_einval)
{
	struct epoll_event out[1];
	int ep = ep_create1(0);

	EXPECT_FAILS(EINVAL, ep_wait(ep, out, MAX_EVENTS + 1, 0));
	EXPECT_FAILS(EINVAL, ep_wait(ep, out, INT_MAX, 0));
}

/* The largest maxevents is fine if the whole buffer is user space. */
TEST_F(wait, maxevents_largest_accepted)
{
	size_t len = (size_t)MAX_EVENTS * sizeof(struct epoll_event);
	void *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	int ep = ep_create1(0), efd = efd_new(1);

	ASSERT_NE(MAP_FAILED, buf);
	EXPECT_EQ(0, ep_wait(ep, buf, MAX_EVENTS, 0));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 5));
	EXPECT_EQ(1, ep_wait(ep, buf, MAX_EVENTS, 0));
	EXPECT_EQ(5, ((struct epoll_event *)buf)[0].data.u64);
	munmap(buf, len);
}

/* maxevents is checked before the buffer. */
TEST_F(wait, einval_before_efault)
{
	int ep = ep_create1(0);

	EXPECT_FAILS(EINVAL, ep_wait(ep, (struct epoll_event *)-4096L, 0, 0));
}

/* A buffer outside user space is refused up front. */
TEST_F(wait, kernel_buffer_efault)
{
	int ep = ep_create1(0);

	EXPECT_FAILS(EFAULT, ep_wait(ep, (struct epoll_event *)-4096L, 1, 0));
	EXPECT_FAILS(EFAULT, ep_pwait2(ep, (struct epoll_event *)-4096L, 1,
				       NULL, NULL));
}

/* A NULL buffer is a user address: it only faults when an event comes. */
TEST_F(wait, null_buffer_faults_on_event)
{
	struct epoll_event out[1];
	int ep = ep_create1(0), efd = efd_new(0);

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
	EXPECT_EQ(0, ep_wait(ep, NULL, 1, 0));
	ASSERT_EQ(0, efd_add(efd, 1));
	EXPECT_FAILS(EFAULT, ep_wait(ep, NULL, 1, 0));
	/* The event that could not be copied is still there. */
	POISON(out);
	ASSERT_EQ(1, ep_wait(ep, out, 1, 0));
	EXPECT_EQ(1, out[0].data.u64);
}

/* Unmapped buffer: EFAULT, and nothing is lost, even edge-triggered. */
TEST_F(wait, unmapped_buffer_keeps_events)
{
	long page = sysconf(_SC_PAGESIZE);
	struct epoll_event *none = mmap(NULL, page, PROT_READ,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ep = ep_create1(0), efd = efd_new(1);
	struct epoll_event out[2];

	ASSERT_NE(MAP_FAILED, none);
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLET, 7));
	EXPECT_FAILS(EFAULT, ep_wait(ep, none, 2, 0));
	POISON(out);
	ASSERT_EQ(1, ep_wait(ep, out, 2, 0));
	EXPECT_EQ(7, out[0].data.u64);
	EXPECT_EQ(0, ep_wait(ep, out, 2, 0));
}

/* A buffer that ends mid-way: the events that fit are returned. */
TEST_F(wait, partial_buffer_returns_what_fits)
{
	long page = sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ep = ep_create1(0), a = efd_new(1), b = efd_new(1);
	struct epoll_event *tail, out[2];

	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mprotect(map + page, page, PROT_READ));
	tail = (struct epoll_event *)(map + page) - 1;
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN | EPOLLET, 1));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, b, EPOLLIN | EPOLLET, 2));
	ASSERT_EQ(1, ep_wait(ep, tail, 2, 0));
	EXPECT_EQ(1, tail[0].data.u64);
	POISON(out);
	ASSERT_EQ(1, ep_wait(ep, out, 2, 0));
	EXPECT_EQ(2, out[0].data.u64);
}

TEST_F(wait, empty_instance_returns_zero)
{
	struct epoll_event out[4];
	int ep = ep_create1(0);

	POISON(out);
	EXPECT_EQ(0, ep_wait(ep, out, 4, 0));
	EXPECT_EQ(0, ep_pwait(ep, out, 4, 0, NULL));
	struct timespec zero = { 0, 0 };

	EXPECT_EQ(0, ep_pwait2(ep, out, 4, &zero, NULL));
	/* Nothing written. */
	EXPECT_EQ(POISON_BYTE, ((unsigned char *)out)[0]);
}

TEST_F(wait, timeout_is_honoured)
{
	struct epoll_event out[1];
	int ep = ep_create1(0);
	int64_t start = now_ns();

	EXPECT_EQ(0, ep_wait(ep, out, 1, 10));
	/* Never early; late only by what a busy emulated machine costs. */
	EXPECT_LE(10000000, now_ns() - start);
	EXPECT_GT(2000000000, now_ns() - start);
}

TEST_F(wait, pwait2_timeout_is_honoured)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	struct epoll_event out[1];
	int ep = ep_create1(0);
	int64_t start = now_ns();

	EXPECT_EQ(0, ep_pwait2(ep, out, 1, &ts, NULL));
	EXPECT_LE(10000000, now_ns() - start);
	EXPECT_GT(2000000000, now_ns() - start);
}

TEST_F(wait, pwait2_nanosecond_timeout)
{
	struct timespec ts = { 0, 1 };
	struct epoll_event out[1];
	int ep = ep_create1(0);

	EXPECT_EQ(0, ep_pwait2(ep, out, 1, &ts, NULL));
}

TEST_F(wait, pwait2_invalid_timespec_einval)
{
	struct timespec bad[] = { { 0, 1000000000 }, { 0, -1 }, { -1, 0 },
				  { -1, 500 } };
	struct epoll_event out[1];
	int ep = ep_create1(0);

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_FAILS(EINVAL, ep_pwait2(ep, out, 1, &bad[i], NULL));
	}
}

TEST_F(wait, pwait2_timespec_efault)
{
	struct epoll_event out[1];
	int ep = ep_create1(0);

	EXPECT_FAILS(EFAULT, ep_pwait2(ep, out, 1,
				       (struct timespec *)-4096L, NULL));
}

/* The timeout is read before maxevents is checked. */
TEST_F(wait, pwait2_timespec_checked_first)
{
	struct timespec bad = { 0, -1 };
	struct epoll_event out[1];
	int ep = ep_create1(0);

	EXPECT_FAILS(EINVAL, ep_pwait2(ep, out, 0, &bad, NULL));
	EXPECT_FAILS(EFAULT, ep_pwait2(ep, out, 0, (struct timespec *)-4096L,
				       NULL));
}

TEST_F(wait, sigmask_efault)
{
	struct epoll_event out[1];
	int ep = ep_create1(0);

	EXPECT_FAILS(EFAULT, ep_pwait(ep, out, 1, 0, (sigset_t *)-4096L));
	/* ... before maxevents is looked at. */
	EXPECT_FAILS(EFAULT, ep_pwait(ep, out, 0, 0, (sigset_t *)-4096L));
}

TEST_F(wait, sigsetsize_einval)
{
	struct epoll_event out[1];
	uint64_t mask = 0;
	int ep = ep_create1(0);

	EXPECT_FAILS(EINVAL, ep_raw_pwait(ep, out, 1, 0, &mask, 4));
	EXPECT_FAILS(EINVAL, ep_raw_pwait(ep, out, 1, 0, &mask, 16));
	EXPECT_FAILS(EINVAL, ep_raw_pwait(ep, out, 0, 0, &mask, 4));
	/* Without a mask the size does not matter. */
	EXPECT_EQ(0, ep_raw_pwait(ep, out, 1, 0, NULL, 4));
	EXPECT_EQ(0, ep_raw_pwait(ep, out, 1, 0, &mask, 8));
}

/* A waiter blocked for ever is woken by the event. */
struct later {
	int fd;
	int ms;
	pthread_t target;
	int sig;
};

static void *write_later(void *arg)
{
	struct later *l = arg;

	sleep_ms(l->ms);
	efd_add(l->fd, 1);
	return NULL;
}

static void *signal_later(void *arg)
{
	struct later *l = arg;

	sleep_ms(l->ms);
	pthread_kill(l->target, l->sig);
	return NULL;
}

TEST_F(wait, infinite_wait_woken_by_event)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct later l = { .fd = efd, .ms = 50 };
	struct epoll_event out[1];
	pthread_t t;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 3));
	ASSERT_EQ(0, pthread_create(&t, NULL, write_later, &l));
	POISON(out);
	EXPECT_EQ(1, ep_wait(ep, out, 1, -1));
	EXPECT_EQ(3, out[0].data.u64);
	pthread_join(t, NULL);
}

TEST_F(wait, pwait2_null_timeout_blocks_until_event)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct later l = { .fd = efd, .ms = 50 };
	struct epoll_event out[1];
	pthread_t t;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 3));
	ASSERT_EQ(0, pthread_create(&t, NULL, write_later, &l));
	EXPECT_EQ(1, ep_pwait2(ep, out, 1, NULL, NULL));
	pthread_join(t, NULL);
}

static volatile int handled;
static sigset_t mask_in_handler;

static void note_signal(int sig)
{
	handled++;
	pthread_sigmask(SIG_BLOCK, NULL, &mask_in_handler);
}

static void install(int sig, int flags)
{
	struct sigaction sa = { .sa_handler = note_signal, .sa_flags = flags };

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* A signal ends the wait with EINTR, even with SA_RESTART. */
TEST_F(wait, signal_eintr)
{
	struct epoll_event out[1];
	int ep = ep_create1(0);
	pthread_t t;

	install(SIGUSR1, 0);
	ASSERT_EQ(0, signal_when_asleep(&t, SIGUSR1));
	EXPECT_FAILS(EINTR, ep_wait(ep, out, 1, -1));
	EXPECT_EQ(1, handled);
	EXPECT_EQ(0, join_act(t));
}

TEST_F(wait, signal_eintr_despite_sa_restart)
{
	struct epoll_event out[1];
	int ep = ep_create1(0);
	pthread_t t;

	install(SIGUSR1, SA_RESTART);
	ASSERT_EQ(0, signal_when_asleep(&t, SIGUSR1));
	EXPECT_FAILS(EINTR, ep_wait(ep, out, 1, 5000));
	EXPECT_EQ(1, handled);
	EXPECT_EQ(0, join_act(t));
}

static bool blocked(int sig)
{
	sigset_t cur;

	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, sig);
}

/*
 * A signal blocked by the thread but not by pwait's mask is delivered
 * during the wait: EINTR, the handler runs under the wait's mask, and the
 * thread's own mask is back afterwards.
 */
TEST_F(wait, sigmask_admits_signal_during_wait)
{
	struct later l = { .ms = 50, .target = pthread_self(), .sig = SIGUSR1 };
	struct epoll_event out[1];
	int ep = ep_create1(0);
	sigset_t block, during;
	pthread_t t;

	install(SIGUSR1, 0);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &block, NULL));
	/* While waiting: SIGUSR1 open, SIGUSR2 blocked. */
	sigemptyset(&during);
	sigaddset(&during, SIGUSR2);

	ASSERT_EQ(0, pthread_create(&t, NULL, signal_later, &l));
	EXPECT_FAILS(EINTR, ep_pwait(ep, out, 1, 5000, &during));
	pthread_join(t, NULL);
	EXPECT_EQ(1, handled);
	EXPECT_TRUE(sigismember(&mask_in_handler, SIGUSR2));
	EXPECT_TRUE(sigismember(&mask_in_handler, SIGUSR1)); /* itself */
	EXPECT_TRUE(blocked(SIGUSR1));
	EXPECT_FALSE(blocked(SIGUSR2));
}

TEST_F(wait, sigmask_admits_signal_pwait2)
{
	struct later l = { .ms = 50, .target = pthread_self(), .sig = SIGUSR1 };
	struct timespec ts = { 5, 0 };
	struct epoll_event out[1];
	int ep = ep_create1(0);
	sigset_t block, during;
	pthread_t t;

	install(SIGUSR1, 0);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &block, NULL));
	sigemptyset(&during);
	ASSERT_EQ(0, pthread_create(&t, NULL, signal_later, &l));
	EXPECT_FAILS(EINTR, ep_pwait2(ep, out, 1, &ts, &during));
	pthread_join(t, NULL);
	EXPECT_EQ(1, handled);
	EXPECT_TRUE(blocked(SIGUSR1));
}

/* A signal already pending and blocked, opened by the mask: at once. */
TEST_F(wait, sigmask_delivers_pending_signal_at_once)
{
	struct epoll_event out[1];
	int ep = ep_create1(0);
	sigset_t block, during;

	install(SIGUSR1, 0);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &block, NULL));
	ASSERT_EQ(0, pthread_kill(pthread_self(), SIGUSR1));
	EXPECT_EQ(0, handled);
	sigemptyset(&during);
	EXPECT_FAILS(EINTR, ep_pwait(ep, out, 1, -1, &during));
	EXPECT_EQ(1, handled);
	EXPECT_TRUE(blocked(SIGUSR1));
}

/* A signal the mask blocks does not end the wait; it comes after it. */
TEST_F(wait, sigmask_holds_signal_until_return)
{
	struct later l = { .ms = 20, .target = pthread_self(), .sig = SIGUSR1 };
	struct epoll_event out[1];
	int ep = ep_create1(0);
	sigset_t during;
	pthread_t t;

	install(SIGUSR1, 0);
	sigemptyset(&during);
	sigaddset(&during, SIGUSR1);
	ASSERT_EQ(0, pthread_create(&t, NULL, signal_later, &l));
	EXPECT_EQ(0, ep_pwait(ep, out, 1, 300, &during));
	pthread_join(t, NULL);
	/* Delivered on the way out, once the old mask was back. */
	EXPECT_EQ(1, handled);
	EXPECT_FALSE(blocked(SIGUSR1));
}

/* Without a signal, the original mask is simply restored. */
TEST_F(wait, sigmask_restored_after_timeout)
{
	struct epoll_event out[1];
	int ep = ep_create1(0);
	sigset_t during;

	sigfillset(&during);
	EXPECT_EQ(0, ep_pwait(ep, out, 1, 10, &during));
	EXPECT_FALSE(blocked(SIGUSR1));
	EXPECT_FALSE(blocked(SIGTERM));
}

/* ... and after events. */
TEST_F(wait, sigmask_restored_after_events)
{
	int ep = ep_create1(0), efd = efd_new(1);
	struct epoll_event out[1];
	sigset_t during;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 0));
	sigfillset(&during);
	EXPECT_EQ(1, ep_pwait(ep, out, 1, -1, &during));
	EXPECT_FALSE(blocked(SIGUSR1));
}

/* SIGKILL and SIGSTOP cannot be blocked by the mask either. */
TEST_F(wait, sigmask_cannot_block_sigkill)
{
	struct epoll_event out[1];
	int status, ep = ep_create1(0);
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		sigset_t all;

		sigfillset(&all);
		ep_pwait(ep, out, 1, -1, &all);
		_exit(0);
	}
	sleep_ms(50);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGKILL, WTERMSIG(status));
}

EPM_HARNESS_MAIN
