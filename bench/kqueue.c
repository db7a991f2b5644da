// SPDX-License-Identifier: GPL-2.0
/*
 * Cases 8 to 10: epollmod's kqueue face against native epoll doing the
 * same job with what Linux has (EPOLLONESHOT, timerfd, eventfd). Each
 * side uses its interface the way a program written for it would; the
 * work around the calls (pipe writes and reads) is the same on both.
 *
 *  floor	an empty kevent() (no changes, timeout {0, 0}) against an
 *		empty epoll_wait() (timeout 0): what a call costs that finds
 *		nothing, the price of the ioctl path and of the library
 *		per call.
 *  8 re-arm	N pipes, K made readable per round, each event read and
 *		re-armed. kqueue: EV_DISPATCH knotes, the EV_ENABLE of every
 *		handled fd in the next kevent()'s change list. Native:
 *		EPOLLONESHOT, one epoll_ctl(MOD) per handled fd, then
 *		epoll_wait(). The loop counts its calls.
 *  9 timers	1,000 periodic timers, all on one kqueue (EVFILT_TIMER) or
 *		as 1,000 timerfds in one native epoll, for a fixed wall
 *		window (20 sample lengths, 2 s by default): expirations
 *		delivered per second, the process's CPU time
 *		(CLOCK_PROCESS_CPUTIME_ID) per expiration, and what arming
 *		the 1,000 timers cost.
 *  10 user	two threads ping-pong: kqueue: an EVFILT_USER knote on each
 *		thread's kqueue, NOTE_TRIGGER from the other thread; native:
 *		an eventfd watched by each thread's epoll, written by the
 *		other thread and read after the wait. ns per round trip.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>

#include <epollmod/kqueue.h>

#include "bench.h"

static const struct timespec zero_ts;

static int kq_new(void)
{
	int kq = epollmod_kqueue();

	if (kq < 0)
		epb_die("epollmod_kqueue: %m");
	return kq;
}

static int ep_new(void)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		epb_die("epoll_create1: %m");
	return ep;
}

/* kevent() that must succeed and report no failed change. */
static int kev(int kq, const struct kevent *changes, int nchanges,
	       struct kevent *events, int nevents, const struct timespec *ts)
{
	int n = epollmod_kevent(kq, changes, nchanges, events, nevents, ts);

	if (n < 0)
		epb_die("kevent(%d changes): %m", nchanges);
	for (int i = 0; i < n; i++)
		if (events[i].flags & EV_ERROR)
			epb_die("kevent: change of ident %lu filter %d: %s",
				(unsigned long)events[i].ident,
				events[i].filter, strerror(events[i].data));
	return n;
}

/* snprintf into a result's field, which must not be cut short. */
#define kq_set(field, ...)						\
	do {								\
		if (snprintf(field, sizeof(field), __VA_ARGS__) >=	\
		    (int)sizeof(field))					\
			epb_die("%s: too long for %s", #field, __func__); \
	} while (0)

/*
 * System calls counted by the kernel, which sees what the loops' own
 * count of calls does not: what the libraries make around them. A perf
 * counter on the raw_syscalls:sys_enter tracepoint, for this thread and
 * the threads it starts (inherit), run on untimed passes only: while it
 * is enabled every system call in the VM takes the slow way in.
 */
static long sys_enter_id = -2;		/* -2: not looked up yet */

static bool syscalls_countable(void)
{
	if (sys_enter_id == -2)
		sys_enter_id = epb_sys_enter_id(NULL, 0);
	return sys_enter_id >= 0;
}

/* System calls made by one call of @sample(@b, @ctx, @iters). */
static uint64_t syscalls_of(epb_sample_fn sample, const void *ctx, int b,
			    long iters)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(attr),
		.config = sys_enter_id,
		.disabled = 1,
		.inherit = 1,
	};
	uint64_t count;
	int fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1,
			 PERF_FLAG_FD_CLOEXEC);

	if (fd < 0)
		epb_die("perf_event_open(raw_syscalls:sys_enter): %m");
	ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
	sample(b, ctx, iters);
	ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
	if (read(fd, &count, sizeof(count)) != sizeof(count))
		epb_die("reading a perf counter: %m");
	close(fd);
	return count;
}

/*
 * System calls per iteration of @sample on every side, into @r: the
 * difference between a pass of @iters iterations and one of twice as
 * many, over @iters * @per_iter, which leaves out what a sample does
 * besides its loop (set-up, threads, teardown).
 */
