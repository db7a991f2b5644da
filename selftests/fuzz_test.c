// SPDX-License-Identifier: GPL-2.0
/*
 * An ioctl fuzzer for /dev/epollmod: random command numbers, random
 * argument bytes and sizes, NULL, unmapped, straddling and kernel-space
 * pointers, huge and negative counts and timeouts, and every kind of fd
 * (other instances, native epoll, closed fds, files without ->poll, the
 * instance itself), mixed with closes and reopens.
 *
 * Every call must return an error from the documented set or a valid
 * result, and never block (each instance keeps a ready level-triggered
 * item, so even an infinite wait returns). The harness's kernel-log check
 * fails the test on any splat.
 *
 * EPM_FUZZ_ITERATIONS (default 20000) and EPM_FUZZ_SEED (default: time)
 * control a run; the seed is printed so a failure can be replayed.
 */
#include "lib/harness.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/epollmod.h>
#include <epollmod/epollmod.h>
#include <epollmod/kqueue.h>
#include <epollmod/ring.h>

#include "lib/util.h"

#define INSTANCES	4
#define TARGETS		12

struct fuzz {
	uint64_t rng;
	long page;
	char *buf;		/* two pages; the second is unmapped */
	char *arg;		/* ditto, for the ioctl's own argument */
	int eps[INSTANCES];
	int ready[INSTANCES];	/* a ready eventfd in each instance */
	int targets[TARGETS];
	struct epollmod_ring ring;	/* eps[0]'s */
};

