// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
// Without the module: creation fails with ENODEV and the C++ error names
// the fix; argument errors are still native's.
#include <epollmod/epollmod.hpp>

#include <cstdlib>
#include <string>
#include <sys/eventfd.h>

#include "check.h"

static void check_not_loaded(const char *device)
{
	setenv("EPOLLMOD_DEVICE", device, 1);
	CHECK_ERR(epollmod_create1(0), ENODEV);
	CHECK_ERR(epollmod_create1(EPOLL_CLOEXEC), ENODEV);
	CHECK_ERR(epollmod_create(1), ENODEV);

	std::error_code ec;
	auto ep = epollmod::instance::create(ec);
	CHECK(!ep);
	CHECK(ec.value() == ENODEV);
	CHECK(ec == std::errc::no_such_device);
	std::string msg = ec.message();
	CHECK(msg.find("insmod epollmod.ko") != std::string::npos);
	CHECK(msg.find("modprobe epollmod") != std::string::npos);
	CHECK(msg.find(device) != std::string::npos);
}

int main()
{
	// No such node, and a node that is some other device.
	check_not_loaded("/nonexistent/epollmod");
	check_not_loaded("/dev/null");

	// Bad arguments are refused before the device is looked at, with
	// native's errno.
	CHECK_ERR(epollmod_create(0), EINVAL);
	CHECK_ERR(epollmod_create(-1), EINVAL);
	CHECK_ERR(epoll_create(0), EINVAL);
	CHECK_ERR(epollmod_create1(1), EINVAL);
	CHECK_ERR(epoll_create1(1), EINVAL);
	CHECK_ERR(epollmod_create1(~EPOLL_CLOEXEC), EINVAL);
	CHECK_ERR(epoll_create1(~EPOLL_CLOEXEC), EINVAL);

	int efd = eventfd(0, EFD_CLOEXEC);
	CHECK(efd >= 0);
	CHECK(!epollmod_is_instance(efd));
	errno = ENOTSUP;
	CHECK(!epollmod_is_instance(-1));
	CHECK(errno == ENOTSUP); /* a query, not a call that fails */
	close(efd);

	return check_report("no_module");
}
