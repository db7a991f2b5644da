// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
//
// echo_server: an event-driven TCP echo server on 127.0.0.1, written once
// over an event_backend and run on epollmod or on native epoll.
//
//   echo_server [--backend=epollmod|native] [--port=N]
//               [--idle-timeout-ms=N] [--tick-ms=N]
//
// It prints "listening on 127.0.0.1:PORT" once ready and, on SIGINT or
// SIGTERM, one line of counters; it exits non-zero if any epoll call
// failed.
//
// The design, and why:
//  - One thread, one event loop. In the demo the load generator needs the
//    VM's other CPU; scaling out would be one such loop per thread, each
//    with its own instance and an SO_REUSEPORT listener, sharing nothing.
//  - Connections are edge-triggered for EPOLLIN | EPOLLOUT, added at accept
//    and removed before close: one ctl each way per connection, none per
//    request. Edge triggering obliges the loop to read until EAGAIN, and to
//    keep output the socket did not take; a connection whose output is
//    blocked stops reading until its EPOLLOUT edge (backpressure). A peer
//    that streams without pause could hold the loop in one connection:
//    these clients wait for each echo, and a server facing untrusted peers
//    would cap the reads per event and come back to the connection later.
//  - The listening socket is level-triggered, and each wakeup accepts at
//    most accept_batch connections: the rest are reported again by the
//    next wait, after the ready connections have been served.
//  - The wait's timeout is the next tick. A tick closes connections idle
//    for longer than the idle timeout, not counting time the server itself
//    did not run (and with no unread input: see
//    has_input()), and resumes accepting if running out of fds (EMFILE)
//    paused it; pausing is a modify to no events, since a level-triggered
//    listener would otherwise report the pending connection on every wait
//    without anything being accepted.
//  - SIGINT and SIGTERM arrive as a signalfd in the same instance.
#include "event_backend.hpp"
#include "net.hpp"

#include <array>
#include <cstdio>
#include <memory>
#include <signal.h>
#include <string_view>
#include <vector>

