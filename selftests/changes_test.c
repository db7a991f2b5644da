// SPDX-License-Identifier: GPL-2.0
/*
 * The wait's change list (epollmod_wait_changes(), struct
 * epollmod_change): each change is epoll_ctl(2) exactly, so its result is
 * checked against native epoll_ctl() making the same change on a native
 * instance, with the same fds. Then: the changes are made before the wait
 * (in the same call) and in order, and stand when the wait times out; the
 * errnos of the call itself (EFAULT for the list, EINVAL for a negative
 * count or a non-zero reserved2); nchanges 0 is an ordinary wait.
 */
#include "lib/harness.h"

#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <epollmod/epollmod.h>
#include <linux/epollmod.h>

#include "lib/util.h"

#define RESULT_POISON	0x5a5a5a5a

FIXTURE(changes) {
	int ep;		/* epollmod */
	int nat;	/* native epoll */
};

FIXTURE_SETUP(changes)
{
	self->ep = epollmod_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, self->ep) TH_LOG("epollmod_create1: %s", strerror(errno));
	self->nat = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, self->nat);
}

FIXTURE_TEARDOWN(changes)
{
	close(self->ep);
	close(self->nat);
}

static const struct timespec zero_ts;

static struct epollmod_change change(int op, int fd, uint32_t events,
				     uint64_t data)
{
	struct epollmod_change c;

	memset(&c, 0, sizeof(c));
	c.op = op;
	c.fd = fd;
	c.events = events;
	c.result = RESULT_POISON;
	c.data = data;
	return c;
}

/* The change list, then a wait of timeout 0 into @n poisoned @out. */
static int wait_list(int ep, struct epollmod_change *c, int nc,
		     struct epoll_event *out, int n)
{
	memset(out, POISON_BYTE, sizeof(*out) * n);
	return epollmod_wait_changes(ep, c, nc, out, n, 0, NULL, &zero_ts,
				     NULL);
}

/* Native epoll_ctl(): 0, or its errno. */
static int native_ctl(int nat, int op, int fd, uint32_t events,
		      uint64_t data)
{
	struct epoll_event ev = ev_of(events, data);

	errno = 0;
	return epoll_ctl(nat, op, fd, &ev) ? errno : 0;
}

/*
 * One change both ways: native epoll_ctl() on the native instance (fd
 * @nfd) and a one-change list on the epollmod instance (fd @efd; the
 * same fd but where the instance itself is the fd). The two agree, and
 * are @expected; the wait after the change reports what native does.
 */
static void differ2(struct __test_metadata *_metadata, int ep, int nat,
		    int op, int efd, int nfd, uint32_t events, int expected)
{
	struct epollmod_change c = change(op, efd, events, 0x1234);
	struct epoll_event out[4], nout[4];
	int native = native_ctl(nat, op, nfd, events, 0x1234);
	int n = wait_list(ep, &c, 1, out, 4);

	ASSERT_LE(0, n) TH_LOG("epollmod_wait_changes: %s", strerror(errno));
	EXPECT_EQ(expected, native) TH_LOG("native: %s", strerror(native));
	EXPECT_EQ(native, c.result) TH_LOG("op %d: native %s, list %s", op,
					   strerror(native),
					   strerror(c.result));
	memset(nout, POISON_BYTE, sizeof(nout));
	EXPECT_EQ(epoll_wait(nat, nout, 4, 0), n);
}

static void differ(struct __test_metadata *_metadata, int ep, int nat,
		   int op, int fd, uint32_t events, int expected)
{
	differ2(_metadata, ep, nat, op, fd, fd, events, expected);
}

TEST_F(changes, add_ok)
{
	int fd = efd_new(0);

	ASSERT_LE(0, fd);
	differ(_metadata, self->ep, self->nat, EPOLL_CTL_ADD, fd, EPOLLIN, 0);
	close(fd);
}

TEST_F(changes, add_twice_eexist)
{
	int fd = efd_new(0);

	ASSERT_LE(0, fd);
	differ(_metadata, self->ep, self->nat, EPOLL_CTL_ADD, fd, EPOLLIN, 0);
	differ(_metadata, self->ep, self->nat, EPOLL_CTL_ADD, fd, EPOLLIN,
	       EEXIST);
	close(fd);
}

TEST_F(changes, mod_and_del_ok)
{
	int fd = efd_new(0);

	ASSERT_LE(0, fd);
	differ(_metadata, self->ep, self->nat, EPOLL_CTL_ADD, fd, EPOLLIN, 0);
	differ(_metadata, self->ep, self->nat, EPOLL_CTL_MOD, fd, EPOLLOUT, 0);
	differ(_metadata, self->ep, self->nat, EPOLL_CTL_DEL, fd, 0, 0);
	close(fd);
}

