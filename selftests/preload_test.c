// SPDX-License-Identifier: GPL-2.0
/*
 * libepollmod-preload.so with the module loaded. This program calls glibc's
 * epoll_* only; main() runs it under the shim (build/lib next to
 * build/selftests, or $EPM_PRELOAD), and the module's stats show which
 * backend served a call.
 *
 *  - glibc's calls create instances and deliver events through the module;
 *    errors keep native's errno
 *  - mixed fds: a native epoll fd (inherited from a program without the
 *    shim) is served natively, nested either way with an instance; after a
 *    fallback to native epoll, an instance is still served by the module
 *  - missing module: a loud failure, or the fallback, each said once
 *  - threads: consumers, producers and instance churn on one instance
 *  - fork: a child waits on the inherited instance, woken by its parent
 *  - exec: a child with the shim uses the instance it inherited, by the
 *    number on its command line; one without the shim gets EINVAL
 */
#define _GNU_SOURCE
#include "lib/harness.h"

#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <epollmod/epollmod.h>

#include "lib/backend.h"
#include "lib/util.h"

#define SHIM_NAME	"libepollmod-preload.so"
#define FALLBACK_ENV	"EPOLLMOD_PRELOAD_FALLBACK"

/* glibc's epoll_create1, as this process resolves it, is the shim's. */
static bool shim_loaded(void)
{
	void *fn = dlsym(RTLD_DEFAULT, "epoll_create1");
	Dl_info info;

	return fn && dladdr(fn, &info) && info.dli_fname &&
	       strstr(info.dli_fname, SHIM_NAME);
}

static bool is_native_epoll(int fd)
{
	char link[64], target[64] = "";

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	return readlink(link, target, sizeof(target) - 1) > 0 &&
	       !strcmp(target, "anon_inode:[eventpoll]");
}

static bool cloexec(int fd)
{
	return fcntl(fd, F_GETFD) & FD_CLOEXEC;
}

/* Native epoll below glibc and the shim: the oracle, and "inherited" fds. */
static int raw_create(void)
{
	return syscall(SYS_epoll_create1, EPOLL_CLOEXEC);
}

static int raw_ctl(int ep, int op, int fd, struct epoll_event *ev)
{
	return syscall(SYS_epoll_ctl, ep, op, fd, ev);
}

static int raw_wait(int ep, struct epoll_event *evs, int max, int timeout)
{
	return syscall(SYS_epoll_pwait, ep, evs, max, timeout, NULL, _NSIG / 8);
}

/* stderr into a memory file, for the shim's lines; TH_LOG needs it back. */
struct capture {
	int file;
	int saved;
	char text[4096];
};

static void capture_start(struct capture *c)
{
	fflush(stderr);
	c->file = memfd_create("stderr", MFD_CLOEXEC);
	c->saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	dup2(c->file, STDERR_FILENO);
}

/* Restore stderr, echo what went to it; the number of shim lines. */
static int capture_end(struct capture *c)
{
	ssize_t n = pread(c->file, c->text, sizeof(c->text) - 1, 0);
	int lines = 0;
	char *p;

	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	close(c->file);
	c->text[n > 0 ? n : 0] = '\0';
	fputs(c->text, stderr);
	for (p = c->text; (p = strstr(p, "epollmod-preload: ")); p++)
		lines++;
	return lines;
}

FIXTURE(preload) {
	int unused;
};

FIXTURE_SETUP(preload)
{
	ASSERT_TRUE(shim_loaded()) TH_LOG("not running under " SHIM_NAME);
	BACKEND_SELECT(&backend_epollmod);
}

FIXTURE_TEARDOWN(preload)
{
}

TEST_F(preload, glibc_calls_served_by_module)
{
	struct epoll_event ev = ev_of(EPOLLIN, 42), out[4];
	struct timespec zero = {};
	long waits, events;
	int ep, ep2, efd;
	sigset_t mask;

	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_TRUE(epollmod_is_instance(ep));
	EXPECT_TRUE(cloexec(ep));
	ep2 = epoll_create(1);
	ASSERT_TRUE(epollmod_is_instance(ep2));
	EXPECT_FALSE(cloexec(ep2));

	waits = epm_stat("waits");
	events = epm_stat("events");
	ASSERT_LE(0, waits);
	efd = efd_new(1);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	ASSERT_EQ(1, epoll_wait(ep, out, 4, 1000));
	EXPECT_EQ(42, out[0].data.u64);
	sigemptyset(&mask);
	EXPECT_EQ(1, epoll_pwait(ep, out, 4, 0, &mask));
	EXPECT_EQ(1, epoll_pwait2(ep, out, 4, &zero, NULL));
	EXPECT_EQ(waits + 3, epm_stat("waits"));
	EXPECT_EQ(events + 3, epm_stat("events"));
}

