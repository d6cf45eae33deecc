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

namespace kiln::cpu::conv::detail {

/// Winograd F(2x2, 3x3) input transform of one tile row: for the `count` (<= 16) tiles starting at
/// tile column tx0, reads the 4x4 patches at rows r0..r0+3 (pointers `rows`, each readable 2 * 16
/// + 4 floats past 2 * tx0) and writes the 16 transformed values of tile k to v[e * ldv + k].
void winograd_input_avx512(const float* const rows[4], int64_t tx0, int count, float* v,
                           int64_t ldv);

/// Winograd F(2x2, 3x3) output transform of `count` (<= 16) tiles of one tile row: m[e * ldm + k]
/// holds the 16 products of tile k; writes the 2x2 outputs, finished by `epi` (bias[0]; res the
/// first output row's residual, res + ldr the second's), to y (row 0) and y + ldy (row 1), `cols`
/// (<= 32) columns, and row 1 only when `two_rows`.
void winograd_output_avx512(const float* m, int64_t ldm, int count, float* y, int64_t ldy, int cols,
                            bool two_rows, const TileEpilogue& epi);

}  // namespace kiln::cpu::conv::detail
