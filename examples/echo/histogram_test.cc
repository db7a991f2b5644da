// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
// The load generator's percentiles: exact below 64, within 1/32 above.
#include "histogram.hpp"

#include <cstdint>
#include <cstdio>

namespace
{

int failures;

void expect(const char *what, std::uint64_t got, std::uint64_t lo,
	    std::uint64_t hi)
{
	if (got >= lo && got <= hi)
		return;
	std::fprintf(stderr, "%s: %llu, expected %llu..%llu\n", what,
		     (unsigned long long)got, (unsigned long long)lo,
		     (unsigned long long)hi);
	failures++;
}

} // namespace

int main()
{
	echo::histogram empty;
	expect("empty p50", empty.quantile(0.5), 0, 0);

	echo::histogram small;
	for (std::uint64_t v = 1; v <= 10; v++)
		small.add(v);
	expect("1..10 p50", small.quantile(0.5), 5, 5);
	expect("1..10 p90", small.quantile(0.9), 9, 9);
	expect("1..10 p100", small.quantile(1.0), 10, 10);

	// 1..100000 in steps of 1: p50 = 50000, p99 = 99000, to 1/32.
	echo::histogram big;
	for (std::uint64_t v = 1; v <= 100000; v++)
		big.add(v);
	expect("count", big.count(), 100000, 100000);
	expect("p50", big.quantile(0.5), 50000, 50000 + 50000 / 32);
	expect("p99", big.quantile(0.99), 99000, 99000 + 99000 / 32);
	expect("max", big.max(), 100000, 100000);
	// Never above the largest sample, though its bucket reaches further.
	expect("p100", big.quantile(1.0), 100000, 100000);

	echo::histogram huge;
	huge.add(UINT64_MAX);
	huge.add(1);
	expect("UINT64_MAX p100", huge.quantile(1.0), UINT64_MAX, UINT64_MAX);
	expect("UINT64_MAX p50", huge.quantile(0.5), 1, 1);

	return failures ? 1 : 0;
}
