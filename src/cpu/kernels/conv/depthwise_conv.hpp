#pragma once
// Depthwise convolution (one filter per channel) computed directly, one channel plane per task:
// the plane is copied into a zero-padded buffer so every window reads without bounds checks, and
// each output row gets the epilogue as soon as it is written.
#include "cpu/kernels/conv/conv_geometry.hpp"
#include "cpu/thread_pool.hpp"
#include "kiln/tensor.hpp"

namespace kiln::cpu::conv {

/// y = epilogue(depthwise conv(x)) with `weights` [C, kh, kw]; y is allocated by the caller.
void run_depthwise_conv(const ConvSpec& spec, const Geometry& g, const float* weights,
                        const Tensor& x, const Tensor* res, Tensor& y, ThreadPool& pool);

}  // namespace kiln::cpu::conv