TEST_F(changes, mod_missing_enoent)
{
	int fd = efd_new(0);

	ASSERT_LE(0, fd);
	differ(_metadata, self->ep, self->nat, EPOLL_CTL_MOD, fd, EPOLLIN,
	       ENOENT);
	close(fd);
}

TEST_F(changes, del_missing_enoent)
{
	int fd = efd_new(0);

	ASSERT_LE(0, fd);
	differ(_metadata, self->ep, self->nat, EPOLL_CTL_DEL, fd, 0, ENOENT);
	close(fd);
}

TEST_F(changes, closed_fd_ebadf)
{
	int fd = efd_new(0);

	ASSERT_LE(0, fd);
	close(fd);
	differ(_metadata, self->ep, self->nat, EPOLL_CTL_ADD, fd, EPOLLIN,
	       EBADF);
	differ(_metadata, self->ep, self->nat, EPOLL_CTL_MOD, fd, EPOLLIN,
	       EBADF);
	differ(_metadata, self->ep, self->nat, EPOLL_CTL_DEL, fd, 0, EBADF);
}

TEST_F(changes, instance_itself_einval)
{
	differ2(_metadata, self->ep, self->nat, EPOLL_CTL_ADD, self->ep,
		self->nat, EPOLLIN, EINVAL);
}

TEST_F(changes, regular_file_eperm)
{
	FILE *f = tmpfile();

	ASSERT_NE(NULL, f);
	differ(_metadata, self->ep, self->nat, EPOLL_CTL_ADD, fileno(f),
	       EPOLLIN, EPERM);
	fclose(f);
}

TEST_F(changes, exclusive_mod_einval)
{
	int fd = efd_new(0);

	ASSERT_LE(0, fd);
	differ(_metadata, self->ep, self->nat, EPOLL_CTL_ADD, fd,
	       EPOLLIN | EPOLLEXCLUSIVE, 0);
	differ(_metadata, self->ep, self->nat, EPOLL_CTL_MOD, fd,
	       EPOLLIN | EPOLLEXCLUSIVE, EINVAL);
	close(fd);
}

TEST_F(changes, unknown_op_einval)
{
	int fd = efd_new(0);

	ASSERT_LE(0, fd);
	differ(_metadata, self->ep, self->nat, 99, fd, EPOLLIN, EINVAL);
	close(fd);
}

/*
 * One list with every outcome: each change gets its own result, as the
 * same epoll_ctl() calls in order on native; a failure stops nothing.
 */
TEST_F(changes, each_result_its_own)
{
	int a = efd_new(0), b = efd_new(0), gone = efd_new(0);
	struct epollmod_change c[6];
	struct epoll_event out[4];
	FILE *f = tmpfile();
	int want[6];

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_LE(0, gone);
	ASSERT_NE(NULL, f);
	close(gone);
	c[0] = change(EPOLL_CTL_ADD, a, EPOLLIN, 1);
	c[1] = change(EPOLL_CTL_ADD, a, EPOLLIN, 2);
	c[2] = change(EPOLL_CTL_MOD, b, EPOLLIN, 3);
	c[3] = change(EPOLL_CTL_DEL, gone, 0, 4);
	c[4] = change(EPOLL_CTL_ADD, fileno(f), EPOLLIN, 5);
	c[5] = change(EPOLL_CTL_ADD, b, EPOLLIN, 6);
	for (int i = 0; i < 6; i++)
		want[i] = native_ctl(self->nat, c[i].op, c[i].fd, c[i].events,
				     c[i].data);
	EXPECT_EQ(0, wait_list(self->ep, c, 6, out, 4));
	for (int i = 0; i < 6; i++) {
		EXPECT_EQ(want[i], c[i].result) TH_LOG("change %d", i);
	}
	/* what native said, spelled out */
	EXPECT_EQ(0, want[0]);
	EXPECT_EQ(EEXIST, want[1]);
	EXPECT_EQ(ENOENT, want[2]);
	EXPECT_EQ(EBADF, want[3]);
	EXPECT_EQ(EPERM, want[4]);
	EXPECT_EQ(0, want[5]);
	/* the last change was made after the failures */
	EXPECT_EQ(0, epollmod_ctl(self->ep, EPOLL_CTL_DEL, b, NULL));
	fclose(f);
	close(a);
	close(b);
}

/*
 * Made before the wait: a one-shot watch that fired is disarmed; re-armed
 * by a MOD in the list, it is reported by the same call. Native: the MOD,
 * then a wait, reports it too.
 */
