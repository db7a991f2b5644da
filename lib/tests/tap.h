// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
//
// What the C++ tests run in the VM share: TAP output, a per-test EXPECT,
// and a count of every allocation (the wrapper's calls must make none).
// Included by one translation unit of a test program: it replaces the
// global operator new and delete.
#ifndef EPOLLMOD_TESTS_TAP_H
#define EPOLLMOD_TESTS_TAP_H

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

inline std::atomic<long> allocations;

void *operator new(std::size_t n)
{
	allocations.fetch_add(1, std::memory_order_relaxed);
	if (void *p = std::malloc(n ? n : 1))
		return p;
	throw std::bad_alloc();
}
void operator delete(void *p) noexcept
{
	std::free(p);
}
void operator delete(void *p, std::size_t) noexcept
{
	std::free(p);
}

inline int failures, tests;
inline bool test_failed;

#define EXPECT(cond)                                                     \
	do {                                                             \
		if (!(cond)) {                                           \
			std::printf("# %s:%d: %s\n", __FILE__, __LINE__, \
				    #cond);                              \
			test_failed = true;                              \
		}                                                        \
	} while (0)

// Runs @f as test @group.@name and prints its TAP line.
inline void tap_run(const char *group, const char *name, void (*f)())
{
	test_failed = false;
	f();
	tests++;
	std::printf("%sok %d %s.%s\n", test_failed ? "not " : "", tests, group,
		    name);
	failures += test_failed;
}

inline void tap_skip(const char *group, const char *name,
		     const std::string &why)
{
	tests++;
	std::printf("ok %d # SKIP %s.%s: %s\n", tests, group, name,
		    why.c_str());
}

#endif // EPOLLMOD_TESTS_TAP_H
