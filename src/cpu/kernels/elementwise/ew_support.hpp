#pragma once
// What the elementwise-family kernels share: outputs allocated without zero filling (every
// element is written anyway) and the split of a flat element range over the thread pool.
#include <cstdint>
#include <functional>

#include "cpu/thread_pool.hpp"
#include "kiln/tensor.hpp"

namespace kiln::cpu::ew {

/// A 64-byte aligned tensor whose contents are left uninitialized.
Tensor uninitialized_tensor(ElementType type, Shape shape);

/// Per-element costs for ThreadPool's inlining decision: memory-bound arithmetic, and the
/// polynomial functions (exp, erf, tanh, ...), which cost several vector operations each.
inline constexpr int64_t kCheapCost = 1;
inline constexpr int64_t kMathCost = 6;

/// Calls fn(lo, hi) over disjoint element ranges covering [0, n), in parallel when the work is
/// worth it; range starts are multiples of 64 elements so vector rows stay aligned.
void parallel_elements(ThreadPool& pool, int64_t n, int64_t cost_per_element,
                       const std::function<void(int64_t lo, int64_t hi)>& fn);

}  // namespace kiln::cpu::ew
