#pragma once
// Shared pieces of the elementwise family: numpy-broadcast inference, value conversions that
// never hit undefined behaviour, and the loops every unary/binary kernel runs.
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "core/dispatch.hpp"
#include "core/op_def.hpp"
#include "ops/common/shape_utils.hpp"

namespace kiln::ew {

template <class T>
inline constexpr bool is_half_v = std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>;
template <class T>
inline constexpr bool is_fp_v = std::is_floating_point_v<T> || is_half_v<T>;
template <class T>
inline constexpr bool is_int_v = std::is_integral_v<T> && !std::is_same_v<T, bool>;

/// Converts a double to T the way a C cast would for in-range values (truncation toward zero
/// for integers), but saturates out-of-range values and maps NaN to 0 instead of being UB.
template <class T>
T from_double(double v) {
    if constexpr (std::is_same_v<T, bool>) {
        return v != 0.0;
    } else if constexpr (is_fp_v<T>) {
        return static_cast<T>(static_cast<std::conditional_t<is_half_v<T>, float, T>>(v));
    } else {
        if (std::isnan(v)) return T(0);
        // The max of 64-bit types is not representable; compare against 2^bits instead.
        const double hi = std::ldexp(1.0, std::numeric_limits<T>::digits);
        const double lo = static_cast<double>(std::numeric_limits<T>::min());
        if (v >= hi) return std::numeric_limits<T>::max();
        if (v <= lo) return std::numeric_limits<T>::min();
        return static_cast<T>(v);
    }
}

template <class T>
double to_double(T v) {
    if constexpr (is_half_v<T>) {
        return static_cast<double>(static_cast<float>(v));
    } else {
        return static_cast<double>(v);
    }
}

/// Numpy broadcast of inputs [first, first+count) honoring auto_broadcast ("numpy" or "none").
PartialShape infer_broadcast(ShapeContext& ctx, size_t first, size_t count);
/// Fails unless the given inputs share one element type (dynamic matches anything); returns it.
ElementType common_type(ShapeContext& ctx, size_t first, size_t count);

/// out[i] = fn(in[i]) with In and Out element types.
template <class In, class Out, class Fn>
void unary_loop(const Tensor& in, Tensor& out, Fn&& fn) {
    const In* a = in.data<In>();
    Out* o = out.data<Out>();
    const int64_t n = out.size();
    for (int64_t i = 0; i < n; ++i) o[i] = fn(a[i]);
}

/// out = fn(a, b) with numpy broadcasting; out must already have the broadcast shape.
template <class In, class Out, class Fn>
void binary_loop(const Tensor& a, const Tensor& b, Tensor& out, Fn&& fn) {
    const In* pa = a.data<In>();
    const In* pb = b.data<In>();
    Out* po = out.data<Out>();
    const int64_t n = out.size();
    if (a.shape() == out.shape() && b.shape() == out.shape()) {
        for (int64_t i = 0; i < n; ++i) po[i] = fn(pa[i], pb[i]);
    } else if (a.shape() == out.shape() && b.size() == 1) {
        for (int64_t i = 0; i < n; ++i) po[i] = fn(pa[i], pb[0]);
    } else if (b.shape() == out.shape() && a.size() == 1) {
        for (int64_t i = 0; i < n; ++i) po[i] = fn(pa[0], pb[i]);
    } else {
        for_each_broadcast<2>(out.shape(), {a.shape(), b.shape()},
                              [&](int64_t i, const std::array<int64_t, 2>& off) {
                                  po[i] = fn(pa[off[0]], pb[off[1]]);
                              });
    }
}

void register_binary(OpRegistry& r);
void register_unary(OpRegistry& r);
void register_activation(OpRegistry& r);
void register_convert(OpRegistry& r);

}  // namespace kiln::ew
