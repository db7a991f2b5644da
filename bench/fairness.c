// SPDX-License-Identifier: GPL-2.0
/*
 * Case 12: fair exclusive wakeups. FAIR_WORKERS threads each wait on an
 * instance of their own that watches one shared listening socket with
 * EPOLLIN | EPOLLEXCLUSIVE (the accept-sharing server of the issue); a
 * woken worker accepts until EAGAIN, holds each connection for
 * FAIR_WORK_US of work, and closes it. A client opens FAIR_CONNS
 * connections, one every FAIR_GAP_US (a moderate load: the workers are
 * mostly idle). What is measured is how the connections spread over the
 * workers: max/mean and the coefficient of variation (stddev/mean) of the
 * accepted connections per worker; 1.0 and 0 are perfectly even, 8 and
 * 2.6 one worker taking them all.
 *
 * Three servers: native epoll, epollmod as Linux (the default) and
 * epollmod with EPOLLMOD_FIFO_EXCLUSIVE on every instance. Rows: each
 * epollmod server against the native sample of the same repetition.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <epollmod/epollmod.h>

#include "bench.h"
#include "workload.h"

#define FAIR_WORKERS	8
#define FAIR_CONNS	400
#define FAIR_GAP_US	2000
#define FAIR_WORK_US	100
#define FAIR_QUIT	1	/* data of the quit eventfd */

enum { FAIR_NATIVE, FAIR_LIFO, FAIR_FIFO, FAIR_NR_MODES };
static const char *const fair_names[FAIR_NR_MODES] = {
	"native", "epollmod", "epollmod fifo",
};

struct fair_worker {
	const struct backend *be;
	pthread_t thread;
	int ep, listener;
	atomic_long *total;
	long accepted;
};

struct fair_sample {
	double max_share;	/* max / mean */
	double cv;		/* stddev / mean */
	long min, max;
};

static void *fair_work(void *arg)
{
	struct fair_worker *w = arg;
	cpu_set_t all;

	/* Free of CPU 0, which the process was pinned to. */
	CPU_ZERO(&all);
	for (long c = 0; c < sysconf(_SC_NPROCESSORS_ONLN); c++)
		CPU_SET(c, &all);
	sched_setaffinity(0, sizeof(all), &all);
	for (;;) {
		struct epoll_event ev[2];
		int n = w->be->wait(w->ep, ev, 2, -1);

		if (n < 0)
			epb_die("%s: wait: %m", w->be->name);
		for (int i = 0; i < n; i++) {
			int conn;

			if (ev[i].data.u64 == FAIR_QUIT)
				return NULL;
			while ((conn = accept4(w->listener, NULL, NULL,
					       SOCK_CLOEXEC | SOCK_NONBLOCK)) >=
			       0) {
				uint64_t until = epb_now_ns() +
						 FAIR_WORK_US * 1000ULL;

				while (epb_now_ns() < until)
					;
				close(conn);
				w->accepted++;
				atomic_fetch_add(w->total, 1);
			}
		}
	}
}

static int fair_listener(struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);

	if (fd < 0)
		epb_die("socket: %m");
	*addr = (struct sockaddr_in){ .sin_family = AF_INET,
				      .sin_addr.s_addr =
					      htonl(INADDR_LOOPBACK) };
	if (bind(fd, (struct sockaddr *)addr, sizeof(*addr)) ||
	    listen(fd, 1024) ||
	    getsockname(fd, (struct sockaddr *)addr, &len))
		epb_die("listen: %m");
	return fd;
}

static struct fair_sample fair_run(int mode, long *counts)
{
	const struct backend *be =
		epb_backends[mode == FAIR_NATIVE ? EPB_NATIVE : EPB_EPOLLMOD];
	struct fair_worker w[FAIR_WORKERS];
	struct sockaddr_in addr;
	atomic_long total = 0;
	struct fair_sample s;
	int listener = fair_listener(&addr), quit = epb_eventfd();
	double mean = (double)FAIR_CONNS / FAIR_WORKERS, var = 0;

	for (int i = 0; i < FAIR_WORKERS; i++) {
		struct epoll_event ev = {
			.events = EPOLLIN | EPOLLEXCLUSIVE, .data.u64 = 0,
		};

		w[i] = (struct fair_worker){ .be = be, .listener = listener,
					     .total = &total };
		w[i].ep = be->create1(EPOLL_CLOEXEC);
		if (w[i].ep < 0 ||
		    be->ctl(w[i].ep, EPOLL_CTL_ADD, listener, &ev))
			epb_die("%s: instance: %m", be->name);
		ev = (struct epoll_event){ .events = EPOLLIN,
					   .data.u64 = FAIR_QUIT };
		if (be->ctl(w[i].ep, EPOLL_CTL_ADD, quit, &ev))
			epb_die("%s: ADD: %m", be->name);
		if (mode == FAIR_FIFO &&
		    epollmod_set_options(w[i].ep, EPOLLMOD_FIFO_EXCLUSIVE,
					 NULL))
			epb_die("epollmod_set_options: %m");
		if (pthread_create(&w[i].thread, NULL, fair_work, &w[i]))
			epb_die("pthread_create failed");
	}
	usleep(100000);	/* every worker in its wait */

