/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers for the selftests: event sources, poisoned buffers, time.
 * Every helper that can fail returns -1 and leaves errno; tests ASSERT on it.
 */
#ifndef EPM_UTIL_H
#define EPM_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/types.h>
#include <time.h>

/* Output buffers are poisoned before every call that fills them. */
#define POISON_BYTE	0xa5
#define POISON(x)	memset(&(x), POISON_BYTE, sizeof(x))

static inline struct epoll_event ev_of(uint32_t events, uint64_t data)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u64 = data;
	return ev;
}

/* epoll_ctl() with the event built in place. */
int ctl(int ep, int op, int fd, uint32_t events, uint64_t data);

/* An eventfd with @count pending (0: not readable); nonblocking. */
int efd_new(uint64_t count);
int efd_add(int efd, uint64_t n);		/* make it readable */
int efd_drain(int efd);				/* make it unreadable */

/* Nonblocking pipe and AF_UNIX stream pair; a loopback TCP pair. */
int pipe_new(int fds[2]);
int unix_pair(int fds[2]);
int tcp_pair(int fds[2]);
int send_fd(int sock, int fd);			/* one fd over SCM_RIGHTS */
int recv_fd(int sock, int flags);		/* ... and back; -1 if none */

/*
 * One round of the unix garbage collector's case: a socket watched by an
 * instance of the selected backend, then the socket, the instance or both
 * sent in flight inside that socket, and every fd closed.
 */
enum in_flight { IN_FLIGHT_BOTH, IN_FLIGHT_INSTANCE, IN_FLIGHT_SOCKET };
int in_flight_round(enum in_flight what);
int write_byte(int fd);
int read_all(int fd);				/* bytes read until EAGAIN */

/* Monotonic time in nanoseconds. */
int64_t now_ns(void);

/* Raise RLIMIT_NOFILE to at least @n (up to the hard limit, as root beyond). */
int nofile_at_least(int n);

/* Sleep for @ms milliseconds. */
void sleep_ms(int ms);

/*
 * The events native epoll reports for @fd asked for @mask, from a fresh
 * instance, timeout 0: 0 if none, -1 if the fd cannot be added.
 */
int64_t native_events(int fd, uint32_t mask);

/* Wait (up to 10 s) until thread @tid is asleep in a call: 0, or -1. */
int wait_until_sleeping(pid_t tid);

/*
 * Start @thread, which calls @act(@arg) once the calling thread is asleep
 * in the call it makes next, so the act cannot come before that call
 * however slow the host.  It acts after 10 s anyway, so nothing hangs.
 * join_act() then says whether the caller was asleep: 0, or -1.
 */
int act_when_asleep(pthread_t *thread, void (*act)(void *arg), void *arg);
int join_act(pthread_t thread);

/* act_when_asleep() with pthread_kill(the caller, @sig). */
int signal_when_asleep(pthread_t *thread, int sig);

/* /proc/self/fdinfo/<ep>, opened for reading. */
FILE *fdinfo_open(int ep);

/* A sysfs/procfs/cgroup file's whole text, read or written in one call. */
int read_text(const char *path, char *buf, size_t len);
int write_text(const char *path, const char *text);

/*
 * A counter from /sys/kernel/debug/epollmod/stats (instances, watches,
 * forwarded_wakes, ...); -1 if it cannot be read.
 */
long epm_stat(const char *name);

/* Wait up to @ms for counter @name to drop to @value; returns it then. */
long epm_stat_settle(const char *name, long value, int ms);

/* Wait until the module's live-object counters stop moving (max 5 s). */
void epm_stat_quiesce(void);

#endif /* EPM_UTIL_H */
