// SPDX-License-Identifier: GPL-2.0
/* Clocks, eventfds, percentiles and limits shared by the cases. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/membarrier.h>

#include "bench.h"

uint64_t epb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

void epb_die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "epbench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	/* The guest's stderr is the VM console: say it where the host reads. */
	printf("epbench: failed, see the VM console log\n");
	exit(1);
}

void epb_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

int epb_eventfd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	if (fd < 0)
		epb_die("eventfd: %m");
	return fd;
}

void epb_eventfd_signal(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one))
		epb_die("eventfd write: %m");
}

/* Read the counter to zero; false if it was zero already. */
bool epb_eventfd_drain(int fd)
{
	uint64_t count;

	if (read(fd, &count, sizeof(count)) == sizeof(count))
		return true;
	if (errno != EAGAIN)
		epb_die("eventfd read: %m");
	return false;
}

int *epb_eventfds(int n)
{
	int *fds = malloc(n * sizeof(*fds));

	if (!fds)
		epb_die("out of memory");
	for (int i = 0; i < n; i++)
		fds[i] = epb_eventfd();
	return fds;
}

void epb_close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The p-th percentile (0..100) of v[0..n), nearest rank; sorts v. */
double epb_percentile(double *v, int n, double p)
{
	int rank;

	qsort(v, n, sizeof(*v), cmp_double);
	rank = (int)ceil(p / 100.0 * n);
	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}

/*
 * Iterations that make one sample last about @target_ms, given that
 * @iters took @elapsed_ns. Every backend then runs the same count.
 */
long epb_scale_iters(long iters, uint64_t elapsed_ns, double target_ms)
{
	double scaled;

	if (!elapsed_ns)
		elapsed_ns = 1;
	scaled = iters * (target_ms * 1e6) / elapsed_ns;
	return scaled < 1 ? 1 : (long)scaled;
}

/* Room for @want descriptors (the guest runs as root). */
void epb_raise_nofile(long want)
{
	struct rlimit rl = { .rlim_cur = want, .rlim_max = want };

	if (setrlimit(RLIMIT_NOFILE, &rl))
		epb_die("setrlimit(RLIMIT_NOFILE, %ld): %m (raise fs.nr_open)",
			want);
}

/* An instance of @be watching fds[0..n) for @events, data = index. */
int epb_instance(const struct backend *be, const int *fds, int n,
		 uint32_t events)
{
	int ep = be->create1(EPOLL_CLOEXEC);

	if (ep < 0)
		epb_die("%s: create1: %m", be->name);
	for (int i = 0; i < n; i++) {
		struct epoll_event ev = { .events = events, .data.u64 = i };

		if (be->ctl(ep, EPOLL_CTL_ADD, fds[i], &ev))
			epb_die("%s: ADD fd %d: %m", be->name, fds[i]);
	}
	return ep;
}

/*
 * Before a timed sample: let the RCU-deferred frees of what came before
 * run (membarrier waits for a grace period), and the system calm down.
 */
void epb_quiesce(void)
{
	syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
	usleep(10000);
}

/* The id of raw_syscalls:sys_enter, wherever tracefs is; -1 if nowhere. */
static long read_sys_enter_id(void)
{
	static const char *const paths[] = {
		"/sys/kernel/tracing/events/raw_syscalls/sys_enter/id",
		"/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id",
	};

	for (unsigned int i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		FILE *f = fopen(paths[i], "r");
		long id;

		if (!f)
			continue;
		if (fscanf(f, "%ld", &id) != 1)
			id = -1;
		fclose(f);
		if (id >= 0)
			return id;
	}
	return -1;
}

long epb_sys_enter_id(char *why, size_t len)
{
	long id = read_sys_enter_id();

	if (id >= 0)
		return id;
	/* The VM mounts debugfs only. */
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL)) {
		if (why)
			snprintf(why, len,
				 "no raw_syscalls:sys_enter tracepoint (mounting tracefs: %s)",
				 strerror(errno));
		return -1;
	}
	id = read_sys_enter_id();
	if (id < 0 && why)
		snprintf(why, len,
			 "no raw_syscalls:sys_enter tracepoint in tracefs");
	return id;
}