	for (int c = 0; c < FAIR_CONNS; c++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&addr,
				      sizeof(addr)))
			epb_die("connect: %m");
		close(fd);
		usleep(FAIR_GAP_US);
	}
	for (int i = 0; i < 10000 && atomic_load(&total) < FAIR_CONNS; i++)
		usleep(1000);
	if (atomic_load(&total) != FAIR_CONNS)
		epb_die("%s: %ld of %d connections accepted", fair_names[mode],
			(long)atomic_load(&total), FAIR_CONNS);
	epb_eventfd_signal(quit);

	s.min = FAIR_CONNS;
	s.max = 0;
	for (int i = 0; i < FAIR_WORKERS; i++) {
		pthread_join(w[i].thread, NULL);
		close(w[i].ep);
		counts[i] = w[i].accepted;
		if (counts[i] < s.min)
			s.min = counts[i];
		if (counts[i] > s.max)
			s.max = counts[i];
		var += (counts[i] - mean) * (counts[i] - mean);
	}
	close(listener);
	close(quit);
	s.max_share = s.max / mean;
	s.cv = sqrt(var / FAIR_WORKERS) / mean;
	return s;
}

void epb_case_fairness(void)
{
	struct epb_row rows[4];
	long min_sum[FAIR_NR_MODES] = { 0 }, max_sum[FAIR_NR_MODES] = { 0 };

	epb_log("case 12: fair exclusive wakeups, %d workers sharing a "
		"listener with EPOLLEXCLUSIVE, %d connections, one per %d us",
		FAIR_WORKERS, FAIR_CONNS, FAIR_GAP_US);
	rows[0] = (struct epb_row){
		epb_result_new(12, "fair.lifo.max",
			       "accepts/worker max/mean, default", "max/mean",
			       false),
		FAIR_LIFO, offsetof(struct fair_sample, max_share)
	};
	rows[1] = (struct epb_row){
		epb_result_new(12, "fair.lifo.cv",
			       "accepts/worker stddev/mean, default",
			       "stddev/mean", false),
		FAIR_LIFO, offsetof(struct fair_sample, cv)
	};
	rows[2] = (struct epb_row){
		epb_result_new(12, "fair.fifo.max",
			       "accepts/worker max/mean, FIFO", "max/mean",
			       false),
		FAIR_FIFO, offsetof(struct fair_sample, max_share)
	};
	rows[3] = (struct epb_row){
		epb_result_new(12, "fair.fifo.cv",
			       "accepts/worker stddev/mean, FIFO",
			       "stddev/mean", false),
		FAIR_FIFO, offsetof(struct fair_sample, cv)
	};

	for (int rep = 0; rep < epb_cfg.reps; rep++) {
		struct fair_sample s[FAIR_NR_MODES];

		for (int i = 0; i < FAIR_NR_MODES; i++) {
			int m = epb_rep_mode(rep, i, FAIR_NR_MODES);
			long counts[FAIR_WORKERS];
			char line[160];
			int len = 0;

			s[m] = fair_run(m, counts);
			for (int k = 0; k < FAIR_WORKERS; k++)
				len += snprintf(line + len, sizeof(line) - len,
						" %ld", counts[k]);
			epb_log("    rep %d %-14s per worker:%s  (max/mean "
				"%.2f, stddev/mean %.2f)", rep, fair_names[m],
				line, s[m].max_share, s[m].cv);
			min_sum[m] += s[m].min;
			max_sum[m] += s[m].max;
		}
		epb_rows_add(rows, 4, s, sizeof(s[0]), FAIR_NATIVE);
	}
	for (int i = 0; i < 4; i++) {
		struct epb_result *r = rows[i].r;

		snprintf(r->params, sizeof(r->params),
			 "{\"workers\": %d, \"connections\": %d, "
			 "\"gap_us\": %d, \"work_us\": %d, \"fifo\": %s}",
			 FAIR_WORKERS, FAIR_CONNS, FAIR_GAP_US, FAIR_WORK_US,
			 i >= 2 ? "true" : "false");
		snprintf(r->notes, sizeof(r->notes),
			 "mean over reps of the least and most accepted per "
			 "worker (of %d): native %.1f..%.1f, epollmod "
			 "%.1f..%.1f, epollmod fifo %.1f..%.1f",
			 FAIR_CONNS / FAIR_WORKERS,
			 (double)min_sum[0] / epb_cfg.reps,
			 (double)max_sum[0] / epb_cfg.reps,
			 (double)min_sum[1] / epb_cfg.reps,
			 (double)max_sum[1] / epb_cfg.reps,
			 (double)min_sum[2] / epb_cfg.reps,
			 (double)max_sum[2] / epb_cfg.reps);
		epb_result_log(r);
	}
}
