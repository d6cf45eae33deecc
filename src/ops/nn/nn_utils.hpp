#pragma once
// Shared pieces of the nn family: sliding-window geometry (strides, dilations, pads, auto_pad)
// for convolution and pooling, and accumulator types for the reference kernels.
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "core/op_def.hpp"

namespace kiln::nn {

enum class AutoPad { explicit_pad, same_upper, same_lower, valid };

/// Parses the `auto_pad` attribute ("explicit", "notset" and "" read as explicit).
AutoPad read_auto_pad(const Node& node);

/// Bound on kernel/stride/dilation/pad values, so window index arithmetic cannot overflow.
inline constexpr int64_t kMaxWindowValue = int64_t{1} << 31;

/// Throws kiln::Error prefixed with the node context unless cond holds.
template <class... Args>
inline void node_check(const Node& node, bool cond, const Args&... args) {
    if (!cond) throw Error(str_cat(node.context(), " ", args...));
}

/// The element type shared by inputs 0 and 1 (either may still be dynamic), which must be
/// numeric; `operands` names them in the error ("data and filters").
ElementType common_numeric_type(const ShapeContext& ctx, const char* operands);

/// An integer-list attribute of `n` values; absent means `n` copies of `dflt`.
std::vector<int64_t> spatial_attr(const Node& node, const std::string& name, size_t n,
                                  int64_t dflt);

/// Geometry of a sliding window (convolution, pooling) over the spatial axes.
struct Window {
    std::vector<int64_t> kernel, strides, dilations, pads_begin, pads_end;
    AutoPad auto_pad = AutoPad::explicit_pad;
    bool ceil_mode = false;
    bool ceil_torch = false;  // ceil, without windows that start in the end padding

    size_t rank() const { return kernel.size(); }
    int64_t effective_kernel(size_t i) const { return (kernel[i] - 1) * dilations[i] + 1; }
};

/// Reads strides/dilations/pads_begin/pads_end/auto_pad (and rounding_type when
/// `with_rounding`) for `kernel` and validates them; `with_dilations` false makes dilations all 1
/// (AvgPool has none).
Window read_window(const Node& node, std::vector<int64_t> kernel, bool with_dilations,
                   bool with_rounding);

/// Resolves auto_pad pads for a known input extent along axis i and returns the output extent.
/// Throws when the (padded) input is smaller than the effective kernel.
int64_t window_output_dim(const Node& node, Window& w, size_t i, int64_t in);

/// Output spatial dims from the partial input shape whose spatial axes start at
/// `first_spatial` (dynamic where unknown).
std::vector<Dimension> window_output_dims(const Node& node, Window& w, const PartialShape& data,
                                          size_t first_spatial);

/// Resolves the pads for static input spatial dims; returns the output spatial dims.
Shape resolve_window(const Node& node, Window& w, const Shape& in_spatial);

/// Accumulator used by the kernels: double for floating types, wrapping uint64 for integers
/// (modular arithmetic keeps integer overflow defined).
template <class T>
using Acc = std::conditional_t<std::is_integral_v<T>, uint64_t, double>;

template <class T>
inline Acc<T> to_acc(T v) {
    if constexpr (std::is_integral_v<T>) {
        return static_cast<uint64_t>(v);
    } else if constexpr (std::is_same_v<T, double>) {
        return v;
    } else {
        return static_cast<double>(static_cast<float>(v));
    }
}

template <class T>
inline T from_acc(Acc<T> v) {
    if constexpr (std::is_integral_v<T> || std::is_same_v<T, double>) {
        return static_cast<T>(v);
    } else {
        return static_cast<T>(static_cast<float>(v));
    }
}

/// Reads any numeric element as double.
template <class T>
inline double as_double(T v) {
    if constexpr (std::is_same_v<T, double>) {
        return v;
    } else if constexpr (std::is_integral_v<T>) {
        return static_cast<double>(v);
    } else {
        return static_cast<double>(static_cast<float>(v));
    }
}

/// Converts a double to a floating element type.
template <class T>
inline T float_from_double(double v) {
    if constexpr (std::is_same_v<T, double>) {
        return v;
    } else {
        return static_cast<T>(static_cast<float>(v));
    }
}

/// Pads spatial parameters to 3 axes (extra leading axes get extent 1, stride 1, no padding)
/// so kernels can use fixed triple loops for 1-D, 2-D and 3-D.
struct Spatial3 {
    int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1};
    int64_t s[3] = {1, 1, 1}, d[3] = {1, 1, 1}, pb[3] = {0, 0, 0};
    int64_t in_size() const { return in[0] * in[1] * in[2]; }
    int64_t out_size() const { return out[0] * out[1] * out[2]; }
    int64_t k_size() const { return k[0] * k[1] * k[2]; }
};

/// Fills a Spatial3 from a resolved window; requires at most 3 spatial axes.
Spatial3 to_spatial3(const Node& node, const Window& w, const Shape& in_spatial,
                     const Shape& out_spatial);

/// The spatial part (from axis 2) of a static shape.
inline Shape spatial_of(const Shape& s) { return Shape(s.begin() + 2, s.end()); }

}  // namespace kiln::nn
