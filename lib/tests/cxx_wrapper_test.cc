// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
//
// The C++ wrapper, differentially: every test is a template run on
// epollmod::native_instance and on epollmod::instance. Prints TAP, so the
// test VM's runner takes it like a selftest; on a host without the module
// the epollmod half is skipped, saying why (with EPM_REQUIRE_MODULE set,
// that is a failure instead).
#include <epollmod/epollmod.hpp>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tap.h"

using namespace std::chrono_literals;

namespace
{

struct efd {
	int fd;
	explicit efd(unsigned count = 0) : fd(eventfd(count, EFD_CLOEXEC)) {}
	~efd() { close(fd); }
};

template <class B>
void creates_and_closes()
{
	std::error_code ec;
	int fd;
	{
		auto ep = B::create(ec);
		EXPECT(!ec && ep);
		fd = ep.fd();
		EXPECT(fcntl(fd, F_GETFD) == FD_CLOEXEC);
	}
	EXPECT(fcntl(fd, F_GETFD) == -1 && errno == EBADF);
	auto keep = B::create(ec, false);
	EXPECT(fcntl(keep.fd(), F_GETFD) == 0);
}

template <class B>
void moves_own_the_fd()
{
	std::error_code ec;
	auto a = B::create(ec);
	int fd = a.fd();
	B b = std::move(a);
	EXPECT(!a && b && b.fd() == fd);
	B c;
	c = std::move(b);
	EXPECT(!b && c.fd() == fd);
	epollmod::unique_fd raw = c.release();
	EXPECT(!c && raw.get() == fd);
	EXPECT(fcntl(fd, F_GETFD) != -1);
}

template <class B>
void errors_are_error_codes()
{
	std::error_code ec;
	auto ep = B::create(ec);
	efd e;
	int file = memfd_create("cxx", MFD_CLOEXEC);

	EXPECT(!ep.add(e.fd, epollmod::in, 1));
	EXPECT(ep.add(e.fd, epollmod::in, 1) == std::errc::file_exists);
	EXPECT(!ep.remove(e.fd));
	EXPECT(ep.remove(e.fd) == std::errc::no_such_file_or_directory);
	EXPECT(ep.modify(e.fd, epollmod::in, 1) ==
	       std::errc::no_such_file_or_directory);
	EXPECT(ep.add(-1, epollmod::in, 1) == std::errc::bad_file_descriptor);
	EXPECT(ep.add(file, epollmod::in, 1) ==
	       std::errc::operation_not_permitted);
	EXPECT(ep.add(ep.fd(), epollmod::in, 1) == std::errc::invalid_argument);
	close(file);
}

template <class B>
void wait_fills_a_span()
{
	std::error_code ec;
	auto ep = B::create(ec);
	efd a(1), b(1);
	epollmod::event out[4];

	EXPECT(!ep.add(a.fd, epollmod::in, 10));
	EXPECT(!ep.add(b.fd, epollmod::in | epollmod::out, 20));
	std::memset(out, 0xa5, sizeof(out));
	std::size_t n = ep.wait(out, 0ms, ec);
	EXPECT(!ec && n == 2);
	EXPECT(out[0].data() == 10 && out[0].what() == epollmod::in);
	EXPECT(out[1].data() == 20 &&
	       out[1].what() == (epollmod::in | epollmod::out));
	// A span's size is maxevents; an empty one is native's EINVAL.
	EXPECT(ep.wait(std::span(out, 1), 0ms, ec) == 1 && !ec);
	EXPECT(ep.wait(std::span<epollmod::event>(), 0ms, ec) == 0 &&
	       ec == std::errc::invalid_argument);
}

template <class B>
void edge_triggered_and_oneshot()
{
	std::error_code ec;
	auto ep = B::create(ec);
	efd a(1);
	epollmod::event out[2];

	EXPECT(!ep.add(a.fd, epollmod::in | epollmod::edge_triggered, 1));
	EXPECT(ep.wait(out, 0ms, ec) == 1);
	EXPECT(ep.wait(out, 0ms, ec) == 0 && !ec);
	EXPECT(!ep.modify(a.fd, epollmod::in | epollmod::oneshot, 2));
	EXPECT(ep.wait(out, 0ms, ec) == 1 && out[0].data() == 2);
	EXPECT(ep.wait(out, 0ms, ec) == 0);
}

template <class B>
void timeouts()
{
	std::error_code ec;
	auto ep = B::create(ec);
	efd a;
	epollmod::event out[1];
	timespec ten_ms = {0, 10'000'000};

	EXPECT(!ep.add(a.fd, epollmod::in, 1));
	auto start = std::chrono::steady_clock::now();
	EXPECT(ep.wait(out, 10ms, ec) == 0 && !ec);
	EXPECT(ep.wait(out, &ten_ms, nullptr, ec) == 0 && !ec);
	EXPECT(std::chrono::steady_clock::now() - start >= 20ms);
	// A negative timeout blocks until the event.
	std::thread writer([&] {
		std::this_thread::sleep_for(50ms);
		eventfd_write(a.fd, 1);
	});
	EXPECT(ep.wait(out, -1ms, ec) == 1 && !ec);
	writer.join();
}

template <class B>
void waits_allocate_nothing()
{
	std::error_code ec;
	auto ep = B::create(ec);
	efd a(1);
	epollmod::event out[8];
	timespec zero = {0, 0};

	EXPECT(!ep.add(a.fd, epollmod::in, 0));
	long before = allocations.load();
	for (int i = 0; i < 1000; i++) {
		EXPECT(!ep.modify(a.fd, epollmod::in, i));
		EXPECT(ep.wait(out, 0ms, ec) == 1);
		EXPECT(ep.wait(out, &zero, nullptr, ec) == 1);
	}
	EXPECT(allocations.load() == before);
}

// Batching and options are the module's: native epoll has neither, so
// native_instance does not offer them (a compile error, not ENOSYS).
template <class B>
concept batches = requires(const B &b, std::span<epollmod::event> out,
			   std::error_code &ec)
{
	b.wait(out, std::size_t(2), std::chrono::nanoseconds(0),
	       std::chrono::nanoseconds(0), ec);
	b.set_options(epollmod::fifo_exclusive, ec);
};
static_assert(batches<epollmod::instance>);
static_assert(!batches<epollmod::native_instance>);
static_assert(noexcept(std::declval<const epollmod::instance &>().wait(
	std::declval<std::span<epollmod::event>>(), std::size_t(2),
	std::declval<std::chrono::nanoseconds>(),
	std::declval<std::chrono::nanoseconds>(),
	std::declval<std::error_code &>())));

// min_events 2 of 2 ready returns both at once; of 1 ready, waits for the
// timeout, or min_wait when it is shorter; no allocation. Native: the
// ordinary wait, which returns the one at once (min_events 1).
template <class B>
void batch_wait()
{
	std::error_code ec;
	auto ep = B::create(ec);
	efd a(1), b(1);
	epollmod::event out[4];

	EXPECT(!ep.add(a.fd, epollmod::in, 1));
	auto wait = [&](std::size_t min, std::chrono::nanoseconds min_wait,
			std::chrono::nanoseconds timeout) {
		std::memset(out, 0xa5, sizeof(out));
		if constexpr (batches<B>)
			return ep.wait(out, min, min_wait, timeout, ec);
		else
			return ep.wait(
				out,
				std::chrono::duration_cast<
					std::chrono::milliseconds>(timeout),
				ec);
	};
	long before = allocations.load();
	auto start = std::chrono::steady_clock::now();
	EXPECT(wait(1, 0ns, 1s) == 1 && !ec && out[0].data() == 1);
	EXPECT(std::chrono::steady_clock::now() - start < 900ms);
	if constexpr (batches<B>) {
		start = std::chrono::steady_clock::now();
		EXPECT(wait(2, 0ns, 100ms) == 1 && !ec);
		EXPECT(std::chrono::steady_clock::now() - start >= 80ms);
		start = std::chrono::steady_clock::now();
		EXPECT(wait(2, 50ms, 10s) == 1 && !ec);
		auto took = std::chrono::steady_clock::now() - start;
		EXPECT(took >= 40ms && took < 8s);
		EXPECT(!ep.add(b.fd, epollmod::in, 2));
		start = std::chrono::steady_clock::now();
		EXPECT(wait(2, 0ns, 10s) == 2 && !ec);
		EXPECT(std::chrono::steady_clock::now() - start < 8s);
		// Clamped to the span's size: two of two, at once.
		start = std::chrono::steady_clock::now();
		EXPECT(ep.wait(std::span(out, 2), std::size_t(-1), 0ns, 10s,
			       ec) == 2 &&
		       !ec);
		EXPECT(std::chrono::steady_clock::now() - start < 8s);
		EXPECT(ep.set_options(epollmod::fifo_exclusive, ec) == 0 &&
		       !ec);
		EXPECT(ep.set_options(0, ec) == epollmod::fifo_exclusive);
		EXPECT(ep.set_options(2, ec) == 0 &&
		       ec == std::errc::invalid_argument);
	}
	EXPECT(allocations.load() == before);
}

static_assert(noexcept(std::declval<const epollmod::instance &>().wait(
	std::declval<std::span<epollmod::change>>(),
	std::declval<std::span<epollmod::event>>(), std::size_t(0),
	std::declval<std::chrono::nanoseconds>(),
	std::declval<std::chrono::nanoseconds>(),
	std::declval<std::error_code &>())));

// A change list: each change's result is what the same ctl() returns,
// the changes are made before the wait (a one-shot re-armed by the list
// is reported by the same call), no allocation. Native: the same ctl()
// calls, then a wait, which is what the list must equal.
template <class B>
void change_list_wait()
{
	using epollmod::change;
	std::error_code ec;
	auto ep = B::create(ec);
	efd a(1), b;
	epollmod::event out[4];
	const auto one = epollmod::in | epollmod::oneshot;
	long before = allocations.load();

	if constexpr (batches<B>) {
		change first[] = {
			change::add(a.fd, one, 1),
			change::add(a.fd, one, 2),
			change::modify(b.fd, epollmod::in, 3),
			change::remove(b.fd),
			change::add(b.fd, epollmod::in, 4),
		};
		std::memset(out, 0xa5, sizeof(out));
		EXPECT(ep.wait(first, out, 0, 0ns, 0ns, ec) == 1 && !ec);
		EXPECT(out[0].data() == 1);
		EXPECT(!first[0].result());
		EXPECT(first[1].result() == std::errc::file_exists);
		EXPECT(first[2].result() ==
		       std::errc::no_such_file_or_directory);
		EXPECT(first[3].result() ==
		       std::errc::no_such_file_or_directory);
		EXPECT(!first[4].result());
		// a's one-shot fired: re-armed in the list, seen at once.
		change rearm[] = {change::modify(a.fd, one, 5)};
		std::memset(out, 0xa5, sizeof(out));
		EXPECT(ep.wait(rearm, out, 0, 0ns, 0ns, ec) == 1 && !ec);
		EXPECT(out[0].data() == 5 && !rearm[0].result());
		// No changes: the batching wait; a is disarmed again.
		EXPECT(ep.wait(std::span<change>(), out, 0, 0ns, 0ns, ec) ==
			       0 &&
		       !ec);
	} else {
		EXPECT(!ep.add(a.fd, one, 1));
		EXPECT(ep.add(a.fd, one, 2) == std::errc::file_exists);
		EXPECT(ep.modify(b.fd, epollmod::in, 3) ==
		       std::errc::no_such_file_or_directory);
		EXPECT(ep.remove(b.fd) == std::errc::no_such_file_or_directory);
		EXPECT(!ep.add(b.fd, epollmod::in, 4));
		std::memset(out, 0xa5, sizeof(out));
		EXPECT(ep.wait(out, 0ms, ec) == 1 && !ec);
		EXPECT(out[0].data() == 1);
		EXPECT(!ep.modify(a.fd, one, 5));
		std::memset(out, 0xa5, sizeof(out));
		EXPECT(ep.wait(out, 0ms, ec) == 1 && !ec);
		EXPECT(out[0].data() == 5);
		EXPECT(ep.wait(out, 0ms, ec) == 0 && !ec);
	}
	EXPECT(allocations.load() == before);
}

// What a caller may rely on, checked at compile time.
template <class B>
struct contract {
	using span = std::span<epollmod::event>;
	using ms = std::chrono::milliseconds;

