// SPDX-License-Identifier: GPL-2.0
/*
 * Cases 3 and 6, which share their set-up: one instance watches the whole
 * pool (100k eventfds, none readable).
 *
 * Control path: ADD all, MOD all, DEL all, each timed: ns per op.
 *
 * Memory: /proc/slabinfo before and after the ADDs. The VM boots with
 * slab_nomerge, so each cache of the backend is counted on its own:
 * native's eventpoll_epi, eventpoll_pwq and ep_head; epollmod's epm_item
 * and epm_hook. A cache's cost per object is its slab size over
 * the objects a slab holds (the object with its alignment and its share
 * of the slab's tail), times the change in its active objects. SLUB counts
 * free objects in per-CPU slabs as active, so each cache is shrunk (which
 * flushes those) before it is read. MemFree's change is reported beside
 * it as the whole kernel's cost: it includes what no named cache holds,
 * such as epollmod's hash table of watched files (its bucket array is a
 * page allocation), and it is noisier (per-CPU page lists).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/* The most caches a backend has; a shorter list ends with NULL. */
#define NR_CACHES	3

static const char *const caches[EPB_NR_BACKENDS][NR_CACHES] = {
	[EPB_NATIVE]	= { "eventpoll_epi", "eventpoll_pwq", "ep_head" },
	[EPB_EPOLLMOD]	= { "epm_item", "epm_hook", NULL },
};

struct cache_stat {
	long active_objs;
	double bytes_per_obj;		/* slab bytes / objects per slab */
	long objsize;
};

struct mem_snapshot {
	struct cache_stat cache[EPB_NR_BACKENDS][NR_CACHES];
	long mem_free_kb;
};

static long page_size;

static void read_slabinfo(struct mem_snapshot *s)
{
	FILE *f = fopen("/proc/slabinfo", "r");
	char line[512], name[64];
	long active, total, objsize, perslab, pages;

	if (!f)
		epb_die("/proc/slabinfo: %m (the benchmark runs as root)");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %ld %ld %ld %ld %ld", name, &active,
			   &total, &objsize, &perslab, &pages) != 6)
			continue;
		for (int b = 0; b < EPB_NR_BACKENDS; b++) {
			for (int c = 0; c < NR_CACHES && caches[b][c]; c++) {
				struct cache_stat *cs = &s->cache[b][c];

				if (strcmp(name, caches[b][c]))
					continue;
				cs->active_objs = active;
				cs->objsize = objsize;
				cs->bytes_per_obj =
					(double)pages * page_size / perslab;
			}
		}
	}
	fclose(f);
}

static void read_meminfo(struct mem_snapshot *s)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];

	if (!f)
		epb_die("/proc/meminfo: %m");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemFree: %ld kB", &s->mem_free_kb) == 1)
			break;
	fclose(f);
}

/* Flush the per-CPU slabs, whose free objects slabinfo counts as active. */
static void shrink_caches(void)
{
	for (int b = 0; b < EPB_NR_BACKENDS; b++) {
		for (int c = 0; c < NR_CACHES && caches[b][c]; c++) {
			char path[128];
			FILE *f;

			snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink",
				 caches[b][c]);
			f = fopen(path, "w");
			if (!f)
				epb_die("%s: %m", path);
			fputs("1", f);
			if (fclose(f))
				epb_die("%s: %m", path);
		}
	}
}

static void snapshot(struct mem_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	shrink_caches();
	read_slabinfo(s);
	read_meminfo(s);
}

static long tracked_objs(const struct mem_snapshot *s)
{
	long sum = 0;

	for (int b = 0; b < EPB_NR_BACKENDS; b++)
		for (int c = 0; c < NR_CACHES && caches[b][c]; c++)
			sum += s->cache[b][c].active_objs;
	return sum;
}

/*
 * Let the RCU-deferred frees of the previous round finish, so that they
 * do not cancel out allocations of this one: a grace period, then until
 * the tracked caches stop shrinking.
 */
static void settle(void)
{
	struct mem_snapshot s;
	long last = -1;

	epb_quiesce();
	for (int tries = 0; tries < 50; tries++) {
		snapshot(&s);
		if (tracked_objs(&s) == last)
			return;
		last = tracked_objs(&s);
		usleep(20000);
	}
}

