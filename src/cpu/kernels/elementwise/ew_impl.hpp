#pragma once
// The f32 elementwise primitives written once over a vector-traits type V (simd_*.hpp) and
// instantiated per ISA by ew_<isa>.cpp. Include only from those files: V's intrinsics need the
// ISA's compiler flags.
//
// The math functions (accuracy table in cpu/kernels/vector_math.hpp, checked by
// tests/unit/vector_math_test.cpp):
//   exp: Cephes polynomial on [-ln2/2, ln2/2], then an exact 2^n scaling down to denormals
//   tanh: odd minimax polynomial below |x| = 0.625, (1 - e^-2|x|) / (1 + e^-2|x|) above
//   erf: x * P(x^2) below |x| = 1, 1 - e^-x^2 * Q(1/x) above (P, Q: minimax fits)
//   sigmoid: 1 / (1 + e^-|x|), and e^-|x| / (1 + e^-|x|) for negative x, so no tail cancels
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "cpu/kernels/elementwise/ew_ops.hpp"

namespace kiln::cpu::ew::impl {

// Applies f to every vector of x; the tail goes through masked loads and stores.
template <class V, class F>
inline void map1(const float* x, float* y, size_t n, F f) {
    constexpr size_t W = V::kWidth;
    size_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
        const typename V::R a = V::load(x + i), b = V::load(x + i + W);
        V::store(y + i, f(a));
        V::store(y + i + W, f(b));
    }
    for (; i + W <= n; i += W) V::store(y + i, f(V::load(x + i)));
    if (i < n) V::store_tail(y + i, f(V::load_tail(x + i, n - i)), n - i);
}

template <class V>
inline typename V::R exp(typename V::R x) {
    using R = typename V::R;
    // Beyond these bounds the result is inf or 0; the operand order keeps NaN.
    x = V::min(V::set1(89.f), V::max(V::set1(-104.f), x));
    const R n = V::round(V::mul(x, V::set1(1.44269504088896341f)));
    R r = V::fnmadd(n, V::set1(0.693359375f), x);
    r = V::fnmadd(n, V::set1(-2.12194440e-4f), r);
    R p = V::set1(1.9875691500e-4f);
    p = V::fmadd(p, r, V::set1(1.3981999507e-3f));
    p = V::fmadd(p, r, V::set1(8.3334519073e-3f));
    p = V::fmadd(p, r, V::set1(4.1665795894e-2f));
    p = V::fmadd(p, r, V::set1(1.6666665459e-1f));
    p = V::fmadd(p, r, V::set1(5.0000001201e-1f));
    p = V::fmadd(p, V::mul(r, r), V::add(r, V::set1(1.f)));
    return V::scale2(p, n);
}

// sigmoid(|x|) and its complement: 1 / (1 + e) and e / (1 + e) with e = exp(-|x|), both
// without cancellation.
template <class V>
inline typename V::R sigmoid(typename V::R x) {
    using R = typename V::R;
    const R e = exp<V>(V::neg(V::abs(x)));
    const R pos = V::div(V::set1(1.f), V::add(V::set1(1.f), e));
    return V::blend(V::lt(x, V::zero()), pos, V::mul(e, pos));
}

template <class V>
inline typename V::R tanh(typename V::R x) {
    using R = typename V::R;
    const R a = V::abs(x);
    const R s = V::mul(x, x);
    R p = V::set1(1.918996267e-03f);
    p = V::fmadd(p, s, V::set1(-7.998760553e-03f));
    p = V::fmadd(p, s, V::set1(2.166081829e-02f));
    p = V::fmadd(p, s, V::set1(-5.394633106e-02f));
    p = V::fmadd(p, s, V::set1(1.333325910e-01f));
    p = V::fmadd(p, s, V::set1(-3.333333332e-01f));
    const R small = V::fmadd(V::mul(x, s), p, x);
    const R e = exp<V>(V::mul(a, V::set1(-2.f)));
    const R large = V::div(V::sub(V::set1(1.f), e), V::add(V::set1(1.f), e));
    // copysign also keeps tanh(-0) = -0, which the polynomial turns into +0.
    return V::copysign(V::blend(V::lt(a, V::set1(0.625f)), large, small), x);
}

