// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
// libepollmod-preload.so where the module is missing. ctest runs this
// program, which calls glibc's epoll and never libepollmod, under the shim
// (preload.cmake):
//
//   no-module  epoll_create* fail with ENODEV and one line on stderr names
//              the fix, however many calls, threads and forks; native epoll
//              fds (inherited from a program without the shim) still work
//   fallback   with EPOLLMOD_PRELOAD_FALLBACK=1 epoll runs natively, from
//              threads, a fork child and an exec'd child, and the notice is
//              printed once per process image
//   other-abi  a module of another ABI version (faked: this program's
//              ioctl() answers the version query) fails loudly with EPROTO,
//              or falls back with EPOLLMOD_PRELOAD_FALLBACK=1
//   exports    the shim exports the epoll calls and none of libepollmod's
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/epollmod.h>

#include "check.h"

static const char shim_name[] = "libepollmod-preload.so";
static const char fallback_env[] = "EPOLLMOD_PRELOAD_FALLBACK";

// In other-abi mode, EPOLLMOD_IOC_INFO on any fd says "ABI version + 1".
// The executable exports ioctl() (preload.cmake), so the shim's libepollmod
// calls this one rather than glibc's.
static bool fake_other_abi;

extern "C" int ioctl(int fd, unsigned long request, ...) noexcept
{
	using ioctl_fn = int (*)(int, unsigned long, void *);
	static auto real =
		reinterpret_cast<ioctl_fn>(dlsym(RTLD_NEXT, "ioctl"));
	va_list ap;

	va_start(ap, request);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if (fake_other_abi && request == EPOLLMOD_IOC_INFO) {
		static_cast<epollmod_info *>(arg)->abi_version =
			EPOLLMOD_ABI_VERSION + 1;
		return 0;
	}
	return real(fd, request, arg);
}

// glibc's epoll_create1 as this process resolves it comes from the shim.
static bool shim_loaded()
{
	void *fn = dlsym(RTLD_DEFAULT, "epoll_create1");
	Dl_info info;

	return fn && dladdr(fn, &info) && info.dli_fname &&
	       std::strstr(info.dli_fname, shim_name);
}

static bool is_native_epoll(int fd)
{
	std::string link = "/proc/self/fd/" + std::to_string(fd);
	char target[64] = {};

	return readlink(link.c_str(), target, sizeof(target) - 1) > 0 &&
	       std::string(target) == "anon_inode:[eventpoll]";
}

static bool cloexec(int fd)
{
	return fcntl(fd, F_GETFD) & FD_CLOEXEC;
}

// stderr goes to a memory file, shared with forked and exec'd children.
class stderr_capture
{
public:
	stderr_capture()
	    : file_(memfd_create("stderr", MFD_CLOEXEC)),
	      saved_(fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3))
	{
		CHECK(file_ >= 0 && saved_ >= 0);
		dup2(file_, STDERR_FILENO);
	}
	~stderr_capture()
	{
		dup2(saved_, STDERR_FILENO);
		std::string text = contents();
		if (write(STDERR_FILENO, text.data(), text.size()) < 0)
			std::abort();
		close(saved_);
		close(file_);
	}

	std::string contents() const
	{
		std::string text(lseek(file_, 0, SEEK_END), '\0');
		if (pread(file_, text.data(), text.size(), 0) !=
		    (ssize_t)text.size())
			text.clear();
		return text;
	}

	// The lines the shim wrote.
	std::vector<std::string> shim_lines() const
	{
		std::vector<std::string> lines;
		std::string text = contents();
		size_t pos = 0, end;

		while ((end = text.find('\n', pos)) != std::string::npos) {
			std::string line = text.substr(pos, end - pos);
			if (line.rfind("epollmod-preload: ", 0) == 0)
				lines.push_back(line);
			pos = end + 1;
		}
		return lines;
	}

private:
	int file_, saved_;
};

static bool contains(const std::string &s, const char *part)
{
	return s.find(part) != std::string::npos;
}

// A child process running @body; true if it exited 0.
template <typename F>
static bool in_child(F body)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(body() ? 0 : 1);
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	       WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// @ep (any epoll that works) reports a pending eventfd, with every wait.
static void check_events_flow(int ep)
{
	struct epoll_event ev = {.events = EPOLLIN, .data = {.u64 = 7}};
	struct epoll_event out[2];
	struct timespec zero = {};
	int efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);

	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) == 0);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev), EEXIST);
	CHECK(epoll_wait(ep, out, 2, 1000) == 1 && out[0].data.u64 == 7);
	CHECK(epoll_pwait(ep, out, 2, 0, nullptr) == 1);
	CHECK(epoll_pwait2(ep, out, 2, &zero, nullptr) == 1);
	ev.data.u64 = 8;
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, efd, &ev) == 0);
	CHECK(epoll_wait(ep, out, 2, 0) == 1 && out[0].data.u64 == 8);
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, efd, nullptr) == 0);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, efd, nullptr), ENOENT);
	CHECK(epoll_wait(ep, out, 2, 0) == 0);
	close(efd);
}

