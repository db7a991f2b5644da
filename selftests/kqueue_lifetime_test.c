// SPDX-License-Identifier: GPL-2.0
/*
 * How long knotes live. A knote on an fd ends at the file's last close
 * (Linux's file-scoped rule, as for epoll items, which native epoll shows
 * side by side): a dup keeps it. Closing a watched fd or the kqueue while
 * another thread waits in kevent(). The per-user limit on live timers,
 * the module parameter max_user_timers.
 */
#include "lib/harness.h"

#include <pthread.h>
#include <sys/syscall.h>

#include "lib/kq.h"

#define MAX_USER_TIMERS "/sys/module/epollmod/parameters/max_user_timers"

FIXTURE(kqueue_lifetime) {
	int kq;
	char saved[32];
};

FIXTURE_SETUP(kqueue_lifetime)
{
	self->saved[0] = '\0';
	self->kq = epollmod_kqueue();
	ASSERT_LE(0, self->kq) TH_LOG("epollmod_kqueue: %s", strerror(errno));
}

FIXTURE_TEARDOWN(kqueue_lifetime)
{
	close(self->kq);
	if (self->saved[0])
		write_text(MAX_USER_TIMERS, self->saved);
}

TEST_F(kqueue_lifetime, last_close_ends_knote)
{
	struct kevent ev[2];
	int p[2], ep;

	ASSERT_EQ(0, pipe_new(p));
	ep = native_watch(p[0], 0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, kq_change(self->kq, p[0], EVFILT_READ, EV_ADD, 0, 0,
			       UD(1)));
	ASSERT_EQ(0, write_n(p[1], 1));
	close(p[0]);
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
	EXPECT_EQ(0, native_poll(ep));
}

TEST_F(kqueue_lifetime, dup_keeps_knote)
{
	struct kevent ev[2];
	int p[2], ep, keep;

	ASSERT_EQ(0, pipe_new(p));
	ep = native_watch(p[0], 0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, kq_change(self->kq, p[0], EVFILT_READ, EV_ADD, 0, 0,
			       UD(1)));
	ASSERT_EQ(0, write_n(p[1], 1));
	keep = dup(p[0]);
	ASSERT_LE(0, keep);
	close(p[0]);
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	/* the ident is still the fd it was added under */
	EXPECT_KEV(ev[0], p[0], EVFILT_READ, EV_ADD, 0, 1, UD(1));
	EXPECT_EQ(1, native_poll(ep));
	close(keep);
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
	EXPECT_EQ(0, native_poll(ep));
}

/* The fd number reused by a new file: the old knote is not its knote. */
TEST_F(kqueue_lifetime, reused_fd_number_has_no_knote)
{
	struct kevent ev[2];
	int p[2], q[2], fd;

	ASSERT_EQ(0, pipe_new(p));
	fd = p[0];
	ASSERT_EQ(0, kq_change(self->kq, fd, EVFILT_READ, EV_ADD, 0, 0,
			       UD(1)));
	close(p[0]);
	ASSERT_EQ(0, pipe_new(q));
	if (q[0] != fd) {
		ASSERT_EQ(fd, dup2(q[0], fd));
		close(q[0]);
	}
	ASSERT_EQ(0, write_n(q[1], 1));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
	errno = 0;
	EXPECT_EQ(-1, kq_change(self->kq, fd, EVFILT_READ, EV_DELETE, 0, 0,
				NULL));
	EXPECT_EQ(ENOENT, errno);
}