// erf(a) for a = |z| < 1 (small) and erfc(a) for a >= 1 (large); past a = 10 erfc underflows
// to 0 (the clamp at 11 keeps the polynomial's argument bounded). Callers combine them without
// cancellation.
template <class V>
inline void erf_parts(typename V::R a, typename V::R& small, typename V::R& large) {
    using R = typename V::R;
    a = V::min(V::set1(11.f), a);
    const R s = V::mul(a, a);
    R p = V::set1(7.854516408e-05f);
    p = V::fmadd(p, s, V::set1(-8.010407553e-04f));
    p = V::fmadd(p, s, V::set1(5.188354567e-03f));
    p = V::fmadd(p, s, V::set1(-2.685382815e-02f));
    p = V::fmadd(p, s, V::set1(1.128358562e-01f));
    p = V::fmadd(p, s, V::set1(-3.761262588e-01f));
    p = V::fmadd(p, s, V::set1(1.128379166e+00f));
    small = V::mul(a, p);
    const R u = V::sub(V::div(V::set1(1.f), a), V::set1(0.55f));
    R q = V::set1(-4.826128310e-02f);
    q = V::fmadd(q, u, V::set1(6.333584927e-02f));
    q = V::fmadd(q, u, V::set1(-1.954724759e-02f));
    q = V::fmadd(q, u, V::set1(-2.585228612e-02f));
    q = V::fmadd(q, u, V::set1(5.699821693e-02f));
    q = V::fmadd(q, u, V::set1(-6.928010204e-02f));
    q = V::fmadd(q, u, V::set1(4.496717838e-02f));
    q = V::fmadd(q, u, V::set1(3.372283030e-02f));
    q = V::fmadd(q, u, V::set1(-1.812347031e-01f));
    q = V::fmadd(q, u, V::set1(4.088342045e-01f));
    q = V::fmadd(q, u, V::set1(2.762943814e-01f));
    large = V::mul(exp<V>(V::neg(s)), q);
}

template <class V>
inline typename V::R erf(typename V::R x) {
    using R = typename V::R;
    const R a = V::abs(x);
    R small, large;
    erf_parts<V>(a, small, large);
    const R r = V::blend(V::lt(a, V::set1(1.f)), V::sub(V::set1(1.f), large), small);
    return V::copysign(r, x);
}

// 0.5 * x * (1 + erf(x / sqrt 2)), where 1 + erf(z) is erfc(|z|) for negative z, so the far
// negative tail keeps its relative accuracy.
template <class V>
inline typename V::R gelu_erf(typename V::R x) {
    using R = typename V::R;
    const R z = V::mul(x, V::set1(0.70710678118654752f));
    const R a = V::abs(z);
    R small, large;
    erf_parts<V>(a, small, large);
    const R one = V::set1(1.f);
    const auto is_neg = V::lt(z, V::zero());
    const R small_sum = V::blend(is_neg, V::add(one, small), V::sub(one, small));
    const R large_sum = V::blend(is_neg, V::sub(V::set1(2.f), large), large);
    const R sum = V::blend(V::lt(a, one), large_sum, small_sum);
    return V::mul(V::mul(x, V::set1(0.5f)), sum);
}

// 0.5 * x * (1 + tanh(c * (x + 0.044715 x^3))) = x * sigmoid(2c * (x + 0.044715 x^3)).
template <class V>
inline typename V::R gelu_tanh(typename V::R x) {
    using R = typename V::R;
    const R x2 = V::mul(x, x);
    const R inner = V::mul(
        x, V::fmadd(x2, V::set1(0.044715f * 1.5957691216057308f), V::set1(1.5957691216057308f)));
    return V::mul(x, sigmoid<V>(inner));
}

template <class V>
inline typename V::R hsigmoid(typename V::R x) {
    const auto t = V::min(V::set1(6.f), V::max(V::zero(), V::add(x, V::set1(3.f))));
    return V::mul(t, V::set1(1.f / 6.f));
}

