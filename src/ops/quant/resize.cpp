// Resize (Kiln op, version "kiln1"): N-D resampling that mirrors ONNX Resize-13..18.
//
// OpenVINO's Interpolate-11 lacks tf_crop_and_resize (roi + extrapolation_value) and the
// exclude_outside flag of cubic mode, and its linear/cubic variants differ in how they pick
// neighbours, so the ONNX semantics are kept in one dedicated op instead.
//
// Inputs:  data; target (scales as a float tensor, or sizes as an integer tensor, one value per
//          resized axis); roi (optional float tensor [starts..., ends...] over the resized axes,
//          only read by coordinate_transformation_mode=tf_crop_and_resize).
// Attributes: mode (nearest|linear|cubic), shape_calculation_mode (scales|sizes),
//   coordinate_transformation_mode (half_pixel|pytorch_half_pixel|align_corners|asymmetric|
//   tf_half_pixel_for_nn|tf_crop_and_resize), nearest_mode (round_prefer_floor|round_prefer_ceil|
//   floor|ceil), cubic_coeff_a, exclude_outside, extrapolation_value, axes (default: all),
//   keep_aspect_ratio_policy (stretch|not_larger|not_smaller; sizes only).
#include <cmath>
#include <algorithm>
#include <functional>
#include <limits>

#include "core/dispatch.hpp"
#include "ops/common/shape_utils.hpp"
#include "ops/quant/quant_common.hpp"

