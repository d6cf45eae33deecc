#pragma once
// 2-D f32 Convolution as a GEMM: the input is unfolded (im2col) into a [C*kh*kw, OH*OW] matrix
// per image, which the packed GEMM multiplies by the filters packed once at compile time.
#include "cpu/kernel_context.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::cpu {

/// A kernel for `node` when it is an f32 Convolution of rank-4 data by constant rank-4 filters;
/// otherwise an empty function.
KernelFn make_conv2d_f32_kernel(const Node& node, const KernelContext& kc);

}  // namespace kiln::cpu
