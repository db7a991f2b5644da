// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
//
// The C++ kqueue (epollmod/kqueue.hpp) on the module. Prints TAP, so the
// test VM's runner takes it like a selftest; on a host without the module
// the tests that need it are skipped, saying why (with EPM_REQUIRE_MODULE
// set, that is a failure instead).
#include <epollmod/kqueue.hpp>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <thread>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tap.h"

using namespace std::chrono_literals;

namespace
{

using kev = struct kevent;

kev poison()
{
	kev ev;

	std::memset(&ev, 0xa5, sizeof(ev));
	return ev;
}

kev change(uintptr_t ident, short filter, unsigned short flags,
	   unsigned fflags = 0, intptr_t data = 0, void *udata = nullptr)
{
	kev ev;

	EV_SET(&ev, ident, filter, flags, fflags, data, udata);
	return ev;
}

// Without the module (here, a path with no device), create() fails with
// an error that names the fix, and an empty kqueue gives EBADF.
void errors_without_module()
{
	const char *old = getenv("EPOLLMOD_DEVICE");
	std::string saved = old ? old : "";
	std::error_code ec;
	kev out[1] = {poison()};

	setenv("EPOLLMOD_DEVICE", "/nonexistent/epollmod", 1);
	auto kq = epollmod::kqueue::create(ec);
	if (old)
		setenv("EPOLLMOD_DEVICE", saved.c_str(), 1);
	else
		unsetenv("EPOLLMOD_DEVICE");
	EXPECT(!kq && kq.fd() == -1);
	EXPECT(ec == std::errc::no_such_device);
	EXPECT(ec.message().find("insmod epollmod.ko") != std::string::npos);
	EXPECT(kq.kevent({}, out, nullptr, ec) == 0 &&
	       ec == std::errc::bad_file_descriptor);
	kev p = poison();
	EXPECT(!std::memcmp(&out[0], &p, sizeof(kev)));
}

void creates_and_closes()
{
	std::error_code ec;
	int fd;
	{
		auto kq = epollmod::kqueue::create(ec);
		EXPECT(!ec && kq);
		fd = kq.fd();
		EXPECT(fcntl(fd, F_GETFD) == FD_CLOEXEC);
		EXPECT(epollmod_is_instance(fd));
	}
	EXPECT(fcntl(fd, F_GETFD) == -1 && errno == EBADF);
}

void moves_own_the_fd()
{
	std::error_code ec;
	auto a = epollmod::kqueue::create(ec);
	int fd = a.fd();
	epollmod::kqueue b = std::move(a);
	EXPECT(!a && b && b.fd() == fd);
	epollmod::kqueue c;
	c = std::move(b);
	EXPECT(!b && c.fd() == fd);
	epollmod::unique_fd raw = c.release();
	EXPECT(!c && raw.get() == fd);
	EXPECT(fcntl(fd, F_GETFD) != -1);
}

// Changes and events through spans; results of changes as entries.
void kevent_takes_spans()
{
	std::error_code ec;
	auto kq = epollmod::kqueue::create(ec);
	int tag;
	kev changes[] = {change(1, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, &tag),
			 change(2, EVFILT_USER, EV_ADD | EV_CLEAR)};
	kev out[4] = {poison(), poison(), poison(), poison()};

	EXPECT(kq.kevent(changes, {}, nullptr, ec) == 0 && !ec);
	kev trigger = change(1, EVFILT_USER, 0, NOTE_TRIGGER | NOTE_FFCOPY | 5,
			     0, &tag);
	std::size_t n = kq.kevent(std::span(&trigger, 1), out, 0ns, ec);
	EXPECT(!ec && n == 1);
	EXPECT(out[0].ident == 1 && out[0].filter == EVFILT_USER &&
	       out[0].fflags == 5 && out[0].udata == &tag);
	kev p = poison();
	EXPECT(!std::memcmp(&out[1], &p, sizeof(kev)));

	// A failing change: an EV_ERROR entry when there is room ...
	kev missing = change(9, EVFILT_USER, EV_DELETE);
	n = kq.kevent(std::span(&missing, 1), out, nullptr, ec);
	EXPECT(!ec && n == 1);
	EXPECT(out[0].ident == 9 && (out[0].flags & EV_ERROR) &&
	       out[0].data == ENOENT);
	// ... the call's error when there is none.
	EXPECT(kq.kevent(std::span(&missing, 1), {}, nullptr, ec) == 0 &&
	       ec == std::errc::no_such_file_or_directory);
	// Too many changes to count in an int: refused before the call (the
	// span's elements are never read).
	EXPECT(kq.kevent(
		       std::span<const kev>(changes, std::size_t(INT_MAX) + 1),
		       out, 0ns, ec) == 0 &&
	       ec == std::errc::invalid_argument);
}

void timeouts()
{
	std::error_code ec;
	auto kq = epollmod::kqueue::create(ec);
	kev add = change(1, EVFILT_USER, EV_ADD | EV_CLEAR);
	kev out[1];
	timespec ten_ms = {0, 10'000'000};

	EXPECT(kq.kevent(std::span(&add, 1), {}, nullptr, ec) == 0 && !ec);
	auto start = std::chrono::steady_clock::now();
	EXPECT(kq.kevent({}, out, 10ms, ec) == 0 && !ec);
	EXPECT(kq.kevent({}, out, &ten_ms, ec) == 0 && !ec);
	EXPECT(std::chrono::steady_clock::now() - start >= 20ms);
	// A negative duration blocks until the event (from another thread).
	std::thread trigger([&] {
		std::error_code tec;
		kev t = change(1, EVFILT_USER, 0, NOTE_TRIGGER);
		std::this_thread::sleep_for(50ms);
		kq.kevent(std::span(&t, 1), {}, nullptr, tec);
	});
	EXPECT(kq.kevent({}, out, -1ns, ec) == 1 && !ec && out[0].ident == 1);
	trigger.join();
}

void kevent_allocates_nothing()
{
	std::error_code ec;
	auto kq = epollmod::kqueue::create(ec);
	kev add = change(3, EVFILT_USER, EV_ADD | EV_CLEAR);
	kev trigger = change(3, EVFILT_USER, 0, NOTE_TRIGGER);
	kev out[8];

	EXPECT(kq.kevent(std::span(&add, 1), {}, nullptr, ec) == 0);
	long before = allocations.load();
	for (int i = 0; i < 1000; i++) {
		EXPECT(kq.kevent(std::span(&trigger, 1), out, 0ns, ec) == 1);
		EXPECT(kq.kevent({}, out, 0ns, ec) == 0 && !ec);
	}
	EXPECT(allocations.load() == before);
}

// The C call under kevent(): a cancellation point that, cancelled while it
// waits, has taken nothing, and leaves the thread's signal mask as it was.
// (Through the C call: kqueue::kevent() is noexcept, and a cancel that
// unwinds through it ends the program, as for instance::wait().)
struct cancel_arg {
	int kq;
	std::atomic<bool> started{false};
	std::atomic<int> returned{-2};
};

void *wait_for_user_event(void *p)
{
	auto *a = static_cast<cancel_arg *>(p);
	kev out[1];

	a->started = true;
	a->returned = epollmod_kevent(a->kq, nullptr, 0, out, 1, nullptr);
	return nullptr;
}

void kevent_cancellation()
{
	std::error_code ec;
	auto kq = epollmod::kqueue::create(ec);
	kev add = change(5, EVFILT_USER, EV_ADD | EV_CLEAR);
	kev trigger = change(5, EVFILT_USER, 0, NOTE_TRIGGER);
	kev out[1];
	std::uint64_t before = 0, after = 0;
	timespec ms10 = {0, 10'000'000};

	EXPECT(kq.kevent(std::span(&add, 1), {}, nullptr, ec) == 0 && !ec);
	// The kernel's own mask, where glibc's hides SIGCANCEL.
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, nullptr, &before, 8);
	EXPECT(epollmod_kevent(kq.fd(), nullptr, 0, out, 1, &ms10) == 0);
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, nullptr, &after, 8);
	EXPECT(before == after);

	cancel_arg a;
	a.kq = kq.fd();
	pthread_t t;
	void *result = nullptr;
	EXPECT(pthread_create(&t, nullptr, wait_for_user_event, &a) == 0);
	while (!a.started)
		std::this_thread::sleep_for(1ms);
	// Blocked or about to be: either way the cancel ends the call.
	std::this_thread::sleep_for(50ms);
	EXPECT(pthread_cancel(t) == 0);
	EXPECT(pthread_join(t, &result) == 0);
	EXPECT(result == PTHREAD_CANCELED && a.returned == -2);
	// The knote is there, untouched: an event after the cancel is seen.
	EXPECT(kq.kevent(std::span(&trigger, 1), out, 0ns, ec) == 1 && !ec &&
	       out[0].ident == 5);
}

