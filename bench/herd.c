// SPDX-License-Identifier: GPL-2.0
/*
 * Case 5: the thundering herd. 16 threads each wait (timeout -1) on an
 * instance of their own; all 16 instances watch the same eventfd with
 * EPOLLIN | EPOLLEXCLUSIVE. That is the set-up EPOLLEXCLUSIVE is for: it
 * acts between instances hooked on one wait queue, while the waiters of
 * one instance are woken one at a time anyway. The main thread posts one
 * event, waits until a thread has consumed it, and posts the next.
 *
 * Wakeups are measured, not assumed: every time a waiter thread sleeps it
 * makes a voluntary context switch, and each sleep but its first ends in
 * a wakeup, so a thread's wakeups are its voluntary switches (its own
 * getrusage(RUSAGE_THREAD)) minus one. That counts a thread woken for
 * nothing that went back to sleep inside the kernel as well as one that
 * returned from its wait. The threads are known to be asleep (their
 * /proc wchan) before the first event and after the last, so the count
 * covers exactly the events posted. The quit signal comes after that.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

enum { HERD_EVENT, HERD_QUIT };

struct herd {
	const struct backend *be;
	int event_fd, quit_fd;		/* watched by every instance */
	int done_fd;			/* blocking: "an event was consumed" */
	atomic_int waiting;		/* threads that reached their wait */
	struct herd_thread *threads;
	int nr_threads;
};

struct herd_thread {
	struct herd *herd;
	pthread_t thread;
	int ep;
	int wchan_fd;			/* /proc/self/task/TID/wchan */
	long switches;			/* voluntary, from start to quit */
	long returns;			/* waits that returned an event */
	long consumed;			/* events this thread took */
};

static long voluntary_switches(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_nvcsw;
}

static void *herd_waiter(void *arg)
{
	struct herd_thread *t = arg;
	struct herd *h = t->herd;
	char path[64];
	long start;

	snprintf(path, sizeof(path), "/proc/self/task/%d/wchan", gettid());
	t->wchan_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (t->wchan_fd < 0)
		epb_die("%s: %m", path);
	start = voluntary_switches();
	atomic_fetch_add(&h->waiting, 1);
	for (bool quit = false; !quit;) {
		struct epoll_event events[2];
		int n = h->be->wait(t->ep, events, 2, -1);

		if (n < 0)
			epb_die("%s: wait: %m", h->be->name);
		for (int i = 0; i < n; i++) {
			if (events[i].data.u64 == HERD_QUIT) {
				quit = true;
				continue;
			}
			t->returns++;
			if (epb_eventfd_drain(h->event_fd)) {
				t->consumed++;
				epb_eventfd_signal(h->done_fd);
			}
		}
	}
	t->switches = voluntary_switches() - start;
	return NULL;
}

/* Is the thread off the CPU, asleep? (wchan reads "0" while it runs.) */
static bool asleep(const struct herd_thread *t)
{
	char buf[64];
	ssize_t len = pread(t->wchan_fd, buf, sizeof(buf) - 1, 0);

	if (len <= 0)
		epb_die("reading wchan: %m");
	buf[len] = '\0';
	return strcmp(buf, "0") != 0;
}

static void wait_all_asleep(struct herd *h)
{
	while (atomic_load(&h->waiting) < h->nr_threads)
		usleep(1000);
	for (int i = 0; i < h->nr_threads; i++)
		while (!asleep(&h->threads[i]))
			usleep(1000);
}

struct herd_sample {
	double wakeups_per_event;
	double returns_per_event;
	double events_per_sec;
};

static struct herd_sample herd_run(int b, long events)
{
	struct herd h = { .be = epb_backends[b] };
	struct epoll_event ev;
	long wakeups = 0, returns = 0, consumed = 0;
	struct herd_sample s;
	uint64_t start, elapsed;