static void record_syscalls(struct epb_result *r, epb_sample_fn sample,
			    const void *ctx, long iters, int per_iter)
{
	for (int b = 0; b < EPB_NR_BACKENDS; b++) {
		uint64_t once = syscalls_of(sample, ctx, b, iters);
		uint64_t twice = syscalls_of(sample, ctx, b, 2 * iters);

		epb_result_add(r, b, ((double)twice - (double)once) / iters /
			       per_iter);
	}
}

static struct epb_result *syscalls_row(int case_no, const char *id,
				       const char *title, const char *unit)
{
	struct epb_result *r;

	if (!syscalls_countable())
		return NULL;
	r = epb_result_new(case_no, id, title, unit, false);
	kq_set(r->notes,
	       "system calls the kernel counted (perf, raw_syscalls:"
	       "sys_enter, this process and its threads), on untimed "
	       "passes: the difference between N and 2N iterations, per "
	       "iteration");
	return r;
}

/* The floor: an empty instance of each face, polled. */

/*
 * Side EMPTY_NOCANCEL: kevent() again, by a thread whose cancellation is
 * disabled, for which libepollmod makes the ioctl alone: how much of the
 * difference is the library's cancellation handling (two rt_sigprocmask
 * calls around every kevent() that has room for events).
 */
enum { EMPTY_NOCANCEL = EPB_NR_BACKENDS };

static uint64_t empty_sample(int b, const void *ctx, long iters)
{
	const int *fds = ctx;
	int q = fds[b == EMPTY_NOCANCEL ? EPB_EPOLLMOD : b], state;
	struct epoll_event ev;
	struct kevent kv;
	uint64_t start, ns;

	epb_quiesce();
	if (b == EMPTY_NOCANCEL)
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
	start = epb_now_ns();
	for (long i = 0; i < iters; i++) {
		int n = b == EPB_NATIVE ?
			epoll_wait(q, &ev, 1, 0) :
			epollmod_kevent(q, NULL, 0, &kv, 1, &zero_ts);

		if (n != 0)
			epb_die("an empty poll (side %d) returned %d (%m)", b,
				n);
	}
	ns = epb_now_ns() - start;
	if (b == EMPTY_NOCANCEL)
		pthread_setcancelstate(state, NULL);
	return ns;
}

static void kq_empty(void)
{
	struct epb_result *r = epb_result_new(0, "kqueue.empty",
					      "empty kevent / epoll_wait",
					      "ns/call", false);
	int fds[EPB_NR_BACKENDS] = { [EPB_NATIVE] = ep_new(),
				     [EPB_EPOLLMOD] = kq_new() };
	struct epb_result *sys = syscalls_row(0, "kqueue.empty.syscalls",
					      "empty kevent / epoll_wait: "
					      "syscalls", "syscalls/call");
	double nocancel[EPB_MAX_REPS];
	long iters = epb_calibrate(empty_sample, fds);

	for (int rep = 0; rep < epb_cfg.reps; rep++) {
		epb_record_rep(r, empty_sample, fds, iters, 1, rep);
		nocancel[rep] = (double)empty_sample(EMPTY_NOCANCEL, fds,
						     iters) / iters;
		if (sys)
			record_syscalls(sys, empty_sample, fds, 1000, 1);
	}
	close(fds[EPB_NATIVE]);
	close(fds[EPB_EPOLLMOD]);
	kq_set(r->params,
	       "{\"calls_per_sample\": %ld, "
	       "\"epollmod_cancel_disabled\": %.0f}",
	       iters, epb_percentile(nocancel, epb_cfg.reps, 50));
	kq_set(r->notes,
	       "native: epoll_wait(2), room for 1 event, timeout 0, on an "
	       "empty epoll; epollmod: kevent() with no changes, room for 1 "
	       "event, timeout {0, 0}, on an empty kqueue. floor.n0 is "
	       "epollmod's epoll face doing the same; params: the median of "
	       "kevent() again in each run, cancellation disabled");
	epb_result_log(r);
	epb_log("  %-28s %s %12.1f  ns/call (median of %d)",
		"  the same, no cancellation", "epollmod",
		epb_percentile(nocancel, epb_cfg.reps, 50), epb_cfg.reps);
	if (sys)
		epb_result_log(sys);
}

/* Case 8: re-arm. */

