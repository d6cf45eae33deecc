#pragma once
// MatMul with a constant f32 weight, run by the packed GEMM: the weight is packed once when the
// model is compiled and every call multiplies the activation rows against the packed panels.
// FullyConnected (MatMul + constant bias) runs the same way, the bias added to each finished
// block of the product.
#include "cpu/kernel_context.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::cpu {

/// A kernel for `node` when it is a MatMul of an f32 activation of rank >= 2 (not transposed) by
/// a constant rank-2 f32 weight, or a FullyConnected with constant f32 weight and bias;
/// otherwise an empty function.
/// The product is split over `pool` by row tiles, or by column panels when there are few rows.
KernelFn make_matmul_f32_kernel(const Node& node, const KernelContext& kc);

}  // namespace kiln::cpu
