// AVX-512 max pooling: 16 outputs of a row at once, the argmax tracked with compare masks.
#include <immintrin.h>

#include "cpu/kernels/pool/pool_isa.hpp"

namespace kiln::cpu::pool::detail {
namespace {

// 16 values x[o*S] for o < 16 (lanes past `n` read nothing and give 0).
template <int S>
inline __m512 strided(const float* x, int64_t n) {
    const __mmask16 m = n >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << n) - 1);
    if constexpr (S == 1) {
        return _mm512_maskz_loadu_ps(m, x);
    } else {
        const __m512i even =
            _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        // Lane o needs element 2*o: the low load covers o < 8, the high one o >= 8.
        const int64_t lo_n = n >= 8 ? 16 : 2 * n - 1;
        const int64_t hi_n = n <= 8 ? 0 : 2 * (n - 8) - 1;
        const __mmask16 lo = lo_n >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << lo_n) - 1);
        const __mmask16 hi = hi_n >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << hi_n) - 1);
        return _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(lo, x), even,
                                      _mm512_maskz_loadu_ps(hi, x + 16));
    }
}

template <int S>
void row(const float* plane, int64_t w, const int64_t* rows, int64_t nrows, int64_t kw, int64_t ix0,
         int64_t count, float* y, int32_t* at) {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i step = _mm512_mullo_epi32(lane, _mm512_set1_epi32(S));
    for (int64_t o = 0; o < count; o += 16) {
        const int64_t n = count - o < 16 ? count - o : 16;
        const int64_t col = ix0 + o * S;
        __m512 best = strided<S>(plane + rows[0] * w + col, n);
        __m512i best_at =
            _mm512_add_epi32(_mm512_set1_epi32(static_cast<int32_t>(rows[0] * w + col)), step);
        for (int64_t r = 0; r < nrows; ++r) {
            for (int64_t j = r == 0 ? 1 : 0; j < kw; ++j) {
                const int64_t off = rows[r] * w + col + j;
                const __m512 v = strided<S>(plane + off, n);
                const __mmask16 gt = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
                best = _mm512_mask_blend_ps(gt, best, v);
                best_at = _mm512_mask_blend_epi32(
                    gt, best_at,
                    _mm512_add_epi32(_mm512_set1_epi32(static_cast<int32_t>(off)), step));
            }
        }
        const __mmask16 m = n >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << n) - 1);
        _mm512_mask_storeu_ps(y + o, m, best);
        _mm512_mask_storeu_epi32(at + o, m, best_at);
    }
}

}  // namespace

bool max_row_avx512(const float* plane, int64_t w, const int64_t* rows, int64_t nrows, int64_t kw,
                    int64_t sx, int64_t ix0, int64_t count, float* y, int32_t* at) {
    if (sx == 1)
        row<1>(plane, w, rows, nrows, kw, ix0, count, y, at);
    else if (sx == 2)
        row<2>(plane, w, rows, nrows, kw, ix0, count, y, at);
    else
        return false;
    return true;
}

}  // namespace kiln::cpu::pool::detail
