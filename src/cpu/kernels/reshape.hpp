#pragma once
// Reshape as a view of its input, its target shape resolved from the input's shape directly:
// the reference kernel runs the op's whole shape inference on every call, which a decode step
// pays at every layer for a few hundred bytes of data.
#include "cpu/kernel_context.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::cpu {

/// A kernel for `node` when it is a Reshape (opset1); otherwise an empty function.
KernelFn make_reshape_kernel(const Node& node, const KernelContext& kc);

}  // namespace kiln::cpu
