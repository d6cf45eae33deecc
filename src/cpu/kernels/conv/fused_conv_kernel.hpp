#pragma once
// CPU kernels of the 2-D f32 convolutions with a fused epilogue (bias, residual, activation):
// pointwise and KxK convolutions as a packed GEMM (1x1 stride-1 reads the NCHW input in place,
// others unfold it), depthwise convolutions directly. Each output block gets its epilogue right
// after it is computed, while still in cache.
#include "cpu/kernel_context.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::cpu {

/// A kernel for a FusedConvolution, a plain 2-D Convolution or a depthwise GroupConvolution of
/// f32 NCHW data by constant filters; otherwise (other groupings, dynamic channels) an empty
/// function.
KernelFn make_fused_conv_kernel(const Node& node, const KernelContext& kc);

}  // namespace kiln::cpu
