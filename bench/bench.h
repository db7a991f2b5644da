/* SPDX-License-Identifier: GPL-2.0 */
/*
 * epbench: epollmod against native epoll, case by case, in one boot.
 *
 * Every case runs the same code on both backends; only the three epoll
 * calls differ (struct backend). Each case repeats its measurement
 * epb_cfg.reps times, alternating which backend goes first, and records
 * every sample: the host side (bench/report.py) turns them into medians,
 * spread, paired ratios and target verdicts.
 */
#ifndef EPB_BENCH_H
#define EPB_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>

#include "../lib/src/calls.h"

/* A backend: the epoll calls of lib/src/calls.h, and a name. */
struct backend {
	const char *name;
	EPOLL_CALLS_MEMBERS;
};

enum { EPB_NATIVE, EPB_EPOLLMOD, EPB_NR_BACKENDS };
extern const struct backend *const epb_backends[EPB_NR_BACKENDS];
const struct backend *epb_backend_by_name(const char *name);

#define EPB_MAX_REPS	64

/* What the command line chose; the defaults fit 15 minutes under TCG. */
struct epb_config {
	int reps;			/* repetitions of every case */
	double sample_ms;		/* target length of one timed sample */
	int big_n;			/* the largest interest set (100k) */
	int harvest_n;			/* watched fds in the harvest case */
	int herd_threads;
	double echo_seconds;		/* one echo sample */
	int echo_connections;
	const char *echo_server;	/* command template, see echo.c */
	int rearm_k;			/* kqueue re-arm: ready fds per round */
	const char *only;		/* comma-separated case names, or all */
};
extern struct epb_config epb_cfg;

/* epb_cfg.big_n idle eventfds, open for the whole run (main.c). */
extern int *epb_pool;

/*
 * One measured quantity: epb_cfg.reps samples per backend. Samples of one
 * repetition are paired (taken back to back, in alternating order).
 */
struct epb_result {
	char id[48];			/* stable key, e.g. "idle.n100000" */
	int case_no;			/* 1..7: the benchmark issue's cases;
					 * 8..10: the kqueue face's; 0: floor */
	char title[64];			/* human label, e.g. "idle N=100000" */
	char params[160];		/* a JSON object */
	const char *unit;		/* "ns/event", "req/s", ... */
	bool higher_is_better;
	/*
	 * What the two sample sets are: the backends' names unless set
	 * (the wrapper case compares two ways of calling epollmod).
	 */
	const char *sides[EPB_NR_BACKENDS];
	/* samples[b][i]: side b, repetition i; pairs share an index */
	int count[EPB_NR_BACKENDS];
	double samples[EPB_NR_BACKENDS][EPB_MAX_REPS];
	char notes[512];		/* how it was measured, JSON-escaped */
};

struct epb_result *epb_result_new(int case_no, const char *id,
				  const char *title, const char *unit,
				  bool higher_is_better);
void epb_result_add(struct epb_result *r, int backend, double value);
void epb_results_json(FILE *out);
void epb_json_string(FILE *out, const char *s);
void epb_result_log(const struct epb_result *r);

/*
 * How most cases measure: @sample(side, ctx, iters) runs @iters operations
 * on side @side (a backend, or one of two ways of calling epollmod) and
 * returns the ns they took. epb_calibrate() sizes a sample on side 0 to
 * last epb_cfg.sample_ms and warms side 1 up; epb_record_rep() records
 * repetition @rep, a sample of each side in the rep's order, in @r as ns
 * per iteration over @per_iter; epb_measure() does both for every
 * repetition and returns the iterations per sample.
 */
typedef uint64_t (*epb_sample_fn)(int side, const void *ctx, long iters);
long epb_calibrate(epb_sample_fn sample, const void *ctx);
void epb_record_rep(struct epb_result *r, epb_sample_fn sample,
		    const void *ctx, long iters, int per_iter, int rep);
long epb_measure(struct epb_result *r, epb_sample_fn sample, const void *ctx,
		 int per_iter);

/* Which backend runs first in repetition @rep: they alternate. */
static inline int epb_order(int rep, int i)
{
	return (rep + i) % EPB_NR_BACKENDS;
}

/* util.c */
uint64_t epb_now_ns(void);
void epb_die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						  noreturn));
void epb_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int epb_eventfd(void);
void epb_eventfd_signal(int fd);
bool epb_eventfd_drain(int fd);
int *epb_eventfds(int n);
void epb_close_all(int *fds, int n);
double epb_percentile(double *v, int n, double p);
long epb_scale_iters(long iters, uint64_t elapsed_ns, double target_ms);
void epb_raise_nofile(long want);
void epb_quiesce(void);
int epb_instance(const struct backend *be, const int *fds, int n,
		 uint32_t events);
/*
 * The id of the raw_syscalls:sys_enter tracepoint, for perf counters of
 * system calls, mounting tracefs if it has to; -1 and why not (@why may
 * be NULL).
 */
long epb_sys_enter_id(char *why, size_t len);

/* The cases (cases.c, ctl.c, latency.c, herd.c, echo.c, wrapper.cpp,
 * kqueue.c, close.c). */
void epb_case_floor(void);
void epb_case_harvest(void);
void epb_case_idle(void);
void epb_case_ctl_and_memory(void);
void epb_case_latency(void);
void epb_case_herd(void);
void epb_case_echo(void);
void epb_case_wrapper(void);
void epb_case_kqueue(void);
void epb_case_close(void);
void epb_case_minwait(void);	/* minwait.c */
void epb_case_fairness(void);	/* fairness.c */
void epb_case_ring(void);	/* ring.c */

#endif /* EPB_BENCH_H */
