#pragma once
// The fused activations on one AVX-512 vector, for the *_avx512.cpp convolution files only.
// GCC 12 warns inside its own max/min intrinsics (their _mm512_undefined_ps pass-through).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "ops/nn/activation_kind.hpp"

namespace kiln::cpu::conv::detail {

// max(0, NaN) keeps the NaN (the second operand wins on NaN), as Relu and Clamp do.
template <nn::ActivationKind K>
inline __m512 activate(__m512 v, __m512 alpha, __m512 beta) {
    const __m512 zero = _mm512_setzero_ps();
    if constexpr (K == nn::ActivationKind::relu) {
        return _mm512_max_ps(zero, v);
    } else if constexpr (K == nn::ActivationKind::clamp) {
        return _mm512_min_ps(beta, _mm512_max_ps(alpha, v));
    } else if constexpr (K == nn::ActivationKind::hswish || K == nn::ActivationKind::hsigmoid) {
        const __m512 r = _mm512_min_ps(_mm512_set1_ps(6.f),
                                       _mm512_max_ps(zero, _mm512_add_ps(v, _mm512_set1_ps(3.f))));
        const __m512 s = _mm512_mul_ps(r, _mm512_set1_ps(1.f / 6.f));
        return K == nn::ActivationKind::hswish ? _mm512_mul_ps(v, s) : s;
    } else if constexpr (K == nn::ActivationKind::hard_sigmoid) {
        return _mm512_max_ps(zero,
                             _mm512_min_ps(_mm512_set1_ps(1.f), _mm512_fmadd_ps(alpha, v, beta)));
    } else {
        return v;
    }
}

}  // namespace kiln::cpu::conv::detail