template <class V>
void unary(UnaryOp op, UnaryParams p, const float* x, float* y, size_t n) {
    using R = typename V::R;
    switch (op) {
        case UnaryOp::relu:
            return map1<V>(x, y, n, [](R v) { return V::max(V::zero(), v); });
        case UnaryOp::sigmoid:
            return map1<V>(x, y, n, [](R v) { return sigmoid<V>(v); });
        case UnaryOp::tanh:
            return map1<V>(x, y, n, [](R v) { return tanh<V>(v); });
        case UnaryOp::erf:
            return map1<V>(x, y, n, [](R v) { return erf<V>(v); });
        case UnaryOp::exp:
            return map1<V>(x, y, n, [](R v) { return exp<V>(v); });
        case UnaryOp::sqrt:
            return map1<V>(x, y, n, [](R v) { return V::sqrt(v); });
        case UnaryOp::abs:
            return map1<V>(x, y, n, [](R v) { return V::abs(v); });
        case UnaryOp::neg:
            return map1<V>(x, y, n, [](R v) { return V::neg(v); });
        case UnaryOp::clamp: {
            const R lo = V::set1(p.a), hi = V::set1(p.b);
            return map1<V>(x, y, n, [=](R v) { return V::min(hi, V::max(lo, v)); });
        }
        case UnaryOp::hswish:
            return map1<V>(x, y, n, [](R v) { return V::mul(v, hsigmoid<V>(v)); });
        case UnaryOp::hsigmoid:
            return map1<V>(x, y, n, [](R v) { return hsigmoid<V>(v); });
        case UnaryOp::hard_sigmoid: {
            // min(t, 1) maps NaN to 1 as the reference's std::min(1.0, t) does.
            const R alpha = V::set1(p.a), beta = V::set1(p.b), one = V::set1(1.f);
            return map1<V>(x, y, n, [=](R v) {
                return V::max(V::zero(), V::min(V::fmadd(alpha, v, beta), one));
            });
        }
        case UnaryOp::swish: {
            const R beta = V::set1(p.a);
            return map1<V>(x, y, n, [=](R v) { return V::mul(v, sigmoid<V>(V::mul(beta, v))); });
        }
        case UnaryOp::gelu_erf:
            return map1<V>(x, y, n, [](R v) { return gelu_erf<V>(v); });
        case UnaryOp::gelu_tanh:
            return map1<V>(x, y, n, [](R v) { return gelu_tanh<V>(v); });
        case UnaryOp::square:
            return map1<V>(x, y, n, [](R v) { return V::mul(v, v); });
        case UnaryOp::cube:
            return map1<V>(x, y, n, [](R v) { return V::mul(V::mul(v, v), v); });
        case UnaryOp::reciprocal:
            return map1<V>(x, y, n, [](R v) { return V::div(V::set1(1.f), v); });
    }
}

// f(a[i], b[i]) with either side possibly one broadcast value.
template <class V, class F>
inline void map2(Operands kind, const float* a, const float* b, float* y, size_t n, F f) {
    using R = typename V::R;
    constexpr size_t W = V::kWidth;
    size_t i = 0;
    if (kind == Operands::vector_vector) {
        for (; i + W <= n; i += W) V::store(y + i, f(V::load(a + i), V::load(b + i)));
        if (i < n)
            V::store_tail(y + i, f(V::load_tail(a + i, n - i), V::load_tail(b + i, n - i)), n - i);
    } else if (kind == Operands::vector_scalar) {
        const R s = V::set1(*b);
        for (; i + W <= n; i += W) V::store(y + i, f(V::load(a + i), s));
        if (i < n) V::store_tail(y + i, f(V::load_tail(a + i, n - i), s), n - i);
    } else {
        const R s = V::set1(*a);
        for (; i + W <= n; i += W) V::store(y + i, f(s, V::load(b + i)));
        if (i < n) V::store_tail(y + i, f(s, V::load_tail(b + i, n - i)), n - i);
    }
}

// Rows r < rows of a 2-D broadcast: operands at a + r * a_stride and b + r * b_stride, output at
// y + r * n. Many short rows thus cost one call.
template <class V, class F>
inline void map2_rows(Operands kind, const float* a, const float* b, float* y, size_t n,
                      size_t rows, size_t a_stride, size_t b_stride, F f) {
    for (size_t r = 0; r < rows; ++r, a += a_stride, b += b_stride, y += n)
        map2<V>(kind, a, b, y, n, f);
}

