// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
//
// The kqueue face for C++20: a move-only kqueue whose kevent() takes spans
// and std::error_code, and allocates and throws nothing. A header of its
// own rather than part of epollmod.hpp: <epollmod/kqueue.h> brings
// FreeBSD's macro names (EV_*, NOTE_*, EVFILT_*) into every file that
// includes it, and epoll users need not have them.
#ifndef EPOLLMOD_KQUEUE_HPP
#define EPOLLMOD_KQUEUE_HPP

#include <epollmod/epollmod.hpp>
#include <epollmod/kqueue.h>

#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

namespace epollmod
{

// A kqueue on the module. Move-only; the fd is closed by the destructor.
class kqueue
{
public:
	kqueue() noexcept = default;
	explicit kqueue(unique_fd fd) noexcept : fd_(std::move(fd)) {}

	// Close-on-exec, as epollmod_kqueue() makes every kqueue.
	static kqueue create(std::error_code &ec) noexcept
	{
		int fd = epollmod_kqueue();

		ec = fd < 0 ? last_error() : std::error_code();
		return kqueue(unique_fd(fd));
	}

	int fd() const noexcept { return fd_.get(); }
	explicit operator bool() const noexcept { return bool(fd_); }
	unique_fd release() noexcept { return std::move(fd_); }

	// Applies changes in order, then fills the front of events; returns
	// how many entries it wrote (change results with EV_ERROR if any
	// change posted one, else events). A null timeout blocks; an empty
	// events span applies the changes without waiting. EINTR is
	// returned, not retried: the caller owns signals. Being noexcept, it
	// ends the program if the thread is cancelled inside (as wait() of
	// an instance does): run event loops with cancellation disabled, or
	// call epollmod_kevent() itself.
	std::size_t kevent(std::span<const struct kevent> changes,
			   std::span<struct kevent> events,
			   const timespec *timeout,
			   std::error_code &ec) const noexcept
	{
		// Dropping changes past INT_MAX would apply some silently.
		if (changes.size() > std::size_t(INT_MAX)) {
			ec = std::error_code(EINVAL, category());
			return 0;
		}
		return finish(epollmod_kevent(fd_.get(), changes.data(),
					      int(changes.size()),
					      events.data(),
					      clamp(events.size()), timeout),
			      ec);
	}

	// The same with a duration; a negative one blocks.
	std::size_t kevent(std::span<const struct kevent> changes,
			   std::span<struct kevent> events,
			   std::chrono::nanoseconds timeout,
			   std::error_code &ec) const noexcept
	{
		timespec ts{};

		if (timeout.count() < 0)
			return kevent(changes, events, nullptr, ec);
		ts.tv_sec = time_t(timeout.count() / 1000000000);
		ts.tv_nsec = long(timeout.count() % 1000000000);
		return kevent(changes, events, &ts, ec);
	}

	// Batching (epollmod_kevent_batch()): returns once min_events events
	// are ready (at most events.size(); 0 or 1: any), or any once
	// min_wait has passed (zero or negative: never), or at the timeout
	// (negative: none) with whatever is ready.
	std::size_t kevent(std::span<const struct kevent> changes,
			   std::span<struct kevent> events,
			   std::size_t min_events,
			   std::chrono::nanoseconds min_wait,
			   std::chrono::nanoseconds timeout,
			   std::error_code &ec) const noexcept
	{
		timespec min{}, until{};
		bool has_min = min_wait.count() > 0 &&
			       detail::to_timespec(min_wait, min);
		bool has_until = detail::to_timespec(timeout, until);

		if (changes.size() > std::size_t(INT_MAX)) {
			ec = std::error_code(EINVAL, category());
			return 0;
		}
		return finish(epollmod_kevent_batch(
				      fd_.get(), changes.data(),
				      int(changes.size()), events.data(),
				      clamp(events.size()), clamp(min_events),
				      has_min ? &min : nullptr,
				      has_until ? &until : nullptr),
			      ec);
	}

	// Sets the kqueue's options (all at once: fifo_exclusive or 0);
	// returns the previous ones.
	std::uint64_t set_options(std::uint64_t options,
				  std::error_code &ec) const noexcept
	{
		unsigned long long old = 0;

		if (epollmod_set_options(fd_.get(), options, &old)) {
			ec = last_error();
			return 0;
		}
		ec.clear();
		return old;
	}

private:
	// The capacity is only an upper bound: a smaller one is still true.
	static int clamp(std::size_t n) noexcept
	{
		return int(n < std::size_t(INT_MAX) ? n : INT_MAX);
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

} // namespace epollmod

#endif // EPOLLMOD_KQUEUE_HPP