/* @call through the shim on an instance; @oracle raw on native epoll. */
#define EXPECT_SAME_RESULT(call, oracle)				\
	do {								\
		int ret_, err_, want_ret_, want_err_;			\
		errno = 0;						\
		ret_ = (call);						\
		err_ = errno;						\
		errno = 0;						\
		want_ret_ = (oracle);					\
		want_err_ = errno;					\
		EXPECT_EQ(want_ret_, ret_) TH_LOG("%s", #call);		\
		EXPECT_EQ(want_err_, err_) TH_LOG("%s: %s, want %s",	\
			#call, strerrorname_np(err_),			\
			strerrorname_np(want_err_));			\
	} while (0)

TEST_F(preload, errors_are_native)
{
	struct epoll_event ev = ev_of(EPOLLIN, 1), out;
	struct epoll_event *kernel_address = (void *)~0xfffUL;
	int ep = epoll_create1(EPOLL_CLOEXEC), nat = raw_create();
	int efd = efd_new(0), unwatched = efd_new(0);
	int dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int closed = dup(efd);

	ASSERT_TRUE(epollmod_is_instance(ep));
	close(closed);
	EXPECT_SAME_RESULT(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev),
			   raw_ctl(nat, EPOLL_CTL_ADD, efd, &ev));
	EXPECT_SAME_RESULT(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev),
			   raw_ctl(nat, EPOLL_CTL_ADD, efd, &ev));
	EXPECT_SAME_RESULT(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev),
			   raw_ctl(nat, EPOLL_CTL_ADD, nat, &ev));
	EXPECT_SAME_RESULT(epoll_ctl(ep, EPOLL_CTL_MOD, unwatched, &ev),
			   raw_ctl(nat, EPOLL_CTL_MOD, unwatched, &ev));
	EXPECT_SAME_RESULT(epoll_ctl(ep, EPOLL_CTL_DEL, unwatched, NULL),
			   raw_ctl(nat, EPOLL_CTL_DEL, unwatched, NULL));
	EXPECT_SAME_RESULT(epoll_ctl(ep, EPOLL_CTL_ADD, dir, &ev),
			   raw_ctl(nat, EPOLL_CTL_ADD, dir, &ev));
	EXPECT_SAME_RESULT(epoll_ctl(ep, EPOLL_CTL_ADD, closed, &ev),
			   raw_ctl(nat, EPOLL_CTL_ADD, closed, &ev));
	EXPECT_SAME_RESULT(epoll_ctl(ep, 99, unwatched, &ev),
			   raw_ctl(nat, 99, unwatched, &ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
	EXPECT_SAME_RESULT(epoll_ctl(ep, EPOLL_CTL_ADD, unwatched, &ev),
			   raw_ctl(nat, EPOLL_CTL_ADD, unwatched, &ev));
	EXPECT_SAME_RESULT(epoll_wait(ep, &out, 0, 0),
			   raw_wait(nat, &out, 0, 0));
	EXPECT_SAME_RESULT(epoll_wait(ep, kernel_address, 1, 0),
			   raw_wait(nat, kernel_address, 1, 0));
	EXPECT_SAME_RESULT(epoll_wait(ep, &out, 1, 0),
			   raw_wait(nat, &out, 1, 0));
	/* Not an epoll of either kind. */
	EXPECT_SAME_RESULT(epoll_wait(efd, &out, 1, 0),
			   raw_wait(efd, &out, 1, 0));
	EXPECT_SAME_RESULT(epoll_ctl(efd, EPOLL_CTL_ADD, unwatched, &ev),
			   raw_ctl(efd, EPOLL_CTL_ADD, unwatched, &ev));
	EXPECT_SAME_RESULT(epoll_wait(closed, &out, 1, 0),
			   raw_wait(closed, &out, 1, 0));
}

/*
 * A native epoll fd the program did not get from the shim is served by
 * native epoll (the module counts no wait), and nests with an instance.
 */
TEST_F(preload, native_fd_served_natively)
{
	struct epoll_event ev = ev_of(EPOLLIN, 7), out[2];
	struct timespec zero = {};
	int nat = raw_create(), nat2 = raw_create();
	int ep = epoll_create1(EPOLL_CLOEXEC), efd = efd_new(1);
	long waits;

	ASSERT_TRUE(epollmod_is_instance(ep));
	waits = epm_stat("waits");
	ASSERT_EQ(0, epoll_ctl(nat, EPOLL_CTL_ADD, efd, &ev));
	EXPECT_EQ(1, epoll_wait(nat, out, 2, 1000));
	EXPECT_EQ(7, out[0].data.u64);
	EXPECT_EQ(1, epoll_pwait(nat, out, 2, 0, NULL));
	EXPECT_EQ(1, epoll_pwait2(nat, out, 2, &zero, NULL));
	ev.data.u64 = 8;
	EXPECT_EQ(0, epoll_ctl(nat, EPOLL_CTL_MOD, efd, &ev));
	EXPECT_EQ(1, epoll_wait(nat, out, 2, 0));
	EXPECT_EQ(8, out[0].data.u64);
	EXPECT_EQ(waits, epm_stat("waits"));

	/* The instance watches the native fd; another native one watches it. */
	ev.data.u64 = 9;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, nat, &ev));
	ev.data.u64 = 10;
	ASSERT_EQ(0, epoll_ctl(nat2, EPOLL_CTL_ADD, ep, &ev));
	EXPECT_EQ(1, epoll_wait(nat2, out, 2, 1000));
	EXPECT_EQ(10, out[0].data.u64);
	EXPECT_EQ(1, epoll_wait(ep, out, 2, 1000));
	EXPECT_EQ(9, out[0].data.u64);
	EXPECT_EQ(waits + 1, epm_stat("waits"));

	EXPECT_EQ(0, epoll_ctl(nat, EPOLL_CTL_DEL, efd, NULL));
	EXPECT_EQ(-1, epoll_ctl(nat, EPOLL_CTL_DEL, efd, NULL));
	EXPECT_EQ(ENOENT, errno);
}

