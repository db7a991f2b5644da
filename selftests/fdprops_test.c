// SPDX-License-Identifier: GPL-2.0
/*
 * An instance as a file descriptor, differentially: every fd-level property
 * a program can see is compared with a native epoll fd made the same way in
 * the same test (F_GETFL before and after F_SETFL, F_GETFD, the pos: and
 * flags: lines of /proc/self/fdinfo), and what dup, fork and SCM_RIGHTS
 * carry over. What cannot be the same (fstat() shows the device,
 * /proc/self/fd names it, reopening it there makes a new instance) is
 * pinned by device_file_differences and listed in README's known
 * differences.
 *
 * Then an instance where /dev/epollmod is not visible (another mount
 * namespace, as a chroot or a container that inherited it): it is still
 * recognized, and its errors are the module's, not EINVAL.
 */
#define _GNU_SOURCE
#include "lib/harness.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <epollmod/epollmod.h>

#include "lib/backend.h"
#include "lib/util.h"

DIFF_FIXTURE(fdprops);

struct fd_props {
	int getfl;
	int getfd;
	unsigned int fdinfo_flags;	/* octal in fdinfo */
	long long fdinfo_pos;
};

static int props_of(int fd, struct fd_props *p)
{
	FILE *f = fdinfo_open(fd);
	char line[256];
	int found = 0;

	memset(p, 0xff, sizeof(*p));
	p->getfl = fcntl(fd, F_GETFL);
	p->getfd = fcntl(fd, F_GETFD);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		found += sscanf(line, "flags: %o", &p->fdinfo_flags) == 1;
		found += sscanf(line, "pos: %lld", &p->fdinfo_pos) == 1;
	}
	fclose(f);
	return found == 2 ? 0 : -1;
}

/* The properties of @ep and of the native @ref are the same, all of them. */
#define EXPECT_SAME_PROPS(ep, ref) do {					\
	struct fd_props _p, _r;						\
	ASSERT_EQ(0, props_of(ep, &_p));				\
	ASSERT_EQ(0, props_of(ref, &_r));				\
	EXPECT_EQ(_r.getfl, _p.getfl) TH_LOG("F_GETFL %#x, native %#x",	\
					     _p.getfl, _r.getfl);	\
	EXPECT_EQ(_r.getfd, _p.getfd);					\
	EXPECT_EQ(_r.fdinfo_flags, _p.fdinfo_flags)			\
		TH_LOG("fdinfo flags: 0%o, native 0%o",			\
		       _p.fdinfo_flags, _r.fdinfo_flags);		\
	EXPECT_EQ(_r.fdinfo_pos, _p.fdinfo_pos);			\
} while (0)

/* epoll_create1(0) and (EPOLL_CLOEXEC), and epoll_create(1). */
TEST_F(fdprops, as_created)
{
	int flags[] = { 0, EPOLL_CLOEXEC };

	for (unsigned int i = 0; i < ARRAY_SIZE(flags); i++) {
		int ep = ep_create1(flags[i]), ref = epoll_create1(flags[i]);

		ASSERT_LE(0, ep);
		ASSERT_LE(0, ref);
		EXPECT_EQ(O_RDWR, fcntl(ep, F_GETFL));
		EXPECT_SAME_PROPS(ep, ref);
		close(ep);
		close(ref);
	}
	{
		int ep = ep_create(1), ref = epoll_create(1);

		ASSERT_LE(0, ep);
		EXPECT_SAME_PROPS(ep, ref);
		close(ep);
		close(ref);
	}
}

/*
 * F_SETFL with each flag it may change, alone and then cleared: the same
 * answer, the same flags after.
 */
TEST_F(fdprops, setfl_each_flag)
{
	const int settable[] = { O_NONBLOCK, O_APPEND, O_ASYNC, O_DIRECT,
				 O_NOATIME, O_NONBLOCK | O_APPEND };
	int ep = ep_create1(0), ref = epoll_create1(0);

	ASSERT_LE(0, ep);
	ASSERT_LE(0, ref);
	for (unsigned int i = 0; i < ARRAY_SIZE(settable); i++) {
		int r_ref, r_ep, e_ref, e_ep;

		errno = 0;
		r_ref = fcntl(ref, F_SETFL, settable[i]);
		e_ref = errno;
		errno = 0;
		r_ep = fcntl(ep, F_SETFL, settable[i]);
		e_ep = errno;
		EXPECT_EQ(r_ref, r_ep) TH_LOG("F_SETFL %#x", settable[i]);
		EXPECT_EQ(e_ref, e_ep) TH_LOG("F_SETFL %#x", settable[i]);
		EXPECT_SAME_PROPS(ep, ref);
		ASSERT_EQ(0, fcntl(ref, F_SETFL, 0));
		ASSERT_EQ(0, fcntl(ep, F_SETFL, 0));
		EXPECT_SAME_PROPS(ep, ref);
	}
	close(ep);
	close(ref);
}

