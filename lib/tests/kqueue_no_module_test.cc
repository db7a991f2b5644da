// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
// The kqueue calls of libepollmod without the module: the errors that need
// none, then the library's own logic against a fake module. The fake is
// the test's ioctl() (kqueue_fake_ioctl.c), which libepollmod (linked in
// statically) calls: it answers for the file EPOLLMOD_DEVICE names, and
// passes every other ioctl to the kernel.
#include <sys/event.h>

#include <epollmod/epollmod.h>

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include "kqueue_fake_ioctl.h"

namespace
{

// What the fake module does and saw.
struct fake_module {
	bool on;
	__u32 abi_version;
	__u64 features;
	int kqueue_ret;	   // 0 or -errno
	int kevent_ret[8]; // per call, 0 or more, or -errno; then the last
	int kevent_calls;
	struct epollmod_kevent args[8];
	uint64_t masks[8]; // *args[i].sigmask, if there was one
	bool block;	   // sleep, as the module does, until a signal comes
	void (*on_kevent)(int call);
} fake;

bool is_device(int fd)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(epollmod_device_path(), &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int answer(int ret)
{
	if (ret >= 0)
		return ret;
	errno = -ret;
	return -1;
}

int fake_kevent(const struct epollmod_kevent *arg)
{
	int i = fake.kevent_calls < 8 ? fake.kevent_calls : 7;
	int ret = fake.kevent_ret[i];

	fake.args[i] = *arg;
	if (arg->sigmask)
		fake.masks[i] = *reinterpret_cast<const uint64_t *>(
			uintptr_t(arg->sigmask));
	__atomic_fetch_add(&fake.kevent_calls, 1, __ATOMIC_SEQ_CST);
	if (fake.on_kevent)
		fake.on_kevent(i);
	if (fake.block)
		return FAKE_IOCTL_SLEEP;
	if (ret > 0) {
		auto *ev = reinterpret_cast<struct kevent *>(
			uintptr_t(arg->events));
		for (int n = 0; n < ret && n < arg->nevents; n++)
			EV_SET(&ev[n], 42 + n, EVFILT_USER, EV_CLEAR, 0, 0,
			       nullptr);
	}
	return answer(ret);
}

void fake_reset()
{
	fake = fake_module{};
	fake.on = true;
	fake.abi_version = EPOLLMOD_ABI_VERSION;
	fake.features =
		EPOLLMOD_FEAT_CTL | EPOLLMOD_FEAT_WAIT | EPOLLMOD_FEAT_KQUEUE;
}

int fake_ioctl(int fd, unsigned long request, void *arg, int *ret)
{
	if (!fake.on || !is_device(fd))
		return 0;
	switch (request) {
	case EPOLLMOD_IOC_INFO: {
		auto *info = static_cast<epollmod_info *>(arg);
		*info = epollmod_info{};
		info->size = sizeof(*info);
		info->abi_version = fake.abi_version;
		info->features = fake.features;
		*ret = 0;
		break;
	}
	case EPOLLMOD_IOC_KQUEUE:
		*ret = answer(fake.kqueue_ret);
		break;
	case EPOLLMOD_IOC_KEVENT:
		*ret = fake_kevent(static_cast<struct epollmod_kevent *>(arg));
		break;
	default:
		*ret = answer(-ENOTTY);
	}
	return 1;
}

int open_fds()
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

struct kevent poison()
{
	struct kevent ev;

	std::memset(&ev, 0xa5, sizeof(ev));
	return ev;
}

bool poisoned(const struct kevent &ev)
{
	struct kevent p = poison();

	return !std::memcmp(&ev, &p, sizeof(ev));
}

// Not a kqueue: EBADF, the event list untouched, for both names.
void check_not_kqueue(int fd)
{
	struct kevent change, out[2] = {poison(), poison()};
	const timespec zero{};

	EV_SET(&change, 0, EVFILT_USER, EV_ADD, 0, 0, nullptr);
	CHECK_ERR(epollmod_kevent(fd, &change, 1, out, 2, &zero), EBADF);
	CHECK_ERR(epollmod_kevent(fd, nullptr, 0, out, 2, &zero), EBADF);
	CHECK_ERR(epollmod_kevent(fd, &change, 1, nullptr, 0, nullptr), EBADF);
	CHECK_ERR(kevent(fd, &change, 1, out, 2, &zero), EBADF);
	CHECK(poisoned(out[0]) && poisoned(out[1]));
}

void no_module()
{
	fake.on = false;
	setenv("EPOLLMOD_DEVICE", "/nonexistent/epollmod", 1);
	CHECK_ERR(epollmod_kqueue(), ENODEV);
	CHECK_ERR(kqueue(), ENODEV);
	// A device that is not the module (its ioctls fail).
	setenv("EPOLLMOD_DEVICE", "/dev/null", 1);
	CHECK_ERR(epollmod_kqueue(), ENODEV);

	int p[2];
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	int efd = eventfd(0, EFD_CLOEXEC);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd : {p[0], p[1], efd, ep, null, -1, 1000})
		check_not_kqueue(fd);

	// Negative counts before the fd is looked at.
	struct kevent out[1] = {poison()};
	for (int fd : {p[0], -1}) {
		CHECK_ERR(epollmod_kevent(fd, nullptr, 0, out, -1, nullptr),
			  EINVAL);
		CHECK_ERR(epollmod_kevent(fd, nullptr, -1, out, 1, nullptr),
			  EINVAL);
		CHECK_ERR(kevent(fd, nullptr, 0, out, INT32_MIN, nullptr),
			  EINVAL);
	}
	CHECK(poisoned(out[0]));
	// The batching variant: the same errnos, bad batching first.
	const timespec zero{}, bad{0, -1};
	for (int fd : {p[0], efd, ep, null, -1})
		CHECK_ERR(epollmod_kevent_batch(fd, nullptr, 0, out, 1, 2,
						&zero, &zero),
			  EBADF);
	CHECK_ERR(epollmod_kevent_batch(-1, nullptr, 0, out, 1, -1, nullptr,
					&zero),
		  EINVAL);
	CHECK_ERR(epollmod_kevent_batch(-1, nullptr, 0, out, 1, 2, &bad, &zero),
		  EINVAL);
	CHECK(poisoned(out[0]));
	for (int fd : {p[0], p[1], efd, ep, null})
		close(fd);
}

// epollmod_kevent_batch(): the batching reaches the module as given,
// min_wait in nanoseconds; bad batching is refused before any ioctl.
void kevent_batch_args(int kq)
{
	struct kevent out[4] = {poison(), poison(), poison(), poison()};
	const timespec second{1, 0}, min{0, 250000}, zero{};
	const timespec bad[] = {{-1, 0}, {0, -1}, {0, 1000000000}};

	fake_reset();
	CHECK(epollmod_kevent_batch(kq, nullptr, 0, out, 4, 3, &min, &second) ==
	      0);
	CHECK(fake.kevent_calls == 1);
	CHECK(fake.args[0].min_events == 3 && fake.args[0].reserved == 0);
	CHECK(fake.args[0].min_wait_ns == 250000);
	CHECK(fake.args[0].timeout == uintptr_t(&second));

	// NULL and zero: no minimum wait; 0 events: an ordinary call.
	for (const timespec *t :
	     {&zero, static_cast<const timespec *>(nullptr)}) {
		fake_reset();
		CHECK(epollmod_kevent_batch(kq, nullptr, 0, out, 4, 0, t,
					    &second) == 0);
		CHECK(fake.args[0].min_events == 0);
		CHECK(fake.args[0].min_wait_ns == 0);
	}
	// Seconds that overflow 64-bit nanoseconds saturate.
	const timespec huge{INT64_MAX, 0};
	fake_reset();
	CHECK(epollmod_kevent_batch(kq, nullptr, 0, out, 4, 2, &huge,
				    &second) == 0);
	CHECK(fake.args[0].min_wait_ns == UINT64_MAX);
	// epollmod_kevent() itself sends no batching.
	fake_reset();
	CHECK(epollmod_kevent(kq, nullptr, 0, out, 4, &second) == 0);
	CHECK(fake.args[0].min_events == 0 && fake.args[0].min_wait_ns == 0);

	fake_reset();
	CHECK_ERR(epollmod_kevent_batch(kq, nullptr, 0, out, 4, -1, nullptr,
					&second),
		  EINVAL);
	CHECK_ERR(epollmod_kevent_batch(kq, nullptr, 0, out, 4, INT32_MIN, &min,
					&second),
		  EINVAL);
	for (const timespec &t : bad)
		CHECK_ERR(epollmod_kevent_batch(kq, nullptr, 0, out, 4, 2, &t,
						&second),
			  EINVAL);
	CHECK(fake.kevent_calls == 0);
	for (const auto &ev : out)
		CHECK(poisoned(ev));
}

// epollmod_kqueue() against the fake: every way it can fail, no fd left.
void kqueue_errors()
{
	int before = open_fds();

	fake_reset();
	setenv("EPOLLMOD_DEVICE", "/dev/null", 1);
	fake.abi_version = EPOLLMOD_ABI_VERSION + 1;
	CHECK_ERR(epollmod_kqueue(), EPROTO);
	fake_reset();
	fake.features &= ~EPOLLMOD_FEAT_KQUEUE;
	CHECK_ERR(epollmod_kqueue(), ENOSYS);
	fake_reset();
	fake.kqueue_ret = -ENOTTY;
	CHECK_ERR(epollmod_kqueue(), ENOSYS);
	fake.kqueue_ret = -ENOMEM;
	CHECK_ERR(epollmod_kqueue(), ENOMEM);
	fake.kqueue_ret = -EMFILE;
	CHECK_ERR(kqueue(), EMFILE);
	CHECK(open_fds() == before);

	fake_reset();
	int kq = epollmod_kqueue();
	CHECK(kq >= 0 && is_device(kq));
	CHECK(fcntl(kq, F_GETFD) == FD_CLOEXEC);
	close(kq);
}

// The fake finds nothing n times, then answers last.
void nothing_pending_then(int n, int last)
{
	fake_reset();
	for (int i = 0; i < n; i++)
		fake.kevent_ret[i] = 0;
	for (int i = n; i < 8; i++)
		fake.kevent_ret[i] = last;
}

// glibc's cancellation signal, in the kernel's mask.
constexpr uint64_t sigcancel_bit = 1ULL << (32 - 1);

uint64_t thread_mask()
{
	uint64_t mask;

	syscall(SYS_rt_sigprocmask, SIG_BLOCK, nullptr, &mask, 8);
	return mask;
}

// What reaches the module, and the errnos that come back.
void kevent_args(int kq)
{
	struct kevent ch[3], out[4];
	const timespec zero{}, second{1, 0};

	for (auto &c : ch)
		EV_SET(&c, 7, EVFILT_USER, EV_ADD, 0, 0, nullptr);

	// One ioctl, the caller's pointers as they are; no mask for a call
	// that cannot wait.
	fake_reset();
	CHECK(epollmod_kevent(kq, ch, 3, out, 0, &second) == 0);
	CHECK(fake.kevent_calls == 1);
	const struct epollmod_kevent &a = fake.args[0];
	CHECK(a.size == sizeof(struct epollmod_kevent) && a.flags == 0);
	CHECK(a.changes == uintptr_t(ch) && a.nchanges == 3);
	CHECK(a.events == uintptr_t(out) && a.nevents == 0);
	CHECK(a.timeout == uintptr_t(&second));
	CHECK(a.sigmask == 0 && a.sigsetsize == 0);

	// A call that may wait: the thread's mask without SIGCANCEL, for
	// the wait only. Whatever the timeout, even zero or unreadable: the
	// module reads it.
	const uint64_t before = thread_mask();
	CHECK(!(before & sigcancel_bit));
	auto *unmapped = reinterpret_cast<const timespec *>(uintptr_t(8));
	for (const timespec *t : {&zero, &second, unmapped,
				  static_cast<const timespec *>(nullptr)}) {
		nothing_pending_then(0, 2);
		CHECK(epollmod_kevent(kq, ch, 3, out, 4, t) == 2);
		CHECK(fake.kevent_calls == 1);
		const struct epollmod_kevent &b = fake.args[0];
		CHECK(b.size == sizeof(struct epollmod_kevent) && b.flags == 0);
		CHECK(b.changes == uintptr_t(ch) && b.nchanges == 3);
		CHECK(b.events == uintptr_t(out) && b.nevents == 4);
		CHECK(b.timeout == uintptr_t(t));
		CHECK(b.sigmask != 0 && b.sigsetsize == 8);
		CHECK(fake.masks[0] == before);
		CHECK(out[0].ident == 42 && out[1].ident == 43);
		CHECK(thread_mask() == before);
	}

	// Cancellation off: no mask either.
	fake_reset();
	int state;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
	CHECK(epollmod_kevent(kq, ch, 3, out, 4, nullptr) == 0);
	pthread_setcancelstate(state, nullptr);
	CHECK(fake.kevent_calls == 1 && fake.args[0].sigmask == 0 &&
	      fake.args[0].timeout == 0);

	// The module's errnos stand, ENOTTY aside: only a stranger says it.
	for (int err : {ENOENT, EINVAL, EBADF, ENOMEM, EINTR, EFAULT, ESRCH}) {
		nothing_pending_then(0, -err);
		CHECK_ERR(epollmod_kevent(kq, ch, 3, out, 4, &zero), err);
		CHECK_ERR(kevent(kq, ch, 3, nullptr, 0, nullptr), err);
		CHECK(thread_mask() == before);
	}
	nothing_pending_then(0, -ENOTTY);
	CHECK_ERR(epollmod_kevent(kq, ch, 3, out, 4, &zero), EBADF);
	CHECK_ERR(epollmod_kevent(kq, ch, 3, out, 0, &zero), EBADF);
}

struct waiter {
	int kq;
	std::atomic<int> returned{-2};
};

void *wait_forever(void *p)
{
	auto *w = static_cast<waiter *>(p);
	struct kevent out[4];

	w->returned = epollmod_kevent(w->kq, nullptr, 0, out, 4, nullptr);
	pthread_testcancel();
	return nullptr;
}

std::atomic<bool> harvesting, cancel_sent;

// A cancel that comes once the module has taken events: sent by the main
// thread while the waiter is still inside the ioctl.
void cancel_during_harvest(int)
{
	harvesting = true;
	while (!cancel_sent)
		usleep(1000);
}

void cancels(int kq)
{
	void *result;

	// Blocked with nothing taken: cancelled there.
	{
		waiter w{kq};
		pthread_t t;
		fake_reset();
		fake.block = true;
		CHECK(pthread_create(&t, nullptr, wait_forever, &w) == 0);
		while (!__atomic_load_n(&fake.kevent_calls, __ATOMIC_SEQ_CST))
			usleep(1000);
		pthread_cancel(t);
		CHECK(pthread_join(t, &result) == 0);
		CHECK(result == PTHREAD_CANCELED);
		CHECK(w.returned == -2);
		CHECK(fake.kevent_calls == 1);
	}
	// Events taken: returned, and the cancel acts at the next point.
	{
		waiter w{kq};
		pthread_t t;
		nothing_pending_then(0, 3);
		fake.on_kevent = cancel_during_harvest;
		harvesting = cancel_sent = false;
		CHECK(pthread_create(&t, nullptr, wait_forever, &w) == 0);
		while (!harvesting)
			usleep(1000);
		pthread_cancel(t);
		cancel_sent = true;
		CHECK(pthread_join(t, &result) == 0);
		CHECK(result == PTHREAD_CANCELED);
		CHECK(w.returned == 3);
		CHECK(fake.kevent_calls == 1);
	}
}

void *cancelled_before(void *p)
{
	auto *w = static_cast<waiter *>(p);
	struct kevent out[1];
	const timespec zero{};

	pthread_cancel(pthread_self());
	// No wait, no cancellation point (as on FreeBSD).
	w->returned = epollmod_kevent(w->kq, nullptr, 0, out, 0, &zero);
	// A call that could wait is one, even if it would not.
	epollmod_kevent(w->kq, nullptr, 0, out, 1, &zero);
	w->returned = -3;
	return nullptr;
}

void cancellation_point(int kq)
{
	waiter w{kq};
	pthread_t t;
	void *result;

	fake_reset();
	CHECK(pthread_create(&t, nullptr, cancelled_before, &w) == 0);
	CHECK(pthread_join(t, &result) == 0);
	CHECK(result == PTHREAD_CANCELED);
	CHECK(w.returned == 0);
	CHECK(fake.kevent_calls == 1 && fake.args[0].nevents == 0);
}

int ev_set_count;
int next()
{
	return ++ev_set_count;
}

// EV_SET evaluates each argument once, in order or not.
void ev_set()
{
	struct kevent evs[3] = {poison(), poison(), poison()};
	struct kevent *p = evs;
	int udata;

	EV_SET(p++, next(), EVFILT_TIMER, EV_ADD | EV_ONESHOT, NOTE_USECONDS,
	       -5, &udata);
	CHECK(p == evs + 1 && ev_set_count == 1);
	CHECK(evs[0].ident == 1 && evs[0].filter == -7 &&
	      evs[0].flags == 0x11 && evs[0].fflags == 4 && evs[0].data == -5 &&
	      evs[0].udata == &udata);
	CHECK(poisoned(evs[1]));
}

} // namespace

int main()
{
	fake_ioctl_hook = fake_ioctl;
	no_module();
	kqueue_errors();

	setenv("EPOLLMOD_DEVICE", "/dev/null", 1);
	fake_reset();
	int kq = epollmod_kqueue();
	CHECK(kq >= 0);
	kevent_args(kq);
	kevent_batch_args(kq);
	cancellation_point(kq);
	cancels(kq);
	close(kq);

	ev_set();
	return check_report("kqueue_no_module");
}
