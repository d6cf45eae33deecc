#include "ops/nn/nn_utils.hpp"

#include <algorithm>
#include <cctype>

namespace kiln::nn {

ElementType common_numeric_type(const ShapeContext& ctx, const char* operands) {
    const ElementType a = ctx.input_type(0), b = ctx.input_type(1);
    ctx.check(a == b || a == ElementType::dynamic || b == ElementType::dynamic, operands,
              " must have the same element type, got ", to_string(a), " and ", to_string(b));
    const ElementType t = a == ElementType::dynamic ? b : a;
    ctx.check(t != ElementType::boolean && t != ElementType::string, "does not support ",
              to_string(t));
    return t;
}

AutoPad read_auto_pad(const Node& node) {
    std::string s = node.attrs().get_string("auto_pad", "explicit");
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (s == "explicit" || s == "notset" || s.empty()) return AutoPad::explicit_pad;
    if (s == "same_upper") return AutoPad::same_upper;
    if (s == "same_lower") return AutoPad::same_lower;
    if (s == "valid") return AutoPad::valid;
    throw Error(str_cat(node.context(), " unknown auto_pad '", s, "'"));
}

std::vector<int64_t> spatial_attr(const Node& node, const std::string& name, size_t n,
                                  int64_t dflt) {
    if (!node.attrs().has(name)) return std::vector<int64_t>(n, dflt);
    std::vector<int64_t> v = node.attrs().get_ints(name);
    // An empty list means "default" (IR writers emit it for unset lists).
    if (v.empty()) return std::vector<int64_t>(n, dflt);
    node_check(node, v.size() == n, "attribute ", name, " has ", v.size(), " values, expected ", n,
               " (one per spatial axis)");
    return v;
}

Window read_window(const Node& node, std::vector<int64_t> kernel, bool with_dilations,
                   bool with_rounding) {
    Window w;
    const size_t n = kernel.size();
    w.kernel = std::move(kernel);
    w.strides = spatial_attr(node, "strides", n, 1);
    w.dilations =
        with_dilations ? spatial_attr(node, "dilations", n, 1) : std::vector<int64_t>(n, 1);
    w.pads_begin = spatial_attr(node, "pads_begin", n, 0);
    w.pads_end = spatial_attr(node, "pads_end", n, 0);
    w.auto_pad = read_auto_pad(node);
    if (with_rounding) {
        std::string r = node.attrs().get_string("rounding_type", "floor");
        std::transform(r.begin(), r.end(), r.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        node_check(node, r == "floor" || r == "ceil" || r == "ceil_torch",
                   "unknown rounding_type '", r, "'");
        w.ceil_mode = r != "floor";
        w.ceil_torch = r == "ceil_torch";
    }
    for (size_t i = 0; i < n; ++i) {
        node_check(node, w.kernel[i] > 0, "kernel extents must be positive");
        node_check(node, w.strides[i] > 0, "strides must be positive");
        node_check(node, w.dilations[i] > 0, "dilations must be positive");
        node_check(node, w.pads_begin[i] >= 0 && w.pads_end[i] >= 0, "pads must be >= 0");
        // Keeps index arithmetic far from overflow.
        node_check(node,
                   w.kernel[i] < kMaxWindowValue && w.dilations[i] < kMaxWindowValue &&
                       w.strides[i] < kMaxWindowValue && w.pads_begin[i] < kMaxWindowValue &&
                       w.pads_end[i] < kMaxWindowValue,
                   "kernel, stride, dilation or pad value too large");
    }
    if (w.auto_pad == AutoPad::valid) {
        std::fill(w.pads_begin.begin(), w.pads_begin.end(), 0);
        std::fill(w.pads_end.begin(), w.pads_end.end(), 0);
    }
    return w;
}

int64_t window_output_dim(const Node& node, Window& w, size_t i, int64_t in) {
    node_check(node, in >= 0 && in < (int64_t{1} << 61), "spatial extent out of range: ", in);
    const int64_t k = w.effective_kernel(i), s = w.strides[i];
    if (w.auto_pad == AutoPad::same_upper || w.auto_pad == AutoPad::same_lower) {
        const int64_t out = (in + s - 1) / s;
        const int64_t total = std::max<int64_t>((out - 1) * s + k - in, 0);
        const int64_t small = total / 2;
        w.pads_begin[i] = w.auto_pad == AutoPad::same_upper ? small : total - small;
        w.pads_end[i] = total - w.pads_begin[i];
        return out;
    }
    const int64_t padded = in + w.pads_begin[i] + w.pads_end[i];
    node_check(node, padded >= k, "padded input extent ", padded, " on spatial axis ", i,
               " is smaller than the (dilated) kernel extent ", k);
    const int64_t span = padded - k;
    int64_t out = (w.ceil_mode ? (span + s - 1) / s : span / s) + 1;
    // ceil_torch drops a last window that would start past the input and its leading padding.
    if (w.ceil_torch && out > 1 && (out - 1) * s >= in + w.pads_begin[i]) --out;
    return out;
}

std::vector<Dimension> window_output_dims(const Node& node, Window& w, const PartialShape& data,
                                          size_t first_spatial) {
    std::vector<Dimension> out;
    for (size_t i = 0; i < w.rank(); ++i) {
        const Dimension& d = data[first_spatial + i];
        out.push_back(d.is_static() ? Dimension(window_output_dim(node, w, i, d.get_length()))
                                    : Dimension::dynamic());
    }
    return out;
}

Shape resolve_window(const Node& node, Window& w, const Shape& in_spatial) {
    Shape out(w.rank());
    for (size_t i = 0; i < w.rank(); ++i) out[i] = window_output_dim(node, w, i, in_spatial[i]);
    return out;
}

Spatial3 to_spatial3(const Node& node, const Window& w, const Shape& in_spatial,
                     const Shape& out_spatial) {
    const size_t n = w.rank();
    node_check(node, n >= 1 && n <= 3, "supports 1 to 3 spatial axes, got ", n);
    Spatial3 g;
    const size_t off = 3 - n;
    for (size_t i = 0; i < n; ++i) {
        g.in[off + i] = in_spatial[i];
        g.out[off + i] = out_spatial[i];
        g.k[off + i] = w.kernel[i];
        g.s[off + i] = w.strides[i];
        g.d[off + i] = w.dilations[i];
        g.pb[off + i] = w.pads_begin[i];
    }
    return g;
}

}  // namespace kiln::nn
