#pragma once
// Chooses, at compile time, the optimized kernel each node runs on the CPU device; nodes without
// one keep their reference kernel.
#include "cpu/kernel_context.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::cpu {

KernelFn select_kernel(const Node& node, const KernelContext& kc);

}  // namespace kiln::cpu