namespace kiln {
namespace {

struct ResizePlan {
    std::vector<int64_t> axes;     // resized axes, normalized
    std::vector<double> scales;    // per resized axis
    std::vector<int64_t> out_len;  // per resized axis; -1 when unknown
};

std::vector<int64_t> resize_axes(const Attributes& a, int64_t rank,
                                 const std::function<int64_t(int64_t)>& norm) {
    std::vector<int64_t> axes = a.get_ints("axes", {});
    if (axes.empty()) {
        for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
    }
    for (auto& ax : axes) ax = norm(ax);
    return axes;
}

// Output lengths and scale factors for the resized axes, given input dims (-1 = unknown) and the
// target value (null = unknown).
template <class Fail>
ResizePlan make_plan(const Attributes& a, const std::vector<int64_t>& in_dims,
                     const Tensor* target, const std::vector<int64_t>& axes, Fail&& fail) {
    ResizePlan p;
    p.axes = axes;
    const size_t n = axes.size();
    p.scales.assign(n, 0.0);
    p.out_len.assign(n, -1);
    if (!target) return p;
    if (target->size() != static_cast<int64_t>(n)) {
        fail("target has ", target->size(), " values for ", n, " resized axes");
    }
    const std::string calc = a.get_string("shape_calculation_mode", "scales");
    if (calc == "scales") {
        for (size_t i = 0; i < n; ++i) {
            const double s = target->value_as_double(static_cast<int64_t>(i));
            if (!(s > 0.0) || !std::isfinite(s)) fail("scales must be positive, got ", s);
            p.scales[i] = s;
            const int64_t in = in_dims[axes[i]];
            if (in >= 0) {
                const double len = std::floor(s * static_cast<double>(in));
                if (len > 1e15) fail("scale ", s, " gives an output that is too large");
                p.out_len[i] = static_cast<int64_t>(len);
            }
        }
        return p;
    }
    if (calc != "sizes") fail("unknown shape_calculation_mode '", calc, "'");
    std::vector<int64_t> sizes = target->to_int_vector();
    for (int64_t s : sizes) {
        if (s < 0) fail("sizes must be non-negative, got ", s);
    }
    const std::string policy = a.get_string("keep_aspect_ratio_policy", "stretch");
    if (policy == "stretch") {
        for (size_t i = 0; i < n; ++i) {
            p.out_len[i] = sizes[i];
            const int64_t in = in_dims[axes[i]];
            if (in > 0) p.scales[i] = static_cast<double>(sizes[i]) / static_cast<double>(in);
        }
        return p;
    }
    if (policy != "not_larger" && policy != "not_smaller") {
        fail("unknown keep_aspect_ratio_policy '", policy, "'");
    }
    double scale = policy == "not_larger" ? std::numeric_limits<double>::infinity() : 0.0;
    for (size_t i = 0; i < n; ++i) {
        const int64_t in = in_dims[axes[i]];
        if (in <= 0) return p;  // unknown (or empty) input: lengths stay unknown
        const double r = static_cast<double>(sizes[i]) / static_cast<double>(in);
        scale = policy == "not_larger" ? std::min(scale, r) : std::max(scale, r);
    }
    for (size_t i = 0; i < n; ++i) {
        p.scales[i] = scale;
        p.out_len[i] =
            static_cast<int64_t>(std::nearbyint(scale * static_cast<double>(in_dims[axes[i]])));
    }
    return p;
}

void infer_resize(ShapeContext& ctx) {
    ctx.expect_inputs(2, 3);
    const PartialShape& ps = ctx.input_shape(0);
    if (!ps.rank_is_static()) {
        ctx.set_output(0, ctx.input_type(0), PartialShape::dynamic());
        return;
    }
    const int64_t rank = ps.rank();
    auto axes = resize_axes(ctx.attrs(), rank,
                            [&](int64_t ax) { return normalize_axis(ctx, ax, rank); });
    std::vector<int64_t> in_dims;
    for (const auto& d : ps.dims()) in_dims.push_back(d.value_or(-1));
    const std::string calc = ctx.attrs().get_string("shape_calculation_mode", "scales");
    ctx.check(calc == "scales" || calc == "sizes", "unknown shape_calculation_mode '", calc, "'");
    if (calc == "scales") {
        ctx.check(is_float(ctx.input_type(1)), "scales must be a float tensor");
    } else {
        ctx.check(is_integral(ctx.input_type(1)) && ctx.input_type(1) != ElementType::boolean, "sizes must be an integer tensor");
    }
    const std::string mode = ctx.attrs().get_string("mode", "nearest");
    ctx.check(mode == "nearest" || mode == "linear" || mode == "cubic", "unknown mode '", mode,
              "'");
    ResizePlan p = make_plan(ctx.attrs(), in_dims, ctx.input_value(1), axes,
                             [&](const auto&... args) { ctx.fail(args...); });
    std::vector<Dimension> out(ps.dims());
    for (size_t i = 0; i < axes.size(); ++i) out[axes[i]] = Dimension(p.out_len[i]);
    ctx.set_output(0, ctx.input_type(0), PartialShape(out));
}

struct Tap {
    int64_t index;
    double weight;
};

struct AxisTaps {
    std::vector<std::vector<Tap>> taps;  // per output coordinate
    std::vector<char> outside;           // tf_crop_and_resize: sample lies outside the input
};

AxisTaps axis_taps(const Node& node, int64_t in_len, int64_t out_len, double scale,
                   double roi_start, double roi_end) {
    const Attributes& a = node.attrs();
    const std::string mode = a.get_string("mode", "nearest");
    const std::string ctm = a.get_string("coordinate_transformation_mode", "half_pixel");
    const std::string nearest = a.get_string("nearest_mode", "round_prefer_floor");
    const double cubic_a = a.get_float("cubic_coeff_a", -0.75);
    const bool exclude = a.get_int("exclude_outside", 0) != 0;
    AxisTaps r;
    r.taps.resize(out_len);
    r.outside.assign(out_len, 0);
    const double in_w = static_cast<double>(in_len);
    const double out_w = scale * in_w;  // the real-valued output length, as ONNX defines it
    for (int64_t o = 0; o < out_len; ++o) {
        const double x = static_cast<double>(o);
        double xo = 0.0;
        if (ctm == "align_corners") {
            xo = out_w == 1.0 ? 0.0 : x * (in_w - 1) / (out_w - 1);
        } else if (ctm == "asymmetric") {
            xo = x / scale;
        } else if (ctm == "tf_crop_and_resize") {
            xo = out_w == 1.0 ? (roi_end - roi_start) * (in_w - 1) / 2
                              : x * (roi_end - roi_start) * (in_w - 1) / (out_w - 1);
            xo += roi_start * (in_w - 1);
            if (!(xo >= 0.0 && xo <= in_w - 1)) {
                r.outside[o] = 1;
                continue;
            }
        } else if (ctm == "pytorch_half_pixel") {
            xo = out_w == 1.0 ? -0.5 : (x + 0.5) / scale - 0.5;
        } else if (ctm == "half_pixel") {
            xo = (x + 0.5) / scale - 0.5;
        } else if (ctm == "tf_half_pixel_for_nn") {
            xo = (x + 0.5) / scale;
        } else {
            KILN_THROW(node.context(), " unknown coordinate_transformation_mode '", ctm, "'");
        }
        KILN_CHECK(std::isfinite(xo), node.context(), " non-finite source coordinate");
        // The left neighbour is strictly below xo: an integral xo has ratio 1 on its left one.
        double fl = std::floor(xo);
        double ratio = xo - fl;
        if (ratio == 0.0) {
            fl -= 1.0;
            ratio = 1.0;
        }
        std::vector<double> coeffs;
        if (mode == "nearest") {
            bool right = true;
            if (ratio != 1.0) {
                if (nearest == "round_prefer_floor") right = ratio > 0.5;
                else if (nearest == "round_prefer_ceil") right = ratio >= 0.5;
                else if (nearest == "floor") right = false;
                else if (nearest == "ceil") right = true;
                else KILN_THROW(node.context(), " unknown nearest_mode '", nearest, "'");
            }
            coeffs = {right ? 0.0 : 1.0, right ? 1.0 : 0.0};
        } else if (mode == "linear") {
            coeffs = {1.0 - ratio, ratio};
        } else if (mode == "cubic") {
            const double A = cubic_a, t = ratio, u = 1.0 - ratio;
            coeffs = {((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A,
                      ((A + 2) * t - (A + 3)) * t * t + 1, ((A + 2) * u - (A + 3)) * u * u + 1,
                      ((A * (u + 1) - 5 * A) * (u + 1) + 8 * A) * (u + 1) - 4 * A};
        } else {
            KILN_THROW(node.context(), " unknown mode '", mode, "'");
        }
        const int64_t n = static_cast<int64_t>(coeffs.size());
        // |xo| is bounded by the input length times a finite factor; keep the cast defined.
        KILN_CHECK(std::fabs(fl) < 1e15, node.context(), " source coordinate out of range");
        const int64_t first = static_cast<int64_t>(fl) - (n / 2 - 1);
        if (exclude) {
            double sum = 0.0;
            for (int64_t k = 0; k < n; ++k) {
                const int64_t idx = first + k;
                if (idx < 0 || idx >= in_len) coeffs[k] = 0.0;
                sum += coeffs[k];
            }
            if (sum != 0.0) {
                for (auto& c : coeffs) c /= sum;
            }
        }
        for (int64_t k = 0; k < n; ++k) {
            if (coeffs[k] == 0.0) continue;
            const int64_t idx = std::clamp<int64_t>(first + k, 0, in_len - 1);
            r.taps[o].push_back({idx, coeffs[k]});
        }
    }
    return r;
}

template <class T>
T from_double(double v) {
    if constexpr (std::is_integral_v<T>) {
        if (std::isnan(v)) return T{0};
        v = std::nearbyint(v);
        if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) {
            return std::numeric_limits<T>::lowest();
        }
        if (v >= static_cast<double>(std::numeric_limits<T>::max())) {
            return std::numeric_limits<T>::max();
        }
        return static_cast<T>(v);
    } else {
        return static_cast<T>(v);
    }
}

void eval_resize(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const Tensor& x = in[0];
    Tensor& y = out[0];
    const int64_t rank = x.rank();
    const Shape& is = x.shape();
    const Shape& os = y.shape();
    if (y.size() == 0) return;
    KILN_CHECK(x.size() > 0, node.context(), " cannot resize an empty input to a non-empty output");
    auto axes = resize_axes(node.attrs(), rank,
                            [&](int64_t ax) { return normalize_axis(node, ax, rank); });
    ResizePlan p = make_plan(node.attrs(), is, &in[1], axes,
                             [&](const auto&... args) { KILN_THROW(node.context(), " ", args...); });
    const bool crop = node.attrs().get_string("coordinate_transformation_mode", "half_pixel") ==
                      "tf_crop_and_resize";
    std::vector<double> roi;
    if (crop) {
        KILN_CHECK(in.size() > 2 && in[2].size() == 2 * static_cast<int64_t>(axes.size()),
                   node.context(), " tf_crop_and_resize needs a roi of ", 2 * axes.size(),
                   " values");
        roi = in[2].to_double_vector();
    }
    std::vector<AxisTaps> taps(rank);
    for (int64_t d = 0; d < rank; ++d) {
        auto it = std::find(axes.begin(), axes.end(), d);
        if (it == axes.end()) {
            taps[d].taps.resize(is[d]);
            taps[d].outside.assign(is[d], 0);
            for (int64_t i = 0; i < is[d]; ++i) taps[d].taps[i] = {{i, 1.0}};
            continue;
        }
        const size_t k = static_cast<size_t>(it - axes.begin());
        const double r0 = crop ? roi[k] : 0.0, r1 = crop ? roi[k + axes.size()] : 1.0;
        taps[d] = axis_taps(node, is[d], os[d], p.scales[k], r0, r1);
    }
    const double extrapolation = node.attrs().get_float("extrapolation_value", 0.0);
    const auto strides = row_major_strides(is);
    dispatch_numeric(x.element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        if constexpr (std::is_same_v<T, bool>) {
            KILN_THROW(node.context(), " does not support boolean data");
        } else {
            const T* src = x.data<T>();
            T* dst = y.data<T>();
            std::vector<int64_t> idx(rank, 0);
            std::function<double(int64_t, int64_t, double)> acc = [&](int64_t d, int64_t off,
                                                                      double w) -> double {
                if (d == rank) return w * static_cast<double>(src[off]);
                double s = 0.0;
                for (const Tap& t : taps[d].taps[idx[d]]) {
                    s += acc(d + 1, off + t.index * strides[d], w * t.weight);
                }
                return s;
            };
            const int64_t total = y.size();
            for (int64_t i = 0; i < total; ++i) {
                bool outside = false;
                for (int64_t d = 0; d < rank; ++d) outside = outside || taps[d].outside[idx[d]];
                dst[i] = from_double<T>(outside ? extrapolation : acc(0, 0, 1.0));
                for (int64_t d = rank - 1; d >= 0; --d) {
                    if (++idx[d] < os[d]) break;
                    idx[d] = 0;
                }
            }
        }
    });
}

}  // namespace

void register_resize(OpRegistry& r) { r.add({"Resize", "kiln1", infer_resize, eval_resize}); }

}  // namespace kiln
