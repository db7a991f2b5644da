// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
//
// One event loop, two kernels' epoll: the echo server is a template over
// an event_backend, the interface of epollmod::instance, which
// epollmod::native_instance has over <sys/epoll.h> too: the same server
// code runs on the module and on native epoll, only the backend differs.
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
using native_epoll = epollmod::native_instance;

static_assert(event_backend<epollmod::instance>);
static_assert(event_backend<native_epoll>);

} // namespace echo

#endif // EPOLLMOD_EXAMPLES_EVENT_BACKEND_HPP
