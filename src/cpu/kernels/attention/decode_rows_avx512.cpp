#include <immintrin.h>

#include "cpu/kernels/attention/decode_rows.hpp"

namespace kiln::cpu::attention {
namespace {

__mmask16 tail_mask(int64_t n) { return static_cast<__mmask16>((1u << n) - 1u); }

}  // namespace

void dot_rows_avx512(const float* q, const float* k, int64_t s, int64_t e, float* scores) {
    const int64_t full = e / 16 * 16;
    const __mmask16 tail = tail_mask(e - full);
    for (int64_t j = 0; j < s; ++j) {
        const float* kj = k + j * e;
        __m512 acc = _mm512_setzero_ps();
        for (int64_t p = 0; p < full; p += 16)
            acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + p), _mm512_loadu_ps(kj + p), acc);
        if (tail)
            acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, q + full),
                                  _mm512_maskz_loadu_ps(tail, kj + full), acc);
        scores[j] = _mm512_reduce_add_ps(acc);
    }
}

void weighted_rows_avx512(const float* p, const float* v, int64_t s, int64_t ev, float* y) {
    // Blocks of 64 output columns in registers across all rows, so y is written once.
    for (int64_t c0 = 0; c0 < ev; c0 += 64) {
        const int64_t width = ev - c0 < 64 ? ev - c0 : 64;
        __mmask16 m[4];
        for (int b = 0; b < 4; ++b) {
            const int64_t left = width - 16 * b;
            m[b] = left >= 16 ? static_cast<__mmask16>(0xFFFF) : left > 0 ? tail_mask(left) : 0;
        }
        __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                         _mm512_setzero_ps()};
        for (int64_t j = 0; j < s; ++j) {
            const __m512 pj = _mm512_set1_ps(p[j]);
            const float* vj = v + j * ev + c0;
            for (int b = 0; b < 4; ++b)
                if (m[b]) acc[b] = _mm512_fmadd_ps(pj, _mm512_maskz_loadu_ps(m[b], vj + 16 * b), acc[b]);
        }
        for (int b = 0; b < 4; ++b)
            if (m[b]) _mm512_mask_storeu_ps(y + c0 + 16 * b, m[b], acc[b]);
    }
}

}  // namespace kiln::cpu::attention