struct rearm {
	int n, k;
	int *rd, *wr;			/* pipes: read and write ends */
	long calls[EPB_NR_BACKENDS];	/* of the last sample of each side */
	struct kevent *kevs, *changes;
	struct epoll_event *evs;
};

static void rearm_read(int fd)
{
	char c;

	if (read(fd, &c, 1) != 1)
		epb_die("re-arm: read of fd %d: %m", fd);
}

/* Round @round: one byte into K pipes, round-robin over the N. */
static void rearm_feed(const struct rearm *ra, long round)
{
	for (int j = 0; j < ra->k; j++) {
		int i = (int)((round * ra->k + j) % ra->n);

		if (write(ra->wr[i], "x", 1) != 1)
			epb_die("re-arm: write: %m");
	}
}

static uint64_t rearm_kqueue(struct rearm *ra, long iters)
{
	int kq = kq_new(), nch = 0;
	uint64_t start, ns;
	long calls = 0;

	for (int i = 0; i < ra->n; i++)
		EV_SET(&ra->changes[i], ra->rd[i], EVFILT_READ,
		       EV_ADD | EV_DISPATCH, 0, 0, (void *)(intptr_t)i);
	kev(kq, ra->changes, ra->n, NULL, 0, NULL);
	epb_quiesce();

	start = epb_now_ns();
	for (long r = 0; r < iters; r++) {
		rearm_feed(ra, r);
		for (int handled = 0; handled < ra->k;) {
			/* The last call's re-arms ride in this one. */
			int got = kev(kq, ra->changes, nch, ra->kevs, ra->k,
				      &zero_ts);

			calls++;
			nch = 0;
			for (int e = 0; e < got; e++) {
				const struct kevent *ev = &ra->kevs[e];

				rearm_read((int)ev->ident);
				EV_SET(&ra->changes[nch++], ev->ident,
				       EVFILT_READ, EV_ENABLE, 0, 0, ev->udata);
			}
			handled += got;
		}
	}
	ns = epb_now_ns() - start;

	ra->calls[EPB_EPOLLMOD] = calls;
	close(kq);
	return ns;
}

static uint64_t rearm_native(struct rearm *ra, long iters)
{
	int ep = ep_new();
	uint64_t start, ns;
	long calls = 0;

	for (int i = 0; i < ra->n; i++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT,
					  .data.u64 = i };

		if (epoll_ctl(ep, EPOLL_CTL_ADD, ra->rd[i], &ev))
			epb_die("re-arm: EPOLL_CTL_ADD: %m");
	}
	epb_quiesce();

	start = epb_now_ns();
	for (long r = 0; r < iters; r++) {
		rearm_feed(ra, r);
		for (int handled = 0; handled < ra->k;) {
			int got = epoll_wait(ep, ra->evs, ra->k, 0);

			if (got < 0)
				epb_die("re-arm: epoll_wait: %m");
			calls++;
			for (int e = 0; e < got; e++) {
				int i = (int)ra->evs[e].data.u64;
				struct epoll_event ev = {
					.events = EPOLLIN | EPOLLONESHOT,
					.data.u64 = i,
				};

				rearm_read(ra->rd[i]);
				if (epoll_ctl(ep, EPOLL_CTL_MOD, ra->rd[i],
					      &ev))
					epb_die("re-arm: EPOLL_CTL_MOD: %m");
				calls++;
			}
			handled += got;
		}
	}
	ns = epb_now_ns() - start;

	ra->calls[EPB_NATIVE] = calls;
	close(ep);
	return ns;
}

static uint64_t rearm_sample(int b, const void *ctx, long iters)
{
	struct rearm *ra = (struct rearm *)ctx;

	return b == EPB_NATIVE ? rearm_native(ra, iters) :
				 rearm_kqueue(ra, iters);
}

