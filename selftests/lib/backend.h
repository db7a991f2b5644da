/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differential testing: every semantic test is written once and runs
 * against native epoll and against epollmod (through libepollmod's C ABI)
 * in the same boot. Native is the oracle: a test that fails on native is a
 * wrong test.
 *
 *	DIFF_FIXTURE(ctl);
 *	TEST_F(ctl, add_twice) { int ep = ep_create1(0); ... }
 *
 * runs as ctl.native.add_twice and ctl.epollmod.add_twice.
 */
#ifndef EPM_BACKEND_H
#define EPM_BACKEND_H

#include <signal.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <time.h>

#include "../../lib/src/calls.h"

struct backend {
	const char *name;
	bool (*available)(void);
	EPOLL_CALLS_MEMBERS;
	/* where the per-user limit on watches is set */
	const char *max_user_watches;
	/* epoll_pwait(2) below glibc: any sigsetsize */
	int (*raw_pwait)(int epfd, struct epoll_event *events, int maxevents,
			 int timeout, const void *sigmask, size_t sigsetsize);
};

extern const struct backend backend_native;
extern const struct backend backend_epollmod;

/* The backend of the running test (each test runs in its own process). */
extern const struct backend *be;

/*
 * Select the variant's backend. Where the module must be present (the test
 * VM sets EPM_REQUIRE_MODULE=1) its absence fails the test; elsewhere the
 * epollmod variant is skipped, saying why.
 */
#define BACKEND_SELECT(_be) do {					\
	be = (_be);							\
	if (!be->available()) {						\
		if (getenv("EPM_REQUIRE_MODULE"))			\
			ASSERT_TRUE(be->available()) TH_LOG(		\
				"%s is not available", be->name);	\
		EPM_SKIP_TEST("%s is not available (module not loaded)", \
			      be->name);				\
	}								\
} while (0)

#define DIFF_FIXTURE_VARIANTS(fixture)					\
	FIXTURE_VARIANT(fixture) { const struct backend *be; };		\
	FIXTURE_VARIANT_ADD(fixture, native) { .be = &backend_native };	\
	FIXTURE_VARIANT_ADD(fixture, epollmod) { .be = &backend_epollmod }

/* A differential fixture with no state of its own. */
#define DIFF_FIXTURE(fixture)						\
	FIXTURE(fixture) { int unused; };				\
	DIFF_FIXTURE_VARIANTS(fixture);					\
	FIXTURE_SETUP(fixture) { BACKEND_SELECT(variant->be); }		\
	FIXTURE_TEARDOWN(fixture) { }

/*
 * An epoll instance of the other backend: to this one, as foreign as any
 * file that is not an instance. -1 if that backend is not available.
 */
int other_backend_instance(void);

static inline int ep_create(int size)
{
	return be->create(size);
}

static inline int ep_create1(int flags)
{
	return be->create1(flags);
}

static inline int ep_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
	return be->ctl(epfd, op, fd, event);
}

static inline int ep_wait(int epfd, struct epoll_event *events, int maxevents,
			  int timeout)
{
	return be->wait(epfd, events, maxevents, timeout);
}

static inline int ep_pwait(int epfd, struct epoll_event *events,
			   int maxevents, int timeout, const sigset_t *sigmask)
{
	return be->pwait(epfd, events, maxevents, timeout, sigmask);
}

static inline int ep_pwait2(int epfd, struct epoll_event *events,
			    int maxevents, const struct timespec *timeout,
			    const sigset_t *sigmask)
{
	return be->pwait2(epfd, events, maxevents, timeout, sigmask);
}

static inline int ep_raw_pwait(int epfd, struct epoll_event *events,
			       int maxevents, int timeout, const void *sigmask,
			       size_t sigsetsize)
{
	return be->raw_pwait(epfd, events, maxevents, timeout, sigmask,
			     sigsetsize);
}

#endif /* EPM_BACKEND_H */