#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace
{

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct options {
	std::string_view backend = "epollmod";
	std::uint16_t port = 0;
	milliseconds idle_timeout{1000};
	milliseconds tick{100};
};

struct counters {
	std::uint64_t accepted = 0;
	std::uint64_t closed = 0; // by the peer, or on a socket error
	std::uint64_t reaped = 0; // by the idle timeout
	std::uint64_t echoes = 0; // reads that were echoed
	std::uint64_t bytes = 0;
	std::uint64_t waits = 0;
	std::uint64_t timeouts = 0; // waits that returned no event
	std::uint64_t events = 0;
	std::uint64_t accept_pauses = 0;
	std::uint64_t ctl_errors = 0;
};

struct connection {
	explicit connection(epollmod::unique_fd f) noexcept : fd(std::move(f))
	{
	}

	epollmod::unique_fd fd;
	steady::time_point last_active;
	connection *older = nullptr;
	connection *newer = nullptr;
	std::size_t sent = 0; // buf[sent, filled) is output not yet sent
	std::size_t filled = 0;
	std::array<char, 4096> buf;
};

// Connections from the least to the most recently active: reaping stops at
// the first connection that is still fresh, so a tick costs what it reaps.
class idle_list
{
public:
	connection *oldest() const noexcept { return oldest_; }

	void push(connection &c, steady::time_point now) noexcept
	{
		c.last_active = now;
		c.older = newest_;
		c.newer = nullptr;
		(newest_ ? newest_->newer : oldest_) = &c;
		newest_ = &c;
	}

	void unlink(connection &c) noexcept
	{
		(c.older ? c.older->newer : oldest_) = c.newer;
		(c.newer ? c.newer->older : newest_) = c.older;
		c.older = c.newer = nullptr;
	}

	void touch(connection &c, steady::time_point now) noexcept
	{
		unlink(c);
		push(c, now);
	}

private:
	connection *oldest_ = nullptr;
	connection *newest_ = nullptr;
};

template <echo::event_backend B>
class server
{
public:
	server(B ep, epollmod::unique_fd listener, epollmod::unique_fd signals,
	       const options &opt) noexcept
	    : ep_(std::move(ep)), listener_(std::move(listener)),
	      signals_(std::move(signals)), opt_(opt)
	{
	}

	// Serves until SIGINT or SIGTERM; false if the wait itself failed.
	bool run()
	{
		steady::time_point next_tick = steady::now() + opt_.tick;
		steady::time_point last_wake = steady::now();

		for (;;) {
			steady::time_point now = steady::now();
			std::error_code ec;

			// Not run for two ticks (stopped, or not scheduled):
			// nobody was seen idle meanwhile, only us.
			if (now - last_wake > 2 * opt_.tick)
				resumed_ = now;
			last_wake = now;
			if (now >= next_tick) {
				on_tick(now);
				next_tick = now + opt_.tick;
			}
			auto timeout = std::chrono::ceil<milliseconds>(
				next_tick - now);
			std::size_t n = ep_.wait(events_, timeout, ec);
			n_.waits++;
			if (ec == std::errc::interrupted)
				continue;
			if (ec) {
				std::fprintf(stderr, "echo_server: wait: %s\n",
					     ec.message().c_str());
				return false;
			}
			n_.events += n;
			if (n == 0)
				n_.timeouts++;
			now = steady::now();
			// Each fd is reported at most once per wait and only
			// the reported connection may be closed while
			// dispatching, so every slot looked up here is live.
			for (const epollmod::event &e :
			     std::span(events_).first(n)) {
				int fd = int(e.data());

				if (fd == signals_.get())
					return true;
				if (fd == listener_.get())
					accept_connections(now);
				else
					on_connection(*conns_[fd], now);
			}
		}
	}

	const counters &stats() const noexcept { return n_; }

private:
	static constexpr int accept_batch = 64;
	static constexpr epollmod::events connection_events =
		epollmod::in | epollmod::out | epollmod::edge_triggered;

	void count_ctl_error(const char *what, std::error_code ec) noexcept
	{
		n_.ctl_errors++;
		std::fprintf(stderr, "echo_server: %s: %s\n", what,
			     ec.message().c_str());
	}

	void accept_connections(steady::time_point now)
	{
		for (int i = 0; i < accept_batch; i++) {
			int fd = accept4(listener_.get(), nullptr, nullptr,
					 SOCK_NONBLOCK | SOCK_CLOEXEC);

			if (fd < 0) {
				if (errno == ECONNABORTED || errno == EINTR)
					continue;
				if (errno != EAGAIN)
					pause_accepting();
				return;
			}
			add_connection(epollmod::unique_fd(fd), now);
		}
	}

	void add_connection(epollmod::unique_fd fd, steady::time_point now)
	{
		int n = fd.get();

		echo::no_delay(n);
		if (std::error_code ec =
			    ep_.add(n, connection_events, std::uint64_t(n))) {
			count_ctl_error("add", ec);
			return;
		}
		if (std::size_t(n) >= conns_.size())
			conns_.resize(std::size_t(n) + 1);
		conns_[n] = std::make_unique<connection>(std::move(fd));
		idle_.push(*conns_[n], now);
		n_.accepted++;
	}

	// Out of fds (or memory): the queued connections wait for the next
	// tick, which may have reaped some idle ones by then.
	void pause_accepting() noexcept
	{
		if (std::error_code ec =
			    ep_.modify(listener_.get(), epollmod::events(),
				       std::uint64_t(listener_.get())))
			count_ctl_error("modify (pause)", ec);
		accepting_ = false;
		n_.accept_pauses++;
	}

	void on_connection(connection &c, steady::time_point now) noexcept
	{
		bool progressed = false;

		for (;;) {
			if (c.sent < c.filled) {
				ssize_t w =
					send(c.fd.get(), c.buf.data() + c.sent,
					     c.filled - c.sent, MSG_NOSIGNAL);
				if (w < 0 && errno == EAGAIN)
					break; // until the EPOLLOUT edge
				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0)
					return close_connection(c, n_.closed);
				c.sent += std::size_t(w);
				continue;
			}
			c.sent = c.filled = 0;
			ssize_t r =
				recv(c.fd.get(), c.buf.data(), c.buf.size(), 0);
			if (r > 0) {
				c.filled = std::size_t(r);
				n_.echoes++;
				n_.bytes += std::uint64_t(r);
				progressed = true;
				continue;
			}
			if (r < 0 && errno == EAGAIN)
				break; // until the EPOLLIN edge
			if (r < 0 && errno == EINTR)
				continue;
			return close_connection(c, n_.closed); // EOF, reset
		}
		if (progressed)
			idle_.touch(c, now);
	}

	// Removed before it is closed: native epoll would drop the
	// registration at the last close of the file, epollmod shortly after
	// it; saying so is exact on both.
	void close_connection(connection &c, std::uint64_t &reason) noexcept
	{
		int fd = c.fd.get();

		if (std::error_code ec = ep_.remove(fd))
			count_ctl_error("remove", ec);
		idle_.unlink(c);
		conns_[fd].reset();
		reason++;
	}

	// Input the socket holds and the loop has not read: after a stall
	// (the process not scheduled), more connections can be ready than
	// one wait returns, and those still in the kernel's ready list look
	// idle here although they are not.
	static bool has_input(const connection &c) noexcept
	{
		int bytes = 0;

		return ioctl(c.fd.get(), FIONREAD, &bytes) == 0 && bytes > 0;
	}

	void on_tick(steady::time_point now) noexcept
	{
		while (connection *c = idle_.oldest()) {
			if (now - std::max(c->last_active, resumed_) <
			    opt_.idle_timeout)
				break;
			if (has_input(*c))
				on_connection(*c, now); // reads, so touches
			else
				close_connection(*c, n_.reaped);
		}
		if (accepting_)
			return;
		if (std::error_code ec =
			    ep_.modify(listener_.get(), epollmod::in,
				       std::uint64_t(listener_.get())))
			count_ctl_error("modify (resume)", ec);
		accepting_ = true;
	}

	B ep_;
	steady::time_point resumed_{}; // after the server itself stalled
	epollmod::unique_fd listener_;
	epollmod::unique_fd signals_;
	options opt_;
	std::vector<std::unique_ptr<connection>> conns_; // by fd
	idle_list idle_;
	bool accepting_ = true;
	counters n_;
	std::array<epollmod::event, 256> events_;
};