static void kq_rearm(void)
{
	struct rearm ra = { .n = 256, .k = epb_cfg.rearm_k };
	struct epb_result *r, *calls, *sys;
	char title[64];
	long iters;

	if (ra.k > ra.n)
		epb_die("--rearm-k %d: at most %d", ra.k, ra.n);
	ra.rd = malloc(ra.n * sizeof(int));
	ra.wr = malloc(ra.n * sizeof(int));
	ra.kevs = calloc(ra.n, sizeof(*ra.kevs));
	ra.changes = calloc(ra.n, sizeof(*ra.changes));
	ra.evs = calloc(ra.n, sizeof(*ra.evs));
	if (!ra.rd || !ra.wr || !ra.kevs || !ra.changes || !ra.evs)
		epb_die("out of memory");
	for (int i = 0; i < ra.n; i++) {
		int p[2];

		if (pipe2(p, O_NONBLOCK | O_CLOEXEC))
			epb_die("pipe2: %m");
		ra.rd[i] = p[0];
		ra.wr[i] = p[1];
	}

	snprintf(title, sizeof(title), "re-arm K=%d of N=%d", ra.k, ra.n);
	r = epb_result_new(8, "kqueue.rearm", title, "ns/event", false);
	snprintf(title, sizeof(title), "re-arm K=%d of N=%d: calls", ra.k,
		 ra.n);
	calls = epb_result_new(8, "kqueue.rearm.calls", title, "calls/event",
			       false);
	snprintf(title, sizeof(title), "re-arm K=%d of N=%d: syscalls", ra.k,
		 ra.n);
	sys = syscalls_row(8, "kqueue.rearm.syscalls", title,
			   "syscalls/event");
	iters = epb_calibrate(rearm_sample, &ra);
	for (int rep = 0; rep < epb_cfg.reps; rep++) {
		epb_record_rep(r, rearm_sample, &ra, iters, ra.k, rep);
		for (int b = 0; b < EPB_NR_BACKENDS; b++)
			epb_result_add(calls, b,
				       (double)ra.calls[b] / iters / ra.k);
		if (sys)
			record_syscalls(sys, rearm_sample, &ra, 500, ra.k);
	}
	epb_close_all(ra.rd, ra.n);
	epb_close_all(ra.wr, ra.n);
	free(ra.kevs);
	free(ra.changes);
	free(ra.evs);

	kq_set(r->params, "{\"N\": %d, \"K\": %d, \"rounds_per_sample\": %ld}",
	       ra.n, ra.k, iters);
	kq_set(calls->params, "%s", r->params);
	if (sys)
		kq_set(sys->params, "%s", r->params);
	kq_set(r->notes,
	       "per round: a 1-byte write to K of N pipes, then until K "
	       "events are handled: native: epoll_wait(timeout 0), and per "
	       "event a 1-byte read and epoll_ctl(MOD, EPOLLIN | "
	       "EPOLLONESHOT); "
	       "epollmod: kevent(timeout {0, 0}) whose change list holds the "
	       "EV_ENABLE of every event the previous call returned "
	       "(EV_DISPATCH knotes), and per event a 1-byte read");
	kq_set(calls->notes,
	       "epoll_wait + epoll_ctl calls (native), kevent calls "
	       "(epollmod), counted by the loop, per event handled");
	epb_result_log(r);
	epb_result_log(calls);
	if (sys)
		epb_result_log(sys);
}

/* Case 9: timers. */

#define TIMERS		1000
/*
 * Every timer its own period, 20 ms + i * 40 us: with one period for all,
 * the phases would stay where the set-up put them, and a side that arms
 * faster would batch more expirations per wakeup forever. About 27,500
 * expirations a second in all.
 */
#define TIMER_BASE_US	20000
#define TIMER_STEP_US	40

struct timer_sample {
	uint64_t setup_ns;		/* arming and registering the timers */
	uint64_t wall_ns;		/* the window */
	uint64_t cpu_ns;		/* the process's CPU time in it */
	uint64_t busy_ns;		/* all CPUs' non-idle time in it */
	long expirations;
	long waits;
};

static long timer_period_us(int i)
{
	return TIMER_BASE_US + (long)i * TIMER_STEP_US;
}

static uint64_t process_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/*
 * Idle and iowait time of all CPUs, from /proc/stat's "cpu" line (in
 * USER_HZ ticks, converted), which the idle loop keeps without the tick:
 * what is not idle includes the timer interrupts, which the process's CPU
 * time does not.
 */
static uint64_t all_cpus_idle_ns(void)
{
	unsigned long long v[5];
	FILE *f = fopen("/proc/stat", "r");
	long hz = sysconf(_SC_CLK_TCK);

	if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu", &v[0], &v[1],
			 &v[2], &v[3], &v[4]) != 5)
		epb_die("/proc/stat: cannot read the cpu line");
	fclose(f);
	return (v[3] + v[4]) * (1000000000ull / hz);
}

