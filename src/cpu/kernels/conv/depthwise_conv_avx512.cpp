// AVX-512 rows of a depthwise convolution: 16 outputs per vector, taps unrolled at compile time.
// Stride 2 gathers the even elements of two loads with one permute.
#include <immintrin.h>

#include "cpu/kernels/conv/conv_activate_avx512.hpp"
#include "cpu/kernels/conv/conv_isa.hpp"

namespace kiln::cpu::conv::detail {
namespace {

template <int K, int S>
inline __m512 taps(const float* x, int64_t ldx, const __m512* w, int64_t ox) {
    __m512 acc = _mm512_setzero_ps();
    const __m512i even =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
#pragma GCC unroll 5
    for (int i = 0; i < K; ++i) {
        const float* row = x + i * ldx + ox * S;
#pragma GCC unroll 5
        for (int j = 0; j < K; ++j) {
            __m512 v;
            if constexpr (S == 1) {
                v = _mm512_loadu_ps(row + j);
            } else {
                v = _mm512_permutex2var_ps(_mm512_loadu_ps(row + j), even,
                                           _mm512_loadu_ps(row + j + 16));
            }
            acc = _mm512_fmadd_ps(w[i * K + j], v, acc);
        }
    }
    return acc;
}

// The epilogue in registers: act(acc + bias + res), the reference's order of additions.
template <nn::ActivationKind A>
inline __m512 finish(__m512 acc, const TileEpilogue* epi, int64_t ox, __mmask16 m) {
    if (!epi) return acc;
    acc = _mm512_add_ps(acc, _mm512_set1_ps(*epi->bias));
    if (epi->res) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(m, epi->res + ox));
    return activate<A>(acc, _mm512_set1_ps(epi->alpha), _mm512_set1_ps(epi->beta));
}

template <int K, int S, nn::ActivationKind A>
void row(const float* x, int64_t ldx, const float* wf, float* y, int64_t ow,
         const TileEpilogue* epi) {
    __m512 w[K * K];
    for (int i = 0; i < K * K; ++i) w[i] = _mm512_set1_ps(wf[i]);
    int64_t ox = 0;
    for (; ox + 16 <= ow; ox += 16)
        _mm512_storeu_ps(y + ox, finish<A>(taps<K, S>(x, ldx, w, ox), epi, ox, 0xFFFF));
    if (ox < ow) {
        const __mmask16 m = static_cast<__mmask16>((1u << (ow - ox)) - 1);
        _mm512_mask_storeu_ps(y + ox, m, finish<A>(taps<K, S>(x, ldx, w, ox), epi, ox, m));
    }
}

template <nn::ActivationKind A>
bool row_for(int k, int s, const float* x, int64_t ldx, const float* w, float* y, int64_t ow,
             const TileEpilogue* epi) {
    if (k == 3 && s == 1) {
        row<3, 1, A>(x, ldx, w, y, ow, epi);
    } else if (k == 3 && s == 2) {
        row<3, 2, A>(x, ldx, w, y, ow, epi);
    } else if (k == 5 && s == 1) {
        row<5, 1, A>(x, ldx, w, y, ow, epi);
    } else if (k == 5 && s == 2) {
        row<5, 2, A>(x, ldx, w, y, ow, epi);
    } else {
        return false;
    }
    return true;
}

}  // namespace

bool depthwise_row_avx512(int k, int s, const float* x, int64_t ldx, const float* w, float* y,
                          int64_t ow, const TileEpilogue* epi) {
    using nn::ActivationKind;
    switch (epi ? epi->kind : ActivationKind::none) {
        case ActivationKind::none:
            return row_for<ActivationKind::none>(k, s, x, ldx, w, y, ow, epi);
        case ActivationKind::relu:
            return row_for<ActivationKind::relu>(k, s, x, ldx, w, y, ow, epi);
        case ActivationKind::clamp:
            return row_for<ActivationKind::clamp>(k, s, x, ldx, w, y, ow, epi);
        case ActivationKind::hswish:
            return row_for<ActivationKind::hswish>(k, s, x, ldx, w, y, ow, epi);
        case ActivationKind::hsigmoid:
            return row_for<ActivationKind::hsigmoid>(k, s, x, ldx, w, y, ow, epi);
        case ActivationKind::hard_sigmoid:
            return row_for<ActivationKind::hard_sigmoid>(k, s, x, ldx, w, y, ow, epi);
        case ActivationKind::sigmoid:
            break;
    }
    return false;
}

}  // namespace kiln::cpu::conv::detail
