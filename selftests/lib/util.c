// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backend.h"
#include "util.h"

int ctl(int ep, int op, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = ev_of(events, data);

	return ep_ctl(ep, op, fd, &ev);
}

int efd_new(uint64_t count)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd >= 0 && count && efd_add(fd, count) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int efd_add(int efd, uint64_t n)
{
	return write(efd, &n, sizeof(n)) == sizeof(n) ? 0 : -1;
}

int efd_drain(int efd)
{
	uint64_t v;

	if (read(efd, &v, sizeof(v)) == sizeof(v) || errno == EAGAIN)
		return 0;
	return -1;
}

int pipe_new(int fds[2])
{
	return pipe2(fds, O_CLOEXEC | O_NONBLOCK);
}

int unix_pair(int fds[2])
{
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			  0, fds);
}

int send_fd(int sock, int fd)
{
	char byte = 'f', cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

int recv_fd(int sock, int flags)
{
	char byte, cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, flags) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

int in_flight_round(enum in_flight what)
{
	int ep = ep_create1(0), s[2];

	if (ep < 0 || unix_pair(s) || ctl(ep, EPOLL_CTL_ADD, s[0], EPOLLIN, 0))
		return -1;
	/* Sent from s[1]: queued at s[0], the watched socket. */
	if (what != IN_FLIGHT_INSTANCE && send_fd(s[1], s[0]))
		return -1;
	if (what != IN_FLIGHT_SOCKET && send_fd(s[1], ep))
		return -1;
	close(ep);
	close(s[0]);
	close(s[1]);
	return 0;
}

int tcp_pair(int fds[2])
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	int one = 1, lfd, c = -1, s = -1;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -1;
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&addr, &len))
		goto out;
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&addr, sizeof(addr)))
		goto out;
	s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		goto out;
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (fcntl(c, F_SETFL, O_NONBLOCK) || fcntl(s, F_SETFL, O_NONBLOCK))
		goto out;
	close(lfd);
	fds[0] = c;
	fds[1] = s;
	return 0;
out:
	if (c >= 0)
		close(c);
	if (s >= 0)
		close(s);
	close(lfd);
	return -1;
}

int write_byte(int fd)
{
	return write(fd, "x", 1) == 1 ? 0 : -1;
}

int read_all(int fd)
{
	char buf[4096];
	int total = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	return total;
}

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int nofile_at_least(int n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	if (rl.rlim_cur >= (rlim_t)n)
		return 0;
	rl.rlim_cur = n;
	if (rl.rlim_max < (rlim_t)n)
		rl.rlim_max = n;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

FILE *fdinfo_open(int ep)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ep);
	return fopen(path, "re");
}

long epm_stat(const char *name)
{
	char key[64];
	long value, found = -1;
	FILE *f = fopen("/sys/kernel/debug/epollmod/stats", "re");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &value) == 2) {
		if (!strcmp(key, name)) {
			found = value;
			break;
		}
	}
	fclose(f);
	return found;
}

long epm_stat_settle(const char *name, long value, int ms)
{
	int64_t deadline = now_ns() + ms * 1000000LL;
	long now;

	while ((now = epm_stat(name)) > value && now_ns() < deadline)
		sleep_ms(10);
	return now;
}

void epm_stat_quiesce(void)
{
	int64_t deadline = now_ns() + 5000000000LL;
	long last = -2, now;
	int stable = 0;

	/* An earlier test's watches are reaped by work items: let them finish. */
	while (stable < 6 && now_ns() < deadline) {
		now = epm_stat("instances") * 1000003 + epm_stat("watched_files");
		stable = now == last ? stable + 1 : 0;
		last = now;
		sleep_ms(100);
	}
}

int read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

int64_t native_events(int fd, uint32_t mask)
{
	struct epoll_event ev = { .events = mask };
	int ep = epoll_create1(EPOLL_CLOEXEC), n;

	if (ep < 0)
		return -1;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
		close(ep);
		return -1;
	}
	memset(&ev, POISON_BYTE, sizeof(ev));
	n = epoll_wait(ep, &ev, 1, 0);
	close(ep);
	if (n < 0)
		return -1;
	return n ? ev.events : 0;
}

int wait_until_sleeping(pid_t tid)
{
	int64_t deadline = now_ns() + 10000000000LL;
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	while (now_ns() < deadline) {
		if (read_text(path, buf, sizeof(buf)) >= 0) {
			/* the state follows the command's closing paren */
			p = strrchr(buf, ')');
			if (p && p[1] == ' ' && p[2] == 'S')
				return 0;
		}
		sleep_ms(1);
	}
	return -1;
}

struct asleep_act {
	pid_t tid;
	void (*act)(void *arg);
	void *arg;
};

static void *act_once_asleep(void *p)
{
	struct asleep_act a = *(struct asleep_act *)p;
	bool asleep;

	free(p);
	asleep = wait_until_sleeping(a.tid) == 0;
	/* Acts even if the wait for sleep timed out, so nothing hangs. */
	a.act(a.arg);
	return asleep ? NULL : (void *)-1L;
}

int act_when_asleep(pthread_t *thread, void (*act)(void *arg), void *arg)
{
	struct asleep_act *a = malloc(sizeof(*a));

	if (!a)
		return -1;
	a->tid = syscall(SYS_gettid);
	a->act = act;
	a->arg = arg;
	if (pthread_create(thread, NULL, act_once_asleep, a)) {
		free(a);
		return -1;
	}
	return 0;
}

int join_act(pthread_t thread)
{
	void *ret = (void *)-1L;

	pthread_join(thread, &ret);
	return ret ? -1 : 0;
}

struct signal_target {
	pthread_t target;
	int sig;
};

static void send_signal(void *p)
{
	struct signal_target s = *(struct signal_target *)p;

	free(p);
	pthread_kill(s.target, s.sig);
}

int signal_when_asleep(pthread_t *thread, int sig)
{
	struct signal_target *s = malloc(sizeof(*s));

	if (!s)
		return -1;
	s->target = pthread_self();
	s->sig = sig;
	if (act_when_asleep(thread, send_signal, s)) {
		free(s);
		return -1;
	}
	return 0;
}