struct timer_window {
	uint64_t start, deadline, cpu, idle;
};

static void window_open(struct timer_window *w)
{
	w->idle = all_cpus_idle_ns();
	w->cpu = process_cpu_ns();
	w->start = epb_now_ns();
	w->deadline = w->start + (uint64_t)(epb_cfg.sample_ms * 20 * 1e6);
}

static void window_close(const struct timer_window *w, uint64_t end,
			 struct timer_sample *s)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t idle;

	s->cpu_ns = process_cpu_ns() - w->cpu;
	idle = all_cpus_idle_ns() - w->idle;
	s->wall_ns = end - w->start;
	s->busy_ns = s->wall_ns * cpus > idle ? s->wall_ns * cpus - idle : 0;
}

static void timers_kqueue(struct timer_sample *s)
{
	struct kevent *kevs = calloc(TIMERS, sizeof(*kevs));
	struct timer_window w;
	int kq = kq_new();
	uint64_t start, now;

	if (!kevs)
		epb_die("out of memory");
	for (int i = 0; i < TIMERS; i++)
		EV_SET(&kevs[i], i, EVFILT_TIMER, EV_ADD, NOTE_USECONDS,
		       timer_period_us(i), NULL);
	start = epb_now_ns();
	kev(kq, kevs, TIMERS, NULL, 0, NULL);
	s->setup_ns = epb_now_ns() - start;

	window_open(&w);
	while ((now = epb_now_ns()) < w.deadline) {
		uint64_t left = w.deadline - now;
		struct timespec ts = { .tv_sec = left / 1000000000u,
				       .tv_nsec = left % 1000000000u };
		int got = kev(kq, NULL, 0, kevs, TIMERS, &ts);

		s->waits++;
		for (int e = 0; e < got; e++)
			s->expirations += kevs[e].data;
	}
	window_close(&w, now, s);
	close(kq);
	free(kevs);
}

static void timers_native(struct timer_sample *s)
{
	struct epoll_event *evs = calloc(TIMERS, sizeof(*evs));
	int *tfds = malloc(TIMERS * sizeof(*tfds));
	struct timer_window w;
	int ep = ep_new();
	uint64_t start, now;

	if (!evs || !tfds)
		epb_die("out of memory");
	start = epb_now_ns();
	for (int i = 0; i < TIMERS; i++) {
		long us = timer_period_us(i);
		struct itimerspec its = {
			.it_interval = { us / 1000000, us % 1000000 * 1000 },
			.it_value = { us / 1000000, us % 1000000 * 1000 },
		};
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = i };

		tfds[i] = timerfd_create(CLOCK_MONOTONIC,
					 TFD_NONBLOCK | TFD_CLOEXEC);
		if (tfds[i] < 0 || timerfd_settime(tfds[i], 0, &its, NULL) ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, tfds[i], &ev))
			epb_die("timerfd %d: %m", i);
	}
	s->setup_ns = epb_now_ns() - start;

	window_open(&w);
	while ((now = epb_now_ns()) < w.deadline) {
		/* epoll_wait's timeout is in ms: round up, never spin. */
		int ms = (int)((w.deadline - now + 999999) / 1000000);
		int got = epoll_wait(ep, evs, TIMERS, ms);

		if (got < 0)
			epb_die("timers: epoll_wait: %m");
		s->waits++;
		for (int e = 0; e < got; e++) {
			uint64_t count;

			if (read(tfds[evs[e].data.u64], &count,
				 sizeof(count)) == sizeof(count))
				s->expirations += count;
			else if (errno != EAGAIN)
				epb_die("timerfd read: %m");
		}
	}
	window_close(&w, now, s);
	close(ep);
	epb_close_all(tfds, TIMERS);
	free(evs);
}

static double median(double *v, int n)
{
	return epb_percentile(v, n, 50);
}

