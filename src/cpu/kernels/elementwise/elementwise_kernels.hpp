#pragma once
// f32 unary and binary elementwise ops on the vector primitives of ew_ops.hpp, split over the
// request's thread pool.
#include "cpu/kernel_context.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::cpu {

/// A kernel for `node` when it is one of the f32 unary ops (Relu, Sigmoid, Tanh, Erf, Exp, Sqrt,
/// Abs, Negative, Clamp, HSwish, HSigmoid, HardSigmoid, Swish, Gelu) or binary ops (Add, Subtract,
/// Multiply, Divide, Maximum, Minimum, Power, SquaredDifference); otherwise an empty function.
KernelFn make_elementwise_kernel(const Node& node, const KernelContext& kc);

KernelFn make_unary_f32_kernel(const Node& node, const KernelContext& kc);
KernelFn make_binary_f32_kernel(const Node& node, const KernelContext& kc);

}  // namespace kiln::cpu
