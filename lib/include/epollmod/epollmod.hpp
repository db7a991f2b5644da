// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
//
// epollmod for C++20: a move-only instance, typed event flags, and
// std::error_code errors. Every call is one C ABI call; nothing allocates
// and nothing throws.
//
// epollmod::instance runs on the module; epollmod::native_instance is the
// same class over the kernel's own epoll, so that one program can run on
// either (to compare them, or to fall back) with the choice made at compile
// time and nothing paid for it at run time.
#ifndef EPOLLMOD_EPOLLMOD_HPP
#define EPOLLMOD_EPOLLMOD_HPP

#if __cplusplus < 202002L
#error "epollmod.hpp needs C++20 (std::span): compile with -std=c++20"
#endif

#include <epollmod/epollmod.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include <unistd.h>

namespace epollmod
{

// errno values, with the fix named where epollmod has one to name.
class error_category final : public std::error_category
{
public:
	const char *name() const noexcept override { return "epollmod"; }

	std::string message(int ev) const override
	{
		switch (ev) {
		case ENODEV:
			return std::string(
				       "epollmod kernel module not loaded (") +
			       epollmod_device_path() +
			       " missing): run `insmod epollmod.ko` or "
			       "`modprobe epollmod`";
		case EPROTO:
			return "the loaded epollmod module speaks another ABI "
			       "version than this library: rebuild one of them";
		case ENOSYS:
			return "the loaded epollmod module has no kqueue face: "
			       "load one built from this version";
		default:
			return std::strerror(ev);
		}
	}

	std::error_condition
	default_error_condition(int ev) const noexcept override
	{
		return std::generic_category().default_error_condition(ev);
	}
};

inline const std::error_category &category() noexcept
{
	static const error_category instance;
	return instance;
}

inline std::error_code last_error() noexcept
{
	return {errno, category()};
}

// EPOLL* bits as a type, so that a flag cannot be mistaken for a count.
class events
{
public:
	constexpr events() noexcept = default;
	constexpr explicit events(std::uint32_t bits) noexcept : bits_(bits) {}

	constexpr std::uint32_t bits() const noexcept { return bits_; }
	constexpr bool any(events e) const noexcept { return bits_ & e.bits_; }
	constexpr bool all(events e) const noexcept
	{
		return (bits_ & e.bits_) == e.bits_;
	}
	constexpr bool none() const noexcept { return !bits_; }

	friend constexpr events operator|(events a, events b) noexcept
	{
		return events(a.bits_ | b.bits_);
	}
	friend constexpr events operator&(events a, events b) noexcept
	{
		return events(a.bits_ & b.bits_);
	}
	constexpr events operator~() const noexcept { return events(~bits_); }
	constexpr events &operator|=(events e) noexcept
	{
		bits_ |= e.bits_;
		return *this;
	}
	friend constexpr bool operator==(events, events) noexcept = default;

private:
	std::uint32_t bits_ = 0;
};

inline constexpr events in{EPOLLIN};
inline constexpr events out{EPOLLOUT};
inline constexpr events pri{EPOLLPRI};
inline constexpr events err{EPOLLERR};
inline constexpr events hup{EPOLLHUP};
inline constexpr events rdhup{EPOLLRDHUP};
inline constexpr events rdnorm{EPOLLRDNORM};
inline constexpr events rdband{EPOLLRDBAND};
inline constexpr events wrnorm{EPOLLWRNORM};
inline constexpr events wrband{EPOLLWRBAND};
inline constexpr events msg{EPOLLMSG};
inline constexpr events edge_triggered{EPOLLET};
inline constexpr events oneshot{EPOLLONESHOT};
inline constexpr events exclusive{EPOLLEXCLUSIVE};
inline constexpr events wakeup{EPOLLWAKEUP};

// An owned file descriptor: closed when it goes out of scope.
class unique_fd
{
public:
	constexpr unique_fd() noexcept = default;
	constexpr explicit unique_fd(int fd) noexcept : fd_(fd) {}
	unique_fd(unique_fd &&o) noexcept : fd_(o.release()) {}
	unique_fd &operator=(unique_fd &&o) noexcept
	{
		reset(o.release());
		return *this;
	}
	unique_fd(const unique_fd &) = delete;
	unique_fd &operator=(const unique_fd &) = delete;
	~unique_fd() { reset(); }

