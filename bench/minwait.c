// SPDX-License-Identifier: GPL-2.0
/*
 * Case 11: minimum-wait batching at a fixed offered load. A producer
 * thread (on the other CPU) writes MW_RATE events a second, evenly paced,
 * round robin over MW_FDS eventfds; the consumer (this thread, CPU 0)
 * waits on an instance watching them, and reads each ready eventfd: every
 * count it reads is a request. Measured on the consumer thread alone
 * (getrusage(RUSAGE_THREAD)): CPU time (user + system) per request and
 * context switches (voluntary + involuntary) per request, and the events
 * each wait returned.
 *
 * Three consumers, each sample the same load: native epoll_wait(),
 * epollmod's plain wait, and epollmod_wait_batch() with min_events
 * MW_MIN_EVENTS and min_wait MW_MIN_WAIT_US. Rows: the batching consumer
 * against native (minwait.*) and the plain one against native
 * (minwait.plain.*), paired on the same native sample.
 *
 * Batching trades latency for CPU: a request waits at most min_wait more
 * (the wait returns at the first event after min_wait).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <epollmod/epollmod.h>

#include "bench.h"
#include "workload.h"

/*
 * Scaled to QEMU/TCG, where a wait and a read cost tens of microseconds:
 * at 2000 events/s the consumer is mostly idle (native wakes about once
 * per event), and a 1 ms min_wait lets about two more events gather.
 */
#define MW_RATE		2000		/* events/s offered */
#define MW_FDS		256
#define MW_MIN_EVENTS	16
#define MW_MIN_WAIT_US	1000
#define MW_SECONDS	1.0		/* one sample */
#define MW_STOP		MW_FDS		/* data of the stop eventfd */

enum { MW_NATIVE, MW_PLAIN, MW_BATCH, MW_NR_MODES };
static const char *const mw_names[MW_NR_MODES] = {
	"native", "epollmod", "epollmod batching",
};

struct mw_load {
	int *fds;
	int stop_fd;
	long rate;
	double seconds;
	long sent;
};

struct mw_sample {
	double cpu_ns;		/* per request */
	double switches;	/* per request */
	double per_wait;	/* events per wait that returned some */
	long requests;
};

/* The other CPU if there is one: the load must not take the consumer's. */
static void pin_other_cpu(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * Evenly paced writes: event i at start + i / rate. Sleeping, not
 * spinning, between them: under TCG a spinning vCPU takes host time from
 * the consumer's.
 */
static void *mw_produce(void *arg)
{
	struct mw_load *l = arg;
	uint64_t start, interval = 1000000000ULL / l->rate;
	long total = (long)(l->rate * l->seconds);

	pin_other_cpu();
	start = epb_now_ns();
	for (long i = 0; i < total; i++) {
		uint64_t due = start + i * interval;
		struct timespec ts = { .tv_sec = due / 1000000000ULL,
				       .tv_nsec = due % 1000000000ULL };

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
				       NULL) == EINTR)
			;
		epb_eventfd_signal(l->fds[i % MW_FDS]);
	}
	l->sent = total;
	epb_eventfd_signal(l->stop_fd);
	return NULL;
}

static int mw_wait(int mode, int ep, struct epoll_event *ev, int max)
{
	static const struct timespec min_wait = {
		0, MW_MIN_WAIT_US * 1000L
	};

	if (mode == MW_BATCH)
		return epollmod_wait_batch(ep, ev, max, MW_MIN_EVENTS,
					   &min_wait, NULL, NULL);
	return epb_backends[mode == MW_NATIVE ? EPB_NATIVE : EPB_EPOLLMOD]
		->wait(ep, ev, max, -1);
}

static uint64_t tv_ns(struct timeval tv)
{
	return tv.tv_sec * 1000000000ULL + tv.tv_usec * 1000ULL;
}

static struct mw_sample mw_run(int mode, long rate, double seconds)
{
	const struct backend *be =
		epb_backends[mode == MW_NATIVE ? EPB_NATIVE : EPB_EPOLLMOD];
	struct mw_load l = { .rate = rate, .seconds = seconds };
	struct epoll_event ev[64], stop = { .events = EPOLLIN,
					    .data.u64 = MW_STOP };
	struct rusage before, after;
	long requests = 0, waits = 0, events = 0;
	struct mw_sample s;
	bool done = false;
	pthread_t producer;
	int ep;

	l.fds = epb_eventfds(MW_FDS);
	l.stop_fd = epb_eventfd();
	ep = epb_instance(be, l.fds, MW_FDS, EPOLLIN);
	if (be->ctl(ep, EPOLL_CTL_ADD, l.stop_fd, &stop))
		epb_die("%s: ADD: %m", be->name);
	epb_quiesce();

