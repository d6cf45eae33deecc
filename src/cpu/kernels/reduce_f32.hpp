#pragma once
// f32 ReduceSum and ReduceMean over one contiguous run of axes (LayerNorm's last axis, a global
// average over H and W, a middle axis), with constant axes: rows are summed with the vector
// primitives and split over the request's threads.
#include "cpu/kernel_context.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::cpu {

/// A kernel for `node` when it is an f32 ReduceSum or ReduceMean of static rank whose constant
/// axes are non-empty and adjacent; otherwise an empty function.
KernelFn make_reduce_f32_kernel(const Node& node, const KernelContext& kc);

}  // namespace kiln::cpu
