// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
// A minimal check macro for the host tests: report, count, go on.
#ifndef EPOLLMOD_TESTS_CHECK_H
#define EPOLLMOD_TESTS_CHECK_H

#include <cstdio>

inline int check_failures;

#define CHECK(cond)                                                       \
	do {                                                              \
		if (!(cond)) {                                            \
			std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", \
				     __FILE__, __LINE__, #cond);          \
			++check_failures;                                 \
		}                                                         \
	} while (0)

#define CHECK_ERR(call, err)                                                 \
	do {                                                                 \
		errno = 0;                                                   \
		long r_ = (call);                                            \
		int e_ = errno;                                              \
		if (r_ != -1 || e_ != (err)) {                               \
			std::fprintf(stderr,                                 \
				     "%s:%d: %s returned %ld errno %d (%s)," \
				     " expected -1 errno %d (%s)\n",         \
				     __FILE__, __LINE__, #call, r_, e_,      \
				     strerrorname_np(e_), (err),             \
				     strerrorname_np(err));                  \
			++check_failures;                                    \
		}                                                            \
	} while (0)

inline int check_report(const char *name)
{
	if (check_failures)
		std::fprintf(stderr, "%s: %d checks failed\n", name,
			     check_failures);
	return check_failures ? 1 : 0;
}

#endif
