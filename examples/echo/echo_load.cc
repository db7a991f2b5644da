// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
//
// echo_load: the load generator of the echo demo. Many concurrent
// connections to an echo server on 127.0.0.1, each with one request in
// flight: send --size bytes, wait until all of them have come back, check
// them, send the next. Connections open 32 at a time, the open ones served
// meanwhile; --warmup-ms after the last one, latency is measured per
// request for --duration-ms. Prints requests/s and latency percentiles.
//
//   echo_load --port=N [--connections=500] [--idle=20] [--size=64]
//             [--warmup-ms=500] [--duration-ms=3000] [--idle-wait-ms=0]
//             [--idle-report]
//
// The --idle connections never send: the server's idle timeout must close
// them. Once the measured time is over the load goes on (unmeasured) for
// up to --idle-wait-ms more, until every idle connection is closed: a
// server that was not scheduled for a while (a busy host) started counting
// idleness late, and this margin is what keeps that from being a failure.
// The run fails on a wrong echo, on an active connection that the server
// closed or never answered, and on an idle connection still open at the
// end, unless --idle-report: then the count of those is only printed
// (idle_closed=N/M, and idle_wait_ms, how long the wait took).
//
// The load generator is the constant of a comparison between servers: it
// always runs on native epoll, level-triggered.
#include "event_backend.hpp"
#include "histogram.hpp"
#include "net.hpp"

#include <array>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

#include <sys/resource.h>

namespace
{

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct options {
	std::uint16_t port = 0;
	std::uint32_t connections = 500;
	std::uint32_t idle = 20;
	std::size_t size = 64;
	milliseconds warmup{500};
	milliseconds duration{3000};
	milliseconds idle_wait{0};
	bool idle_report = false;
};

struct client {
	epollmod::unique_fd fd;
	std::uint32_t seq = 0;	  // of the request in flight
	std::size_t received = 0; // bytes of its echo so far
	std::uint64_t served = 0; // echoes completed
	steady::time_point sent_at;
};

// Byte n of request seq on connection id: different for every connection
// and every request, so that a misrouted or stale echo fails the check.
char pattern(std::uint32_t id, std::uint32_t seq, std::size_t n) noexcept
{
	return char((id * 131u + seq * 7u + n) & 0xff);
}

// Says what went wrong; false, for "return fail(...)".
__attribute__((format(printf, 1, 2))) bool fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	std::fprintf(stderr, "echo_load: ");
	std::vfprintf(stderr, fmt, ap);
	std::fputc('\n', stderr);
	va_end(ap);
	return false;
}

class load
{
public:
	explicit load(const options &opt)
	    : opt_(opt), clients_(opt.connections + opt.idle), buf_(opt.size)
	{
	}

	bool run()
	{
		std::error_code ec;

		ep_ = echo::native_epoll::create(ec);
		if (ec)
			return fail("epoll_create1: %s", ec.message().c_str());

		steady::time_point now = steady::now();
		while (opened_ < clients_.size()) {
			if (!open_connections(now) ||
			    !serve(milliseconds(0), now))
				return false;
		}
		measure_from_ = now + opt_.warmup;
		measure_to_ = measure_from_ + opt_.duration;
		if (!serve_until(measure_to_, now))
			return false;
		// Unmeasured: until the server has closed every idle one.
		steady::time_point end = now + opt_.idle_wait;
		while (idle_closed_ < opt_.idle && now < end) {
			if (!serve(std::chrono::ceil<milliseconds>(end - now),
				   now))
				return false;
		}
		idle_wait_ = std::chrono::duration_cast<milliseconds>(
			now - measure_to_);
		return report();
	}

private:
	bool serve_until(steady::time_point end, steady::time_point &now)
	{
		while (now < end) {
			if (!serve(std::chrono::ceil<milliseconds>(end - now),
				   now))
				return false;
		}
		return true;
	}

	// Opens the next batch of connections, the idle ones first, and sends
	// the first request on each active one. Opening a few per turn of
	// the loop serves the open ones meanwhile: under emulation opening
	// hundreds takes long enough for the first to look idle to a server.
	bool open_connections(steady::time_point now)
	{
		constexpr std::uint32_t batch = 32;
		auto total = std::uint32_t(clients_.size());

		for (std::uint32_t i = 0; i < batch && opened_ < total; i++) {
			std::uint32_t id = (opened_ + opt_.connections) % total;
			std::error_code ec;
			client &c = clients_[id];

			c.fd = echo::connect_loopback(opt_.port, ec);
			if (!ec)
				ec = ep_.add(c.fd.get(), epollmod::in,
					     std::uint64_t(id));
			if (ec)
				return fail("connection %u of %u: %s",
					    opened_ + 1, total,
					    ec.message().c_str());
			opened_++;
			if (id < opt_.connections && !send_request(id, now))
				return false;
		}
		return true;
	}

	// One wait, and the events it returned; now is when it returned.
	bool serve(milliseconds timeout, steady::time_point &now)
	{
		std::error_code ec;
		std::size_t n = ep_.wait(events_, timeout, ec);

		if (ec && ec != std::errc::interrupted)
			return fail("epoll_wait: %s", ec.message().c_str());
		now = steady::now();
		for (const epollmod::event &e : std::span(events_).first(n)) {
			auto id = std::uint32_t(e.data());
			bool ok = id < opt_.connections ? on_echo(id, now)
							: on_idle(id);
			if (!ok)
				return false;
		}
		return true;
	}

