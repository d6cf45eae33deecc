#pragma once
// What the elementwise-family kernels share: outputs allocated without zero filling (every
// element is written anyway) and the split of a flat element range over the thread pool.
#include <algorithm>
#include <cstdint>
#include <functional>

#include "cpu/thread_pool.hpp"
#include "kiln/tensor.hpp"

namespace kiln::cpu::ew {

/// A 64-byte aligned tensor whose contents are left uninitialized.
Tensor uninitialized_tensor(ElementType type, Shape shape);

/// Costs of 64 elements for ThreadPool's inlining decision, whose unit is about one scalar
/// operation (a vector instruction handles 8 or 16 elements): memory-bound arithmetic (inline
/// below 80K elements), and the polynomial functions exp, erf, tanh, ... (below 13K).
inline constexpr int64_t kCheapCost = 16;
inline constexpr int64_t kMathCost = 96;

/// The cost of `n` elements at `cost_per_64` (at least 1).
inline int64_t cost_of(int64_t n, int64_t cost_per_64) {
    return std::max<int64_t>(1, n / 64 * cost_per_64 + n % 64 * cost_per_64 / 64);
}

/// Calls fn(lo, hi) over disjoint element ranges covering [0, n), in parallel when the work is
/// worth it; range starts are multiples of 64 elements so vector rows stay aligned.
void parallel_elements(ThreadPool& pool, int64_t n, int64_t cost_per_64,
                       const std::function<void(int64_t lo, int64_t hi)>& fn);

}  // namespace kiln::cpu::ew