TEST_F(changes, oneshot_rearmed_reported_by_same_call)
{
	struct epollmod_change c;
	struct epoll_event out[4];
	int fd = efd_new(1);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, epollmod_ctl(self->ep, EPOLL_CTL_ADD, fd,
				  &(struct epoll_event){
					  .events = EPOLLIN | EPOLLONESHOT,
					  .data.u64 = 1 }));
	ASSERT_EQ(1, wait_list(self->ep, NULL, 0, out, 4));
	EXPECT_EQ(1, out[0].data.u64);
	EXPECT_EQ(0, wait_list(self->ep, NULL, 0, out, 4));
	c = change(EPOLL_CTL_MOD, fd, EPOLLIN | EPOLLONESHOT, 2);
	ASSERT_EQ(1, wait_list(self->ep, &c, 1, out, 4));
	EXPECT_EQ(0, c.result);
	EXPECT_EQ(EPOLLIN, out[0].events);
	EXPECT_EQ(2, out[0].data.u64);
	EXPECT_EQ(0, wait_list(self->ep, NULL, 0, out, 4));

	/* native, the same steps */
	EXPECT_EQ(0, native_ctl(self->nat, EPOLL_CTL_ADD, fd,
				EPOLLIN | EPOLLONESHOT, 1));
	EXPECT_EQ(1, epoll_wait(self->nat, out, 4, 0));
	EXPECT_EQ(0, epoll_wait(self->nat, out, 4, 0));
	EXPECT_EQ(0, native_ctl(self->nat, EPOLL_CTL_MOD, fd,
				EPOLLIN | EPOLLONESHOT, 2));
	EXPECT_EQ(1, epoll_wait(self->nat, out, 4, 0));
	close(fd);
}

/* In order: ADD then DEL of a ready fd is nothing registered, nothing seen. */
TEST_F(changes, add_then_del_in_order)
{
	struct epollmod_change c[2];
	struct epoll_event out[4];
	int fd = efd_new(1);

	ASSERT_LE(0, fd);
	c[0] = change(EPOLL_CTL_ADD, fd, EPOLLIN, 1);
	c[1] = change(EPOLL_CTL_DEL, fd, 0, 0);
	EXPECT_EQ(0, wait_list(self->ep, c, 2, out, 4));
	EXPECT_EQ(0, c[0].result);
	EXPECT_EQ(0, c[1].result);
	/* it is not there any more */
	errno = 0;
	EXPECT_EQ(-1, epollmod_ctl(self->ep, EPOLL_CTL_DEL, fd, NULL));
	EXPECT_EQ(ENOENT, errno);
	close(fd);
}

/* ... and DEL then ADD: the DEL finds nothing, the ADD's event is seen. */
TEST_F(changes, del_then_add_in_order)
{
	struct epollmod_change c[2];
	struct epoll_event out[4];
	int fd = efd_new(1);

	ASSERT_LE(0, fd);
	c[0] = change(EPOLL_CTL_DEL, fd, 0, 0);
	c[1] = change(EPOLL_CTL_ADD, fd, EPOLLIN, 7);
	ASSERT_EQ(1, wait_list(self->ep, c, 2, out, 4));
	EXPECT_EQ(ENOENT, c[0].result);
	EXPECT_EQ(0, c[1].result);
	EXPECT_EQ(EPOLLIN, out[0].events);
	EXPECT_EQ(7, out[0].data.u64);
	close(fd);
}

/*
 * A wait that times out has made its changes all the same, once: the
 * library first tries the wait without sleeping, which makes them, and the
 * wait that sleeps after it must not make them again (the ADD's result
 * would be EEXIST).
 */
TEST_F(changes, made_when_the_wait_times_out)
{
	struct timespec t = { 0, 50 * 1000 * 1000 };
	struct epollmod_change c;
	struct epoll_event out[4];
	int fd = efd_new(0);

	ASSERT_LE(0, fd);
	c = change(EPOLL_CTL_ADD, fd, EPOLLIN, 8);
	memset(out, POISON_BYTE, sizeof(out));
	EXPECT_EQ(0, epollmod_wait_changes(self->ep, &c, 1, out, 4, 0, NULL,
					   &t, NULL));
	EXPECT_EQ(0, c.result);
	ASSERT_EQ(0, efd_add(fd, 1));
	ASSERT_EQ(1, wait_list(self->ep, NULL, 0, out, 4));
	EXPECT_EQ(8, out[0].data.u64);
	close(fd);
}

/* A list the module cannot read: EFAULT. */
TEST_F(changes, unreadable_list_efault)
{
	struct epoll_event out[4];
	void *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);

	ASSERT_NE(MAP_FAILED, page);
	errno = 0;
	EXPECT_EQ(-1, wait_list(self->ep, page, 1, out, 4));
	EXPECT_EQ(EFAULT, errno);
	munmap(page, 4096);
}