template <echo::event_backend B>
int serve(const options &opt)
{
	std::error_code ec;
	B ep = B::create(ec);
	if (ec) {
		std::fprintf(stderr,
			     "echo_server: cannot create the %s "
			     "instance: %s\n",
			     opt.backend.data(), ec.message().c_str());
		return 1;
	}

	epollmod::unique_fd listener = echo::listen_loopback(opt.port, ec);
	if (ec) {
		std::fprintf(stderr, "echo_server: listen on port %u: %s\n",
			     unsigned(opt.port), ec.message().c_str());
		return 1;
	}

	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, nullptr);
	epollmod::unique_fd signals(
		signalfd(-1, &stop, SFD_NONBLOCK | SFD_CLOEXEC));
	if (!signals) {
		std::perror("echo_server: signalfd");
		return 1;
	}

	for (int fd : {listener.get(), signals.get()}) {
		if ((ec = ep.add(fd, epollmod::in, std::uint64_t(fd)))) {
			std::fprintf(stderr, "echo_server: add: %s\n",
				     ec.message().c_str());
			return 1;
		}
	}

	std::uint16_t port = echo::local_port(listener.get());
	server<B> s(std::move(ep), std::move(listener), std::move(signals),
		    opt);
	std::printf("echo_server: %s, listening on 127.0.0.1:%u\n",
		    opt.backend.data(), unsigned(port));
	std::fflush(stdout);

	bool ok = s.run();
	const counters &n = s.stats();
	std::printf("echo_server: backend=%s accepted=%llu closed=%llu "
		    "reaped=%llu echoes=%llu bytes=%llu waits=%llu "
		    "timeouts=%llu events=%llu accept_pauses=%llu "
		    "ctl_errors=%llu\n",
		    opt.backend.data(), (unsigned long long)n.accepted,
		    (unsigned long long)n.closed, (unsigned long long)n.reaped,
		    (unsigned long long)n.echoes, (unsigned long long)n.bytes,
		    (unsigned long long)n.waits, (unsigned long long)n.timeouts,
		    (unsigned long long)n.events,
		    (unsigned long long)n.accept_pauses,
		    (unsigned long long)n.ctl_errors);
	return ok && n.ctl_errors == 0 ? 0 : 1;
}

int usage()
{
	std::fprintf(stderr,
		     "usage: echo_server [--backend=epollmod|native] "
		     "[--port=N] [--idle-timeout-ms=N] [--tick-ms=N]\n");
	return 2;
}

} // namespace

int main(int argc, char **argv)
{
	options opt;

	for (int i = 1; i < argc; i++) {
		auto [name, value] = echo::option_arg(argv[i]);
		long ms = 0;
		bool ok = false;

		if (name == "--backend") {
			opt.backend = value;
			ok = true;
		} else if (name == "--port") {
			ok = echo::parse_number(value, opt.port);
		} else if (name == "--idle-timeout-ms") {
			ok = echo::parse_number(value, ms) && ms > 0;
			opt.idle_timeout = milliseconds(ms);
		} else if (name == "--tick-ms") {
			ok = echo::parse_number(value, ms) && ms > 0;
			opt.tick = milliseconds(ms);
		}
		if (!ok)
			return usage();
	}
	if (opt.backend == "epollmod")
		return serve<epollmod::instance>(opt);
	if (opt.backend == "native")
		return serve<echo::native_epoll>(opt);
	return usage();
}