// Batching: two of two ready at once; one of two returns at min_wait, or
// at the timeout without one; the options round-trip. No allocation.
void kevent_batches()
{
	std::error_code ec;
	auto kq = epollmod::kqueue::create(ec);
	kev changes[] = {change(1, EVFILT_USER, EV_ADD),
			 change(2, EVFILT_USER, EV_ADD),
			 change(1, EVFILT_USER, 0, NOTE_TRIGGER)};
	kev two = change(2, EVFILT_USER, 0, NOTE_TRIGGER);
	kev out[4] = {poison(), poison(), poison(), poison()};

	long before = allocations.load();
	auto start = std::chrono::steady_clock::now();
	EXPECT(kq.kevent(changes, out, 2, 0ns, 100ms, ec) == 1 && !ec &&
	       out[0].ident == 1);
	EXPECT(std::chrono::steady_clock::now() - start >= 80ms);
	start = std::chrono::steady_clock::now();
	EXPECT(kq.kevent({}, out, 2, 50ms, 10s, ec) == 1 && !ec);
	auto took = std::chrono::steady_clock::now() - start;
	EXPECT(took >= 40ms && took < 8s);
	start = std::chrono::steady_clock::now();
	EXPECT(kq.kevent(std::span(&two, 1), out, 2, 0ns, 10s, ec) == 2 && !ec);
	EXPECT(std::chrono::steady_clock::now() - start < 8s);
	EXPECT(kq.set_options(epollmod::fifo_exclusive, ec) == 0 && !ec);
	EXPECT(kq.set_options(0, ec) == epollmod::fifo_exclusive && !ec);
	EXPECT(kq.set_options(~0ULL, ec) == 0 &&
	       ec == std::errc::invalid_argument);
	EXPECT(allocations.load() == before);
}