	constexpr int get() const noexcept { return fd_; }
	constexpr explicit operator bool() const noexcept { return fd_ >= 0; }
	int release() noexcept { return std::exchange(fd_, -1); }
	void reset(int fd = -1) noexcept
	{
		if (fd_ >= 0)
			::close(fd_);
		fd_ = fd;
	}

private:
	int fd_ = -1;
};

// One result of wait(): what happened, and the data given at add().
struct event {
	epoll_event raw;

	events what() const noexcept { return events(raw.events); }
	std::uint64_t data() const noexcept { return raw.data.u64; }
};
static_assert(sizeof(event) == sizeof(epoll_event) &&
		      std::is_standard_layout_v<event>,
	      "wait() hands the kernel's array back unchanged");

// One epoll_ctl() of a wait's change list (epollmod_wait_changes()): made
// by add(), modify() or remove(); after the wait, result() is what that
// call returned.
struct change {
	epollmod_change raw;

	static change add(int fd, events ev, std::uint64_t data) noexcept
	{
		return {{EPOLL_CTL_ADD, fd, ev.bits(), 0, data}};
	}
	static change modify(int fd, events ev, std::uint64_t data) noexcept
	{
		return {{EPOLL_CTL_MOD, fd, ev.bits(), 0, data}};
	}
	static change remove(int fd) noexcept
	{
		return {{EPOLL_CTL_DEL, fd, 0, 0, 0}};
	}
	std::error_code result() const noexcept
	{
		if (raw.result)
			return {raw.result, category()};
		return {};
	}
};
static_assert(sizeof(change) == sizeof(epollmod_change) &&
		      std::is_standard_layout_v<change>,
	      "a span of changes is the module's array, unchanged");

// The calls an instance is made of, bound at compile time: a call through
// Calls is a direct call, inlined like any other.
template <auto Create1, auto Ctl, auto Wait, auto Pwait2>
struct calls {
	static int create1(int flags) noexcept { return Create1(flags); }
	static int ctl(int epfd, int op, int fd, epoll_event *ev) noexcept
	{
		return Ctl(epfd, op, fd, ev);
	}
	static int wait(int epfd, epoll_event *out, int max,
			int timeout) noexcept
	{
		return Wait(epfd, out, max, timeout);
	}
	static int pwait2(int epfd, epoll_event *out, int max,
			  const timespec *timeout,
			  const sigset_t *sigmask) noexcept
	{
		return Pwait2(epfd, out, max, timeout, sigmask);
	}
};

// The module's, through libepollmod, with what only the module has ...
struct module_calls
    : calls<epollmod_create1, epollmod_ctl, epollmod_wait, epollmod_pwait2> {
	static int wait_batch(int epfd, epoll_event *out, int max,
			      int min_events, const timespec *min_wait,
			      const timespec *timeout) noexcept
	{
		return epollmod_wait_batch(epfd, out, max, min_events, min_wait,
					   timeout, nullptr);
	}
	static int wait_changes(int epfd, epollmod_change *changes,
				int nchanges, epoll_event *out, int max,
				int min_events, const timespec *min_wait,
				const timespec *timeout) noexcept
	{
		return epollmod_wait_changes(epfd, changes, nchanges, out, max,
					     min_events, min_wait, timeout,
					     nullptr);
	}
	static int set_options(int fd, unsigned long long options,
			       unsigned long long *old) noexcept
	{
		return epollmod_set_options(fd, options, old);
	}
};
// ... and the kernel's own epoll's.
using native_calls =
	calls<::epoll_create1, ::epoll_ctl, ::epoll_wait, ::epoll_pwait2>;

// Instance options (epollmod_set_options()): exclusive wakeups in arrival
// order, round robin, instead of Linux's latest first.
inline constexpr std::uint64_t fifo_exclusive = EPOLLMOD_FIFO_EXCLUSIVE;

// Calls with the module's batching, change lists and options: native epoll
// has none, so a native_instance does not offer them (a compile error, not
// ENOSYS).
template <class C>
concept batching_calls = requires
{
	C::wait_batch;
	C::wait_changes;
	C::set_options;
};

namespace detail
{
// A duration as a timespec; false for a negative one (none).
inline bool to_timespec(std::chrono::nanoseconds d, timespec &ts) noexcept
{
	if (d.count() < 0)
		return false;
	ts.tv_sec = time_t(d.count() / 1000000000);
	ts.tv_nsec = long(d.count() % 1000000000);
	return true;
}

// A batching wait's min_wait (zero or negative: none) and timeout
// (negative: none), as the C calls take them.
class batch_times
{
public:
	batch_times(std::chrono::nanoseconds min_wait,
		    std::chrono::nanoseconds timeout) noexcept
	    : has_min_(min_wait.count() > 0 && to_timespec(min_wait, min_)),
	      has_until_(to_timespec(timeout, until_))
	{
	}
	const timespec *min_wait() const noexcept
	{
		return has_min_ ? &min_ : nullptr;
	}
	const timespec *timeout() const noexcept
	{
		return has_until_ ? &until_ : nullptr;
	}

private:
	timespec min_{}, until_{};
	bool has_min_, has_until_;
};
} // namespace detail

// An epoll instance. Move-only; the fd is closed by the destructor.
template <class Calls>
class basic_instance
{
public:
	basic_instance() noexcept = default;
	explicit basic_instance(unique_fd fd) noexcept : fd_(std::move(fd)) {}