/* F_SETFL O_NONBLOCK: exactly O_RDWR | O_NONBLOCK, and waits still wait. */
TEST_F(fdprops, nonblock_does_not_change_waits)
{
	int ep = ep_create1(0), efd = efd_new(0);
	struct epoll_event ev;
	int64_t start;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
	ASSERT_EQ(0, fcntl(ep, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(O_RDWR | O_NONBLOCK, fcntl(ep, F_GETFL));
	start = now_ns();
	EXPECT_EQ(0, ep_wait(ep, &ev, 1, 100));
	EXPECT_LE(90 * 1000000LL, now_ns() - start);
	ASSERT_EQ(0, fcntl(ep, F_SETFL, 0));
	EXPECT_EQ(O_RDWR, fcntl(ep, F_GETFL));
}

/*
 * dup() shares the flags and clears close-on-exec; F_DUPFD_CLOEXEC sets it;
 * F_SETFL through one is seen through the other.
 */
TEST_F(fdprops, dup_carries_flags)
{
	int ep = ep_create1(EPOLL_CLOEXEC), ref = epoll_create1(EPOLL_CLOEXEC);
	int ep2, ref2, ep3, ref3;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, fcntl(ep, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(0, fcntl(ref, F_SETFL, O_NONBLOCK));
	ep2 = dup(ep);
	ref2 = dup(ref);
	ASSERT_LE(0, ep2);
	EXPECT_SAME_PROPS(ep2, ref2);
	EXPECT_EQ(0, fcntl(ep2, F_GETFD));
	ep3 = fcntl(ep, F_DUPFD_CLOEXEC, 0);
	ref3 = fcntl(ref, F_DUPFD_CLOEXEC, 0);
	ASSERT_LE(0, ep3);
	EXPECT_SAME_PROPS(ep3, ref3);
	EXPECT_EQ(FD_CLOEXEC, fcntl(ep3, F_GETFD));
	ASSERT_EQ(0, fcntl(ep2, F_SETFL, 0));
	ASSERT_EQ(0, fcntl(ref2, F_SETFL, 0));
	EXPECT_SAME_PROPS(ep, ref);
	EXPECT_EQ(O_RDWR, fcntl(ep, F_GETFL));
}

/*
 * A child of fork() sees the same flags and close-on-exec, and its F_SETFL
 * is the parent's too (one open file description).
 */
TEST_F(fdprops, fork_carries_flags)
{
	int ep = ep_create1(EPOLL_CLOEXEC), ref = epoll_create1(EPOLL_CLOEXEC);
	struct fd_props p_ep, p_ref;
	int status;
	pid_t pid;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, props_of(ep, &p_ep));
	ASSERT_EQ(0, props_of(ref, &p_ref));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct fd_props c_ep, c_ref;

		if (props_of(ep, &c_ep) || props_of(ref, &c_ref) ||
		    memcmp(&c_ep, &p_ep, sizeof(c_ep)) ||
		    memcmp(&c_ref, &p_ref, sizeof(c_ref)))
			_exit(1);
		_exit(fcntl(ep, F_SETFL, O_NONBLOCK) ||
		      fcntl(ref, F_SETFL, O_NONBLOCK) ? 2 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_SAME_PROPS(ep, ref);
	EXPECT_EQ(O_RDWR | O_NONBLOCK, fcntl(ep, F_GETFL));
}

/*
 * SCM_RIGHTS carries the status flags (the file), not close-on-exec, which
 * the receiver chooses (MSG_CMSG_CLOEXEC).
 */
TEST_F(fdprops, scm_rights_carries_flags)
{
	int ep = ep_create1(EPOLL_CLOEXEC), ref = epoll_create1(EPOLL_CLOEXEC);
	int s[2], rflags[] = { 0, MSG_CMSG_CLOEXEC };

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s));
	ASSERT_EQ(0, fcntl(ep, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(0, fcntl(ref, F_SETFL, O_NONBLOCK));
	for (unsigned int i = 0; i < ARRAY_SIZE(rflags); i++) {
		int got_ep, got_ref;

		ASSERT_EQ(0, send_fd(s[0], ep));
		ASSERT_EQ(0, send_fd(s[0], ref));
		got_ep = recv_fd(s[1], rflags[i]);
		got_ref = recv_fd(s[1], rflags[i]);
		ASSERT_LE(0, got_ep);
		ASSERT_LE(0, got_ref);
		EXPECT_SAME_PROPS(got_ep, got_ref);
		EXPECT_EQ(O_RDWR | O_NONBLOCK, fcntl(got_ep, F_GETFL));
		close(got_ep);
		close(got_ref);
	}
}

/*
 * What cannot be the same, pinned so that a change is noticed (README's
 * known differences): an instance is the device's file, so fstat() and
 * /proc/self/fd show the device, and reopening it through /proc opens the
 * device again, which makes a new, empty instance; native refuses (ENXIO).
 */
TEST_F(fdprops, device_file_differences)
{
	int ep = ep_create1(EPOLL_CLOEXEC), efd = efd_new(1), again;
	char path[64], link[64] = "";
	struct epoll_event ev;
	struct stat st;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
	ASSERT_EQ(0, fstat(ep, &st));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", ep);
	ASSERT_LT(0, readlink(path, link, sizeof(link) - 1));
	errno = 0;
	again = open(path, O_RDWR | O_CLOEXEC);
	if (be == &backend_native) {
		EXPECT_FALSE(S_ISCHR(st.st_mode));
		EXPECT_STREQ("anon_inode:[eventpoll]", link);
		EXPECT_EQ(-1, again);
		EXPECT_EQ(ENXIO, errno);
		return;
	}
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_STREQ(epollmod_device_path(), link);
	ASSERT_LE(0, again);
	EXPECT_TRUE(epollmod_is_instance(again));
	EXPECT_EQ(0, ep_wait(again, &ev, 1, 0));
	EXPECT_EQ(1, ep_wait(ep, &ev, 1, 0));
}

/*
 * Hide /dev from this test's process: a mount namespace of its own with an
 * empty tmpfs over /dev. 0 when done; a SKIP reason otherwise.
 */
static const char *hide_dev(void)
{
	if (geteuid() != 0)
		return "needs root for a mount namespace";
	if (unshare(CLONE_NEWNS))
		return "unshare(CLONE_NEWNS) failed";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return "cannot make / private";
	if (mount("tmpfs", "/dev", "tmpfs", 0, "size=64k"))
		return "cannot mount a tmpfs over /dev";
	return NULL;
}

/*
 * An instance made before /dev went out of sight: still an instance, and
 * every errno is the module's (EEXIST, ENOENT, ...), as native's is.
 */
TEST_F(fdprops, errors_where_device_not_visible)
{
	int ep = ep_create1(EPOLL_CLOEXEC), efd = efd_new(1), efd2 = efd_new(0);
	struct epoll_event ev = ev_of(EPOLLIN, 7), out[2];
	const char *why;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 7));
	why = hide_dev();
	if (why)
		SKIP(return, "%s", why);
	ASSERT_NE(0, access(epollmod_device_path(), F_OK));
	if (be == &backend_epollmod) {
		EXPECT_TRUE(epollmod_is_instance(ep));
		EXPECT_FALSE(epollmod_is_instance(efd));
		/* New instances cannot be made here: no device. */
		errno = 0;
		EXPECT_EQ(-1, ep_create1(0));
		EXPECT_EQ(ENODEV, errno);
	}

	errno = 0;
	EXPECT_EQ(-1, ep_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	EXPECT_EQ(EEXIST, errno);
	errno = 0;
	EXPECT_EQ(-1, ep_ctl(ep, EPOLL_CTL_MOD, efd2, &ev));
	EXPECT_EQ(ENOENT, errno);
	errno = 0;
	EXPECT_EQ(-1, ep_ctl(ep, EPOLL_CTL_DEL, efd2, NULL));
	EXPECT_EQ(ENOENT, errno);
	errno = 0;
	EXPECT_EQ(-1, ep_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, ep_ctl(ep, EPOLL_CTL_ADD, efd2, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	errno = 0;
	EXPECT_EQ(-1, ep_wait(ep, (void *)8, 1, 0));
	EXPECT_EQ(EFAULT, errno);
	errno = 0;
	EXPECT_EQ(-1, ep_wait(ep, out, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	POISON(out);
	ASSERT_EQ(1, ep_wait(ep, out, 2, 1000));
	EXPECT_EQ(7, out[0].data.u64);

	/* And an fd that is no instance still gets native's answers. */
	errno = 0;
	EXPECT_EQ(-1, ep_ctl(efd2, EPOLL_CTL_ADD, efd, &ev));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, ep_wait(efd2, out, 2, 0));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, ep_ctl(efd2, EPOLL_CTL_ADD, efd, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

/*
 * A stranger's answers to our ioctls: a tty-like, a socket, a pipe, an
 * eventfd, a native epoll. None may be taken for an instance, and each gets
 * native's errno for the same call.
 */
TEST_F(fdprops, strangers_are_not_instances)
{
	int s[2], p[2], efd = efd_new(0), nat = epoll_create1(EPOLL_CLOEXEC);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct epoll_event ev = ev_of(EPOLLIN, 1), out;
	int strangers[6], n = 0;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s));
	ASSERT_EQ(0, pipe_new(p));
	strangers[n++] = s[0];
	strangers[n++] = p[0];
	strangers[n++] = efd;
	strangers[n++] = null;
	strangers[n++] = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	if (be == &backend_epollmod)
		strangers[n++] = nat;
	for (int i = 0; i < n; i++) {
		ASSERT_LE(0, strangers[i]);
		if (be == &backend_epollmod)
			EXPECT_FALSE(epollmod_is_instance(strangers[i]));
		errno = 0;
		EXPECT_EQ(-1, ep_ctl(strangers[i], EPOLL_CTL_ADD, s[1], &ev));
		EXPECT_EQ(EINVAL, errno) TH_LOG("stranger %d", i);
		errno = 0;
		EXPECT_EQ(-1, ep_wait(strangers[i], &out, 1, 0));
		EXPECT_EQ(EINVAL, errno) TH_LOG("stranger %d", i);
	}
}

EPM_HARNESS_MAIN