static uint64_t next(struct fuzz *f)
{
	/* xorshift64*: small, fast, reproducible from the seed */
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t pick(struct fuzz *f, uint64_t n)
{
	return next(f) % n;
}

/* A user pointer worth trying for a buffer of @len bytes. */
static uint64_t some_pointer(struct fuzz *f, size_t len)
{
	switch (pick(f, 8)) {
	case 0:
		return 0;				/* NULL */
	case 1:
		return (uint64_t)(uintptr_t)(f->buf + f->page);	/* unmapped */
	case 2:	/* straddles into the unmapped page */
		return (uint64_t)(uintptr_t)(f->buf + f->page - len / 2 - 1);
	case 3:
		return 0xffff888000000000ULL;		/* kernel space */
	case 4:
		return -4096ULL;
	case 5:
		return next(f);				/* anything */
	default:
		return (uint64_t)(uintptr_t)(f->buf + pick(f, 64));
	}
}

static int some_fd(struct fuzz *f)
{
	int fd;

	switch (pick(f, 6)) {
	case 0:
		return f->eps[pick(f, INSTANCES)];
	case 1:
		return -1 - (int)pick(f, 3);
	case 2:
		fd = (int)pick(f, 1200);		/* often closed */
		/* The ready items keep every wait from blocking. */
		for (int i = 0; i < INSTANCES; i++)
			if (fd == f->ready[i])
				return -1;
		return fd;
	default:
		return f->targets[pick(f, TARGETS)];
	}
}

static uint32_t some_events(struct fuzz *f)
{
	static const uint32_t bits[] = {
		EPOLLIN, EPOLLOUT, EPOLLPRI, EPOLLERR, EPOLLHUP, EPOLLRDHUP,
		EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE, EPOLLWAKEUP, EPOLLMSG,
	};
	uint32_t ev = 0;

	if (!pick(f, 8))
		return (uint32_t)next(f);
	for (int i = pick(f, 4); i >= 0; i--)
		ev |= bits[pick(f, ARRAY_SIZE(bits))];
	return ev;
}

/* Where in f->buf the kevent arguments go; ZERO_TIMESPEC stays zero. */
#define KEV_CHANGES	512
#define KEV_EVENTS	1024
#define ZERO_TIMESPEC	2048
#define READY_IDENT	0xf00d

/* A plausible change list for kevent(): one to four records, or junk. */
static void some_kevent(struct fuzz *f, struct epollmod_kevent *k)
{
	static const int16_t filters[] = {
		EPOLLMOD_EVFILT_READ, EPOLLMOD_EVFILT_WRITE,
		EPOLLMOD_EVFILT_PROC, EPOLLMOD_EVFILT_SIGNAL,
		EPOLLMOD_EVFILT_TIMER, EPOLLMOD_EVFILT_USER, 0, -3, -12,
	};
	struct epollmod_kev *rec = (void *)(f->buf + KEV_CHANGES);
	int n = 1 + pick(f, 4);

	for (int i = 0; i < n; i++) {
		rec[i].filter = filters[pick(f, ARRAY_SIZE(filters))];
		rec[i].flags = pick(f, 8) ? 1u << pick(f, 8) | 1u << pick(f, 8) :
					    (uint16_t)next(f);
		switch (pick(f, 4)) {
		case 0:
			rec[i].ident = next(f);
			break;
		case 1:
			rec[i].ident = 1 + pick(f, 3);	/* never READY_IDENT */
			break;
		default:
			rec[i].ident = (uint32_t)some_fd(f);
		}
		rec[i].fflags = pick(f, 2) ? 1u << pick(f, 32) : (uint32_t)next(f);
		rec[i].data = pick(f, 2) ? (int64_t)pick(f, 100) : (int64_t)next(f);
		rec[i].udata = next(f);
		/* A signal or a process of our own: never a kill. */
		if (rec[i].filter == EPOLLMOD_EVFILT_PROC && pick(f, 2))
			rec[i].ident = getpid();
	}
	k->size = sizeof(*k);
	k->changes = pick(f, 8) ? (uintptr_t)rec : some_pointer(f, 32);
	k->events = pick(f, 4) ? (uintptr_t)(f->buf + KEV_EVENTS) :
				 some_pointer(f, 32);
	k->nchanges = pick(f, 8) ? n : (int)next(f);
	k->nevents = pick(f, 4) ? (int)pick(f, 9) : (int)next(f);
	k->timeout = pick(f, 8) ? (uintptr_t)(f->buf + ZERO_TIMESPEC) :
				  (uintptr_t)(f->buf + f->page);
	k->sigmask = pick(f, 2) ? 0 : some_pointer(f, 8);
	k->sigsetsize = pick(f, 4) ? 8 : next(f);
}

/* Fill the start of the buffer with a plausible, then mutated, struct. */
static unsigned long some_command(struct fuzz *f, void *arg)
{
	union {
		struct epollmod_ctl ctl;
		struct epollmod_wait wait;
		struct epollmod_info info;
		struct epollmod_kevent kevent;
		struct epollmod_ring_setup ring;
		unsigned char raw[128];
	} *u = arg;
	static const uint32_t sizes[] = { 0, 1, 7, 24, 32, 48, 56, 4096, 4097,
					  0xffffffff };
	struct epoll_event ev = ev_of(some_events(f), next(f));
	unsigned long cmd;

	memset(u, 0, sizeof(*u));
	switch (pick(f, 6)) {
	case 3:
		cmd = EPOLLMOD_IOC_KEVENT;
		some_kevent(f, &u->kevent);
		break;
	case 4:
		/* A ring: busy where there is one or a watch, else made. */
		cmd = EPOLLMOD_IOC_RING;
		u->ring.size = sizeof(u->ring);
		u->ring.slots = pick(f, 4) ? 1 + pick(f, 64) : (uint32_t)next(f);
		break;
	case 0:
		cmd = EPOLLMOD_IOC_CTL;
		u->ctl.size = sizeof(u->ctl);
		u->ctl.op = pick(f, 8) ? 1 + pick(f, 3) : (int)next(f);
		u->ctl.fd = some_fd(f);
		memcpy(f->buf + 64, &ev, sizeof(ev));
		u->ctl.event = pick(f, 4) ? (uintptr_t)(f->buf + 64) :
					    some_pointer(f, sizeof(ev));
		break;
	case 1:
		cmd = EPOLLMOD_IOC_WAIT;
		u->wait.size = sizeof(u->wait);
		u->wait.flags = pick(f, 2) ? EPOLLMOD_WAIT_TIMESPEC : 0;
		if (!pick(f, 4))
			u->wait.flags |= EPOLLMOD_WAIT_RING;
		u->wait.events = pick(f, 2) ? (uintptr_t)(f->buf + 256) :
					      some_pointer(f, 64);
		u->wait.maxevents = pick(f, 4) ? 1 + pick(f, 8) : (int)next(f);
		u->wait.timeout_ms = pick(f, 2) ? 0 : (int)next(f);
		u->wait.timeout = some_pointer(f, 16);
		u->wait.sigmask = pick(f, 2) ? 0 : some_pointer(f, 8);
		u->wait.sigsetsize = pick(f, 4) ? 8 : next(f);
		break;
	case 2:
		cmd = EPOLLMOD_IOC_INFO;
		u->info.size = sizeof(u->info);
		break;
	default:
		cmd = pick(f, 2) ? _IOC(pick(f, 4), EPOLLMOD_IOC_MAGIC,
					pick(f, 256), pick(f, 256)) :
				   (unsigned long)next(f);
		for (unsigned int i = 0; i < sizeof(u->raw); i++)
			u->raw[i] = next(f);
		break;
	}
	/* Mutate: a size, a reserved field, or random bytes. */
	switch (pick(f, 6)) {
	case 0:
		u->ctl.size = sizes[pick(f, ARRAY_SIZE(sizes))];
		break;
	case 1:
		u->ctl.flags = next(f);
		break;
	case 2:
		u->raw[pick(f, 64)] = next(f);
		break;
	}
	/* Never block for real: an infinite timespec only with an event. */
	if (cmd != EPOLLMOD_IOC_KEVENT && u->wait.timeout && !pick(f, 2))
		u->wait.timeout = 0;
	/* kevent() blocks without a timeout: a kqueue's ready knote may be gone. */
	if (cmd == EPOLLMOD_IOC_KEVENT && !u->kevent.timeout)
		u->kevent.timeout = (uintptr_t)(f->buf + ZERO_TIMESPEC);
	/* Batching waits for more than the one ready event: no timeout. */
	if (cmd == EPOLLMOD_IOC_WAIT &&
	    (u->wait.min_events > 1 || (u->wait.flags & EPOLLMOD_WAIT_RING))) {
		u->wait.flags &= ~EPOLLMOD_WAIT_TIMESPEC;
		u->wait.timeout_ms = 0;
	}
	if (cmd == EPOLLMOD_IOC_KEVENT && u->kevent.min_events > 1)
		u->kevent.timeout = (uintptr_t)(f->buf + ZERO_TIMESPEC);
	return cmd;
}

static bool allowed(int err)
{
	switch (err) {
	case EINVAL: case EFAULT: case ENOTTY: case E2BIG: case EBADF:
	case EPERM: case EEXIST: case ENOENT: case ELOOP: case ENOSPC:
	case ENOMEM: case EINTR:
	/* kqueue: a busy KQUEUE, a process gone, a filter not offered */
	case EBUSY: case ESRCH: case EOPNOTSUPP: case EACCES:
	/* a wait told not to sleep (EPOLLMOD_*_TRY) */
	case EAGAIN:
		return true;
	}
	return false;
}

static void reopen_target(struct fuzz *f, int i)
{
	int p[2], s[2];

	if (f->targets[i] >= 0)
		close(f->targets[i]);
	switch (i % 6) {
	case 0:
		f->targets[i] = efd_new(pick(f, 2));
		break;
	case 1:
		f->targets[i] = pipe_new(p) ? -1 : (close(p[1]), p[0]);
		break;
	case 2:
		f->targets[i] = unix_pair(s) ? -1 : (close(s[1]), s[0]);
		break;
	case 3:
		f->targets[i] = epoll_create1(EPOLL_CLOEXEC);	/* native */
		break;
	case 4:
		f->targets[i] = memfd_create("fuzz", MFD_CLOEXEC); /* no poll */
		break;
	default:
		f->targets[i] = epollmod_create1(EPOLL_CLOEXEC);
		break;
	}
}

/* Half the instances are kqueues, each with a user event that stays set. */
static bool is_kqueue(int i)
{
	return i >= INSTANCES / 2;
}

static void reopen_instance(struct fuzz *f, int i)
{
	struct epoll_event ev = ev_of(EPOLLIN, 0xf00d);
	struct kevent kev;

	if (f->eps[i] >= 0)
		close(f->eps[i]);
	if (is_kqueue(i)) {
		f->eps[i] = epollmod_kqueue();
		EV_SET(&kev, READY_IDENT, EVFILT_USER, EV_ADD, NOTE_TRIGGER, 0,
		       NULL);
		epollmod_kevent(f->eps[i], &kev, 1, NULL, 0, NULL);
		return;
	}
	f->eps[i] = epollmod_create1(EPOLL_CLOEXEC);
	/* The first instance has a ready ring, mapped: harvested at the end. */
	if (i == 0) {
		if (f->ring.map)
			epollmod_ring_unmap(&f->ring);
		epollmod_ring_setup(f->eps[i], 64, &f->ring);
	}
	epollmod_ctl(f->eps[i], EPOLL_CTL_ADD, f->ready[i], &ev);
}

FIXTURE(fuzz) {
	struct fuzz f;
};

FIXTURE_SETUP(fuzz)
{
	struct fuzz *f = &self->f;
	int probe = epollmod_create1(EPOLL_CLOEXEC);

	if (probe < 0) {
		if (getenv("EPM_REQUIRE_MODULE"))
			ASSERT_LE(0, probe);
		EPM_SKIP_TEST("epollmod module not loaded");
	}
	close(probe);
	f->page = sysconf(_SC_PAGESIZE);
	f->buf = mmap(NULL, 2 * f->page, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, f->buf);
	/* Kept reserved, so that no later mapping (a ring) lands there. */
	ASSERT_EQ(0, mprotect(f->buf + f->page, f->page, PROT_NONE));
	/*
	 * The argument declares its own size: INFO may fill up to a page of
	 * it. Give it that page, ending where memory ends.
	 */
	f->arg = mmap(NULL, 2 * f->page, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, f->arg);
	ASSERT_EQ(0, mprotect(f->arg + f->page, f->page, PROT_NONE));
	for (int i = 0; i < INSTANCES; i++) {
		f->eps[i] = -1;
		f->ready[i] = efd_new(1);
		reopen_instance(f, i);
		ASSERT_LE(0, f->eps[i]);
	}
	for (int i = 0; i < TARGETS; i++) {
		f->targets[i] = -1;
		reopen_target(f, i);
	}
}

FIXTURE_TEARDOWN(fuzz)
{
}

TEST_F_TIMEOUT(fuzz, random_ioctls, 600)
{
	struct fuzz *f = &self->f;
	const char *env = getenv("EPM_FUZZ_ITERATIONS");
	long iterations = env ? atol(env) : 20000, calls = 0, errors = 0;
	uint64_t seed = getenv("EPM_FUZZ_SEED") ?
			strtoull(getenv("EPM_FUZZ_SEED"), NULL, 0) :
			(uint64_t)now_ns();

	f->rng = seed | 1;
	TH_LOG("seed %#llx, %ld iterations", (unsigned long long)seed,
	       iterations);
	for (long i = 0; i < iterations; i++) {
		unsigned char *arg = (unsigned char *)f->arg;
		unsigned long cmd;
		void *argp;
		int ep, ret;

		switch (pick(f, 64)) {
		case 0:
			reopen_instance(f, pick(f, INSTANCES));
			continue;
		case 1:
			reopen_target(f, pick(f, TARGETS));
			continue;
		}
		ep = f->eps[pick(f, INSTANCES)];
		cmd = some_command(f, arg);
		argp = pick(f, 16) ? arg :
			(void *)(uintptr_t)some_pointer(f, 128);
		ret = ioctl(ep, cmd, argp);
		calls++;
		if (ret < 0) {
			errors++;
			ASSERT_TRUE(allowed(errno))
				TH_LOG("iteration %ld: cmd %#lx gave %s", i, cmd,
				       strerror(errno));
		} else if (cmd == EPOLLMOD_IOC_WAIT && argp == arg &&
			   !(((struct epollmod_wait *)arg)->flags &
			     EPOLLMOD_WAIT_RING)) {
			ASSERT_GE(8, ret) TH_LOG("iteration %ld", i);
		}
	}
	TH_LOG("%ld calls, %ld errors", calls, errors);
	/* The instances still work. */
	for (int i = 0; i < INSTANCES; i++) {
		struct timespec zero = { 0, 0 };
		struct epoll_event ev[8];
		struct kevent kev[8];

		reopen_instance(f, i);
		if (is_kqueue(i)) {
			EXPECT_EQ(1, epollmod_kevent(f->eps[i], NULL, 0, kev, 8,
						     &zero));
		} else {
			EXPECT_EQ(1, epollmod_wait(f->eps[i], ev, 8, 0));
		}
	}
}

EPM_HARNESS_MAIN
