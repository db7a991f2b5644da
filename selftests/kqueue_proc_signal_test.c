// SPDX-License-Identifier: GPL-2.0
/*
 * EVFILT_PROC with NOTE_EXIT: a child's exit, with its wait status in
 * data, once; native epoll on a pidfd of the same child agrees on when.
 * EVFILT_SIGNAL: the count of a signal's deliveries since the last
 * report, the signal itself untouched (handlers run, blocked ones stay
 * pending), SIGCHLD counted at its default action but not at SIG_IGN, and
 * the errnos of a pid or a signal that is not there.
 */
#include "lib/harness.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "lib/kq.h"

KQ_FIXTURE(kqueue_proc_signal);

/* PROC and SIGNAL knotes are EV_CLEAR, and say so in their events. */
#define EXIT_FLAGS	(EV_ADD | EV_CLEAR | EV_EOF | EV_ONESHOT)
#define SIG_FLAGS	(EV_ADD | EV_CLEAR)

/* A child that waits for a byte on @go, then exits with that byte. */
static pid_t child_waiting(int go[2])
{
	pid_t pid;

	if (pipe(go))
		return -1;
	pid = fork();
	if (pid == 0) {
		unsigned char c = 255;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(254);
		_exit(c);
	}
	close(go[0]);
	return pid;
}

static int pidfd(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

TEST_F(kqueue_proc_signal, proc_exit_status_in_data)
{
	struct kevent ev[2];
	int go[2], status, pfd;
	unsigned char code = 7;
	pid_t pid = child_waiting(go);

	ASSERT_LT(0, pid);
	pfd = pidfd(pid);
	ASSERT_LE(0, pfd);
	ASSERT_EQ(0, kq_change(self->kq, pid, EVFILT_PROC, EV_ADD, NOTE_EXIT,
			       0, UD(1)));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
	EXPECT_FALSE(native_events(pfd, EPOLLIN) & EPOLLIN);
	ASSERT_EQ(1, write(go[1], &code, 1));
	ASSERT_EQ(1, kq_wait(self->kq, ev, 2, 10000));
	EXPECT_KEV_NODATA(ev[0], pid, EVFILT_PROC, EXIT_FLAGS, NOTE_EXIT,
			  UD(1));
	EXPECT_TRUE(WIFEXITED(ev[0].data));
	EXPECT_EQ(7, WEXITSTATUS(ev[0].data));
	EXPECT_TRUE(native_events(pfd, EPOLLIN) & EPOLLIN);
	/* the child is still ours to reap, with the same status */
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(status, ev[0].data);
}

TEST_F(kqueue_proc_signal, proc_killed_status_in_data)
{
	struct kevent ev[2];
	int go[2], status;
	pid_t pid = child_waiting(go);

	ASSERT_LT(0, pid);
	ASSERT_EQ(0, kq_change(self->kq, pid, EVFILT_PROC, EV_ADD, NOTE_EXIT,
			       0, UD(2)));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(1, kq_wait(self->kq, ev, 2, 10000));
	EXPECT_KEV_NODATA(ev[0], pid, EVFILT_PROC, EXIT_FLAGS, NOTE_EXIT,
			  UD(2));
	EXPECT_TRUE(WIFSIGNALED(ev[0].data));
	EXPECT_EQ(SIGKILL, WTERMSIG(ev[0].data));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(status, ev[0].data);
}

TEST_F(kqueue_proc_signal, proc_exit_once_then_deleted)
{
	struct kevent ev[2];
	int go[2];
	unsigned char code = 0;
	pid_t pid = child_waiting(go);

	ASSERT_LT(0, pid);
	ASSERT_EQ(0, kq_change(self->kq, pid, EVFILT_PROC, EV_ADD, NOTE_EXIT,
			       0, UD(3)));
	ASSERT_EQ(1, write(go[1], &code, 1));
	ASSERT_EQ(1, kq_wait(self->kq, ev, 2, 10000));
	EXPECT_EQ(0, kq_wait(self->kq, ev, 2, 100));
	errno = 0;
	EXPECT_EQ(-1, kq_change(self->kq, pid, EVFILT_PROC, EV_DELETE, 0, 0,
				NULL));
	EXPECT_EQ(ENOENT, errno);
}

/* Deleted before the exit: nothing comes. */
TEST_F(kqueue_proc_signal, proc_deleted_reports_nothing)
{
	struct kevent ev[2];
	int go[2], status;
	unsigned char code = 0;
	pid_t pid = child_waiting(go);

	ASSERT_LT(0, pid);
	ASSERT_EQ(0, kq_change(self->kq, pid, EVFILT_PROC, EV_ADD, NOTE_EXIT,
			       0, UD(3)));
	ASSERT_EQ(0, kq_change(self->kq, pid, EVFILT_PROC, EV_DELETE, 0, 0,
			       NULL));
	ASSERT_EQ(1, write(go[1], &code, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, kq_wait(self->kq, ev, 2, 100));
}

TEST_F(kqueue_proc_signal, proc_no_such_pid_esrch)
{
	struct kevent ch, out;
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ch = kev(pid, EVFILT_PROC, EV_ADD, NOTE_EXIT, 0, UD(4));
	ASSERT_EQ(1, kq_change1(self->kq, ch, &out));
	EXPECT_KEV_ERR(out, ch, ESRCH);
}

static volatile sig_atomic_t handled;

static void on_signal(int sig)
{
	handled++;
}

static int handle(int sig)
{
	struct sigaction sa = { .sa_handler = on_signal,
				.sa_flags = SA_RESTART };

	handled = 0;
	return sigaction(sig, &sa, NULL);
}

TEST_F(kqueue_proc_signal, signal_counted_and_handler_runs)
{
	struct kevent ev[2];

	ASSERT_EQ(0, handle(SIGUSR1));
	ASSERT_EQ(0, kq_change(self->kq, SIGUSR1, EVFILT_SIGNAL, EV_ADD, 0, 0,
			       UD(5)));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
	ASSERT_EQ(0, raise(SIGUSR1));
	ASSERT_EQ(0, raise(SIGUSR1));
	EXPECT_EQ(2, handled);
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	EXPECT_KEV(ev[0], SIGUSR1, EVFILT_SIGNAL, SIG_FLAGS, 0, 2, UD(5));
}

TEST_F(kqueue_proc_signal, signal_count_restarts_after_report)
{
	struct kevent ev[2];

	ASSERT_EQ(0, handle(SIGUSR1));
	ASSERT_EQ(0, kq_change(self->kq, SIGUSR1, EVFILT_SIGNAL, EV_ADD, 0, 0,
			       UD(5)));
	ASSERT_EQ(0, raise(SIGUSR1));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
	ASSERT_EQ(0, raise(SIGUSR1));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	EXPECT_KEV(ev[0], SIGUSR1, EVFILT_SIGNAL, SIG_FLAGS, 0, 1, UD(5));
	EXPECT_EQ(2, handled);
}

/* A blocked signal is counted and stays pending: it is not consumed. */
TEST_F(kqueue_proc_signal, signal_blocked_counted_stays_pending)
{
	struct kevent ev[2];
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));
	ASSERT_EQ(0, kq_change(self->kq, SIGUSR2, EVFILT_SIGNAL, EV_ADD, 0, 0,
			       UD(6)));
	ASSERT_EQ(0, raise(SIGUSR2));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	EXPECT_KEV(ev[0], SIGUSR2, EVFILT_SIGNAL, SIG_FLAGS, 0, 1, UD(6));
	ASSERT_EQ(0, sigpending(&pending));
	EXPECT_TRUE(sigismember(&pending, SIGUSR2));
}