// Native's errno for fds that are no epoll at all, or bad arguments.
static void check_errors_of_non_epoll(int native_ep)
{
	auto *kernel_address = reinterpret_cast<struct epoll_event *>(~0xfffUL);
	struct epoll_event ev = {.events = EPOLLIN, .data = {}};
	int efd = eventfd(0, EFD_CLOEXEC);
	int closed = dup(efd);

	close(closed);
	CHECK_ERR(epoll_ctl(efd, EPOLL_CTL_ADD, native_ep, &ev), EINVAL);
	CHECK_ERR(epoll_ctl(closed, EPOLL_CTL_ADD, efd, &ev), EBADF);
	CHECK_ERR(epoll_ctl(native_ep, EPOLL_CTL_ADD, native_ep, &ev), EINVAL);
	CHECK_ERR(epoll_wait(efd, &ev, 1, 0), EINVAL);
	CHECK_ERR(epoll_wait(closed, &ev, 1, 0), EBADF);
	CHECK_ERR(epoll_wait(native_ep, &ev, 0, 0), EINVAL);
	CHECK_ERR(epoll_wait(native_ep, kernel_address, 1, 0), EFAULT);
	close(efd);
}

// With the fd table full, a native epoll fd still works through the shim
// (libepollmod's error path cannot open the probe it asks native with).
static bool native_epoll_with_fd_table_full()
{
	struct epoll_event ev = {.events = EPOLLIN, .data = {.u64 = 3}};
	int ep = syscall(SYS_epoll_create1, EPOLL_CLOEXEC);
	int efd = eventfd(1, EFD_CLOEXEC);
	struct rlimit lim = {};

	getrlimit(RLIMIT_NOFILE, &lim);
	lim.rlim_cur = efd + 16;
	if (ep < 0 || efd < 0 || setrlimit(RLIMIT_NOFILE, &lim))
		return false;
	while (dup(efd) >= 0)
		;
	return errno == EMFILE && epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) == 0 &&
	       epoll_wait(ep, &ev, 1, 1000) == 1 && ev.data.u64 == 3;
}

static int no_module()
{
	stderr_capture err;
	std::atomic<int> enodev{0};
	std::vector<std::thread> threads;

	CHECK(shim_loaded());
	CHECK_ERR(epoll_create1(0), ENODEV);
	CHECK_ERR(epoll_create1(EPOLL_CLOEXEC), ENODEV);
	CHECK_ERR(epoll_create(1), ENODEV);
	// Bad arguments are refused before the module is looked for.
	CHECK_ERR(epoll_create(0), EINVAL);
	CHECK_ERR(epoll_create1(~EPOLL_CLOEXEC), EINVAL);
	// Only "1" asks for the fallback (the environment has "0").
	unsetenv(fallback_env);
	CHECK_ERR(epoll_create1(0), ENODEV);

	for (int t = 0; t < 4; t++)
		threads.emplace_back([&] {
			for (int i = 0; i < 50; i++)
				if (epoll_create1(0) < 0 && errno == ENODEV)
					enodev++;
		});
	for (auto &t : threads)
		t.join();
	CHECK(enodev == 200);
	CHECK(in_child([] { return epoll_create(1) < 0 && errno == ENODEV; }));

	std::vector<std::string> lines = err.shim_lines();
	CHECK(lines.size() == 1);
	if (!lines.empty()) {
		const std::string &line = lines[0];
		CHECK(contains(line, "/nonexistent/epollmod"));
		CHECK(contains(line, "not loaded"));
		CHECK(contains(line, "ENODEV"));
		CHECK(contains(line, "insmod epollmod.ko"));
		CHECK(contains(line, "modprobe epollmod"));
		CHECK(contains(line, "EPOLLMOD_PRELOAD_FALLBACK=1"));
	}

	// A native epoll fd the program did not get from the shim (inherited
	// from a program without it) works through the shim.
	int native_ep = syscall(SYS_epoll_create1, EPOLL_CLOEXEC);
	CHECK(native_ep >= 0);
	check_events_flow(native_ep);
	check_errors_of_non_epoll(native_ep);
	close(native_ep);
	CHECK(in_child(native_epoll_with_fd_table_full));
	return check_report("preload_no_module");
}

// The exec'd child of fallback(): a new process image with the shim.
static int fallback_exec_child(int ep, uint64_t data)
{
	struct epoll_event out;
	int own;

	CHECK(shim_loaded());
	CHECK(is_native_epoll(ep));
	CHECK(epoll_wait(ep, &out, 1, 1000) == 1 && out.data.u64 == data);
	own = epoll_create1(EPOLL_CLOEXEC);
	CHECK(own >= 0 && is_native_epoll(own));
	check_events_flow(own);
	return check_report("preload_fallback: exec'd child");
}

