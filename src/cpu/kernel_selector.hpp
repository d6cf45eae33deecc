#pragma once
// Chooses, at compile time, the optimized kernel each node runs on the CPU device; nodes without
// one keep their reference kernel.
#include "cpu/thread_pool.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::cpu {

/// Kernels may split their work over `pool`, which outlives them (the compiled model owns both).
KernelFn select_kernel(const Node& node, ThreadPool& pool);

}  // namespace kiln::cpu
