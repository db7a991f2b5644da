// SPDX-License-Identifier: GPL-2.0
/*
 * echo-server --backend io_uring: the third column of case 7, what a
 * program that wants fewer system calls picks instead of epoll.
 *
 * Every socket (the listener and each connection) has one multishot poll
 * (IORING_OP_POLL_ADD with IORING_POLL_ADD_MULTI) for POLLIN: it posts a
 * completion each time the socket becomes readable, without being armed
 * again. The loop harvests up to EPB_ECHO_BATCH completions from the
 * shared completion ring and, for each, does what the epoll loop does for
 * an event: the same accept4() loop or the same read() and write()
 * (epb_echo_accept(), epb_echo()).
 *
 * Why poll, and not recv and send through the ring: this case compares
 * how a server learns which sockets are ready, which is all epollmod
 * changes (its ready ring too leaves the I/O to read() and write()).
 * With the same two calls per request in every backend, a difference in
 * requests/s or in system calls per request is the notification's. A
 * server doing its I/O through the ring would save those two calls as
 * well, but that is io_uring's I/O path against epoll's readiness, and a
 * different server.
 *
 * It calls io_uring_enter() only when it has new polls to submit or no
 * completion is waiting: harvesting what is already in the ring takes no
 * call, which is io_uring's advantage and the one epollmod's ring aims at.
 *
 * Without liburing (build/bench built without liburing-dev) this file
 * builds to a check that says so.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "uring.h"

#ifndef EPB_HAVE_LIBURING

int epb_uring_check(char *what, size_t len)
{
	snprintf(what, len, "echo-server built without liburing (liburing-dev)");
	return -1;
}

void epb_uring_serve(int lfd)
{
	epb_die("echo-server built without liburing (liburing-dev)");
}

#else /* EPB_HAVE_LIBURING */

#include <poll.h>
#include <sys/eventfd.h>

#include <liburing.h>

#define SQ_ENTRIES	1024
/*
 * Room for a readiness completion from every connection of a round and
 * then some. Were it full, the kernel would end the multishot polls it
 * cannot post to (a completion without IORING_CQE_F_MORE): handle() arms
 * those again.
 */
#define CQ_ENTRIES	16384

/* The completions of poll removals: nothing to do. */
#define TAG_IGNORE	UINT64_MAX

static struct io_uring ring;
static const char *ring_flags;

/*
 * A poll's user_data is its fd and the fd's generation: a completion of a
 * connection closed since (its fd maybe reused already) is recognised as
 * stale and dropped.
 */
static uint32_t *gens;
static int nr_gens;

static uint32_t *gen_of(int fd)
{
	if (fd >= nr_gens) {
		int n = fd + 1024;

		gens = realloc(gens, n * sizeof(*gens));
		if (!gens)
			epb_die("out of memory");
		memset(gens + nr_gens, 0, (n - nr_gens) * sizeof(*gens));
		nr_gens = n;
	}
	return &gens[fd];
}

static uint64_t tag(int fd)
{
	return (uint64_t)*gen_of(fd) << 32 | (uint32_t)fd;
}

/*
 * IORING_SETUP_COOP_TASKRUN: a poll's completion is posted when the loop
 * next leaves the kernel, at the end of a read() or write() it makes
 * anyway, rather than by interrupting it; the loop then often finds
 * completions in the ring and need not enter to wait. DEFER_TASKRUN
 * (6.1) posts them only from io_uring_enter(), which cost this loop more
 * enters per request than native's waits in case 7's count, and no
 * completion ever comes without one. SINGLE_ISSUER: one thread submits.
 * A kernel that refuses a flag gets the next line.
 */
