// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
// Without the module: creation fails with ENODEV and the C++ error names
// the fix; argument errors are still native's.
#include <epollmod/epollmod.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
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

	// Batching and options on fds that are not instances: native's
	// errnos (EBADF closed, EINVAL anything else), bad batching first.
	int ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK(ep >= 0);
	epoll_event out[2];
	std::memset(out, 0xa5, sizeof(out));
	const timespec zero{}, min{0, 1000};
	const timespec bad[] = {{-1, 0}, {0, -1}, {0, 1000000000}};
	for (int fd : {efd, ep}) {
		CHECK_ERR(epollmod_wait_batch(fd, out, 2, 2, &min, &zero,
					      nullptr),
			  EINVAL);
		CHECK_ERR(epollmod_set_options(fd, EPOLLMOD_FIFO_EXCLUSIVE,
					       nullptr),
			  EINVAL);
	}
	CHECK_ERR(epollmod_wait_batch(-1, out, 2, 2, &min, &zero, nullptr),
		  EBADF);
	CHECK_ERR(epollmod_wait_batch(-1, out, 2, -1, nullptr, &zero, nullptr),
		  EINVAL);
	CHECK_ERR(epollmod_wait_batch(efd, out, 2, INT32_MIN, &min, nullptr,
				      nullptr),
		  EINVAL);
	for (const timespec &t : bad) {
		CHECK_ERR(
			epollmod_wait_batch(-1, out, 2, 2, &t, &zero, nullptr),
			EINVAL);
		CHECK_ERR(
			epollmod_wait_batch(ep, out, 2, 1, &t, &zero, nullptr),
			EINVAL);
	}
	// maxevents and the timeout are native's to judge, as for pwait2.
	const timespec bad_timeout{0, -1};
	CHECK_ERR(epollmod_wait_batch(efd, out, 0, 2, &min, &zero, nullptr),
		  EINVAL);
	CHECK_ERR(epollmod_wait_batch(efd, out, 2, 2, &min, &bad_timeout,
				      nullptr),
		  EINVAL);
	// Change lists: the same, a negative count first; a list is not
	// touched where there is no instance to make it on.
	epollmod_change ch{EPOLL_CTL_ADD, efd, EPOLLIN, 12345, 0};
	for (int fd : {efd, ep})
		CHECK_ERR(epollmod_wait_changes(fd, &ch, 1, out, 2, 0, nullptr,
						&zero, nullptr),
			  EINVAL);
	CHECK_ERR(epollmod_wait_changes(-1, &ch, 1, out, 2, 0, nullptr, &zero,
					nullptr),
		  EBADF);
	CHECK_ERR(epollmod_wait_changes(-1, &ch, -1, out, 2, 0, nullptr, &zero,
					nullptr),
		  EINVAL);
	CHECK_ERR(epollmod_wait_changes(-1, &ch, 1, out, 2, -1, nullptr, &zero,
					nullptr),
		  EINVAL);
	CHECK(ch.result == 12345);
	CHECK_ERR(epollmod_set_options(-1, 0, nullptr), EBADF);
	unsigned long long old = 77;
	CHECK_ERR(epollmod_set_options(efd, 0, &old), EINVAL);
	CHECK(old == 77);
	unsigned char poison[sizeof(out)];
	std::memset(poison, 0xa5, sizeof(poison));
	CHECK(!std::memcmp(out, poison, sizeof(out)));
	close(ep);
	close(efd);

	return check_report("no_module");
}