	bool send_request(std::uint32_t id, steady::time_point now)
	{
		client &c = clients_[id];

		for (std::size_t n = 0; n < buf_.size(); n++)
			buf_[n] = pattern(id, c.seq, n);
		// One small request on an idle socket: all or nothing.
		ssize_t w = send(c.fd.get(), buf_.data(), buf_.size(),
				 MSG_NOSIGNAL);
		if (w != ssize_t(buf_.size()))
			return fail("send on connection %u: %s", id,
				    w < 0 ? std::strerror(errno) : "short");
		c.sent_at = now;
		return true;
	}

	bool on_echo(std::uint32_t id, steady::time_point now)
	{
		client &c = clients_[id];
		ssize_t r = recv(c.fd.get(), buf_.data(),
				 buf_.size() - c.received, 0);

		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		// How long the request had been waiting tells a server that
		// missed it from a load generator that sent it late.
		if (r <= 0)
			return fail("connection %u lost after %llu echoes, "
				    "%lld ms after sending a request: %s",
				    id, (unsigned long long)c.served,
				    (long long)std::chrono::duration_cast<
					    milliseconds>(now - c.sent_at)
					    .count(),
				    r ? std::strerror(errno)
				      : "closed by the server");
		for (std::size_t n = 0; n < std::size_t(r); n++) {
			if (buf_[n] != pattern(id, c.seq, c.received + n))
				return fail("connection %u: wrong byte %zu "
					    "in echo %u",
					    id, c.received + n, c.seq);
		}
		c.received += std::size_t(r);
		if (c.received < buf_.size())
			return true;
		if (now >= measure_from_ && now < measure_to_)
			latency_.add(std::uint64_t(
				std::chrono::nanoseconds(now - c.sent_at)
					.count()));
		c.received = 0;
		c.served++;
		c.seq++;
		return send_request(id, now);
	}

	bool on_idle(std::uint32_t id)
	{
		client &c = clients_[id];
		char byte;
		ssize_t r = recv(c.fd.get(), &byte, 1, 0);

		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (r > 0)
			return fail("the server sent data on idle connection "
				    "%u",
				    id);
		if (std::error_code ec = ep_.remove(c.fd.get()))
			return fail("epoll_ctl(DEL): %s", ec.message().c_str());
		c.fd.reset();
		idle_closed_++;
		return true;
	}

	bool report() const
	{
		std::uint32_t unserved = 0;

		for (std::uint32_t id = 0; id < opt_.connections; id++)
			unserved += clients_[id].served == 0;
		if (unserved)
			return fail("%u of %u connections never got an echo",
				    unserved, opt_.connections);
		if (idle_closed_ < opt_.idle && !opt_.idle_report)
			return fail("the server left %u of %u idle connections "
				    "open: is its idle timeout shorter than "
				    "the run?",
				    opt_.idle - idle_closed_, opt_.idle);
		if (!latency_.count())
			return fail("no request completed after the warm-up");

		double seconds =
			std::chrono::duration<double>(opt_.duration).count();
		auto us = [this](double q) {
			return (unsigned long long)(latency_.quantile(q) /
						    1000);
		};
		std::printf(
			"echo_load: connections=%u idle=%u size=%zu "
			"seconds=%.2f requests=%llu rps=%.0f p50_us=%llu "
			"p90_us=%llu p99_us=%llu max_us=%llu "
			"idle_closed=%u/%u idle_wait_ms=%lld\n",
			opt_.connections, opt_.idle, opt_.size, seconds,
			(unsigned long long)latency_.count(),
			double(latency_.count()) / seconds, us(0.5), us(0.9),
			us(0.99), (unsigned long long)(latency_.max() / 1000),
			idle_closed_, opt_.idle, (long long)idle_wait_.count());
		return true;
	}

	options opt_;
	echo::native_epoll ep_;
	std::vector<client> clients_;
	std::vector<char> buf_;
	std::array<epollmod::event, 256> events_;
	steady::time_point measure_from_ = steady::time_point::max();
	steady::time_point measure_to_ = steady::time_point::max();
	milliseconds idle_wait_{0};
	echo::histogram latency_;
	std::uint32_t opened_ = 0;
	std::uint32_t idle_closed_ = 0;
};

// Every connection is an fd: allow as many as the hard limit does.
void raise_fd_limit() noexcept
{
	rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

int usage()
{
	std::fprintf(stderr, "usage: echo_load --port=N [--connections=N] "
			     "[--idle=N] [--size=BYTES] [--warmup-ms=N] "
			     "[--duration-ms=N] [--idle-wait-ms=N] "
			     "[--idle-report]\n");
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

		if (name == "--port")
			ok = echo::parse_number(value, opt.port) && opt.port;
		else if (name == "--connections")
			ok = echo::parse_number(value, opt.connections) &&
			     opt.connections > 0;
		else if (name == "--idle")
			ok = echo::parse_number(value, opt.idle);
		else if (name == "--size")
			ok = echo::parse_number(value, opt.size) &&
			     opt.size > 0 && opt.size <= 4096;
		else if (name == "--warmup-ms")
			ok = echo::parse_number(value, ms) && ms >= 0;
		else if (name == "--duration-ms")
			ok = echo::parse_number(value, ms) && ms > 0;
		else if (name == "--idle-wait-ms")
			ok = echo::parse_number(value, ms) && ms >= 0;
		else if (name == "--idle-report")
			ok = value.empty();
		if (!ok)
			return usage();
		if (name == "--warmup-ms")
			opt.warmup = milliseconds(ms);
		if (name == "--duration-ms")
			opt.duration = milliseconds(ms);
		if (name == "--idle-wait-ms")
			opt.idle_wait = milliseconds(ms);
		if (name == "--idle-report")
			opt.idle_report = true;
	}
	if (!opt.port)
		return usage();
	raise_fd_limit();
	return load(opt).run() ? 0 : 1;
}