	static_assert(noexcept(std::declval<const B &>().wait(
		std::declval<span>(), std::declval<ms>(),
		std::declval<std::error_code &>())));
	static_assert(noexcept(std::declval<const B &>().wait(
		std::declval<span>(), nullptr, nullptr,
		std::declval<std::error_code &>())));
	static_assert(noexcept(std::declval<const B &>().add(0, epollmod::in,
							     0)));
	static_assert(noexcept(std::declval<const B &>().modify(0, epollmod::in,
								0)));
	static_assert(noexcept(std::declval<const B &>().remove(0)));
	static_assert(noexcept(B::create(std::declval<std::error_code &>())));
	static_assert(!std::is_copy_constructible_v<B>);
	static_assert(std::is_nothrow_move_constructible_v<B>);
};
template struct contract<epollmod::instance>;
template struct contract<epollmod::native_instance>;

constexpr auto in_out = epollmod::in | epollmod::out;
static_assert(in_out.all(epollmod::in) && !in_out.all(epollmod::pri));
static_assert(in_out.any(epollmod::out) && epollmod::events(0).none());
static_assert((~epollmod::in & in_out) == epollmod::out);

bool module_loaded(std::string &why)
{
	std::error_code ec;
	auto ep = epollmod::instance::create(ec);

	why = ec.message();
	return bool(ep);
}

#define EACH_TEST(X)                  \
	X(creates_and_closes)         \
	X(moves_own_the_fd)           \
	X(errors_are_error_codes)     \
	X(wait_fills_a_span)          \
	X(edge_triggered_and_oneshot) \
	X(timeouts)                   \
	X(waits_allocate_nothing)     \
	X(batch_wait)                 \
	X(change_list_wait)

} // namespace

int main()
{
	std::string why;
	bool loaded = module_loaded(why);
	int per_backend = 0;

#define COUNT(name) per_backend++;
	EACH_TEST(COUNT)
	std::printf("TAP version 13\n1..%d\n", 2 * per_backend);

#define NATIVE(name) \
	tap_run("cxx.native", #name, name<epollmod::native_instance>);
	EACH_TEST(NATIVE)
	if (!loaded && getenv("EPM_REQUIRE_MODULE")) {
		std::printf("# epollmod: %s\n", why.c_str());
		loaded = true; /* run it and let it fail */
	}
#define MODULE(name)                                                      \
	if (loaded)                                                       \
		tap_run("cxx.epollmod", #name, name<epollmod::instance>); \
	else                                                              \
		tap_skip("cxx.epollmod", #name, why);
	EACH_TEST(MODULE)
	return failures ? 1 : 0;
}
