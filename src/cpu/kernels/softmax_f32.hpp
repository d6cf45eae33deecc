#pragma once
// f32 Softmax (opset8) and LogSoftmax (opset5) along any axis, with the vectorized exp, split
// over the request's threads by rows (last axis) or by blocks of columns (other axes).
#include "cpu/kernel_context.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::cpu {

/// A kernel for `node` when it is an f32 Softmax or LogSoftmax of static rank; otherwise an
/// empty function.
KernelFn make_softmax_f32_kernel(const Node& node, const KernelContext& kc);

}  // namespace kiln::cpu