/*
 * Without the module (EPOLLMOD_DEVICE names none): ENODEV and one line
 * that names the fix, however many creates.
 */
TEST_F(preload, missing_module_fails_loudly)
{
	struct capture err;
	int i;

	setenv("EPOLLMOD_DEVICE", "/nonexistent/epollmod", 1);
	unsetenv(FALLBACK_ENV);
	capture_start(&err);
	for (i = 0; i < 10; i++) {
		errno = 0;
		if (epoll_create1(0) != -1 || errno != ENODEV)
			break;
		if (epoll_create(1) != -1 || errno != ENODEV)
			break;
	}
	ASSERT_EQ(1, capture_end(&err));
	EXPECT_EQ(10, i);
	EXPECT_NE(NULL, strstr(err.text, "/nonexistent/epollmod"));
	EXPECT_NE(NULL, strstr(err.text, "insmod epollmod.ko"));
	EXPECT_NE(NULL, strstr(err.text, "modprobe epollmod"));
	EXPECT_NE(NULL, strstr(err.text, FALLBACK_ENV "=1"));
}

/*
 * A process that fell back to native epoll keeps using the module for the
 * instances it has: they are found by the EINVAL that native epoll gives.
 */
TEST_F(preload, instance_served_after_fallback)
{
	struct epoll_event ev = ev_of(EPOLLIN, 11), out;
	int ep = epoll_create1(EPOLL_CLOEXEC), efd = efd_new(1), nat, nat2;
	struct capture err;
	long waits;

	ASSERT_TRUE(epollmod_is_instance(ep));
	setenv(FALLBACK_ENV, "1", 1);
	setenv("EPOLLMOD_DEVICE", "/nonexistent/epollmod", 1);
	capture_start(&err);
	nat = epoll_create1(EPOLL_CLOEXEC);
	nat2 = epoll_create(1);
	EXPECT_EQ(1, capture_end(&err));
	EXPECT_NE(NULL, strstr(err.text, FALLBACK_ENV "=1"));
	ASSERT_TRUE(is_native_epoll(nat));
	ASSERT_TRUE(is_native_epoll(nat2));
	unsetenv("EPOLLMOD_DEVICE");

	waits = epm_stat("waits");
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	ASSERT_EQ(1, epoll_wait(ep, &out, 1, 1000));
	EXPECT_EQ(11, out.data.u64);
	EXPECT_EQ(waits + 1, epm_stat("waits"));
	ev.data.u64 = 12;
	ASSERT_EQ(0, epoll_ctl(nat, EPOLL_CTL_ADD, efd, &ev));
	ASSERT_EQ(1, epoll_wait(nat, &out, 1, 1000));
	EXPECT_EQ(12, out.data.u64);
	EXPECT_EQ(waits + 1, epm_stat("waits"));
	/* The module's own EINVAL stands. */
	EXPECT_EQ(-1, epoll_wait(ep, &out, 0, 0));
	EXPECT_EQ(EINVAL, errno);
}