/* Each generation counts, though a blocked standard signal pends once. */
TEST_F(kqueue_proc_signal, signal_blocked_each_generation_counted)
{
	struct kevent ev[2];
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));
	ASSERT_EQ(0, kq_change(self->kq, SIGUSR2, EVFILT_SIGNAL, EV_ADD, 0, 0,
			       UD(6)));
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, raise(SIGUSR2));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	EXPECT_KEV(ev[0], SIGUSR2, EVFILT_SIGNAL, SIG_FLAGS, 0, 3, UD(6));
}

/* A signal from another process counts as well. */
TEST_F(kqueue_proc_signal, signal_from_other_process)
{
	struct kevent ev[2];
	int status;
	pid_t pid;

	ASSERT_EQ(0, handle(SIGUSR1));
	ASSERT_EQ(0, kq_change(self->kq, SIGUSR1, EVFILT_SIGNAL, EV_ADD, 0, 0,
			       UD(7)));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(kill(getppid(), SIGUSR1) ? 1 : 0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_EQ(1, kq_wait(self->kq, ev, 2, 10000));
	EXPECT_KEV(ev[0], SIGUSR1, EVFILT_SIGNAL, SIG_FLAGS, 0, 1, UD(7));
	EXPECT_EQ(1, handled);
}

TEST_F(kqueue_proc_signal, signal_other_signal_not_counted)
{
	struct kevent ev[2];

	ASSERT_EQ(0, handle(SIGUSR1));
	ASSERT_EQ(0, handle(SIGUSR2));
	ASSERT_EQ(0, kq_change(self->kq, SIGUSR1, EVFILT_SIGNAL, EV_ADD, 0, 0,
			       UD(8)));
	ASSERT_EQ(0, raise(SIGUSR2));
	EXPECT_EQ(1, handled);
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
}

TEST_F(kqueue_proc_signal, signal_deleted_not_counted)
{
	struct kevent ev[2];

	ASSERT_EQ(0, handle(SIGUSR1));
	ASSERT_EQ(0, kq_change(self->kq, SIGUSR1, EVFILT_SIGNAL, EV_ADD, 0, 0,
			       UD(8)));
	ASSERT_EQ(0, kq_change(self->kq, SIGUSR1, EVFILT_SIGNAL, EV_DELETE, 0,
			       0, NULL));
	ASSERT_EQ(0, raise(SIGUSR1));
	EXPECT_EQ(1, handled);
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
}

/* Queued real-time signals: each counts. */
TEST_F(kqueue_proc_signal, signal_realtime_counted)
{
	struct kevent ev[2];

	ASSERT_EQ(0, handle(SIGRTMIN));
	ASSERT_EQ(0, kq_change(self->kq, SIGRTMIN, EVFILT_SIGNAL, EV_ADD, 0, 0,
			       UD(9)));
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, raise(SIGRTMIN));
	EXPECT_EQ(3, handled);
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	EXPECT_KEV(ev[0], SIGRTMIN, EVFILT_SIGNAL, SIG_FLAGS, 0, 3, UD(9));
}

