#pragma once
// Convolution as a GEMM against filters packed at compile time: Y^T[OH*OW, O] = X^T * W^T, where
// X is the NCHW input itself for a 1x1 stride-1 unpadded window and its im2col unfolding
// otherwise. Output tiles are transposed back to NCHW and finished by the epilogue per tile.
#include "cpu/kernels/conv/conv_geometry.hpp"
#include "cpu/kernels/gemm/gemm.hpp"
#include "cpu/thread_pool.hpp"
#include "kiln/tensor.hpp"

namespace kiln::cpu::conv {

/// y = epilogue(conv(x)); y is allocated by the caller with the output shape, res (the
/// residual) is null or of y's shape.
void run_gemm_conv(const ConvSpec& spec, const Geometry& g, const gemm::PackedB& filters,
                   const Tensor& x, const Tensor* res, Tensor& y, ThreadPool& pool);

}  // namespace kiln::cpu::conv
