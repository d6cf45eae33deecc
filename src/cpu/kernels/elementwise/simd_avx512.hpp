#pragma once
// 16-lane AVX-512 vector traits for the generic elementwise code (ew_impl.hpp). Include only
// from files compiled with AVX-512 flags (*_avx512.cpp).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace kiln::cpu::ew {

struct VecAvx512 {
    using R = __m512;
    using K = __mmask16;
    static constexpr size_t kWidth = 16;

    static R load(const float* p) { return _mm512_loadu_ps(p); }
    static void store(float* p, R v) { _mm512_storeu_ps(p, v); }
    static K tail_mask(size_t n) { return static_cast<K>((1u << n) - 1u); }
    // Masked lanes are never touched, so a tail may end at the last byte of a page.
    static R load_tail(const float* p, size_t n) { return _mm512_maskz_loadu_ps(tail_mask(n), p); }
    static void store_tail(float* p, R v, size_t n) { _mm512_mask_storeu_ps(p, tail_mask(n), v); }
    static R set1(float v) { return _mm512_set1_ps(v); }
    static R zero() { return _mm512_setzero_ps(); }

    static R add(R a, R b) { return _mm512_add_ps(a, b); }
    static R sub(R a, R b) { return _mm512_sub_ps(a, b); }
    static R mul(R a, R b) { return _mm512_mul_ps(a, b); }
    static R div(R a, R b) { return _mm512_div_ps(a, b); }
    static R fmadd(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
    static R fnmadd(R a, R b, R c) { return _mm512_fnmadd_ps(a, b, c); }
    // x86 semantics: when either operand is NaN the second one is returned.
    static R max(R a, R b) { return _mm512_max_ps(a, b); }
    static R min(R a, R b) { return _mm512_min_ps(a, b); }
    static R sqrt(R a) { return _mm512_sqrt_ps(a); }
    static R abs(R a) { return _mm512_abs_ps(a); }
    static R neg(R a) {
        return _mm512_castsi512_ps(
            _mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32(INT32_MIN)));
    }
    /// The magnitude of `mag` with the sign of `sign`.
    static R copysign(R mag, R sign) {
        const __m512i m = _mm512_set1_epi32(INT32_MAX);
        return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(m, _mm512_castps_si512(mag),
                                                             _mm512_castps_si512(sign), 0xCA));
    }
    static R round(R a) {
        return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    }
    /// p * 2^n for integral n; under- and overflow round correctly (denormals, 0, inf).
    static R scale2(R p, R n) { return _mm512_scalef_ps(p, n); }
    static K lt(R a, R b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
    static K is_nan(R a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
    static R blend(K k, R if_false, R if_true) {
        return _mm512_mask_blend_ps(k, if_false, if_true);
    }
    static void to_half(const float* x, uint16_t* y, size_t n) {
        constexpr int kRound = _MM_FROUND_TO_NEAREST_INT;
        size_t i = 0;
        for (; i + 16 <= n; i += 16)
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i),
                                _mm512_cvtps_ph(load(x + i), kRound));
        if (i < n)
            _mm256_mask_storeu_epi16(y + i, tail_mask(n - i),
                                     _mm512_cvtps_ph(load_tail(x + i, n - i), kRound));
    }
    static void from_half(const uint16_t* x, float* y, size_t n) {
        size_t i = 0;
        for (; i + 16 <= n; i += 16)
            store(y + i,
                  _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i))));
        if (i < n)
            store_tail(y + i, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(tail_mask(n - i), x + i)),
                       n - i);
    }
    static float reduce_add(R a) { return _mm512_reduce_add_ps(a); }
    static float reduce_max(R a) { return _mm512_reduce_max_ps(a); }
};

}  // namespace kiln::cpu::ew
