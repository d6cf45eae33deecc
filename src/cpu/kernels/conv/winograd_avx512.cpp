// AVX-512 transforms of Winograd F(2x2, 3x3), 16 tiles of a tile row per vector.
//   input:  V = B^T d B,  B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   output: Y = A^T M A,  A^T = [1 1 1 0; 0 1 -1 -1]
#include <immintrin.h>

#include "cpu/kernels/conv/conv_activate_avx512.hpp"
#include "cpu/kernels/conv/conv_isa.hpp"

namespace kiln::cpu::conv::detail {

namespace {

inline __mmask16 lanes(int n) {
    if (n <= 0) return 0;
    return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1);
}

template <nn::ActivationKind A>
void output_tiles(const float* m, int64_t ldm, int count, float* y, int64_t ldy, int cols,
                  bool two_rows, const TileEpilogue& epi) {
    const __mmask16 mk = lanes(count);
    __m512 v[16];
    for (int e = 0; e < 16; ++e) v[e] = _mm512_maskz_loadu_ps(mk, m + e * ldm);
    __m512 s0[4], s1[4];
    for (int j = 0; j < 4; ++j) {
        s0[j] = _mm512_add_ps(_mm512_add_ps(v[j], v[4 + j]), v[8 + j]);
        s1[j] = _mm512_sub_ps(_mm512_sub_ps(v[4 + j], v[8 + j]), v[12 + j]);
    }
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi =
        _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __mmask16 c0 = lanes(cols), c1 = lanes(cols - 16);
    const __m512 bias = _mm512_set1_ps(*epi.bias);
    const __m512 alpha = _mm512_set1_ps(epi.alpha), beta = _mm512_set1_ps(epi.beta);
    for (int i = 0; i < (two_rows ? 2 : 1); ++i) {
        const __m512* s = i == 0 ? s0 : s1;
        const __m512 y0 = _mm512_add_ps(_mm512_add_ps(s[0], s[1]), s[2]);
        const __m512 y1 = _mm512_sub_ps(_mm512_sub_ps(s[1], s[2]), s[3]);
        __m512 a = _mm512_add_ps(_mm512_permutex2var_ps(y0, lo, y1), bias);
        __m512 b = _mm512_add_ps(_mm512_permutex2var_ps(y0, hi, y1), bias);
        float* row = y + i * ldy;
        if (epi.res) {
            const float* r = epi.res + i * epi.ldr;
            a = _mm512_add_ps(a, _mm512_maskz_loadu_ps(c0, r));
            b = _mm512_add_ps(b, _mm512_maskz_loadu_ps(c1, r + 16));
        }
        _mm512_mask_storeu_ps(row, c0, activate<A>(a, alpha, beta));
        _mm512_mask_storeu_ps(row + 16, c1, activate<A>(b, alpha, beta));
    }
}

}  // namespace

void winograd_input_avx512(const float* const rows[4], int64_t tx0, int count, float* v,
                           int64_t ldv) {
    const __m512i even =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd =
        _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    __m512 t[4][4];
    __m512 d[4][4];
    for (int i = 0; i < 4; ++i) {
        const float* p = rows[i] + 2 * tx0;
        const __m512 a0 = _mm512_loadu_ps(p), a1 = _mm512_loadu_ps(p + 16);
        const __m512 b0 = _mm512_loadu_ps(p + 2), b1 = _mm512_loadu_ps(p + 18);
        d[i][0] = _mm512_permutex2var_ps(a0, even, a1);
        d[i][1] = _mm512_permutex2var_ps(a0, odd, a1);
        d[i][2] = _mm512_permutex2var_ps(b0, even, b1);
        d[i][3] = _mm512_permutex2var_ps(b0, odd, b1);
    }
    for (int j = 0; j < 4; ++j) {
        t[0][j] = _mm512_sub_ps(d[0][j], d[2][j]);
        t[1][j] = _mm512_add_ps(d[1][j], d[2][j]);
        t[2][j] = _mm512_sub_ps(d[2][j], d[1][j]);
        t[3][j] = _mm512_sub_ps(d[1][j], d[3][j]);
    }
    const __mmask16 mk = lanes(count);
    for (int i = 0; i < 4; ++i) {
        _mm512_mask_storeu_ps(v + (i * 4 + 0) * ldv, mk, _mm512_sub_ps(t[i][0], t[i][2]));
        _mm512_mask_storeu_ps(v + (i * 4 + 1) * ldv, mk, _mm512_add_ps(t[i][1], t[i][2]));
        _mm512_mask_storeu_ps(v + (i * 4 + 2) * ldv, mk, _mm512_sub_ps(t[i][2], t[i][1]));
        _mm512_mask_storeu_ps(v + (i * 4 + 3) * ldv, mk, _mm512_sub_ps(t[i][1], t[i][3]));
    }
}

void winograd_output_avx512(const float* m, int64_t ldm, int count, float* y, int64_t ldy, int cols,
                            bool two_rows, const TileEpilogue& epi) {
    using nn::ActivationKind;
    switch (epi.kind) {
        case ActivationKind::relu:
            return output_tiles<ActivationKind::relu>(m, ldm, count, y, ldy, cols, two_rows, epi);
        case ActivationKind::clamp:
            return output_tiles<ActivationKind::clamp>(m, ldm, count, y, ldy, cols, two_rows, epi);
        case ActivationKind::hswish:
            return output_tiles<ActivationKind::hswish>(m, ldm, count, y, ldy, cols, two_rows, epi);
        case ActivationKind::hsigmoid:
            return output_tiles<ActivationKind::hsigmoid>(m, ldm, count, y, ldy, cols, two_rows,
                                                          epi);
        case ActivationKind::hard_sigmoid:
            return output_tiles<ActivationKind::hard_sigmoid>(m, ldm, count, y, ldy, cols, two_rows,
                                                              epi);
        default:  // none; the driver finishes sigmoid itself
            return output_tiles<ActivationKind::none>(m, ldm, count, y, ldy, cols, two_rows, epi);
    }
}

}  // namespace kiln::cpu::conv::detail
