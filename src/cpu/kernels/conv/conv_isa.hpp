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

/// What the NCHW micro-kernel applies to a finished tile: c = act(c + bias[r] + res[r*ldr + j]).
struct TileEpilogue {
    nn::ActivationKind kind = nn::ActivationKind::none;
    float alpha = 0.f, beta = 0.f;
    const float* bias = nullptr;  // one per tile row
    const float* res = nullptr;   // null: no residual
    int64_t ldr = 0;
};

/// Rows of the AVX-512 NCHW micro-kernel (the filters' packed panel height).
constexpr int kNchwRows = 12;

/// C[rows, cols] (+)= A * B over k steps, for 1 <= rows <= 12 and 1 <= cols <= 32: A is a packed
/// filter panel (k groups of 12 floats), B is read in place, row p at b + p * ldb (cols floats),
/// C row r at c + r * ldc. With `epi` the tile is finished (bias, residual, activation) before
/// it is stored. False for an activation with no vector form (sigmoid): nothing is computed.
/// One output row of a depthwise convolution: y[ox] = sum_ij w[i*k + j] * x[i*ldx + ox*s + j]
/// for ox < ow, over a zero-padded input readable 16 * s + k floats past each row's last
/// window, finished by `epi` when given (bias[0], res: the row's residual). Handles k in {3, 5}
/// and s in {1, 2}, and the vector activations; false for anything else (nothing computed).
bool depthwise_row_avx512(int k, int s, const float* x, int64_t ldx, const float* w, float* y,
                          int64_t ow, const TileEpilogue* epi);

bool nchw_tile_avx512(int rows, int cols, int64_t k, const float* a, const float* b, int64_t ldb,
                      float* c, int64_t ldc, bool accumulate, const TileEpilogue* epi);

}  // namespace kiln::cpu::conv::detail