#define THREAD_SOURCES	16
#define THREAD_EVENTS	2000

struct shared {
	int ep;
	int efd[THREAD_SOURCES];
	atomic_long consumed;
	atomic_int errors;
};

/* Harvest one-shot events, count what the eventfd held, re-arm. */
static void *consumer(void *arg)
{
	struct shared *s = arg;
	int64_t deadline = now_ns() + 60 * 1000000000LL;

	while (atomic_load(&s->consumed) < THREAD_EVENTS &&
	       now_ns() < deadline) {
		struct epoll_event ev;
		uint64_t count;
		int n = epoll_wait(s->ep, &ev, 1, 50);

		if (n < 0) {
			atomic_fetch_add(&s->errors, 1);
			break;
		}
		if (n == 0)
			continue;
		if (read(s->efd[ev.data.u32], &count, sizeof(count)) > 0)
			atomic_fetch_add(&s->consumed, count);
		ev.events = EPOLLIN | EPOLLONESHOT;
		if (epoll_ctl(s->ep, EPOLL_CTL_MOD, s->efd[ev.data.u32], &ev))
			atomic_fetch_add(&s->errors, 1);
	}
	return NULL;
}

static void *producer(void *arg)
{
	struct shared *s = arg;
	int i;

	for (i = 0; i < THREAD_EVENTS / 2; i++)
		if (efd_add(s->efd[i % THREAD_SOURCES], 1))
			atomic_fetch_add(&s->errors, 1);
	return NULL;
}

/* Instances made, used and closed while the others run. */
static void *churn(void *arg)
{
	struct shared *s = arg;
	int i;

	for (i = 0; i < 200; i++) {
		struct epoll_event ev = ev_of(EPOLLIN, i);
		int ep = epoll_create1(EPOLL_CLOEXEC);

		if (!epollmod_is_instance(ep) ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, s->efd[0], &ev) ||
		    epoll_wait(ep, &ev, 1, 0) < 0)
			atomic_fetch_add(&s->errors, 1);
		close(ep);
	}
	return NULL;
}

TEST_F(preload, threads_share_an_instance)
{
	static void *(*const roles[])(void *) = {
		consumer, consumer, consumer, consumer,
		producer, producer, churn, churn,
	};
	pthread_t threads[ARRAY_SIZE(roles)];
	struct shared s = { .ep = epoll_create1(EPOLL_CLOEXEC) };
	unsigned int i;

	ASSERT_TRUE(epollmod_is_instance(s.ep));
	for (i = 0; i < THREAD_SOURCES; i++) {
		struct epoll_event ev = ev_of(EPOLLIN | EPOLLONESHOT, i);

		s.efd[i] = efd_new(0);
		ASSERT_EQ(0, epoll_ctl(s.ep, EPOLL_CTL_ADD, s.efd[i], &ev));
	}
	for (i = 0; i < ARRAY_SIZE(roles); i++)
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, roles[i], &s));
	for (i = 0; i < ARRAY_SIZE(roles); i++)
		pthread_join(threads[i], NULL);
	EXPECT_EQ(0, atomic_load(&s.errors));
	EXPECT_EQ(THREAD_EVENTS, atomic_load(&s.consumed));
}

/*
 * A fork child waits on the instance it inherited and its parent wakes it;
 * the child's MOD is the parent's too, as on a native epoll fd.
 */
