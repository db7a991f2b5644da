// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
//
// The smallest complete user of an installed epollmod: an instance, an
// eventfd in it, the event back with its data. Exits 0 when that worked,
// 1 on any error, the module not being loaded included.
#include <epollmod/epollmod.hpp>
#include <linux/epollmod.h>

#include <array>
#include <chrono>
#include <cstdio>

#include <sys/eventfd.h>

namespace
{

int fail(const char *what, std::error_code ec)
{
	std::printf("consumer: %s: %s\n", what, ec.message().c_str());
	return 1;
}

} // namespace

int main()
{
	std::error_code ec;
	epollmod::instance ep = epollmod::instance::create(ec);
	if (ec)
		return fail("create", ec);

	epollmod::unique_fd efd(eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK));
	if (!efd)
		return fail("eventfd", {errno, std::system_category()});
	if ((ec = ep.add(efd.get(), epollmod::in, 42)))
		return fail("add", ec);

	std::array<epollmod::event, 4> events;
	std::size_t n = ep.wait(events, std::chrono::seconds(1), ec);
	if (ec)
		return fail("wait", ec);
	if (n != 1 || events[0].data() != 42 ||
	    !events[0].what().any(epollmod::in)) {
		std::printf("consumer: expected one EPOLLIN event with data "
			    "42, got %zu\n",
			    n);
		return 1;
	}
	std::printf("consumer: %s (ABI %d): EPOLLIN with data %llu\n",
		    epollmod_device_path(), EPOLLMOD_ABI_VERSION,
		    (unsigned long long)events[0].data());
	return 0;
}