	getrusage(RUSAGE_THREAD, &before);
	if (pthread_create(&producer, NULL, mw_produce, &l))
		epb_die("pthread_create failed");
	while (!done) {
		int n = mw_wait(mode, ep, ev, 64);

		if (n < 0)
			epb_die("%s: wait: %m", mw_names[mode]);
		waits++;
		events += n;
		for (int i = 0; i < n; i++) {
			uint64_t count;

			if (ev[i].data.u64 == MW_STOP) {
				done = true;
				continue;
			}
			if (read(l.fds[ev[i].data.u64], &count,
				 sizeof(count)) == sizeof(count))
				requests += count;
		}
	}
	/* What came with the stop: counted, so every sample is whole. */
	for (int i = 0; i < MW_FDS; i++) {
		uint64_t count;

		if (read(l.fds[i], &count, sizeof(count)) == sizeof(count))
			requests += count;
	}
	getrusage(RUSAGE_THREAD, &after);
	pthread_join(producer, NULL);
	if (requests != l.sent)
		epb_die("%s: %ld requests sent, %ld read", mw_names[mode],
			l.sent, requests);

	s.requests = requests;
	s.cpu_ns = (double)(tv_ns(after.ru_utime) + tv_ns(after.ru_stime) -
			    tv_ns(before.ru_utime) - tv_ns(before.ru_stime)) /
		   requests;
	s.switches = (double)(after.ru_nvcsw + after.ru_nivcsw -
			      before.ru_nvcsw - before.ru_nivcsw) /
		     requests;
	s.per_wait = waits ? (double)events / waits : 0;
	close(ep);
	close(l.stop_fd);
	epb_close_all(l.fds, MW_FDS);
	return s;
}

void epb_case_minwait(void)
{
	struct epb_row rows[5];
	char title[64];

	epb_log("case 11: min-wait batching at %d events/s over %d eventfds, "
		"min_events %d, min_wait %d us", MW_RATE, MW_FDS,
		MW_MIN_EVENTS, MW_MIN_WAIT_US);
	snprintf(title, sizeof(title), "min-wait %d/%dus CPU/request",
		 MW_MIN_EVENTS, MW_MIN_WAIT_US);
	rows[0] = (struct epb_row){
		epb_result_new(11, "minwait.cpu", title, "ns/request", false),
		MW_BATCH, offsetof(struct mw_sample, cpu_ns)
	};
	snprintf(title, sizeof(title), "min-wait %d/%dus switches/request",
		 MW_MIN_EVENTS, MW_MIN_WAIT_US);
	rows[1] = (struct epb_row){
		epb_result_new(11, "minwait.csw", title, "switches/request",
			       false),
		MW_BATCH, offsetof(struct mw_sample, switches)
	};
	rows[2] = (struct epb_row){
		epb_result_new(11, "minwait.plain.cpu",
			       "no min-wait CPU/request", "ns/request", false),
		MW_PLAIN, offsetof(struct mw_sample, cpu_ns)
	};
	rows[3] = (struct epb_row){
		epb_result_new(11, "minwait.plain.csw",
			       "no min-wait switches/request",
			       "switches/request", false),
		MW_PLAIN, offsetof(struct mw_sample, switches)
	};
	snprintf(title, sizeof(title), "min-wait %d/%dus events/wait",
		 MW_MIN_EVENTS, MW_MIN_WAIT_US);
	rows[4] = (struct epb_row){
		epb_result_new(11, "minwait.events_per_wait", title,
			       "events/wait", true),
		MW_BATCH, offsetof(struct mw_sample, per_wait)
	};

	/* Warm-up, every consumer. */
	for (int m = 0; m < MW_NR_MODES; m++)
		mw_run(m, MW_RATE, 0.1);

	for (int rep = 0; rep < epb_cfg.reps; rep++) {
		struct mw_sample s[MW_NR_MODES];

		for (int i = 0; i < MW_NR_MODES; i++) {
			int m = epb_rep_mode(rep, i, MW_NR_MODES);

			s[m] = mw_run(m, MW_RATE, MW_SECONDS);
			epb_log("    rep %d %-18s %8.0f ns/req %6.3f sw/req "
				"%5.2f ev/wait (%ld requests)", rep,
				mw_names[m], s[m].cpu_ns, s[m].switches,
				s[m].per_wait, s[m].requests);
		}
		epb_rows_add(rows, 5, s, sizeof(s[0]), MW_NATIVE);
	}
	for (int i = 0; i < 5; i++) {
		struct epb_result *r = rows[i].r;
		bool plain = rows[i].mode == MW_PLAIN;

		snprintf(r->params, sizeof(r->params),
			 "{\"rate\": %d, \"fds\": %d, \"seconds\": %g, "
			 "\"min_events\": %d, \"min_wait_us\": %d}",
			 MW_RATE, MW_FDS, MW_SECONDS,
			 plain ? 0 : MW_MIN_EVENTS,
			 plain ? 0 : MW_MIN_WAIT_US);
		snprintf(r->notes, sizeof(r->notes),
			 "consumer thread only (getrusage RUSAGE_THREAD): CPU "
			 "= utime + stime, switches = nvcsw + nivcsw, per "
			 "request read; producer paced on the other CPU; "
			 "epollmod side: %s",
			 plain ? "epollmod_wait(), no batching" :
			 "epollmod_wait_batch()");
		epb_result_log(r);
	}
}