TEST_F(preload, fork_child_waits_on_inherited)
{
	struct epoll_event ev = ev_of(EPOLLIN, 0xf0f), out;
	int ep = epoll_create1(EPOLL_CLOEXEC), efd = efd_new(0), status;
	pid_t pid;

	ASSERT_TRUE(epollmod_is_instance(ep));
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (epoll_wait(ep, &out, 1, 10000) != 1 || out.data.u64 != 0xf0f)
			_exit(1);
		ev.data.u64 = 0xc41d;
		_exit(epoll_ctl(ep, EPOLL_CTL_MOD, efd, &ev) ? 2 : 0);
	}
	sleep_ms(200);
	ASSERT_EQ(0, efd_add(efd, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x", status);
	ASSERT_EQ(1, epoll_wait(ep, &out, 1, 1000));
	EXPECT_EQ(0xc41d, out.data.u64);
}

/* Run this binary as "--exec-child[-no-shim] EP EFD"; its exit status. */
static int exec_child(const char *mode, int ep, int efd, bool with_shim)
{
	char ep_arg[16], efd_arg[16];
	int status;
	pid_t pid;

	snprintf(ep_arg, sizeof(ep_arg), "%d", ep);
	snprintf(efd_arg, sizeof(efd_arg), "%d", efd);
	pid = fork();
	if (pid == 0) {
		if (!with_shim)
			unsetenv("LD_PRELOAD");
		execl("/proc/self/exe", "preload_test", mode, ep_arg, efd_arg,
		      (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST_F(preload, exec_child_with_shim_uses_inherited)
{
	struct epoll_event ev = ev_of(EPOLLIN, 0x5eed);
	int ep = epoll_create1(0), efd = eventfd(1, 0);

	ASSERT_TRUE(epollmod_is_instance(ep));
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	EXPECT_EQ(0, exec_child("--exec-child", ep, efd, true));
	/* The child removed it from the instance it shares with us. */
	EXPECT_EQ(-1, epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(preload, exec_child_without_shim_gets_einval)
{
	struct epoll_event ev = ev_of(EPOLLIN, 0x5eed);
	int ep = epoll_create1(0), efd = eventfd(1, 0);

	ASSERT_TRUE(epollmod_is_instance(ep));
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	EXPECT_EQ(0, exec_child("--exec-child-no-shim", ep, efd, false));
}

/* The exec'd children of the two tests above; 0 if all went as it should. */
static int exec_child_main(const char *mode, int ep, int efd)
{
	bool with_shim = !strcmp(mode, "--exec-child");
	struct epoll_event out;
	int n;

	if (shim_loaded() != with_shim) {
		fprintf(stderr, "%s: the shim is %sloaded\n", mode,
			with_shim ? "not " : "");
		return 1;
	}
	if (!epollmod_is_instance(ep)) {
		fprintf(stderr, "%s: fd %d is no instance\n", mode, ep);
		return 1;
	}
	n = epoll_wait(ep, &out, 1, 1000);
	if (!with_shim) {
		if (n == -1 && errno == EINVAL)
			return 0;
		fprintf(stderr, "%s: epoll_wait gave %d (%m), not EINVAL\n",
			mode, n);
		return 1;
	}
	if (n != 1 || out.data.u64 != 0x5eed) {
		fprintf(stderr, "%s: epoll_wait gave %d (%m)\n", mode, n);
		return 1;
	}
	if (epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL)) {
		fprintf(stderr, "%s: EPOLL_CTL_DEL: %m\n", mode);
		return 1;
	}
	return 0;
}

/* Exec this binary again with the shim preloaded, unless it is already. */
static void run_under_shim(char **argv)
{
	const char *given = getenv("EPM_PRELOAD");
	char exe[PATH_MAX], shim[PATH_MAX + 64];
	ssize_t n;

	if (shim_loaded())
		return;
	if (given) {
		snprintf(shim, sizeof(shim), "%s", given);
	} else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n < 0)
			return;
		exe[n] = '\0';
		snprintf(shim, sizeof(shim), "%s/../lib/" SHIM_NAME,
			 dirname(exe));
	}
	/* Tried once: a shim that does not load fails every test instead. */
	if (getenv("LD_PRELOAD") && !strcmp(getenv("LD_PRELOAD"), shim))
		return;
	setenv("LD_PRELOAD", shim, 1);
	execv("/proc/self/exe", argv);
	fprintf(stderr, "preload_test: cannot exec under %s: %m\n", shim);
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strncmp(argv[1], "--exec-child", 12))
		return exec_child_main(argv[1], atoi(argv[2]), atoi(argv[3]));
	run_under_shim(argv);
	return epm_harness_run(argc, argv);
}