/* ... or cannot write a result to: EFAULT. */
TEST_F(changes, unwritable_list_efault)
{
	struct epollmod_change *c;
	struct epoll_event out[4];
	int fd = efd_new(0);
	void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_LE(0, fd);
	ASSERT_NE(MAP_FAILED, page);
	c = page;
	*c = change(EPOLL_CTL_ADD, fd, EPOLLIN, 1);
	ASSERT_EQ(0, mprotect(page, 4096, PROT_READ));
	errno = 0;
	EXPECT_EQ(-1, wait_list(self->ep, c, 1, out, 4));
	EXPECT_EQ(EFAULT, errno);
	munmap(page, 4096);
	close(fd);
}

/* A negative count: EINVAL, before the fd is looked at. */
TEST_F(changes, negative_nchanges_einval)
{
	struct epollmod_change c = change(EPOLL_CTL_ADD, 0, EPOLLIN, 0);
	struct epoll_event out[4];

	errno = 0;
	EXPECT_EQ(-1, wait_list(self->ep, &c, -1, out, 4));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(RESULT_POISON, c.result);
	errno = 0;
	EXPECT_EQ(-1, wait_list(-1, &c, -1, out, 4));
	EXPECT_EQ(EINVAL, errno);
}

/* reserved2 must be 0: EINVAL, and no change is made. */
TEST_F(changes, reserved2_einval)
{
	struct epoll_event out[4];
	int fd = efd_new(1);
	struct epollmod_change c = change(EPOLL_CTL_ADD, fd, EPOLLIN, 9);
	struct epollmod_wait w = {
		.size = sizeof(w),
		.events = (uintptr_t)out,
		.maxevents = 4,
		.timeout_ms = 0,
		.changes = (uintptr_t)&c,
		.nchanges = 1,
		.reserved2 = 1,
	};

	ASSERT_LE(0, fd);
	memset(out, POISON_BYTE, sizeof(out));
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->ep, EPOLLMOD_IOC_WAIT, &w));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(RESULT_POISON, c.result);
	w.reserved2 = 0;
	EXPECT_EQ(1, ioctl(self->ep, EPOLLMOD_IOC_WAIT, &w));
	EXPECT_EQ(0, c.result);
	EXPECT_EQ(9, out[0].data.u64);
	close(fd);
}

/*
 * nchanges 0 is an ordinary wait: the list is not read (here it could not
 * be), and the events are native's for the same watches.
 */
TEST_F(changes, no_changes_ordinary_wait)
{
	struct epoll_event out[4], nout[4];
	int fd = efd_new(1);
	void *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);

	ASSERT_LE(0, fd);
	ASSERT_NE(MAP_FAILED, page);
	ASSERT_EQ(0, epollmod_ctl(self->ep, EPOLL_CTL_ADD, fd,
				  &(struct epoll_event){ .events = EPOLLIN,
							 .data.u64 = 5 }));
	ASSERT_EQ(0, native_ctl(self->nat, EPOLL_CTL_ADD, fd, EPOLLIN, 5));
	memset(nout, POISON_BYTE, sizeof(nout));
	ASSERT_EQ(1, epoll_wait(self->nat, nout, 4, 0));
	ASSERT_EQ(1, wait_list(self->ep, NULL, 0, out, 4));
	EXPECT_EQ(nout[0].events, out[0].events);
	EXPECT_EQ(nout[0].data.u64, out[0].data.u64);
	ASSERT_EQ(1, wait_list(self->ep, page, 0, out, 4));
	EXPECT_EQ(nout[0].events, out[0].events);
	EXPECT_EQ(nout[0].data.u64, out[0].data.u64);
	ASSERT_EQ(0, efd_drain(fd));
	EXPECT_EQ(0, wait_list(self->ep, page, 0, out, 4));
	munmap(page, 4096);
	close(fd);
}

/* An error found before the changes (here maxevents) makes none. */
TEST_F(changes, wait_error_makes_no_change)
{
	struct epollmod_change c;
	struct epoll_event out[4];
	int fd = efd_new(0);

	ASSERT_LE(0, fd);
	c = change(EPOLL_CTL_ADD, fd, EPOLLIN, 1);
	errno = 0;
	EXPECT_EQ(-1, wait_list(self->ep, &c, 1, out, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(RESULT_POISON, c.result);
	errno = 0;
	EXPECT_EQ(-1, epollmod_ctl(self->ep, EPOLL_CTL_DEL, fd, NULL));
	EXPECT_EQ(ENOENT, errno);
	close(fd);
}

/* The feature bit says the module has change lists. */
TEST_F(changes, feature_bit)
{
	struct epollmod_info info = { .size = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->ep, EPOLLMOD_IOC_INFO, &info));
	EXPECT_TRUE(info.features & EPOLLMOD_FEAT_WAIT_CHANGES);
}

EPM_HARNESS_MAIN