	// O_CLOEXEC unless told otherwise, as every library fd should be.
	static basic_instance create(std::error_code &ec,
				     bool cloexec = true) noexcept
	{
		int fd = Calls::create1(cloexec ? EPOLL_CLOEXEC : 0);

		ec = fd < 0 ? last_error() : std::error_code();
		return basic_instance(unique_fd(fd));
	}

	int fd() const noexcept { return fd_.get(); }
	explicit operator bool() const noexcept { return bool(fd_); }
	unique_fd release() noexcept { return std::move(fd_); }

	std::error_code add(int fd, events ev,
			    std::uint64_t data) const noexcept
	{
		return ctl(EPOLL_CTL_ADD, fd, ev, data);
	}
	std::error_code modify(int fd, events ev,
			       std::uint64_t data) const noexcept
	{
		return ctl(EPOLL_CTL_MOD, fd, ev, data);
	}
	std::error_code remove(int fd) const noexcept
	{
		if (Calls::ctl(fd_.get(), EPOLL_CTL_DEL, fd, nullptr))
			return last_error();
		return {};
	}

	// Fills the front of out; returns how many. A negative timeout
	// blocks. EINTR is returned, not retried: the caller owns signals.
	std::size_t wait(std::span<event> out,
			 std::chrono::milliseconds timeout,
			 std::error_code &ec) const noexcept
	{
		return finish(Calls::wait(fd_.get(), raw(out),
					  clamp(out.size()), clamp_ms(timeout)),
			      ec);
	}

	// Nanosecond timeouts (epoll_pwait2); nullptr blocks.
	std::size_t wait(std::span<event> out, const timespec *timeout,
			 const sigset_t *sigmask,
			 std::error_code &ec) const noexcept
	{
		return finish(Calls::pwait2(fd_.get(), raw(out),
					    clamp(out.size()), timeout,
					    sigmask),
			      ec);
	}