/* Sets SIGCHLD's action to @handler, the old one in @old: 0, or -1. */
static int sigchld_action(void (*handler)(int), struct sigaction *old)
{
	struct sigaction sa = { .sa_handler = handler };

	return sigaction(SIGCHLD, &sa, old);
}

/*
 * SIGCHLD at SIG_DFL is dropped by Linux as ignored, but it is sent and
 * has an action (the default), so it counts, as on FreeBSD.
 */
TEST_F(kqueue_proc_signal, signal_sigchld_default_counted)
{
	struct sigaction old;
	struct kevent ev[2];
	int go[2], status;
	unsigned char code = 0;
	pid_t pid;

	ASSERT_EQ(0, sigchld_action(SIG_DFL, &old));
	ASSERT_EQ(0, kq_change(self->kq, SIGCHLD, EVFILT_SIGNAL, EV_ADD, 0, 0,
			       UD(11)));
	pid = child_waiting(go);
	ASSERT_LT(0, pid);
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
	ASSERT_EQ(1, write(go[1], &code, 1));
	/* reaped: its SIGCHLD was sent before it could be */
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	EXPECT_KEV(ev[0], SIGCHLD, EVFILT_SIGNAL, SIG_FLAGS, 0, 1, UD(11));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
	ASSERT_EQ(0, sigaction(SIGCHLD, &old, NULL));
}

/*
 * SIGCHLD at SIG_IGN: children are reaped by the kernel and the parent
 * gets no SIGCHLD, so nothing counts.
 */
TEST_F(kqueue_proc_signal, signal_sigchld_ignored_not_counted)
{
	struct sigaction old;
	struct kevent ev[2];
	int go[2], status, pfd;
	unsigned char code = 0;
	pid_t pid;

	ASSERT_EQ(0, sigchld_action(SIG_IGN, &old));
	ASSERT_EQ(0, kq_change(self->kq, SIGCHLD, EVFILT_SIGNAL, EV_ADD, 0, 0,
			       UD(12)));
	pid = child_waiting(go);
	ASSERT_LT(0, pid);
	pfd = pidfd(pid);
	ASSERT_LE(0, pfd);
	ASSERT_EQ(1, write(go[1], &code, 1));
	/*
	 * Blocks until the child is gone: reaped by the kernel once its
	 * parent was notified, so no SIGCHLD can come after this.
	 */
	errno = 0;
	EXPECT_EQ(-1, waitpid(pid, &status, 0));
	EXPECT_EQ(ECHILD, errno);
	EXPECT_TRUE(native_events(pfd, EPOLLIN) & EPOLLIN);
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
	close(pfd);
	ASSERT_EQ(0, sigaction(SIGCHLD, &old, NULL));
}

TEST_F(kqueue_proc_signal, signal_zero_einval)
{
	struct kevent ch = kev(0, EVFILT_SIGNAL, EV_ADD, 0, 0, UD(10)), out;

	ASSERT_EQ(1, kq_change1(self->kq, ch, &out));
	EXPECT_KEV_ERR(out, ch, EINVAL);
}

TEST_F(kqueue_proc_signal, signal_above_64_einval)
{
	struct kevent ch = kev(65, EVFILT_SIGNAL, EV_ADD, 0, 0, UD(10)), out;

	ASSERT_EQ(1, kq_change1(self->kq, ch, &out));
	EXPECT_KEV_ERR(out, ch, EINVAL);
}

/* 64 is a signal: the top of the range is accepted. */
TEST_F(kqueue_proc_signal, signal_64_accepted)
{
	EXPECT_EQ(0, kq_change(self->kq, 64, EVFILT_SIGNAL, EV_ADD, 0, 0,
			       NULL)) TH_LOG("errno %d", errno);
}

EPM_HARNESS_MAIN
