#pragma once
// 8-lane AVX2+FMA vector traits for the generic elementwise code (ew_impl.hpp). Include only
// from files compiled with AVX2 flags (*_avx2.cpp).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kiln/float16.hpp"

namespace kiln::cpu::ew {

struct VecAvx2 {
    using R = __m256;
    using K = __m256;
    static constexpr size_t kWidth = 8;

    static R load(const float* p) { return _mm256_loadu_ps(p); }
    static void store(float* p, R v) { _mm256_storeu_ps(p, v); }
    static __m256i tail_mask(size_t n) {
        const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), idx);
    }
    // Masked lanes are never touched, so a tail may end at the last byte of a page.
    static R load_tail(const float* p, size_t n) { return _mm256_maskload_ps(p, tail_mask(n)); }
    static void store_tail(float* p, R v, size_t n) { _mm256_maskstore_ps(p, tail_mask(n), v); }
    static R set1(float v) { return _mm256_set1_ps(v); }
    static R zero() { return _mm256_setzero_ps(); }

    static R add(R a, R b) { return _mm256_add_ps(a, b); }
    static R sub(R a, R b) { return _mm256_sub_ps(a, b); }
    static R mul(R a, R b) { return _mm256_mul_ps(a, b); }
    static R div(R a, R b) { return _mm256_div_ps(a, b); }
    static R fmadd(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
    static R fnmadd(R a, R b, R c) { return _mm256_fnmadd_ps(a, b, c); }
    // x86 semantics: when either operand is NaN the second one is returned.
    static R max(R a, R b) { return _mm256_max_ps(a, b); }
    static R min(R a, R b) { return _mm256_min_ps(a, b); }
    static R sqrt(R a) { return _mm256_sqrt_ps(a); }
    static R abs(R a) {
        return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(INT32_MAX)));
    }
    static R neg(R a) {
        return _mm256_xor_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(INT32_MIN)));
    }
    /// The magnitude of `mag` with the sign of `sign`.
    static R copysign(R mag, R sign) {
        const R s = _mm256_castsi256_ps(_mm256_set1_epi32(INT32_MIN));
        return _mm256_or_ps(_mm256_andnot_ps(s, mag), _mm256_and_ps(s, sign));
    }
    static R round(R a) {
        return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    }
    /// p * 2^n for integral n in [-150, 129] (the caller clamps): two normal factors so that
    /// results in the denormal range and overflow to inf still come out right.
    static R scale2(R p, R n) {
        const __m256i ni = _mm256_cvtps_epi32(n);
        const __m256i half = _mm256_srai_epi32(ni, 1);
        const __m256i rest = _mm256_sub_epi32(ni, half);
        const __m256i bias = _mm256_set1_epi32(127);
        const R s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23));
        const R s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(rest, bias), 23));
        return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
    }
    static K lt(R a, R b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
    static K is_nan(R a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
    static R blend(K k, R if_false, R if_true) { return _mm256_blendv_ps(if_false, if_true, k); }
    // F16C is not part of the AVX2 level checked at start, so half precision stays in software.
    static void to_half(const float* x, uint16_t* y, size_t n) {
        for (size_t i = 0; i < n; ++i) y[i] = float16::from_float(x[i]);
    }
    static void from_half(const uint16_t* x, float* y, size_t n) {
        for (size_t i = 0; i < n; ++i) y[i] = float16::to_float(x[i]);
    }
    static float reduce_add(R a) {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
    }
    static float reduce_max(R a) {
        __m128 s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
        s = _mm_max_ps(s, _mm_movehl_ps(s, s));
        s = _mm_max_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
    }
};

}  // namespace kiln::cpu::ew
