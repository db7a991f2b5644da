// SPDX-License-Identifier: GPL-2.0
/*
 * Case 4: wakeup latency. Two threads ping-pong through two eventfds,
 * each blocked in a wait (timeout -1) on its own instance until the other
 * signals it. One round trip is two wakeups; we time every round trip and
 * report its p50 and p99.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"

struct pingpong {
	const struct backend *be;
	int ping, pong;			/* eventfds: to the echoer, back */
	int ep_main, ep_echo;
	atomic_bool stop;
};

static void wait_one(const struct backend *be, int ep)
{
	struct epoll_event ev;

	if (be->wait(ep, &ev, 1, -1) != 1)
		epb_die("%s: wait: %m", be->name);
}

static void *echoer(void *arg)
{
	struct pingpong *pp = arg;

	for (;;) {
		wait_one(pp->be, pp->ep_echo);
		epb_eventfd_drain(pp->ping);
		if (atomic_load(&pp->stop))
			return NULL;
		epb_eventfd_signal(pp->pong);
	}
}

/* @iters round trips on backend @b; their durations in rtt[] (ns). */
static void pingpong_run(int b, double *rtt, long iters)
{
	struct pingpong pp = { .be = epb_backends[b] };
	pthread_t thread;

	pp.ping = epb_eventfd();
	pp.pong = epb_eventfd();
	pp.ep_main = epb_instance(pp.be, &pp.pong, 1, EPOLLIN);
	pp.ep_echo = epb_instance(pp.be, &pp.ping, 1, EPOLLIN);
	if (pthread_create(&thread, NULL, echoer, &pp))
		epb_die("pthread_create failed");

	for (long i = 0; i < iters; i++) {
		uint64_t start = epb_now_ns();

		epb_eventfd_signal(pp.ping);
		wait_one(pp.be, pp.ep_main);
		epb_eventfd_drain(pp.pong);
		rtt[i] = epb_now_ns() - start;
	}
	atomic_store(&pp.stop, true);
	epb_eventfd_signal(pp.ping);
	pthread_join(thread, NULL);
	close(pp.ep_main);
	close(pp.ep_echo);
	close(pp.ping);
	close(pp.pong);
}

void epb_case_latency(void)
{
	struct epb_result *p50, *p99;
	long iters = 100;
	uint64_t ns;
	double *rtt;

	epb_log("case 4: wakeup latency, two threads ping-ponging");
	p50 = epb_result_new(4, "latency.p50", "latency p50 (round trip)",
			     "ns", false);
	p99 = epb_result_new(4, "latency.p99", "latency p99 (round trip)",
			     "ns", false);

	/* Size on native; p99 needs a thousand round trips at least. */
	rtt = malloc(iters * sizeof(*rtt));
	ns = epb_now_ns();
	pingpong_run(EPB_NATIVE, rtt, iters);
	iters = epb_scale_iters(iters, epb_now_ns() - ns, epb_cfg.sample_ms);
	if (iters < 1000)
		iters = 1000;
	rtt = realloc(rtt, iters * sizeof(*rtt));
	if (!rtt)
		epb_die("out of memory");
	pingpong_run(EPB_EPOLLMOD, rtt, iters / 4);

	for (int rep = 0; rep < epb_cfg.reps; rep++) {
		for (int i = 0; i < EPB_NR_BACKENDS; i++) {
			int b = epb_order(rep, i);

			pingpong_run(b, rtt, iters);
			epb_result_add(p50, b, epb_percentile(rtt, iters, 50));
			epb_result_add(p99, b, epb_percentile(rtt, iters, 99));
		}
	}
	free(rtt);
	snprintf(p50->params, sizeof(p50->params),
		 "{\"round_trips_per_sample\": %ld}", iters);
	snprintf(p99->params, sizeof(p99->params),
		 "{\"round_trips_per_sample\": %ld}", iters);
	epb_result_log(p50);
	epb_result_log(p99);
}
