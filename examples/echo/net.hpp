// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
//
// Loopback TCP sockets and command-line numbers for the echo demo.
#ifndef EPOLLMOD_EXAMPLES_NET_HPP
#define EPOLLMOD_EXAMPLES_NET_HPP

#include <epollmod/epollmod.hpp>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <system_error>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace echo
{

inline std::error_code errno_code() noexcept
{
	return {errno, std::system_category()};
}

inline sockaddr_in loopback(std::uint16_t port) noexcept
{
	sockaddr_in a{};

	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

// Requests are small and answered at once: never wait for Nagle.
inline void no_delay(int fd) noexcept
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

// A nonblocking listening socket on 127.0.0.1:port (0: any free port).
inline epollmod::unique_fd listen_loopback(std::uint16_t port,
					   std::error_code &ec) noexcept
{
	epollmod::unique_fd fd(
		socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	sockaddr_in a = loopback(port);
	int one = 1;

	if (!fd ||
	    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd.get(), reinterpret_cast<sockaddr *>(&a), sizeof(a)) ||
	    listen(fd.get(), SOMAXCONN)) {
		ec = errno_code();
		return {};
	}
	ec.clear();
	return fd;
}

inline std::uint16_t local_port(int fd) noexcept
{
	sockaddr_in a{};
	socklen_t len = sizeof(a);

	if (getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len))
		return 0;
	return ntohs(a.sin_port);
}

// A connected, then nonblocking, socket to 127.0.0.1:port.
inline epollmod::unique_fd connect_loopback(std::uint16_t port,
					    std::error_code &ec) noexcept
{
	epollmod::unique_fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	sockaddr_in a = loopback(port);

	if (!fd ||
	    connect(fd.get(), reinterpret_cast<sockaddr *>(&a), sizeof(a)) ||
	    fcntl(fd.get(), F_SETFL, O_NONBLOCK)) {
		ec = errno_code();
		return {};
	}
	no_delay(fd.get());
	ec.clear();
	return fd;
}

// A whole decimal number, nothing else.
template <class T>
bool parse_number(std::string_view s, T &value) noexcept
{
	auto [end, err] = std::from_chars(s.data(), s.data() + s.size(), value);

	return err == std::errc() && end == s.data() + s.size() && !s.empty();
}

// A command-line argument "--name=value" split at the first '='; value is
// empty when there is none.
struct option_arg {
	std::string_view name;
	std::string_view value;

	explicit option_arg(std::string_view arg) noexcept
	{
		std::size_t eq = arg.find('=');

		name = arg.substr(0, eq);
		if (eq != arg.npos)
			value = arg.substr(eq + 1);
	}
};

} // namespace echo

#endif // EPOLLMOD_EXAMPLES_NET_HPP
