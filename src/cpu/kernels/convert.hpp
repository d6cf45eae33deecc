#pragma once
// Convert between f32 and f16, bf16 or i64 with vector loops, split over the request's threads.
// Other type pairs keep the reference kernel.
#include "cpu/kernel_context.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::cpu {

/// A kernel for `node` when it is a Convert from f32 to f16, bf16 or i64, or back to f32;
/// otherwise an empty function.
KernelFn make_convert_kernel(const Node& node, const KernelContext& kc);

}  // namespace kiln::cpu