static int setup(void)
{
	static const struct {
		unsigned int flags;
		const char *name;
	} tries[] = {
		{ IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN,
		  "SINGLE_ISSUER|COOP_TASKRUN" },
		{ IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN" },
		{ 0, "no setup flags" },
	};
	int ret = -EINVAL;

	for (unsigned int i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		struct io_uring_params p = {
			.flags = tries[i].flags | IORING_SETUP_CQSIZE,
			.cq_entries = CQ_ENTRIES,
		};

		ret = io_uring_queue_init_params(SQ_ENTRIES, &ring, &p);
		if (ret == -EINVAL)
			continue;
		ring_flags = tries[i].name;
		return ret;
	}
	return ret;
}

/* A submission entry; a full queue is submitted first. */
static struct io_uring_sqe *get_sqe(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	int ret;

	if (sqe)
		return sqe;
	ret = io_uring_submit(&ring);
	if (ret < 0)
		epb_die("io_uring_submit: %s", strerror(-ret));
	sqe = io_uring_get_sqe(&ring);
	if (!sqe)
		epb_die("io_uring: no submission entry after a submit");
	return sqe;
}

static void arm(int fd)
{
	struct io_uring_sqe *sqe = get_sqe();

	io_uring_prep_poll_multishot(sqe, fd, POLLIN);
	io_uring_sqe_set_data64(sqe, tag(fd));
}

/*
 * The poll holds its own reference to the file: closing the fd alone
 * would leave the socket open. Remove the poll (submitted with the next
 * batch), retire the generation, then close.
 */
static void drop(int fd)
{
	struct io_uring_sqe *sqe = get_sqe();

	io_uring_prep_poll_remove(sqe, tag(fd));
	io_uring_sqe_set_data64(sqe, TAG_IGNORE);
	++*gen_of(fd);
	close(fd);
}

static void handle(int lfd, const struct io_uring_cqe *cqe)
{
	uint64_t data = io_uring_cqe_get_data64(cqe);
	int fd = (int)(uint32_t)data, conn;

	if (data == TAG_IGNORE || data != tag(fd))
		return;
	if (cqe->res < 0)
		epb_die("io_uring poll on fd %d: %s", fd, strerror(-cqe->res));
	/* The kernel ended this poll: arm another, which sees the state now. */
	if (!(cqe->flags & IORING_CQE_F_MORE))
		arm(fd);
	if (fd != lfd) {
		if (!epb_echo(fd))
			drop(fd);
		return;
	}
	while ((conn = epb_echo_accept(lfd)) >= 0)
		arm(conn);
}

int epb_uring_check(char *what, size_t len)
{
	struct __kernel_timespec two_s = { .tv_sec = 2 };
	struct io_uring_cqe *cqe;
	int ret = setup(), efd;

	if (ret < 0) {
		snprintf(what, len, "io_uring_queue_init: %s", strerror(-ret));
		return -1;
	}
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0)
		epb_die("eventfd: %m");
	arm(efd);
	/* Two readiness edges, one poll: both must come, the poll still on. */
	for (int i = 0; i < 2; i++) {
		uint64_t one = 1;

		if (write(efd, &one, sizeof(one)) != sizeof(one))
			epb_die("eventfd: %m");
		ret = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &two_s,
						       NULL);
		if (ret < 0) {
			snprintf(what, len, "io_uring multishot poll: %s",
				 strerror(-ret));
			return -1;
		}
		if (cqe->res < 0 || !(cqe->res & POLLIN) ||
		    !(cqe->flags & IORING_CQE_F_MORE)) {
			snprintf(what, len,
				 "io_uring multishot poll: res %d, flags %#x",
				 cqe->res, cqe->flags);
			return -1;
		}
		io_uring_cqe_seen(&ring, cqe);
		if (read(efd, &one, sizeof(one)) != sizeof(one))
			epb_die("eventfd: %m");
	}
	io_uring_queue_exit(&ring);
	close(efd);
	snprintf(what, len, "io_uring multishot poll, %s", ring_flags);
	return 0;
}

void epb_uring_serve(int lfd)
{
	int ret = setup();

	if (ret < 0)
		epb_die("io_uring_queue_init: %s", strerror(-ret));
	arm(lfd);
	for (;;) {
		struct io_uring_cqe *cqe;
		unsigned int head, n = 0;

		if (io_uring_sq_ready(&ring) || !io_uring_cq_ready(&ring)) {
			ret = io_uring_submit_and_wait(&ring, 1);
			if (ret < 0 && ret != -EINTR)
				epb_die("io_uring_submit_and_wait: %s",
					strerror(-ret));
		}
		io_uring_for_each_cqe(&ring, head, cqe) {
			handle(lfd, cqe);
			if (++n == EPB_ECHO_BATCH)
				break;
		}
		io_uring_cq_advance(&ring, n);
	}
}

#endif /* EPB_HAVE_LIBURING */