	// Batching (the module only, epollmod_wait_batch()): returns once
	// min_events are ready (at most out.size(); 0 or 1: any), or any
	// once min_wait has passed (zero or negative: never), or at the
	// timeout (negative: none) with whatever is ready.
	std::size_t
	wait(std::span<event> out, std::size_t min_events,
	     std::chrono::nanoseconds min_wait,
	     std::chrono::nanoseconds timeout,
	     std::error_code &ec) const noexcept requires batching_calls<Calls>
	{
		detail::batch_times t(min_wait, timeout);

		return finish(Calls::wait_batch(fd_.get(), raw(out),
						clamp(out.size()),
						clamp(min_events), t.min_wait(),
						t.timeout()),
			      ec);
	}

	// The batching wait that first makes the changes, in order, as
	// add(), modify() and remove() would (the module only,
	// epollmod_wait_changes()): each one's result() is set, and a failed
	// change does not fail the wait; they are made even when it times
	// out. No changes: the batching wait above.
	std::size_t
	wait(std::span<change> changes, std::span<event> out,
	     std::size_t min_events, std::chrono::nanoseconds min_wait,
	     std::chrono::nanoseconds timeout,
	     std::error_code &ec) const noexcept requires batching_calls<Calls>
	{
		detail::batch_times t(min_wait, timeout);
		// More than an int holds: EINVAL, not a list cut short.
		int n = changes.size() <= INT32_MAX ? int(changes.size()) : -1;

		return finish(Calls::wait_changes(fd_.get(), raw(changes), n,
						  raw(out), clamp(out.size()),
						  clamp(min_events),
						  t.min_wait(), t.timeout()),
			      ec);
	}

	// Sets the instance's options (all at once: fifo_exclusive or 0);
	// returns the previous ones. The module only.
	std::uint64_t set_options(std::uint64_t options, std::error_code &ec)
		const noexcept requires batching_calls<Calls>
	{
		unsigned long long old = 0;

		if (Calls::set_options(fd_.get(), options, &old)) {
			ec = last_error();
			return 0;
		}
		ec.clear();
		return old;
	}

private:
	std::error_code ctl(int op, int fd, events ev,
			    std::uint64_t data) const noexcept
	{
		epoll_event e{};

		e.events = ev.bits();
		e.data.u64 = data;
		if (Calls::ctl(fd_.get(), op, fd, &e))
			return last_error();
		return {};
	}

	// event is standard-layout with raw its only member: an array of
	// events is one of epoll_event, whole (the kernel fills all of it).
	static epoll_event *raw(std::span<event> out) noexcept
	{
		return out.empty()
			       ? nullptr
			       : reinterpret_cast<epoll_event *>(out.data());
	}

	// The same for change: one epollmod_change, whole.
	static epollmod_change *raw(std::span<change> changes) noexcept
	{
		return changes.empty() ? nullptr
				       : reinterpret_cast<epollmod_change *>(
						 changes.data());
	}

	// An empty span reaches the kernel as maxevents 0: EINVAL, as native.
	static int clamp(std::size_t n) noexcept
	{
		constexpr std::size_t max = INT32_MAX / sizeof(epoll_event);

		return int(n < max ? n : max);
	}

	static int clamp_ms(std::chrono::milliseconds t) noexcept
	{
		if (t.count() < 0)
			return -1;
		return int(t.count() < INT32_MAX ? t.count() : INT32_MAX);
	}

	static std::size_t finish(int n, std::error_code &ec) noexcept
	{
		if (n < 0) {
			ec = last_error();
			return 0;
		}
		ec.clear();
		return std::size_t(n);
	}

	unique_fd fd_;
};

using instance = basic_instance<module_calls>;
using native_instance = basic_instance<native_calls>;

} // namespace epollmod

#endif // EPOLLMOD_EPOLLMOD_HPP
