// AVX-512 epilogue of the fused convolutions.
// GCC 12 warns inside its own max/min intrinsics (their _mm512_undefined_ps pass-through).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "cpu/kernels/conv/conv_isa.hpp"

namespace kiln::cpu::conv::detail {

using nn::ActivationKind;

namespace {

template <ActivationKind K>
inline __m512 activate(__m512 v, __m512 alpha, __m512 beta) {
    const __m512 zero = _mm512_setzero_ps();
    if constexpr (K == ActivationKind::relu) {
        return _mm512_max_ps(zero, v);  // max(a, NaN) returns the NaN, as Relu keeps it
    } else if constexpr (K == ActivationKind::clamp) {
        return _mm512_min_ps(beta, _mm512_max_ps(alpha, v));
    } else if constexpr (K == ActivationKind::hswish || K == ActivationKind::hsigmoid) {
        const __m512 r = _mm512_min_ps(_mm512_set1_ps(6.f),
                                       _mm512_max_ps(zero, _mm512_add_ps(v, _mm512_set1_ps(3.f))));
        const __m512 s = _mm512_mul_ps(r, _mm512_set1_ps(1.f / 6.f));
        return K == ActivationKind::hswish ? _mm512_mul_ps(v, s) : s;
    } else if constexpr (K == ActivationKind::hard_sigmoid) {
        return _mm512_max_ps(zero,
                             _mm512_min_ps(_mm512_set1_ps(1.f), _mm512_fmadd_ps(alpha, v, beta)));
    } else {
        return v;
    }
}

template <ActivationKind K>
void run(float alpha_s, float beta_s, float bias_s, const float* res, float* y, int64_t n) {
    const __m512 alpha = _mm512_set1_ps(alpha_s), beta = _mm512_set1_ps(beta_s);
    const __m512 bias = _mm512_set1_ps(bias_s);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_add_ps(_mm512_loadu_ps(y + i), bias);
        if (res) v = _mm512_add_ps(v, _mm512_loadu_ps(res + i));
        _mm512_storeu_ps(y + i, activate<K>(v, alpha, beta));
    }
    if (i < n) {
        const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
        __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, y + i), bias);
        if (res) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, res + i));
        _mm512_mask_storeu_ps(y + i, m, activate<K>(v, alpha, beta));
    }
}

}  // namespace

bool apply_epilogue_avx512(ActivationKind kind, float alpha, float beta, float bias,
                           const float* res, float* y, int64_t n) {
    switch (kind) {
        case ActivationKind::none:
            run<ActivationKind::none>(alpha, beta, bias, res, y, n);
            return true;
        case ActivationKind::relu:
            run<ActivationKind::relu>(alpha, beta, bias, res, y, n);
            return true;
        case ActivationKind::clamp:
            run<ActivationKind::clamp>(alpha, beta, bias, res, y, n);
            return true;
        case ActivationKind::hswish:
            run<ActivationKind::hswish>(alpha, beta, bias, res, y, n);
            return true;
        case ActivationKind::hsigmoid:
            run<ActivationKind::hsigmoid>(alpha, beta, bias, res, y, n);
            return true;
        case ActivationKind::hard_sigmoid:
            run<ActivationKind::hard_sigmoid>(alpha, beta, bias, res, y, n);
            return true;
        case ActivationKind::sigmoid:
            break;
    }
    return false;
}

}  // namespace kiln::cpu::conv::detail