template <class V>
void binary_rows(BinaryOp op, Operands kind, const float* a, const float* b, float* y, size_t n,
                 size_t rows, size_t a_stride, size_t b_stride) {
    using R = typename V::R;
    switch (op) {
        case BinaryOp::add:
            return map2_rows<V>(kind, a, b, y, n, rows, a_stride, b_stride,
                                [](R u, R v) { return V::add(u, v); });
        case BinaryOp::sub:
            return map2_rows<V>(kind, a, b, y, n, rows, a_stride, b_stride,
                                [](R u, R v) { return V::sub(u, v); });
        case BinaryOp::mul:
            return map2_rows<V>(kind, a, b, y, n, rows, a_stride, b_stride,
                                [](R u, R v) { return V::mul(u, v); });
        case BinaryOp::div:
            return map2_rows<V>(kind, a, b, y, n, rows, a_stride, b_stride,
                                [](R u, R v) { return V::div(u, v); });
        case BinaryOp::sqdiff:
            return map2_rows<V>(kind, a, b, y, n, rows, a_stride, b_stride, [](R u, R v) {
                const R d = V::sub(u, v);
                return V::mul(d, d);
            });
        // A NaN in either operand gives NaN, as in the reference; x86 max/min only pass on a
        // NaN from their second operand.
        case BinaryOp::max:
            return map2_rows<V>(kind, a, b, y, n, rows, a_stride, b_stride,
                                [](R u, R v) { return V::blend(V::is_nan(v), V::max(v, u), v); });
        case BinaryOp::min:
            return map2_rows<V>(kind, a, b, y, n, rows, a_stride, b_stride,
                                [](R u, R v) { return V::blend(V::is_nan(v), V::min(v, u), v); });
        case BinaryOp::pow:
            break;
    }
    // Power with a tensor exponent stays scalar: no vector pow is worth its accuracy risk here.
    const size_t sa = kind == Operands::scalar_vector ? 0 : 1;
    const size_t sb = kind == Operands::vector_scalar ? 0 : 1;
    for (size_t r = 0; r < rows; ++r, a += a_stride, b += b_stride, y += n)
        for (size_t i = 0; i < n; ++i) y[i] = std::pow(a[i * sa], b[i * sb]);
}

template <class V>
void binary(BinaryOp op, Operands kind, const float* a, const float* b, float* y, size_t n) {
    binary_rows<V>(op, kind, a, b, y, n, 1, 0, 0);
}

template <class V>
float sum(const float* x, size_t n) {
    using R = typename V::R;
    constexpr size_t W = V::kWidth;
    R s0 = V::zero(), s1 = V::zero(), s2 = V::zero(), s3 = V::zero();
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
        s0 = V::add(s0, V::load(x + i));
        s1 = V::add(s1, V::load(x + i + W));
        s2 = V::add(s2, V::load(x + i + 2 * W));
        s3 = V::add(s3, V::load(x + i + 3 * W));
    }
    for (; i + W <= n; i += W) s0 = V::add(s0, V::load(x + i));
    if (i < n) s1 = V::add(s1, V::load_tail(x + i, n - i));
    return V::reduce_add(V::add(V::add(s0, s1), V::add(s2, s3)));
}

template <class V>
void accumulate(float* acc, const float* x, size_t n) {
    map2<V>(Operands::vector_vector, acc, x, acc, n,
            [](typename V::R u, typename V::R v) { return V::add(u, v); });
}

// The maximum ignoring NaN (softmax gets NaN from exp(NaN - m) anyway).
template <class V>
float max_of(const float* x, size_t n) {
    using R = typename V::R;
    constexpr size_t W = V::kWidth;
    size_t i = 0;
    R m = V::set1(-INFINITY);
    for (; i + W <= n; i += W) m = V::max(m, V::load(x + i));
    float r = V::reduce_max(m);
    for (; i < n; ++i) r = x[i] > r ? x[i] : r;
    return r;
}

template <class V>
void softmax_row(const float* x, float* y, size_t n, bool log) {
    using R = typename V::R;
    constexpr size_t W = V::kWidth;
    if (n == 0) return;
    const R m = V::set1(max_of<V>(x, n));
    R acc = V::zero();
    size_t i = 0;
    for (; i + W <= n; i += W) {
        const R e = exp<V>(V::sub(V::load(x + i), m));
        if (!log) V::store(y + i, e);
        acc = V::add(acc, e);
    }
    float s = V::reduce_add(acc);
    if (i < n) {
        const size_t t = n - i;
        R e = exp<V>(V::sub(V::load_tail(x + i, t), m));
        if (!log) V::store_tail(y + i, e, t);
        // Masked-off lanes hold exp(0 - m); sum only the real ones.
        float tmp[V::kWidth];
        V::store(tmp, e);
        for (size_t k = 0; k < t; ++k) s += tmp[k];
    }
    if (log) {
        // (x - m) first: it is exact near the maximum, where the result is close to 0.
        const R ls = V::set1(std::log(s));
        map1<V>(x, y, n, [=](R v) { return V::sub(V::sub(v, m), ls); });
    } else {
        const R inv = V::set1(1.f / s);
        map1<V>(y, y, n, [=](R v) { return V::mul(v, inv); });
    }
}

