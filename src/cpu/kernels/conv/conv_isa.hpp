#pragma once
/// \file Entry points of the ISA-specific convolution files. They are compiled with their own -m
/// flags, so this header (all they include besides <immintrin.h>) declares plain functions only.
#include <cstdint>

#include "ops/nn/activation_kind.hpp"

namespace kiln::cpu::conv::detail {

/// y[i] = act(y[i] + bias + res[i]) for i < n (res may be null); false when `kind` has no
/// vector form here (sigmoid), leaving y untouched.
bool apply_epilogue_avx512(nn::ActivationKind kind, float alpha, float beta, float bias,
                           const float* res, float* y, int64_t n);

/// One output row of a depthwise convolution: y[ox] = sum_ij w[i*k + j] * x[i*ldx + ox*s + j]
/// for ox < ow, over a zero-padded input readable 16 * s + k floats past each row's last
/// window. Handles k in {3, 5} and s in {1, 2}; false for anything else.
bool depthwise_row_avx512(int k, int s, const float* x, int64_t ldx, const float* w, float* y,
                          int64_t ow);

}  // namespace kiln::cpu::conv::detail
