// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
// For every fd that is not an epollmod instance, every call fails exactly as
// native epoll fails for an fd that is not an epoll instance: same errno,
// same order of checks. Needs no module: none of these fds is an instance.
#include <epollmod/epollmod.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "check.h"

namespace
{

struct outcome {
	long ret;
	int err;
};

template <typename F>
outcome run(F f)
{
	errno = 0;
	long r = f();
	return {r, r < 0 ? errno : 0};
}

void compare(const char *what, outcome mod, outcome nat)
{
	if (mod.ret != nat.ret || mod.err != nat.err) {
		std::fprintf(stderr, "%s: epollmod %ld/%s, native %ld/%s\n",
			     what, mod.ret, strerrorname_np(mod.err), nat.ret,
			     strerrorname_np(nat.err));
		++check_failures;
	}
}

struct fd_kind {
	const char *name;
	int fd;	    // passed to epollmod_*
	int oracle; // passed to native epoll_*: fails the same way
};

} // namespace

int main()
{
	int efd = eventfd(0, EFD_CLOEXEC);
	int efd2 = eventfd(0, EFD_CLOEXEC);
	int native_ep = epoll_create1(EPOLL_CLOEXEC);
	int file = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	int closed = dup(efd);
	close(closed);
	CHECK(efd >= 0 && efd2 >= 0 && native_ep >= 0 && file >= 0);

	// A native epoll fd is "not an instance" to the library; native's
	// answer for such an fd is its answer for any non-epoll fd.
	const fd_kind epfds[] = {
		{"invalid", -1, -1},
		{"closed", closed, closed},
		{"eventfd", efd, efd},
		{"regular file", file, file},
		{"native epoll", native_ep, efd2},
	};
	const int targets[] = {efd, -1, file, native_ep};
	const int ops[] = {EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL, 99};

	struct epoll_event ev = {EPOLLIN, {0}};
	struct epoll_event *evs[] = {&ev, nullptr,
				     (struct epoll_event *)-4096L};
	char what[256];

	for (const fd_kind &k : epfds) {
		for (int tfd : targets) {
			for (int op : ops) {
				for (auto *e : evs) {
					snprintf(what, sizeof(what),
						 "ctl(%s, %d, %d, %p)", k.name,
						 op, tfd, (void *)e);
					int ntfd = tfd == k.fd ? k.oracle : tfd;
					compare(what, run([&] {
							return epollmod_ctl(
								k.fd, op, tfd,
								e);
						}),
						run([&] {
							return epoll_ctl(
								k.oracle, op,
								ntfd, e);
						}));
				}
			}
		}
		// The fd added to itself.
		snprintf(what, sizeof(what), "ctl(%s, ADD, itself)", k.name);
		compare(what, run([&] {
				return epollmod_ctl(k.fd, EPOLL_CTL_ADD, k.fd,
						    &ev);
			}),
			run([&] {
				return epoll_ctl(k.oracle, EPOLL_CTL_ADD,
						 k.oracle, &ev);
			}));
	}

	struct epoll_event out[4];
	struct epoll_event *bufs[] = {out, nullptr,
				      (struct epoll_event *)-4096L};
	const int maxes[] = {1,
			     4,
			     0,
			     -1,
			     INT_MAX,
			     (int)(INT_MAX / sizeof(struct epoll_event)),
			     (int)(INT_MAX / sizeof(struct epoll_event)) + 1};
	sigset_t mask;
	sigemptyset(&mask);
	const sigset_t *masks[] = {nullptr, &mask, (const sigset_t *)-4096L};
	const struct timespec ts_zero = {0, 0}, ts_neg = {-1, 0},
			      ts_nsec = {0, 1000000000}, ts_nneg = {0, -1};
	const struct timespec *tss[] = {&ts_zero, &ts_neg, &ts_nsec, &ts_nneg,
					(const struct timespec *)-4096L};

	for (const fd_kind &k : epfds) {
		for (auto *b : bufs) {
			for (int m : maxes) {
				snprintf(what, sizeof(what), "wait(%s, %p, %d)",
					 k.name, (void *)b, m);
				compare(what, run([&] {
						return epollmod_wait(k.fd, b, m,
								     0);
					}),
					run([&] {
						return epoll_wait(k.oracle, b,
								  m, 0);
					}));
				for (auto *s : masks) {
					snprintf(what, sizeof(what),
						 "pwait(%s, %p, %d, %p)",
						 k.name, (void *)b, m,
						 (const void *)s);
					compare(what, run([&] {
							return epollmod_pwait(
								k.fd, b, m, 0,
								s);
						}),
						run([&] {
							return epoll_pwait(
								k.oracle, b, m,
								0, s);
						}));
					for (auto *t : tss) {
						snprintf(what, sizeof(what),
							 "pwait2(%s, %p, %d, "
							 "%p, %p)",
							 k.name, (void *)b, m,
							 (const void *)t,
							 (const void *)s);
						compare(what, run([&] {
								return epollmod_pwait2(
									k.fd, b,
									m, t,
									s);
							}),
							run([&] {
								return epoll_pwait2(
									k.oracle,
									b, m, t,
									s);
							}));
					}
				}
			}
		}
	}

	/*
	 * With the fd table full, the answers are still native's: nothing on
	 * these paths may need an fd of its own.
	 */
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	int spare = dup(efd);
	CHECK(spare >= 0);
	struct rlimit full = {(rlim_t)spare + 1, rl.rlim_max};
	close(spare);
	CHECK(setrlimit(RLIMIT_NOFILE, &full) == 0);
	int filler = dup(efd); /* takes the last slot */
	CHECK(filler >= 0 && dup(efd) < 0 && errno == EMFILE);
	compare("ctl(eventfd) with a full table", run([&] {
			return epollmod_ctl(efd, EPOLL_CTL_ADD, efd2, &ev);
		}),
		run([&] { return epoll_ctl(efd, EPOLL_CTL_ADD, efd2, &ev); }));
	compare("wait(eventfd) with a full table",
		run([&] { return epollmod_wait(efd, out, 4, 0); }),
		run([&] { return epoll_wait(efd, out, 4, 0); }));
	compare("wait(native epoll) with a full table",
		run([&] { return epollmod_wait(native_ep, out, 4, 0); }),
		run([&] { return epoll_wait(efd2, out, 4, 0); }));
	close(filler);
	setrlimit(RLIMIT_NOFILE, &rl);

	close(efd);
	close(efd2);
	close(native_ep);
	close(file);
	return check_report("errno_map");
}