template <class V>
void softmax_strided(const float* x, float* y, size_t n, size_t inner, size_t stride,
                     float* scratch, bool log) {
    using R = typename V::R;
    float* m = scratch;
    float* s = scratch + inner;
    if (n == 0) return;
    auto row2 = [inner](const float* u, const float* v, float* out, auto f) {
        map2<V>(Operands::vector_vector, u, v, out, inner, f);
    };
    for (size_t i = 0; i < inner; ++i) m[i] = x[i];
    // A NaN need not reach the maximum: exp(NaN - m) puts it in the sum, as in the reference.
    for (size_t k = 1; k < n; ++k)
        row2(m, x + k * stride, m, [](R u, R v) { return V::max(u, v); });
    for (size_t i = 0; i < inner; ++i) s[i] = 0.f;
    for (size_t k = 0; k < n; ++k) {
        float* yr = y + k * stride;
        row2(x + k * stride, m, yr, [](R u, R v) { return exp<V>(V::sub(u, v)); });
        row2(s, yr, s, [](R u, R v) { return V::add(u, v); });
    }
    if (log) {
        for (size_t i = 0; i < inner; ++i) s[i] = std::log(s[i]);
        for (size_t k = 0; k < n; ++k) {
            row2(x + k * stride, m, y + k * stride, [](R u, R v) { return V::sub(u, v); });
            row2(y + k * stride, s, y + k * stride, [](R u, R v) { return V::sub(u, v); });
        }
    } else {
        for (size_t i = 0; i < inner; ++i) s[i] = 1.f / s[i];
        for (size_t k = 0; k < n; ++k)
            row2(y + k * stride, s, y + k * stride, [](R u, R v) { return V::mul(u, v); });
    }
}

// Plain loops, vectorized by the compiler under each ISA's flags; half precision goes through
// the traits (hardware conversions where the ISA guarantees them).
template <class V>
void convert(ConvertOp op, const void* x, void* y, size_t n) {
    switch (op) {
        case ConvertOp::f32_to_f16:
            return V::to_half(static_cast<const float*>(x), static_cast<uint16_t*>(y), n);
        case ConvertOp::f16_to_f32:
            return V::from_half(static_cast<const uint16_t*>(x), static_cast<float*>(y), n);
        case ConvertOp::f32_to_bf16: {
            // Round to nearest even; NaN stays a (quiet) NaN, as bfloat16::from_float does.
            const auto* src = static_cast<const uint32_t*>(x);
            auto* dst = static_cast<uint16_t*>(y);
            for (size_t i = 0; i < n; ++i) {
                const uint32_t u = src[i];
                const uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
                dst[i] =
                    static_cast<uint16_t>((u & 0x7fffffffu) > 0x7f800000u ? (u >> 16) | 0x40u : r);
            }
            return;
        }
        case ConvertOp::bf16_to_f32: {
            const auto* src = static_cast<const uint16_t*>(x);
            auto* dst = static_cast<uint32_t*>(y);
            for (size_t i = 0; i < n; ++i) dst[i] = static_cast<uint32_t>(src[i]) << 16;
            return;
        }
        case ConvertOp::i64_to_f32: {
            // Through double, as the reference rounds.
            const auto* src = static_cast<const int64_t*>(x);
            auto* dst = static_cast<float*>(y);
            for (size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(static_cast<double>(src[i]));
            return;
        }
        case ConvertOp::f32_to_i64: {
            // Truncation, saturating out of range, NaN to 0 (no undefined behaviour).
            const auto* src = static_cast<const float*>(x);
            auto* dst = static_cast<int64_t*>(y);
            for (size_t i = 0; i < n; ++i) {
                const float v = src[i];
                dst[i] = v >= 9.2233720368547758e18f    ? INT64_MAX
                         : v <= -9.2233720368547758e18f ? INT64_MIN
                         : v == v                       ? static_cast<int64_t>(v)
                                                        : 0;
            }
            return;
        }
    }
}

template <class V>
const EwKernels& kernel_table() {
    static const EwKernels table = {unary<V>,           binary<V>, binary_rows<V>, softmax_row<V>,
                                    softmax_strided<V>, sum<V>,    accumulate<V>,  convert<V>};
    return table;
}

}  // namespace kiln::cpu::ew::impl
