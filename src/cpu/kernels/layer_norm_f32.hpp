#pragma once
// The kiln1 LayerNorm (and RMSNorm) on f32 rows with constant scale and bias: one pass per row
// normalizes and applies scale and bias; rows are split over the thread pool.
#include "cpu/kernel_context.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::cpu {

/// A kernel for an f32 LayerNorm node whose scale and bias are constants; else an empty function.
KernelFn make_layer_norm_f32_kernel(const Node& node, const KernelContext& kc);

}  // namespace kiln::cpu
