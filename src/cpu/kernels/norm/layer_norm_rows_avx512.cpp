// AVX-512 LayerNorm rows: a row of a transformer (768-4096 floats) stays in L1 across the three
// sweeps (mean, variance, normalize), so only the first one reads memory.
#include <immintrin.h>

#include <cmath>

#include "cpu/kernels/norm/layer_norm_rows.hpp"

namespace kiln::cpu::norm {
namespace {

// Through memory: GCC 12's _mm512_reduce_add_ps trips -Wmaybe-uninitialized.
float sum16(__m512 v) {
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, v);
    float s = 0.f;
    for (float f : lanes) s += f;
    return s;
}

}  // namespace

void layer_norm_rows_avx512(const float* x, float* y, int64_t rows, const LayerNormParams& p) {
    const int64_t n = p.n, full = n / 16 * 16;
    const __mmask16 tail = static_cast<__mmask16>((1u << (n - full)) - 1u);
    for (int64_t r = 0; r < rows; ++r, x += n, y += n) {
        float mean = 0.f;
        if (!p.rms) {
            __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
            int64_t i = 0;
            for (; i + 32 <= full; i += 32) {
                s0 = _mm512_add_ps(s0, _mm512_loadu_ps(x + i));
                s1 = _mm512_add_ps(s1, _mm512_loadu_ps(x + i + 16));
            }
            for (; i < full; i += 16) s0 = _mm512_add_ps(s0, _mm512_loadu_ps(x + i));
            s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(tail, x + full));
            mean = sum16(_mm512_add_ps(s0, s1)) / static_cast<float>(n);
        }
        // Centered second pass: sum((x-mean)^2) keeps precision where E[x^2]-mean^2 would not.
        const __m512 vm = _mm512_set1_ps(mean);
        __m512 q0 = _mm512_setzero_ps(), q1 = _mm512_setzero_ps();
        int64_t i = 0;
        for (; i + 32 <= full; i += 32) {
            const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(x + i), vm);
            const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(x + i + 16), vm);
            q0 = _mm512_fmadd_ps(d0, d0, q0);
            q1 = _mm512_fmadd_ps(d1, d1, q1);
        }
        for (; i < full; i += 16) {
            const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x + i), vm);
            q0 = _mm512_fmadd_ps(d, d, q0);
        }
        const __m512 dt = _mm512_maskz_sub_ps(tail, _mm512_maskz_loadu_ps(tail, x + full), vm);
        q0 = _mm512_fmadd_ps(dt, dt, q0);
        const float var = sum16(_mm512_add_ps(q0, q1)) / static_cast<float>(n);
        const __m512 inv = _mm512_set1_ps(1.f / std::sqrt(var + p.epsilon));
        for (i = 0; i < full; i += 16) {
            const __m512 t = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), vm), inv);
            _mm512_storeu_ps(y + i, _mm512_fmadd_ps(t, _mm512_loadu_ps(p.scale + i),
                                                    _mm512_loadu_ps(p.bias + i)));
        }
        if (tail) {
            const __m512 t =
                _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, x + full), vm), inv);
            _mm512_mask_storeu_ps(y + full, tail,
                                  _mm512_fmadd_ps(t, _mm512_maskz_loadu_ps(tail, p.scale + full),
                                                  _mm512_maskz_loadu_ps(tail, p.bias + full)));
        }
    }
}

}  // namespace kiln::cpu::norm
