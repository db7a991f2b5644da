// SPDX-License-Identifier: GPL-2.0
/*
 * What the final-fput probe costs the rest of the machine: a loop that
 * makes a pipe and closes both ends, none of it watched, with the module
 * unloaded and with it loaded (and 1,000 other files watched, so that
 * every close goes past the probe's first test to the index look-up).
 * The two sides take turns within each repetition, as everywhere; the
 * module is unloaded and loaded again between them, outside the timing.
 *
 * Needs EPM_MODULE=path/to/epollmod.ko (scripts/guest/bench.sh sets it);
 * leaves the module loaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <epollmod/epollmod.h>

#include "bench.h"

enum { SIDE_UNLOADED, SIDE_LOADED };

#define WATCHED		1000

struct close_ctx {
	const char *ko;
	int ep;			/* the instance holding WATCHED watches, or -1 */
};

static bool module_loaded(void)
{
	return access("/sys/module/epollmod", F_OK) == 0;
}

static void module_load(const char *ko)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || syscall(SYS_finit_module, fd, "", 0))
		epb_die("insmod %s: %m", ko);
	close(fd);
}

static void module_unload(void)
{
	if (syscall(SYS_delete_module, "epollmod", O_NONBLOCK))
		epb_die("rmmod epollmod: %m");
}

/* Put the module in the state of @side. */
static void close_side(struct close_ctx *c, int side)
{
	if (side == SIDE_UNLOADED) {
		if (c->ep >= 0)
			close(c->ep);
		c->ep = -1;
		if (module_loaded())
			module_unload();
		return;
	}
	if (!module_loaded())
		module_load(c->ko);
	if (c->ep < 0)
		c->ep = epb_instance(epb_backends[EPB_EPOLLMOD], epb_pool,
				     WATCHED, EPOLLIN);
}

static void pipes(long n)
{
	int p[2];

	for (long i = 0; i < n; i++) {
		if (pipe2(p, O_CLOEXEC))
			epb_die("pipe2: %m");
		close(p[0]);
		close(p[1]);
	}
}

static uint64_t close_sample(int side, const void *ctx, long iters)
{
	struct close_ctx *c = (struct close_ctx *)ctx;
	uint64_t start;

	close_side(c, side);
	/*
	 * Loading or unloading leaves work behind (RCU callbacks, freed
	 * memory): run the loop untimed first, then let the system settle.
	 */
	pipes(iters / 2);
	epb_quiesce();
	start = epb_now_ns();
	pipes(iters);
	return epb_now_ns() - start;
}

void epb_case_close(void)
{
	struct close_ctx c = { .ko = getenv("EPM_MODULE"), .ep = -1 };
	struct epb_result *r;
	long iters;

	if (!c.ko) {
		epb_log("close: skipped, EPM_MODULE is not set\n");
		return;
	}
	r = epb_result_new(0, "close.unwatched",
			   "close() of an unwatched pipe, module loaded/unloaded",
			   "ns/close", false);
	r->sides[SIDE_UNLOADED] = "unloaded";
	r->sides[SIDE_LOADED] = "loaded";
	iters = epb_measure(r, close_sample, &c, 2);
	close_side(&c, SIDE_LOADED);
	close(c.ep);
	snprintf(r->params, sizeof(r->params),
		 "{\"watched_elsewhere\": %d, \"pipes_per_sample\": %ld}",
		 WATCHED, iters);
	snprintf(r->notes, sizeof(r->notes),
		 "pipe2() and two close() per iteration, per close; loaded: %d other eventfds watched by one instance",
		 WATCHED);
	epb_result_log(r);
}
