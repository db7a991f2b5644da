// SPDX-License-Identifier: GPL-2.0
/*
 * Cases 1 and 2: the cost of a wait that finds level-triggered events.
 *
 * Harvest: K of N watched eventfds are readable and never read, so every
 * wait(maxevents = K, timeout 0) returns the same K events: ns per event.
 * Idle scaling: the same with K = 1 and N from 10 to 100k: ns per wait,
 * which should not depend on N (nothing walks the interest set).
 *
 * Each sample builds its instance on the shared pool of eventfds first
 * (untimed) and closes it after.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/epollmod.h>

#include "bench.h"

struct wait_loop {
	int n;				/* watched: pool[0..n) */
	int k;				/* ready, and returned by every wait */
	int maxevents;			/* k, or 1 when k is 0 */
	struct epoll_event *events;
};

/* @iters waits on instance @ep of @be; the elapsed ns. */
static uint64_t wait_loop_run(const struct backend *be, int ep,
			      const struct wait_loop *w, long iters)
{
	uint64_t start = epb_now_ns();

	for (long i = 0; i < iters; i++) {
		int n = be->wait(ep, w->events, w->maxevents, 0);

		if (n != w->k)
			epb_die("%s: wait returned %d, not %d", be->name, n,
				w->k);
	}
	return epb_now_ns() - start;
}

/*
 * One sample on a fresh instance of backend @b, so that neither backend
 * pays for the other's watches.
 */
static uint64_t wait_loop_sample(int b, const void *ctx, long iters)
{
	const struct wait_loop *w = ctx;
	const struct backend *be = epb_backends[b];
	int ep = epb_instance(be, epb_pool, w->n, EPOLLIN);
	uint64_t ns;

	epb_quiesce();
	ns = wait_loop_run(be, ep, w, iters);
	close(ep);
	return ns;
}

static long wait_loop_measure(struct epb_result *r, const struct wait_loop *w)
{
	return epb_measure(r, wait_loop_sample, w, w->maxevents);
}

/* pool[0..n) watched, k of them readable (spread out). */
static void wait_loop_setup(struct wait_loop *w, int n, int k)
{
	w->n = n;
	w->k = k;
	w->maxevents = k ? k : 1;
	w->events = calloc(w->maxevents, sizeof(*w->events));
	if (!w->events)
		epb_die("out of memory");
	for (int j = 0; j < k; j++)
		epb_eventfd_signal(epb_pool[j * (n / k)]);
}

static void wait_loop_teardown(struct wait_loop *w)
{
	for (int j = 0; j < w->k; j++)
		epb_eventfd_drain(epb_pool[j * (w->n / w->k)]);
	free(w->events);
}

/*
 * The way in alone: a wait that each backend rejects before doing any
 * epoll work (maxevents 0, EINVAL). Native: the epoll_wait() system call,
 * which checks maxevents before it even looks up the fd. epollmod: the
 * WAIT ioctl, which passes the fd lookup, the LSM's ioctl hook and the
 * argument copy first. Both called raw, without libepollmod's or glibc's
 * wrappers, so the difference is what the ioctl path costs per call.
 */
static uint64_t entry_run(int b, int ep, long iters)
{
	struct epoll_event ev;
	struct epollmod_wait arg = {
		.size = sizeof(arg),
		.events = (uintptr_t)&ev,
		.maxevents = 0,
	};
	uint64_t start = epb_now_ns();

	for (long i = 0; i < iters; i++) {
		long ret = b == EPB_NATIVE ?
			syscall(SYS_epoll_wait, ep, &ev, 0, 0) :
			ioctl(ep, EPOLLMOD_IOC_WAIT, &arg);

		if (ret != -1 || errno != EINVAL)
			epb_die("%s: a wait with maxevents 0 returned %ld (%m)",
				epb_backends[b]->name, ret);
	}
	return epb_now_ns() - start;
}

/* A sample on the instance of backend @b in @ctx, an array of both. */
static uint64_t entry_sample(int b, const void *ctx, long iters)
{
	const int *eps = ctx;

	epb_quiesce();
	return entry_run(b, eps[b], iters);
}

