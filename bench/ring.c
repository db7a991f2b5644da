// SPDX-License-Identifier: GPL-2.0
/*
 * Case 13: harvesting through the ready ring (<epollmod/ring.h>).
 *
 * harvest.ring.kK: N = harvest_n eventfds watched edge-triggered; each
 * round the producer makes K of them ready (untimed), then one timed call
 * takes the K events: native epoll_wait() against epollmod_ring_wait(),
 * which finds them on the ring and makes no system call. ns per event of
 * the timed calls.
 *
 * harvest.ring.level.k64: as harvest.k64 (K level-triggered events that
 * stay ready, nothing made ready in between), through the ring: every
 * other call finds the ring empty and enters the module, which polls the
 * K watches again. The ring's worst case, for honesty.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <epollmod/ring.h>

#include "bench.h"

struct ring_loop {
	int n, k;
	bool level;
	struct epoll_event *events;
};

/* The K of N that a round makes ready: spread out, as in case 1. */
static int ring_fd(const struct ring_loop *l, int j)
{
	return epb_pool[j * (l->n / l->k)];
}

static uint64_t ring_sample(int side, const void *ctx, long iters)
{
	const struct ring_loop *l = ctx;
	uint32_t mode = l->level ? EPOLLIN : EPOLLIN | EPOLLET;
	struct epollmod_ring ring;
	uint64_t ns = 0;
	int ep;

	if (side == EPB_NATIVE) {
		ep = epb_instance(epb_backends[EPB_NATIVE], epb_pool, l->n,
				  mode);
	} else {
		ep = epollmod_create1(EPOLL_CLOEXEC);
		if (ep < 0 || epollmod_ring_setup(ep, l->n, &ring))
			epb_die("ring set-up: %s", strerror(errno));
		for (int i = 0; i < l->n; i++) {
			struct epoll_event ev = { .events = mode,
						  .data.u64 = i };

			if (epollmod_ctl(ep, EPOLL_CTL_ADD, epb_pool[i], &ev))
				epb_die("ring ADD: %s", strerror(errno));
		}
	}
	if (l->level)
		for (int j = 0; j < l->k; j++)
			epb_eventfd_signal(ring_fd(l, j));
	epb_quiesce();
	for (long i = 0; i < iters; i++) {
		uint64_t start;
		int got;

		if (!l->level)
			for (int j = 0; j < l->k; j++)
				epb_eventfd_signal(ring_fd(l, j));
		start = epb_now_ns();
		if (side == EPB_NATIVE)
			got = epoll_wait(ep, l->events, l->k, 0);
		else
			got = epollmod_ring_wait(&ring, l->events, l->k, 0);
		ns += epb_now_ns() - start;
		if (got != l->k)
			epb_die("%s: %d events, not %d",
				side == EPB_NATIVE ? "native" : "ring", got,
				l->k);
	}
	for (int j = 0; j < l->k; j++)
		epb_eventfd_drain(ring_fd(l, j));
	if (side != EPB_NATIVE)
		epollmod_ring_unmap(&ring);
	close(ep);
	return ns;
}

static void ring_row(int k, bool level)
{
	struct ring_loop l = { .n = epb_cfg.harvest_n, .k = k,
			       .level = level };
	/* Fixed rounds: the untimed producer would stretch a calibrated one. */
	long iters = level ? 2000 : 4000 / k + 200;
	char id[48], title[64];
	struct epb_result *r;

	l.events = calloc(k, sizeof(*l.events));
	if (!l.events)
		epb_die("out of memory");
	snprintf(id, sizeof(id), level ? "harvest.ring.level.k%d" :
		 "harvest.ring.k%d", k);
	snprintf(title, sizeof(title), "%s K=%d of N=%d, ring",
		 level ? "harvest, level" : "harvest, edge", k, l.n);
	r = epb_result_new(13, id, title, "ns/event", false);
	r->sides[EPB_EPOLLMOD] = "ring";
	ring_sample(EPB_EPOLLMOD, &l, iters / 4 + 1);	/* warm up */
	for (int rep = 0; rep < epb_cfg.reps; rep++)
		epb_record_rep(r, ring_sample, &l, iters, k, rep);
	snprintf(r->params, sizeof(r->params),
		 "{\"K\": %d, \"N\": %d, \"level\": %s, \"rounds\": %ld}", k,
		 l.n, level ? "true" : "false", iters);
	epb_result_log(r);
	free(l.events);
}

void epb_case_ring(void)
{
	epb_log("case 13: harvest through the ready ring, N=%d",
		epb_cfg.harvest_n);
	ring_row(1, false);
	ring_row(64, false);
	ring_row(64, true);
}