static void kq_timers(void)
{
	struct epb_result *cpu, *rate, *setup;
	double busy[EPB_NR_BACKENDS][EPB_MAX_REPS];
	double waits[EPB_NR_BACKENDS][EPB_MAX_REPS];
	double nominal = 0;
	int reps = epb_cfg.reps;

	for (int i = 0; i < TIMERS; i++)
		nominal += 1e6 / timer_period_us(i);
	cpu = epb_result_new(9, "kqueue.timers.cpu",
			     "1,000 timers: process CPU", "ns/expiration",
			     false);
	rate = epb_result_new(9, "kqueue.timers.rate",
			      "1,000 timers: delivered", "expirations/s",
			      true);
	setup = epb_result_new(9, "kqueue.timers.setup",
			       "1,000 timers: arming", "ns/timer", false);

	for (int rep = 0; rep < reps; rep++) {
		for (int i = 0; i < EPB_NR_BACKENDS; i++) {
			int b = epb_order(rep, i);
			struct timer_sample s = { 0 };

			epb_quiesce();
			if (b == EPB_NATIVE)
				timers_native(&s);
			else
				timers_kqueue(&s);
			if (s.expirations <= 0)
				epb_die("timers: %s delivered no expiration",
					epb_backends[b]->name);
			epb_result_add(cpu, b,
				       (double)s.cpu_ns / s.expirations);
			epb_result_add(rate, b,
				       s.expirations * 1e9 / s.wall_ns);
			epb_result_add(setup, b, (double)s.setup_ns / TIMERS);
			busy[b][rep] = (double)s.busy_ns / s.expirations;
			waits[b][rep] = (double)s.expirations / s.waits;
		}
	}

	kq_set(cpu->params,
	       "{\"timers\": %d, \"window_s\": %g, \"nominal_per_s\": %.0f, "
	       "\"busy_ns_per_exp\": [%.0f, %.0f], "
	       "\"exp_per_wait\": [%.1f, %.1f]}",
	       TIMERS, epb_cfg.sample_ms * 20 / 1000, nominal,
	       median(busy[EPB_NATIVE], reps),
	       median(busy[EPB_EPOLLMOD], reps),
	       median(waits[EPB_NATIVE], reps),
	       median(waits[EPB_EPOLLMOD], reps));
	kq_set(rate->params, "{\"timers\": %d, \"nominal_per_s\": %.0f}",
	       TIMERS, nominal);
	kq_set(setup->params, "{\"timers\": %d}", TIMERS);
	kq_set(cpu->notes,
	       "timer i periodic, every %d us + i * %d us; native: a "
	       "CLOCK_MONOTONIC timerfd each in one epoll, epoll_wait then a "
	       "read() per ready timerfd; epollmod: EVFILT_TIMER knotes "
	       "(NOTE_USECONDS) on one kqueue, kevent() alone. CPU: "
	       "CLOCK_PROCESS_CPUTIME_ID over the window, per expiration "
	       "counted (timerfd reads, kevent data); params: [native, "
	       "epollmod] medians of all CPUs' non-idle time (/proc/stat, "
	       "with the timer interrupts) and of expirations per wait",
	       TIMER_BASE_US, TIMER_STEP_US);
	kq_set(setup->notes,
	       "native: timerfd_create, timerfd_settime and EPOLL_CTL_ADD "
	       "per timer; epollmod: one kevent() with %d EV_ADD changes",
	       TIMERS);
	epb_result_log(cpu);
	epb_log("  %-28s %s %12.0f  %s %12.0f  ns/expiration (median)",
		"  all CPUs non-idle", "native", median(busy[EPB_NATIVE], reps),
		"epollmod", median(busy[EPB_EPOLLMOD], reps));
	epb_log("  %-28s %s %12.1f  %s %12.1f  (median)",
		"  expirations per wait", "native",
		median(waits[EPB_NATIVE], reps), "epollmod",
		median(waits[EPB_EPOLLMOD], reps));
	epb_result_log(rate);
	epb_result_log(setup);
}

/* Case 10: user events, a ping-pong between two threads. */

enum { USER_PING = 1, USER_PONG = 2 };

struct uping {
	int b;
	int main_q, echo_q;		/* kqueues, or epolls */
	int ping, pong;			/* native: eventfds */
	atomic_bool stop;
};

