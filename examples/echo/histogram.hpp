// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
//
// A latency histogram of fixed size: any number of samples, no allocation,
// percentiles to within 1/32 (about 3%) of the value.
#ifndef EPOLLMOD_EXAMPLES_HISTOGRAM_HPP
#define EPOLLMOD_EXAMPLES_HISTOGRAM_HPP

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace echo
{

class histogram
{
public:
	void add(std::uint64_t v) noexcept
	{
		counts_[index(v)]++;
		total_++;
		max_ = std::max(max_, v);
	}

	std::uint64_t count() const noexcept { return total_; }
	std::uint64_t max() const noexcept { return max_; }

	// The value at or below which a fraction q of the samples lie, rounded
	// up to the top of its bucket; 0 without samples.
	std::uint64_t quantile(double q) const noexcept
	{
		auto rank = std::uint64_t(std::ceil(q * double(total_)));
		std::uint64_t seen = 0;

		for (std::size_t i = 0; i < counts_.size(); i++) {
			seen += counts_[i];
			if (seen >= rank && seen > 0)
				return std::min(upper_bound(i), max_);
		}
		return 0;
	}

private:
	// Values below 2 * sub_buckets have a bucket each; above, every power
	// of two is split into sub_buckets equal parts.
	static constexpr unsigned sub_bits = 5;
	static constexpr std::uint64_t sub_buckets = 1u << sub_bits;

	static constexpr std::size_t index(std::uint64_t v) noexcept
	{
		if (v < 2 * sub_buckets)
			return std::size_t(v);
		unsigned shift = unsigned(std::bit_width(v)) - 1 - sub_bits;
		return std::size_t((shift << sub_bits) + (v >> shift));
	}

	static constexpr std::uint64_t upper_bound(std::size_t i) noexcept
	{
		if (i < 2 * sub_buckets)
			return i;
		std::uint64_t shift = (i >> sub_bits) - 1;
		std::uint64_t top = (i & (sub_buckets - 1)) + sub_buckets;
		return ((top + 1) << shift) - 1;
	}

	// Up to index(UINT64_MAX): shift 64 - 1 - sub_bits, top 2 * sub_buckets
	// - 1.
	std::array<std::uint64_t, (65 - sub_bits) << sub_bits> counts_{};
	std::uint64_t total_ = 0;
	std::uint64_t max_ = 0;
};

} // namespace echo

#endif // EPOLLMOD_EXAMPLES_HISTOGRAM_HPP