// What a caller may rely on, checked at compile time.
using kq_t = epollmod::kqueue;
static_assert(noexcept(std::declval<const kq_t &>().kevent(
	std::declval<std::span<const kev>>(), std::declval<std::span<kev>>(),
	nullptr, std::declval<std::error_code &>())));
static_assert(noexcept(std::declval<const kq_t &>().kevent(
	std::declval<std::span<const kev>>(), std::declval<std::span<kev>>(),
	std::declval<std::chrono::nanoseconds>(),
	std::declval<std::error_code &>())));
static_assert(noexcept(std::declval<const kq_t &>().kevent(
	std::declval<std::span<const kev>>(), std::declval<std::span<kev>>(),
	std::size_t(2), std::declval<std::chrono::nanoseconds>(),
	std::declval<std::chrono::nanoseconds>(),
	std::declval<std::error_code &>())));
static_assert(noexcept(std::declval<const kq_t &>().set_options(
	0, std::declval<std::error_code &>())));
static_assert(noexcept(kq_t::create(std::declval<std::error_code &>())));
static_assert(!std::is_copy_constructible_v<kq_t>);
static_assert(!std::is_copy_assignable_v<kq_t>);
static_assert(std::is_nothrow_move_constructible_v<kq_t>);
static_assert(std::is_nothrow_move_assignable_v<kq_t>);

bool module_loaded(std::string &why)
{
	std::error_code ec;
	auto kq = epollmod::kqueue::create(ec);

	why = ec.message();
	return bool(kq);
}

#define MODULE_TESTS(X)             \
	X(creates_and_closes)       \
	X(moves_own_the_fd)         \
	X(kevent_takes_spans)       \
	X(timeouts)                 \
	X(kevent_allocates_nothing) \
	X(kevent_cancellation)      \
	X(kevent_batches)

} // namespace

int main()
{
	std::string why;
	bool loaded = module_loaded(why);
	int count = 1;

#define COUNT(name) count++;
	MODULE_TESTS(COUNT)
	std::printf("TAP version 13\n1..%d\n", count);

	tap_run("kqueue_cxx", "errors_without_module", errors_without_module);
	if (!loaded && getenv("EPM_REQUIRE_MODULE")) {
		std::printf("# epollmod: %s\n", why.c_str());
		loaded = true; /* run them and let them fail */
	}
#define MODULE(name)                                \
	if (loaded)                                 \
		tap_run("kqueue_cxx", #name, name); \
	else                                        \
		tap_skip("kqueue_cxx", #name, why);
	MODULE_TESTS(MODULE)
	return failures ? 1 : 0;
}
