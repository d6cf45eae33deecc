#pragma once
// What Concat and Split share: both move one contiguous segment of every row (the product of
// the axes before `axis`) with memcpy over the request's threads.
#include <cstdint>

#include "kiln/shape.hpp"

namespace kiln::cpu::row_copies {

/// Bytes copied per unit of ThreadPool's cost, as for memory-bound elementwise arithmetic
/// (ew::kCheapCost per 64 floats): copies under ~320 KB run inline.
inline constexpr int64_t kBytesPerCostUnit = 16;

/// The product of dims [begin, end) of `s`.
inline int64_t product(const Shape& s, int64_t begin, int64_t end) {
    int64_t p = 1;
    for (int64_t d = begin; d < end; ++d) p *= s[static_cast<size_t>(d)];
    return p;
}

}  // namespace kiln::cpu::row_copies
