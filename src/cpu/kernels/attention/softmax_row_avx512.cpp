// AVX-512 attention row: scale, mask and max in one sweep, exp and sum in the second, the
// normalization in the third; the row (a few hundred floats) stays in L1 throughout.
// GCC 12's AVX-512 headers start several intrinsics from _mm512_undefined_ps(), which
// -Wmaybe-uninitialized reports once inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <limits>

#include "cpu/kernels/attention/softmax_row.hpp"

namespace kiln::cpu::attention {
namespace {

// e^x as 2^n * e^r with |r| <= ln2/2 and a degree-6 Taylor polynomial (relative error ~2e-7);
// scalef applies 2^n without overflow handling of its own, and x below -100 gives 0.
__m512 exp16(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-100.f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.f / 720.f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 120.f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 24.f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 6.f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
    return _mm512_scalef_ps(p, n);
}

// Through memory: GCC 12's _mm512_reduce_*_ps trip -Wmaybe-uninitialized.
template <class Op>
float reduce16(__m512 v, Op op) {
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, v);
    float r = lanes[0];
    for (int i = 1; i < 16; ++i) r = op(r, lanes[i]);
    return r;
}

}  // namespace

void softmax_row_avx512(float* x, int64_t n, int64_t valid, const SoftmaxRow& p) {
    const __m512 scale = _mm512_set1_ps(p.scale);
    const __m512 neg_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
    __m512 vmax = neg_inf;
    for (int64_t j = 0; j < valid; j += 16) {
        const __mmask16 m =
            static_cast<__mmask16>(valid - j >= 16 ? 0xffff : (1u << (valid - j)) - 1u);
        __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + j), scale);
        if (p.mask)
            v = _mm512_add_ps(v, p.mask_stride ? _mm512_maskz_loadu_ps(m, p.mask + j)
                                               : _mm512_set1_ps(p.mask[0]));
        _mm512_mask_storeu_ps(x + j, m, v);
        vmax = _mm512_mask_max_ps(vmax, m, vmax, v);
    }
    const float mx = reduce16(vmax, [](float a, float b) { return std::max(a, b); });
    if (mx == -std::numeric_limits<float>::infinity()) {
        std::fill(x, x + n, 0.f);  // every position masked out
        return;
    }
    const __m512 vmx = _mm512_set1_ps(mx);
    __m512 vsum = _mm512_setzero_ps();
    for (int64_t j = 0; j < valid; j += 16) {
        const __mmask16 m =
            static_cast<__mmask16>(valid - j >= 16 ? 0xffff : (1u << (valid - j)) - 1u);
        const __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + j), vmx));
        _mm512_mask_storeu_ps(x + j, m, e);
        vsum = _mm512_mask_add_ps(vsum, m, vsum, e);
    }
    const __m512 inv = _mm512_set1_ps(1.f / reduce16(vsum, [](float a, float b) { return a + b; }));
    for (int64_t j = 0; j < valid; j += 16) {
        const __mmask16 m =
            static_cast<__mmask16>(valid - j >= 16 ? 0xffff : (1u << (valid - j)) - 1u);
        _mm512_mask_storeu_ps(x + j, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + j), inv));
    }
    std::fill(x + std::max<int64_t>(valid, 0), x + n, 0.f);
}

}  // namespace kiln::cpu::attention