	h.nr_threads = epb_cfg.herd_threads;
	h.threads = calloc(h.nr_threads, sizeof(*h.threads));
	if (!h.threads)
		epb_die("out of memory");
	h.event_fd = epb_eventfd();
	h.quit_fd = epb_eventfd();
	h.done_fd = eventfd(0, EFD_CLOEXEC);
	if (h.done_fd < 0)
		epb_die("eventfd: %m");
	for (int i = 0; i < h.nr_threads; i++) {
		struct herd_thread *t = &h.threads[i];

		t->herd = &h;
		t->ep = h.be->create1(EPOLL_CLOEXEC);
		if (t->ep < 0)
			epb_die("%s: create1: %m", h.be->name);
		ev = (struct epoll_event){ .events = EPOLLIN | EPOLLEXCLUSIVE,
					   .data.u64 = HERD_EVENT };
		if (h.be->ctl(t->ep, EPOLL_CTL_ADD, h.event_fd, &ev))
			epb_die("%s: ADD EPOLLEXCLUSIVE: %m", h.be->name);
		ev = (struct epoll_event){ .events = EPOLLIN,
					   .data.u64 = HERD_QUIT };
		if (h.be->ctl(t->ep, EPOLL_CTL_ADD, h.quit_fd, &ev))
			epb_die("%s: ADD: %m", h.be->name);
		if (pthread_create(&t->thread, NULL, herd_waiter, t))
			epb_die("pthread_create failed");
	}

	wait_all_asleep(&h);
	start = epb_now_ns();
	for (long i = 0; i < events; i++) {
		uint64_t done;

		epb_eventfd_signal(h.event_fd);
		if (read(h.done_fd, &done, sizeof(done)) != sizeof(done))
			epb_die("done eventfd: %m");
	}
	elapsed = epb_now_ns() - start;
	wait_all_asleep(&h);
	epb_eventfd_signal(h.quit_fd);

	for (int i = 0; i < h.nr_threads; i++) {
		struct herd_thread *t = &h.threads[i];

		pthread_join(t->thread, NULL);
		/* The first sleep was not ended by an event: the quit. */
		wakeups += t->switches - 1;
		returns += t->returns;
		consumed += t->consumed;
		close(t->ep);
		close(t->wchan_fd);
	}
	if (consumed != events)
		epb_die("%s: %ld events posted, %ld consumed", h.be->name,
			events, consumed);
	close(h.event_fd);
	close(h.quit_fd);
	close(h.done_fd);
	free(h.threads);

	s.wakeups_per_event = (double)wakeups / events;
	s.returns_per_event = (double)returns / events;
	s.events_per_sec = events * 1e9 / elapsed;
	return s;
}

void epb_case_herd(void)
{
	struct epb_result *wakeups, *returns, *rate;
	long events;

	epb_log("case 5: herd, %d threads, EPOLLEXCLUSIVE, one event at a time",
		epb_cfg.herd_threads);
	wakeups = epb_result_new(5, "herd.wakeups", "herd wakeups/event",
				 "wakeups/event", false);
	returns = epb_result_new(5, "herd.returns", "herd wait returns/event",
				 "returns/event", false);
	rate = epb_result_new(5, "herd.rate", "herd events/s", "events/s",
			      true);

	/* Size on native's rate; this also warms both backends up. */
	events = herd_run(EPB_NATIVE, 200).events_per_sec *
		 epb_cfg.sample_ms / 1000;
	if (events < 100)
		events = 100;
	herd_run(EPB_EPOLLMOD, events / 4 + 1);

	for (int rep = 0; rep < epb_cfg.reps; rep++) {
		for (int i = 0; i < EPB_NR_BACKENDS; i++) {
			int b = epb_order(rep, i);
			struct herd_sample s = herd_run(b, events);

			epb_result_add(wakeups, b, s.wakeups_per_event);
			epb_result_add(returns, b, s.returns_per_event);
			epb_result_add(rate, b, s.events_per_sec);
		}
	}
	struct epb_result *all[] = { wakeups, returns, rate };

	for (int i = 0; i < 3; i++) {
		snprintf(all[i]->params, sizeof(all[i]->params),
			 "{\"threads\": %d, \"instances\": %d, \"events_per_sample\": %ld}",
			 epb_cfg.herd_threads, epb_cfg.herd_threads, events);
		epb_result_log(all[i]);
	}
	snprintf(wakeups->notes, sizeof(wakeups->notes), "%s",
		 "one instance per thread, all watching one eventfd with "
		 "EPOLLIN|EPOLLEXCLUSIVE; wakeups = voluntary context "
		 "switches of the waiter threads, minus one each");
}
