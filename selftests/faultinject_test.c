// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failures, differentially, on a kernel with fault injection
 * (the debug kernel): every allocation an operation makes is failed in
 * turn through /proc/thread-self/fail-nth, and each time the operation
 * must fail cleanly (ENOMEM) or succeed, leave the instance consistent and
 * leak nothing. The number of failure points each operation has is
 * printed. Skipped, saying so, where the kernel has no fault injection.
 */
#include "lib/harness.h"

#include <fcntl.h>
#include <pty.h>
#include <sys/capability.h>

#include "lib/backend.h"
#include "lib/util.h"

#define FAILSLAB "/sys/kernel/debug/failslab/"

FIXTURE(fault) {
	int unused;
};

FIXTURE_VARIANT(fault) { const struct backend *be; };
FIXTURE_VARIANT_ADD(fault, native) { .be = &backend_native };
FIXTURE_VARIANT_ADD(fault, epollmod) { .be = &backend_epollmod };

/*
 * /proc/thread-self/fail-nth, opened once: opening it again would itself
 * allocate, and count as a fault point.
 */
static int fail_nth = -1;

FIXTURE_SETUP(fault)
{
	BACKEND_SELECT(variant->be);
	if (access("/proc/thread-self/fail-nth", W_OK) ||
	    access(FAILSLAB "ignore-gfp-wait", W_OK))
		EPM_SKIP_TEST("kernel without fault injection (failslab, fail-nth)");
	fail_nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fail_nth);
	/* Fail sleeping allocations too, and quietly. */
	ASSERT_EQ(0, write_text(FAILSLAB "ignore-gfp-wait", "N"));
	ASSERT_EQ(0, write_text(FAILSLAB "verbose", "0"));
	if (be == &backend_epollmod)
		epm_stat_quiesce();
}

FIXTURE_TEARDOWN(fault)
{
	write_text(FAILSLAB "ignore-gfp-wait", "Y");
}

/* Arm the n-th fault point of this thread; 0 disarms. */
static int arm(int n)
{
	char text[16];
	int len = snprintf(text, sizeof(text), "%d", n);

	return pwrite(fail_nth, text, len, 0) == len ? 0 : -1;
}

/* Was the armed fault injected? (The count reads 0 once it was.) */
static bool injected(void)
{
	char text[16] = "";

	if (pread(fail_nth, text, sizeof(text) - 1, 0) < 0)
		text[0] = '\0';
	arm(0);
	return atoi(text) == 0;
}

struct op {
	const char *name;
	/* Set up what the step needs; returns a context fd or -1. */
	int (*prepare)(int *aux);
	/* The operation under test. */
	int (*step)(int ep, int aux);
	/* The state after a failed step must allow this to succeed. */
	int (*check)(int ep, int aux);
};

static int prep_instance(int *aux)
{
	*aux = efd_new(1);
	return ep_create1(EPOLL_CLOEXEC);
}

static int prep_pty(int *aux)
{
	int peer;

	/* A pty master hooks two wait queues: read and write. */
	if (openpty(aux, &peer, NULL, NULL, NULL))
		return -1;
	return ep_create1(EPOLL_CLOEXEC);
}

static int prep_nested(int *aux)
{
	int inner = ep_create1(EPOLL_CLOEXEC), efd = efd_new(1);

	if (inner < 0 || ctl(inner, EPOLL_CTL_ADD, efd, EPOLLIN, 0))
		return -1;
	*aux = inner;
	return ep_create1(EPOLL_CLOEXEC);
}

static int prep_added(int *aux)
{
	int ep = prep_instance(aux);

	if (ep >= 0 && ctl(ep, EPOLL_CTL_ADD, *aux, EPOLLIN, 1))
		return -1;
	return ep;
}

