// The AVX-512 micro-kernel of the NCHW convolution product: a 12 x 32 tile in 24 accumulators,
// filters broadcast from their packed panel, input rows loaded in place (masked past `cols`, so
// no packing and no partial-tile copies), and the epilogue applied in registers before the store.
#include <immintrin.h>

#include "cpu/kernels/conv/conv_activate_avx512.hpp"
#include "cpu/kernels/conv/conv_isa.hpp"

namespace kiln::cpu::conv::detail {

using nn::ActivationKind;

namespace {

constexpr int kMr = kNchwRows;
constexpr int64_t kPrefetch = 6;  // k steps ahead

template <int Rows, ActivationKind K>
void tile(int cols, int64_t k, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
          bool accumulate, const TileEpilogue* epi) {
    const __mmask16 m0 = cols >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << cols) - 1);
    const __mmask16 m1 = cols >= 32   ? 0xFFFF
                         : cols <= 16 ? 0
                                      : static_cast<__mmask16>((1u << (cols - 16)) - 1);
    __m512 acc0[Rows], acc1[Rows];
#pragma GCC unroll 12
    for (int r = 0; r < Rows; ++r) {
        acc0[r] = _mm512_setzero_ps();
        acc1[r] = _mm512_setzero_ps();
    }
#pragma GCC unroll 2
    for (int64_t p = 0; p < k; ++p) {
        _mm_prefetch(reinterpret_cast<const char*>(b + kPrefetch * ldb), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(b + kPrefetch * ldb + 16), _MM_HINT_T0);
        const __m512 b0 = _mm512_maskz_loadu_ps(m0, b);
        const __m512 b1 = _mm512_maskz_loadu_ps(m1, b + 16);
#pragma GCC unroll 12
        for (int r = 0; r < Rows; ++r) {
            const __m512 av = _mm512_set1_ps(a[r]);
            acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
            acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
        }
        a += kMr;
        b += ldb;
    }
    const __m512 alpha = _mm512_set1_ps(epi ? epi->alpha : 0.f);
    const __m512 beta = _mm512_set1_ps(epi ? epi->beta : 0.f);
#pragma GCC unroll 12
    for (int r = 0; r < Rows; ++r) {
        float* row = c + r * ldc;
        __m512 v0 = acc0[r], v1 = acc1[r];
        if (accumulate) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, row));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, row + 16));
        }
        if (epi) {
            // The same additions, in the same order, as the reference: conv + bias + residual.
            const __m512 bias = _mm512_set1_ps(epi->bias[r]);
            v0 = _mm512_add_ps(v0, bias);
            v1 = _mm512_add_ps(v1, bias);
            if (epi->res) {
                v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, epi->res + r * epi->ldr));
                v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, epi->res + r * epi->ldr + 16));
            }
            v0 = activate<K>(v0, alpha, beta);
            v1 = activate<K>(v1, alpha, beta);
        }
        _mm512_mask_storeu_ps(row, m0, v0);
        _mm512_mask_storeu_ps(row + 16, m1, v1);
    }
}

template <ActivationKind K>
void by_rows(int rows, int cols, int64_t k, const float* a, const float* b, int64_t ldb, float* c,
             int64_t ldc, bool accumulate, const TileEpilogue* epi) {
    using Fn = void (*)(int, int64_t, const float*, const float*, int64_t, float*, int64_t, bool,
                        const TileEpilogue*);
    static constexpr Fn kTiles[kMr + 1] = {
        nullptr,    tile<1, K>, tile<2, K>, tile<3, K>,  tile<4, K>,  tile<5, K>, tile<6, K>,
        tile<7, K>, tile<8, K>, tile<9, K>, tile<10, K>, tile<11, K>, tile<12, K>};
    kTiles[rows](cols, k, a, b, ldb, c, ldc, accumulate, epi);
}

}  // namespace

bool nchw_tile_avx512(int rows, int cols, int64_t k, const float* a, const float* b, int64_t ldb,
                      float* c, int64_t ldc, bool accumulate, const TileEpilogue* epi) {
    switch (epi ? epi->kind : ActivationKind::none) {
        case ActivationKind::none:
            by_rows<ActivationKind::none>(rows, cols, k, a, b, ldb, c, ldc, accumulate, epi);
            return true;
        case ActivationKind::relu:
            by_rows<ActivationKind::relu>(rows, cols, k, a, b, ldb, c, ldc, accumulate, epi);
            return true;
        case ActivationKind::clamp:
            by_rows<ActivationKind::clamp>(rows, cols, k, a, b, ldb, c, ldc, accumulate, epi);
            return true;
        case ActivationKind::hswish:
            by_rows<ActivationKind::hswish>(rows, cols, k, a, b, ldb, c, ldc, accumulate, epi);
            return true;
        case ActivationKind::hsigmoid:
            by_rows<ActivationKind::hsigmoid>(rows, cols, k, a, b, ldb, c, ldc, accumulate, epi);
            return true;
        case ActivationKind::hard_sigmoid:
            by_rows<ActivationKind::hard_sigmoid>(rows, cols, k, a, b, ldb, c, ldc, accumulate,
                                                  epi);
            return true;
        case ActivationKind::sigmoid:
            break;
    }
    return false;
}

}  // namespace kiln::cpu::conv::detail
