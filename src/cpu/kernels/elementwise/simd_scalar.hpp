#pragma once
// One-lane vector traits: the portable path of the generic elementwise code (ew_impl.hpp), with
// the same NaN conventions as the x86 vectors so every ISA gives the same results.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kiln/float16.hpp"

namespace kiln::cpu::ew {

struct VecScalar {
    using R = float;
    using K = bool;
    static constexpr size_t kWidth = 1;

    static R load(const float* p) { return *p; }
    static void store(float* p, R v) { *p = v; }
    static R load_tail(const float* p, size_t) { return *p; }
    static void store_tail(float* p, R v, size_t) { *p = v; }
    static R set1(float v) { return v; }
    static R zero() { return 0.f; }

    static R add(R a, R b) { return a + b; }
    static R sub(R a, R b) { return a - b; }
    static R mul(R a, R b) { return a * b; }
    static R div(R a, R b) { return a / b; }
    static R fmadd(R a, R b, R c) { return std::fma(a, b, c); }
    static R fnmadd(R a, R b, R c) { return std::fma(-a, b, c); }
    // x86 semantics: when either operand is NaN the second one is returned.
    static R max(R a, R b) { return a > b ? a : b; }
    static R min(R a, R b) { return a < b ? a : b; }
    static R sqrt(R a) { return std::sqrt(a); }
    static R abs(R a) { return std::fabs(a); }
    static R neg(R a) { return -a; }
    static R copysign(R mag, R sign) { return std::copysign(mag, sign); }
    static R round(R a) { return std::nearbyint(a); }
    static R scale2(R p, R n) { return std::isnan(n) ? n : std::ldexp(p, static_cast<int>(n)); }
    static K lt(R a, R b) { return a < b; }
    static K is_nan(R a) { return a != a; }
    static R blend(K k, R if_false, R if_true) { return k ? if_true : if_false; }
    // Half precision in software (the scalar path has no F16C).
    static void to_half(const float* x, uint16_t* y, size_t n) {
        for (size_t i = 0; i < n; ++i) y[i] = float16::from_float(x[i]);
    }
    static void from_half(const uint16_t* x, float* y, size_t n) {
        for (size_t i = 0; i < n; ++i) y[i] = float16::to_float(x[i]);
    }
    static float reduce_add(R a) { return a; }
    static float reduce_max(R a) { return a; }
};

}  // namespace kiln::cpu::ew