/* A child holding the file keeps the knote; its exit ends it. */
TEST_F(kqueue_lifetime, other_process_keeps_knote)
{
	struct kevent ev[2];
	int p[2], go[2], status;
	pid_t pid;

	ASSERT_EQ(0, pipe_new(p));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, kq_change(self->kq, p[0], EVFILT_READ, EV_ADD, 0, 0,
			       UD(1)));
	ASSERT_EQ(0, write_n(p[1], 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char c;

		close(go[1]);
		_exit(read(go[0], &c, 1) == 1 ? 0 : 1);
	}
	close(go[0]);
	close(p[0]);
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	EXPECT_KEV(ev[0], p[0], EVFILT_READ, EV_ADD, 0, 1, UD(1));
	ASSERT_EQ(1, write(go[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
}

TEST_F(kqueue_lifetime, last_close_ends_knotes_in_every_kqueue)
{
	int kq2 = epollmod_kqueue(), p[2];
	struct kevent ev[2];

	ASSERT_LE(0, kq2);
	ASSERT_EQ(0, kq_pipe(self->kq, p, EV_ADD, UD(1)));
	ASSERT_EQ(0, kq_change(kq2, p[0], EVFILT_READ, EV_ADD, 0, 0, UD(2)));
	ASSERT_EQ(0, kq_change(kq2, p[1], EVFILT_WRITE, EV_ADD, 0, 0, UD(3)));
	ASSERT_EQ(0, write_n(p[1], 1));
	close(p[0]);
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
	/* kq2's knote on the write end lives on, with EV_EOF now */
	ASSERT_EQ(1, kq_poll(kq2, ev, 2));
	EXPECT_KEV_NODATA(ev[0], p[1], EVFILT_WRITE, EV_ADD | EV_EOF, 0,
			  UD(3));
}

struct waiter {
	int kq;
	int ms;
	pid_t tid;
	int n;
	int err;
	struct kevent ev[4];
};

static void *wait_thread(void *p)
{
	struct waiter *w = p;

	w->tid = syscall(SYS_gettid);
	w->n = kq_wait(w->kq, w->ev, 4, w->ms);
	w->err = errno;
	return NULL;
}

/* @w's thread started and asleep in its kevent() call. */
static void start_waiter(struct __test_metadata *_metadata, struct waiter *w,
			 pthread_t *t)
{
	ASSERT_EQ(0, pthread_create(t, NULL, wait_thread, w));
	while (!__atomic_load_n(&w->tid, __ATOMIC_SEQ_CST))
		sleep_ms(1);
	ASSERT_EQ(0, wait_until_sleeping(w->tid));
}

/* Closing a watched file while a thread waits: its knote is gone. */
TEST_F(kqueue_lifetime, close_watched_fd_during_wait)
{
	struct waiter w = { .kq = self->kq, .ms = 30000 };
	pthread_t t;
	int p[2];

	ASSERT_EQ(0, kq_pipe(self->kq, p, EV_ADD, UD(1)));
	ASSERT_EQ(0, kq_change(self->kq, 2, EVFILT_USER, EV_ADD, 0, 0,
			       UD(2)));
	start_waiter(_metadata, &w, &t);
	close(p[0]);
	ASSERT_EQ(0, kq_change(self->kq, 2, EVFILT_USER, 0, NOTE_TRIGGER, 0,
			       UD(2)));
	pthread_join(t, NULL);
	ASSERT_EQ(1, w.n);
	EXPECT_KEV(w.ev[0], 2, EVFILT_USER, EV_ADD, 0, 0, UD(2));
}

/* The peer going while a thread waits: it wakes with EV_EOF. */
TEST_F(kqueue_lifetime, close_peer_during_wait_wakes_eof)
{
	struct waiter w = { .kq = self->kq, .ms = 30000 };
	pthread_t t;
	int p[2];

	ASSERT_EQ(0, kq_pipe(self->kq, p, EV_ADD, UD(1)));
	start_waiter(_metadata, &w, &t);
	close(p[1]);
	pthread_join(t, NULL);
	ASSERT_EQ(1, w.n);
	EXPECT_KEV(w.ev[0], p[0], EVFILT_READ, EV_ADD | EV_EOF, 0, 0, UD(1));
}

/*
 * Closing the kqueue fd while a thread waits in it: the call holds the
 * file, so it ends as it would have (timeout), and then all is freed.
 */
TEST_F(kqueue_lifetime, close_kqueue_during_wait)
{
	struct waiter w = { .kq = self->kq, .ms = 500 };
	pthread_t t;
	int p[2];

	ASSERT_EQ(0, kq_pipe(self->kq, p, EV_ADD, UD(1)));
	ASSERT_EQ(0, kq_change(self->kq, 1, EVFILT_TIMER, EV_ADD, 0, 60000,
			       UD(2)));
	start_waiter(_metadata, &w, &t);
	close(self->kq);
	pthread_join(t, NULL);
	self->kq = -1;
	EXPECT_EQ(0, w.n) TH_LOG("errno %d", w.err);
	/* the pipe outlives the kqueue that watched it */
	ASSERT_EQ(0, write_n(p[1], 1));
	EXPECT_EQ(1, read_all(p[0]));
}

/* Set max_user_timers to @n, saving the old value for the teardown. */
static int limit_timers(char *saved, size_t len, int n)
{
	char buf[32];

	if (read_text(MAX_USER_TIMERS, saved, len))
		return -1;
	snprintf(buf, sizeof(buf), "%d\n", n);
	return write_text(MAX_USER_TIMERS, buf);
}

static int add_timer(int kq, uintptr_t id)
{
	return kq_change(kq, id, EVFILT_TIMER, EV_ADD, 0, 60000, NULL);
}

/* Timers given back by closed kqueues may be freed late: allow 5 s. */
static int add_timer_settled(int kq, uintptr_t id)
{
	for (int i = 0; i < 500; i++) {
		if (add_timer(kq, id) == 0)
			return 0;
		if (errno != ENOMEM)
			return -1;
		sleep_ms(10);
	}
	return -1;
}

TEST_F(kqueue_lifetime, timer_limit_enomem)
{
	struct kevent ch = kev(99, EVFILT_TIMER, EV_ADD, 0, 60000, UD(9));
	struct kevent out;

	ASSERT_EQ(0, limit_timers(self->saved, sizeof(self->saved), 4));
	/* timers of earlier tests may still be on their way out */
	ASSERT_EQ(0, add_timer_settled(self->kq, 0));
	for (int i = 1; i < 4; i++)
		ASSERT_EQ(0, add_timer(self->kq, i));
	ASSERT_EQ(1, kq_change1(self->kq, ch, &out));
	EXPECT_KEV_ERR(out, ch, ENOMEM);
}

TEST_F(kqueue_lifetime, timer_limit_delete_gives_back)
{
	ASSERT_EQ(0, limit_timers(self->saved, sizeof(self->saved), 2));
	ASSERT_EQ(0, add_timer_settled(self->kq, 0));
	ASSERT_EQ(0, add_timer(self->kq, 1));
	errno = 0;
	ASSERT_EQ(-1, add_timer(self->kq, 2));
	ASSERT_EQ(ENOMEM, errno);
	ASSERT_EQ(0, kq_change(self->kq, 0, EVFILT_TIMER, EV_DELETE, 0, 0,
			       NULL));
	EXPECT_EQ(0, add_timer(self->kq, 2));
}

/* Modifying a live timer is not a new one: no charge. */
TEST_F(kqueue_lifetime, timer_limit_modify_not_charged)
{
	ASSERT_EQ(0, limit_timers(self->saved, sizeof(self->saved), 1));
	ASSERT_EQ(0, add_timer_settled(self->kq, 0));
	EXPECT_EQ(0, kq_change(self->kq, 0, EVFILT_TIMER, EV_ADD, 0, 30000,
			       NULL));
}

/* The limit is the user's, across kqueues. */
TEST_F(kqueue_lifetime, timer_limit_across_kqueues)
{
	int kq2 = epollmod_kqueue();

	ASSERT_LE(0, kq2);
	ASSERT_EQ(0, limit_timers(self->saved, sizeof(self->saved), 2));
	ASSERT_EQ(0, add_timer_settled(self->kq, 0));
	ASSERT_EQ(0, add_timer(kq2, 0));
	errno = 0;
	EXPECT_EQ(-1, add_timer(kq2, 1));
	EXPECT_EQ(ENOMEM, errno);
	errno = 0;
	EXPECT_EQ(-1, add_timer(self->kq, 1));
	EXPECT_EQ(ENOMEM, errno);
}

/* A closed kqueue gives its timers back. */
TEST_F(kqueue_lifetime, timer_limit_close_gives_back)
{
	int kq2 = epollmod_kqueue();

	ASSERT_LE(0, kq2);
	ASSERT_EQ(0, limit_timers(self->saved, sizeof(self->saved), 1));
	ASSERT_EQ(0, add_timer_settled(kq2, 0));
	errno = 0;
	ASSERT_EQ(-1, add_timer(self->kq, 0));
	ASSERT_EQ(ENOMEM, errno);
	close(kq2);
	EXPECT_EQ(0, add_timer_settled(self->kq, 0));
}

/* A one-shot timer gone after its delivery gives its place back. */
TEST_F(kqueue_lifetime, timer_limit_fired_oneshot_gives_back)
{
	struct kevent ev[2];

	ASSERT_EQ(0, limit_timers(self->saved, sizeof(self->saved), 1));
	/* the one place, once earlier tests' timers are gone */
	ASSERT_EQ(0, add_timer_settled(self->kq, 0));
	ASSERT_EQ(0, kq_change(self->kq, 0, EVFILT_TIMER, EV_DELETE, 0, 0,
			       NULL));
	ASSERT_EQ(0, kq_change(self->kq, 0, EVFILT_TIMER, EV_ADD | EV_ONESHOT,
			       0, 10, NULL));
	ASSERT_EQ(1, kq_wait(self->kq, ev, 2, 10000));
	EXPECT_EQ(0, add_timer_settled(self->kq, 1));
}

EPM_HARNESS_MAIN