/* Slab bytes the ADDs cost in backend @b's caches. */
static double slab_delta(const struct mem_snapshot *before,
			 const struct mem_snapshot *after, int b)
{
	double bytes = 0;

	for (int c = 0; c < NR_CACHES && caches[b][c]; c++)
		bytes += (after->cache[b][c].active_objs -
			  before->cache[b][c].active_objs) *
			 after->cache[b][c].bytes_per_obj;
	return bytes;
}

/* Append backend @b's caches, per watch, to @buf. */
static void describe_caches(char *buf, size_t len, int b,
			    const struct mem_snapshot *before,
			    const struct mem_snapshot *after, int n)
{
	size_t off = strlen(buf);

	for (int c = 0; c < NR_CACHES && caches[b][c] && off < len; c++) {
		const struct cache_stat *a = &after->cache[b][c];
		long objs = a->active_objs - before->cache[b][c].active_objs;

		off += snprintf(buf + off, len - off,
				" %s: %.2f x %.0f B (objsize %ld);",
				caches[b][c], (double)objs / n,
				a->bytes_per_obj, a->objsize);
	}
}

void epb_case_ctl_and_memory(void)
{
	int n = epb_cfg.big_n;
	struct epb_result *add, *mod, *del, *slab, *kernel;
	struct mem_snapshot before, after;

	page_size = sysconf(_SC_PAGESIZE);
	epb_log("case 3: ADD, MOD, DEL of %d eventfds; case 6: memory", n);
	add = epb_result_new(3, "ctl.add", "ctl ADD", "ns/op", false);
	mod = epb_result_new(3, "ctl.mod", "ctl MOD", "ns/op", false);
	del = epb_result_new(3, "ctl.del", "ctl DEL", "ns/op", false);
	slab = epb_result_new(6, "memory.slab", "memory (slab caches)",
			      "bytes/watch", false);
	kernel = epb_result_new(6, "memory.kernel", "memory (MemFree)",
				"bytes/watch", false);
	snprintf(slab->notes, sizeof(slab->notes),
		 "objects per watch x slab bytes per object (slab size / objects per slab), first repetition:");

	for (int rep = 0; rep < epb_cfg.reps; rep++) {
		for (int i = 0; i < EPB_NR_BACKENDS; i++) {
			int b = epb_order(rep, i);
			const struct backend *be = epb_backends[b];
			uint64_t t0, t1, t2, t3;
			int ep;

			settle();
			snapshot(&before);
			t0 = epb_now_ns();
			ep = epb_instance(be, epb_pool, n, EPOLLIN);
			t1 = epb_now_ns();
			snapshot(&after);

			t2 = epb_now_ns();
			for (int j = 0; j < n; j++) {
				struct epoll_event ev = {
					.events = EPOLLIN | EPOLLET,
					.data.u64 = j + n,
				};

				if (be->ctl(ep, EPOLL_CTL_MOD, epb_pool[j],
					    &ev))
					epb_die("%s: MOD: %m", be->name);
			}
			t3 = epb_now_ns();
			for (int j = 0; j < n; j++)
				if (be->ctl(ep, EPOLL_CTL_DEL, epb_pool[j],
					    NULL))
					epb_die("%s: DEL: %m", be->name);
			epb_result_add(del, b, (double)(epb_now_ns() - t3) / n);
			close(ep);

			/* The create1 is in there too: one in n ops. */
			epb_result_add(add, b, (double)(t1 - t0) / n);
			epb_result_add(mod, b, (double)(t3 - t2) / n);
			epb_result_add(slab, b,
				       slab_delta(&before, &after, b) / n);
			epb_result_add(kernel, b,
				       (before.mem_free_kb -
					after.mem_free_kb) * 1024.0 / n);
			if (rep == 0)
				describe_caches(slab->notes,
						sizeof(slab->notes), b,
						&before, &after, n);
		}
	}
	snprintf(kernel->notes, sizeof(kernel->notes),
		 "MemFree before minus after the ADDs, over N: every kernel allocation, noisier");
	struct epb_result *all[] = { add, mod, del, slab, kernel };

	for (int i = 0; i < 5; i++) {
		snprintf(all[i]->params, sizeof(all[i]->params),
			 "{\"N\": %d}", n);
		epb_result_log(all[i]);
	}
}