static void floor_entry(void)
{
	struct epb_result *r = epb_result_new(0, "floor.entry",
					      "call rejected on entry",
					      "ns/call", false);
	int eps[EPB_NR_BACKENDS];
	long iters;

	for (int b = 0; b < EPB_NR_BACKENDS; b++)
		eps[b] = epb_instance(epb_backends[b], NULL, 0, 0);
	iters = epb_measure(r, entry_sample, eps, 1);
	for (int b = 0; b < EPB_NR_BACKENDS; b++)
		close(eps[b]);
	snprintf(r->params, sizeof(r->params), "{\"calls_per_sample\": %ld}",
		 iters);
	snprintf(r->notes, sizeof(r->notes),
		 "native: epoll_wait(2) with maxevents 0; epollmod: the WAIT "
		 "ioctl with maxevents 0; both EINVAL before any epoll work");
	epb_result_log(r);
}

/*
 * Not one of the cases: what a wait costs when it finds nothing
 * (timeout 0), on an empty instance and on one with N idle watches, where
 * epollmod also runs its per-call liveness check. The floor under cases 1
 * and 2.
 */
void epb_case_floor(void)
{
	static const int ns[] = { 0, 1000 };

	epb_log("floor: a wait that finds nothing (timeout 0)");
	for (unsigned int i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		struct epb_result *r;
		struct wait_loop w;
		char id[32], title[64];
		long iters;

		snprintf(id, sizeof(id), "floor.n%d", ns[i]);
		snprintf(title, sizeof(title), "empty wait, N=%d idle", ns[i]);
		r = epb_result_new(0, id, title, "ns/wait", false);
		wait_loop_setup(&w, ns[i], 0);
		iters = wait_loop_measure(r, &w);
		wait_loop_teardown(&w);
		snprintf(r->params, sizeof(r->params),
			 "{\"N\": %d, \"waits_per_sample\": %ld}", ns[i],
			 iters);
		epb_result_log(r);
	}
	floor_entry();
}

void epb_case_harvest(void)
{
	static const int ks[] = { 1, 64 };
	int n = epb_cfg.harvest_n;

	epb_log("case 1: harvest, K ready level-triggered events of N=%d", n);
	for (unsigned int i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		struct epb_result *r;
		struct wait_loop w;
		char id[32], title[64];
		long iters;

		snprintf(id, sizeof(id), "harvest.k%d", ks[i]);
		snprintf(title, sizeof(title), "harvest K=%d of N=%d", ks[i],
			 n);
		r = epb_result_new(1, id, title, "ns/event", false);
		wait_loop_setup(&w, n, ks[i]);
		iters = wait_loop_measure(r, &w);
		wait_loop_teardown(&w);
		snprintf(r->params, sizeof(r->params),
			 "{\"K\": %d, \"N\": %d, \"waits_per_sample\": %ld}",
			 ks[i], n, iters);
		epb_result_log(r);
	}
}

/*
 * The repetitions go round all the N, so that the samples of one
 * repetition, which the flatness target compares, are close in time.
 */
void epb_case_idle(void)
{
	static const int all_ns[] = { 10, 1000, 10000, 100000 };
	struct epb_result *r[4];
	struct wait_loop w[4];
	long iters[4];
	int nr = 0;

	epb_log("case 2: idle scaling, 1 ready among N watched");
	for (int i = 0; i < 4 && all_ns[i] <= epb_cfg.big_n; i++, nr++) {
		char id[32], title[64];

		snprintf(id, sizeof(id), "idle.n%d", all_ns[i]);
		snprintf(title, sizeof(title), "idle N=%d", all_ns[i]);
		r[i] = epb_result_new(2, id, title, "ns/wait", false);
		wait_loop_setup(&w[i], all_ns[i], 1);
		iters[i] = epb_calibrate(wait_loop_sample, &w[i]);
	}
	for (int rep = 0; rep < epb_cfg.reps; rep++)
		for (int i = 0; i < nr; i++)
			epb_record_rep(r[i], wait_loop_sample, &w[i],
				       iters[i], 1, rep);
	for (int i = 0; i < nr; i++) {
		wait_loop_teardown(&w[i]);
		snprintf(r[i]->params, sizeof(r[i]->params),
			 "{\"N\": %d, \"waits_per_sample\": %ld}", w[i].n,
			 iters[i]);
		epb_result_log(r[i]);
	}
}