static void user_trigger(const struct uping *u, int q, int ident, int efd)
{
	if (u->b == EPB_NATIVE) {
		epb_eventfd_signal(efd);
	} else {
		struct kevent kv;

		EV_SET(&kv, ident, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
		kev(q, &kv, 1, NULL, 0, NULL);
	}
}

static void user_wait(const struct uping *u, int q, int ident, int efd)
{
	if (u->b == EPB_NATIVE) {
		struct epoll_event ev;

		if (epoll_wait(q, &ev, 1, -1) != 1)
			epb_die("user: epoll_wait: %m");
		epb_eventfd_drain(efd);
	} else {
		struct kevent kv;

		if (kev(q, NULL, 0, &kv, 1, NULL) != 1 ||
		    kv.ident != (uintptr_t)ident)
			epb_die("user: kevent returned no user event");
	}
}

static void *user_echoer(void *arg)
{
	struct uping *u = arg;

	for (;;) {
		user_wait(u, u->echo_q, USER_PING, u->ping);
		if (atomic_load(&u->stop))
			return NULL;
		user_trigger(u, u->main_q, USER_PONG, u->pong);
	}
}

static int user_queue(int b, int ident, int efd)
{
	struct kevent kv;
	int q;

	if (b == EPB_NATIVE)
		return epb_instance(epb_backends[EPB_NATIVE], &efd, 1, EPOLLIN);
	q = kq_new();
	/* EV_CLEAR: a trigger is consumed by its delivery. */
	EV_SET(&kv, ident, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
	kev(q, &kv, 1, NULL, 0, NULL);
	return q;
}

static uint64_t user_sample(int b, const void *ctx, long iters)
{
	struct uping u = { .b = b, .ping = -1, .pong = -1 };
	pthread_t thread;
	uint64_t start, ns;

	if (b == EPB_NATIVE) {
		u.ping = epb_eventfd();
		u.pong = epb_eventfd();
	}
	u.main_q = user_queue(b, USER_PONG, u.pong);
	u.echo_q = user_queue(b, USER_PING, u.ping);
	if (pthread_create(&thread, NULL, user_echoer, &u))
		epb_die("pthread_create failed");
	/* One round trip untimed: the echoer is up and asleep after it. */
	user_trigger(&u, u.echo_q, USER_PING, u.ping);
	user_wait(&u, u.main_q, USER_PONG, u.pong);
	epb_quiesce();

	start = epb_now_ns();
	for (long i = 0; i < iters; i++) {
		user_trigger(&u, u.echo_q, USER_PING, u.ping);
		user_wait(&u, u.main_q, USER_PONG, u.pong);
	}
	ns = epb_now_ns() - start;

	atomic_store(&u.stop, true);
	user_trigger(&u, u.echo_q, USER_PING, u.ping);
	pthread_join(thread, NULL);
	close(u.main_q);
	close(u.echo_q);
	if (b == EPB_NATIVE) {
		close(u.ping);
		close(u.pong);
	}
	return ns;
}

static void kq_user(void)
{
	struct epb_result *r = epb_result_new(10, "kqueue.user",
					      "user events: round trip",
					      "ns/round trip", false);
	struct epb_result *sys = syscalls_row(10, "kqueue.user.syscalls",
					      "user events: syscalls",
					      "syscalls/round trip");
	long iters = epb_calibrate(user_sample, NULL);

	for (int rep = 0; rep < epb_cfg.reps; rep++) {
		epb_record_rep(r, user_sample, NULL, iters, 1, rep);
		if (sys)
			record_syscalls(sys, user_sample, NULL, 200, 1);
	}

	kq_set(r->params, "{\"round_trips_per_sample\": %ld}", iters);
	if (sys)
		kq_set(sys->params, "%s", r->params);
	kq_set(r->notes,
	       "two threads, each blocked (no timeout) on its own queue; "
	       "per half trip native: eventfd write, epoll_wait, eventfd read; "
	       "epollmod: kevent(NOTE_TRIGGER) on the other's kqueue, "
	       "kevent() wait on its own (EVFILT_USER, EV_CLEAR)");
	epb_result_log(r);
	if (sys)
		epb_result_log(sys);
}

void epb_case_kqueue(void)
{
	int kq = epollmod_kqueue();

	if (kq < 0 && errno == ENOSYS) {
		epb_log("kqueue: skipped, the module has no kqueue face");
		return;
	}
	if (kq < 0)
		epb_die("epollmod_kqueue: %m");
	close(kq);

	epb_log("kqueue: epollmod's kqueue face against native epoll");
	kq_empty();
	epb_log("case 8: re-arm, EV_DISPATCH + EV_ENABLE in the next call "
		"against EPOLLONESHOT + EPOLL_CTL_MOD");
	kq_rearm();
	epb_log("case 9: %d periodic timers, EVFILT_TIMER against timerfd",
		TIMERS);
	kq_timers();
	epb_log("case 10: user events, EVFILT_USER against eventfd, two "
		"threads ping-ponging");
	kq_user();
}