static int fallback()
{
	stderr_capture err;
	std::atomic<int> worked{0};
	std::vector<std::thread> threads;

	CHECK(shim_loaded());
	int ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK(ep >= 0 && is_native_epoll(ep) && cloexec(ep));
	check_events_flow(ep);
	check_errors_of_non_epoll(ep);
	int ep_inherited = epoll_create(1);
	CHECK(ep_inherited >= 0 && is_native_epoll(ep_inherited));
	CHECK(!cloexec(ep_inherited));

	for (int t = 0; t < 4; t++)
		threads.emplace_back([&] {
			struct epoll_event ev = {.events = EPOLLIN, .data = {}};
			int efd = eventfd(1, EFD_CLOEXEC);

			for (int i = 0; i < 50; i++) {
				int e = epoll_create1(EPOLL_CLOEXEC);
				if (epoll_ctl(e, EPOLL_CTL_ADD, efd, &ev) ==
					    0 &&
				    epoll_wait(e, &ev, 1, 1000) == 1)
					worked++;
				close(e);
			}
			close(efd);
		});
	for (auto &t : threads)
		t.join();
	CHECK(worked == 200);

	// A fork child waits on the instance it inherited, and makes its own.
	struct epoll_event ev = {.events = EPOLLIN, .data = {.u64 = 0x5eed}};
	int efd = eventfd(0, 0);
	CHECK(epoll_ctl(ep_inherited, EPOLL_CTL_ADD, efd, &ev) == 0);
	CHECK(in_child([&] {
		struct epoll_event out;
		uint64_t one = 1;
		int own = epoll_create1(0);

		return own >= 0 && is_native_epoll(own) &&
		       write(efd, &one, sizeof(one)) == sizeof(one) &&
		       epoll_wait(ep_inherited, &out, 1, 1000) == 1 &&
		       out.data.u64 == 0x5eed;
	}));
	CHECK(epoll_wait(ep_inherited, &ev, 1, 0) == 1);

	std::vector<std::string> lines = err.shim_lines();
	CHECK(lines.size() == 1);
	for (const std::string &line : lines) {
		CHECK(contains(line, "/nonexistent/epollmod"));
		CHECK(contains(line, "not loaded"));
		CHECK(contains(line, "EPOLLMOD_PRELOAD_FALLBACK=1"));
		CHECK(contains(line, "native epoll"));
	}

	// An exec'd child (the shim comes with LD_PRELOAD) uses the epoll fd
	// it inherited under the same number, and tells of its own fallback.
	CHECK(in_child([&] {
		std::string fd = std::to_string(ep_inherited);
		execl("/proc/self/exe", "preload_host_test", "fallback-exec",
		      fd.c_str(), "0x5eed", (char *)nullptr);
		return false;
	}));
	CHECK(err.shim_lines().size() == 2);

	close(efd);
	close(ep_inherited);
	close(ep);
	return check_report("preload_fallback");
}

static int other_abi()
{
	stderr_capture err;

	CHECK(shim_loaded());
	fake_other_abi = true;
	unsetenv(fallback_env);
	CHECK_ERR(epoll_create1(0), EPROTO);
	CHECK_ERR(epoll_create(1), EPROTO);
	std::vector<std::string> lines = err.shim_lines();
	CHECK(lines.size() == 1);
	for (const std::string &line : lines) {
		CHECK(contains(line, "another ABI"));
		CHECK(contains(line, "EPROTO"));
		CHECK(contains(line, "rebuild"));
		CHECK(contains(line, "EPOLLMOD_PRELOAD_FALLBACK=1"));
	}

	setenv(fallback_env, "1", 1);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK(ep >= 0 && is_native_epoll(ep));
	check_events_flow(ep);
	lines = err.shim_lines();
	CHECK(lines.size() == 2);
	if (lines.size() == 2) {
		CHECK(contains(lines[1], "another ABI"));
		CHECK(contains(lines[1], "native epoll"));
	}
	close(ep);
	return check_report("preload_other_abi");
}

static int exports(const char *shim)
{
	static const char *const epoll_calls[] = {
		"epoll_create", "epoll_create1", "epoll_ctl",
		"epoll_wait",	"epoll_pwait",	 "epoll_pwait2",
	};
	static const char *const library_calls[] = {
		"epollmod_create1",	"epollmod_ctl",		"epollmod_wait",
		"epollmod_is_instance", "epollmod_device_path",
	};
	void *lib = dlopen(shim, RTLD_NOW | RTLD_LOCAL);
	Dl_info info;

	CHECK(lib);
	if (!lib)
		return check_report("preload_exports");
	for (const char *name : epoll_calls) {
		void *fn = dlsym(lib, name);
		CHECK(fn && dladdr(fn, &info) &&
		      std::strstr(info.dli_fname, shim_name));
	}
	for (const char *name : library_calls)
		CHECK(!dlsym(lib, name));
	return check_report("preload_exports");
}

int main(int argc, char **argv)
{
	std::string mode = argc > 1 ? argv[1] : "";

	if (mode == "no-module")
		return no_module();
	if (mode == "fallback")
		return fallback();
	if (mode == "fallback-exec" && argc == 4)
		return fallback_exec_child(std::atoi(argv[2]),
					   std::strtoull(argv[3], nullptr, 0));
	if (mode == "other-abi")
		return other_abi();
	if (mode == "exports" && argc == 3)
		return exports(argv[2]);
	std::fprintf(stderr,
		     "usage: %s no-module | fallback | other-abi | exports "
		     "SHIM.so\n",
		     argv[0]);
	return 2;
}
