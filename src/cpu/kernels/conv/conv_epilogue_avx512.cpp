// AVX-512 epilogue of the fused convolutions.
#include <immintrin.h>

#include "cpu/kernels/conv/conv_activate_avx512.hpp"
#include "cpu/kernels/conv/conv_isa.hpp"

namespace kiln::cpu::conv::detail {

using nn::ActivationKind;

namespace {

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
