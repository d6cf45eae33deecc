#pragma once
// MaxPool and AvgPool (global average pooling included) over f32 NCHW data, one channel plane per
// task. Window bounds are clipped once per output row and column instead of per tap.
#include "cpu/kernel_context.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::cpu {

/// A kernel for a 2-D MaxPool or AvgPool of f32 data; otherwise an empty function.
KernelFn make_pool_f32_kernel(const Node& node, const KernelContext& kc);

}  // namespace kiln::cpu