static int step_create(int ep, int aux)
{
	int fd = ep_create1(EPOLL_CLOEXEC);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int step_add(int ep, int aux)
{
	return ctl(ep, EPOLL_CTL_ADD, aux, EPOLLIN | EPOLLOUT, 7);
}

static int step_add_wakeup(int ep, int aux)
{
	return ctl(ep, EPOLL_CTL_ADD, aux, EPOLLIN | EPOLLWAKEUP, 7);
}

static int step_mod_wakeup(int ep, int aux)
{
	return ctl(ep, EPOLL_CTL_MOD, aux, EPOLLIN | EPOLLWAKEUP, 8);
}

static int step_del(int ep, int aux)
{
	return ep_ctl(ep, EPOLL_CTL_DEL, aux, NULL);
}

static int step_wait(int ep, int aux)
{
	struct epoll_event ev[2];

	return ep_wait(ep, ev, 2, 0) == 1 ? 0 : -1;
}

/* After a failed ADD: nothing is left, and the ADD can be made again. */
static int check_add(int ep, int aux)
{
	struct epoll_event ev[2];

	if (ep_ctl(ep, EPOLL_CTL_DEL, aux, NULL) != -1 || errno != ENOENT)
		return -1;
	if (ctl(ep, EPOLL_CTL_ADD, aux, EPOLLIN | EPOLLOUT, 7))
		return -1;
	return ep_wait(ep, ev, 2, 0) == 1 ? 0 : -1;
}

/* After anything else: the watch is there and reports. */
static int check_watch(int ep, int aux)
{
	struct epoll_event ev[2];

	if (ep_wait(ep, ev, 2, 0) != 1)
		return -1;
	return ep_ctl(ep, EPOLL_CTL_DEL, aux, NULL);
}

static int check_none(int ep, int aux)
{
	return 0;
}

static const struct op ops[] = {
	{ "create", prep_instance, step_create, check_none },
	{ "add eventfd", prep_instance, step_add, check_add },
	{ "add pty (two queues)", prep_pty, step_add, check_add },
	{ "add nested instance", prep_nested, step_add, check_add },
	{ "add with EPOLLWAKEUP", prep_instance, step_add_wakeup, check_add },
	{ "mod to EPOLLWAKEUP", prep_added, step_mod_wakeup, check_watch },
	{ "del", prep_added, step_del, check_none },
	{ "wait", prep_added, step_wait, check_watch },
};

TEST_F_TIMEOUT(fault, every_allocation_fails_in_turn, 300)
{
	int total = 0;

	for (unsigned int i = 0; i < ARRAY_SIZE(ops); i++) {
		const struct op *op = &ops[i];
		int points = 0;

		for (int n = 1; n < 200; n++) {
			int aux = -1, ep = op->prepare(&aux);
			int ret, err;
			bool hit;

			ASSERT_LE(0, ep) TH_LOG("%s: prepare", op->name);
			ASSERT_EQ(0, arm(n));
			ret = op->step(ep, aux);
			err = errno;
			hit = injected();
			if (hit) {
				points++;
				/* ENOMEM, unless the point was optional. */
				if (ret) {
					EXPECT_EQ(ENOMEM, err)
						TH_LOG("%s, point %d: %s",
						       op->name, n, strerror(err));
					EXPECT_EQ(0, op->check(ep, aux))
						TH_LOG("%s, point %d: inconsistent",
						       op->name, n);
				}
			} else {
				/* Fewer than n fault points: all were tried. */
				EXPECT_EQ(0, ret) TH_LOG("%s: %s", op->name,
							 strerror(err));
			}
			for (int fd = 3; fd < 64; fd++)
				if (fd != fail_nth)
					close(fd);
			if (!hit)
				break;
		}
		TH_LOG("%s: %d fault points", op->name, points);
		total += points;
	}
	TH_LOG("%d fault points in all", total);
	EXPECT_LT(0, total);
	if (be == &backend_epollmod) {
		EXPECT_EQ(0, epm_stat_settle("watches", 0, 3000));
		EXPECT_EQ(0, epm_stat_settle("instances", 0, 3000));
	}
}

EPM_HARNESS_MAIN
