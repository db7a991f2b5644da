// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
//
// One event loop, two kernels' epoll: the echo server is a template over
// an event_backend, the interface of epollmod::instance. native_epoll gives
// the same interface over <sys/epoll.h>, so the same server code runs on
// the module and on native epoll and only the backend differs.
#ifndef EPOLLMOD_EXAMPLES_EVENT_BACKEND_HPP
#define EPOLLMOD_EXAMPLES_EVENT_BACKEND_HPP

#include <epollmod/epollmod.hpp>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <span>
#include <system_error>

#include <sys/epoll.h>

namespace echo
{

template <class B>
concept event_backend = requires(const B &b, int fd, epollmod::events ev,
				 std::uint64_t data,
				 std::span<epollmod::event> out,
				 std::chrono::milliseconds timeout,
				 std::error_code &ec)
{
	{
		B::create(ec)
		} -> std::same_as<B>;
	{
		b.add(fd, ev, data)
	}
	noexcept->std::same_as<std::error_code>;
	{
		b.modify(fd, ev, data)
	}
	noexcept->std::same_as<std::error_code>;
	{
		b.remove(fd)
	}
	noexcept->std::same_as<std::error_code>;
	{
		b.wait(out, timeout, ec)
	}
	noexcept->std::same_as<std::size_t>;
};

// The kernel's own epoll, shaped like epollmod::instance.
class native_epoll
{
public:
	static native_epoll create(std::error_code &ec) noexcept
	{
		native_epoll ep;

		ep.fd_.reset(epoll_create1(EPOLL_CLOEXEC));
		ec = ep.fd_ ? std::error_code() : last_error();
		return ep;
	}

	int fd() const noexcept { return fd_.get(); }

	std::error_code add(int fd, epollmod::events ev,
			    std::uint64_t data) const noexcept
	{
		return ctl(EPOLL_CTL_ADD, fd, ev, data);
	}
	std::error_code modify(int fd, epollmod::events ev,
			       std::uint64_t data) const noexcept
	{
		return ctl(EPOLL_CTL_MOD, fd, ev, data);
	}
	std::error_code remove(int fd) const noexcept
	{
		if (epoll_ctl(fd_.get(), EPOLL_CTL_DEL, fd, nullptr))
			return last_error();
		return {};
	}

	std::size_t wait(std::span<epollmod::event> out,
			 std::chrono::milliseconds timeout,
			 std::error_code &ec) const noexcept
	{
		// event is standard-layout with raw first: the array is one of
		// epoll_event.
		int n = epoll_wait(fd_.get(),
				   reinterpret_cast<epoll_event *>(out.data()),
				   int(out.size()), int(timeout.count()));

		if (n < 0) {
			ec = last_error();
			return 0;
		}
		ec.clear();
		return std::size_t(n);
	}

private:
	static std::error_code last_error() noexcept
	{
		return {errno, std::system_category()};
	}

	std::error_code ctl(int op, int fd, epollmod::events ev,
			    std::uint64_t data) const noexcept
	{
		epoll_event e{};

		e.events = ev.bits();
		e.data.u64 = data;
		if (epoll_ctl(fd_.get(), op, fd, &e))
			return last_error();
		return {};
	}

	epollmod::unique_fd fd_;
};

static_assert(event_backend<epollmod::instance>);
static_assert(event_backend<native_epoll>);

} // namespace echo

#endif // EPOLLMOD_EXAMPLES_EVENT_BACKEND_HPP
