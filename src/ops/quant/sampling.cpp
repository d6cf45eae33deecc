// Spatial sampling ops: GridSample-9 and ROIAlign-9 (OpenVINO semantics), and MaxUnpool (Kiln op
// mirroring ONNX MaxUnpool: scatters pooled values back to the flat positions MaxPool reported).
#include <algorithm>
#include <cmath>

#include "core/dispatch.hpp"
#include "ops/common/shape_utils.hpp"
#include "ops/quant/quant_common.hpp"

namespace kiln {
namespace {

Dimension dim_at(const PartialShape& s, size_t i) {
    return s.rank_is_static() ? s[i] : Dimension::dynamic();
}

void check_rank(const ShapeContext& ctx, size_t input, int64_t rank, const char* what) {
    const PartialShape& s = ctx.input_shape(input);
    ctx.check(!s.rank_is_static() || s.rank() == rank, what, " must have rank ", rank, ", got ",
              to_string(s));
}

// ---------------------------------------------------------------------------------------------
// GridSample: data [N,C,H,W], grid [N,Ho,Wo,2] of (x, y) in [-1, 1] -> [N,C,Ho,Wo].

void infer_grid_sample(ShapeContext& ctx) {
    ctx.expect_inputs(2);
    check_rank(ctx, 0, 4, "data");
    check_rank(ctx, 1, 4, "grid");
    ctx.check(is_float(ctx.input_type(0)) && is_float(ctx.input_type(1)),
              "data and grid must be floating-point");
    const std::string mode = ctx.attrs().get_string("mode", "bilinear");
    ctx.check(mode == "bilinear" || mode == "bicubic" || mode == "nearest", "unknown mode '", mode,
              "'");
    const std::string pad = ctx.attrs().get_string("padding_mode", "zeros");
    ctx.check(pad == "zeros" || pad == "border" || pad == "reflection", "unknown padding_mode '",
              pad, "'");
    const PartialShape& d = ctx.input_shape(0);
    const PartialShape& g = ctx.input_shape(1);
    ctx.check(!dim_at(g, 3).is_static() || dim_at(g, 3).get_length() == 2,
              "grid's last dimension must be 2");
    ctx.check(dim_at(d, 0).compatible(dim_at(g, 0)), "batch sizes differ: ", to_string(d), " vs ",
              to_string(g));
    Dimension n = dim_at(d, 0).is_static() ? dim_at(d, 0) : dim_at(g, 0);
    ctx.set_output(0, ctx.input_type(0), PartialShape({n, dim_at(d, 1), dim_at(g, 1), dim_at(g, 2)}));
}

double reflect(double v, double twice_low, double twice_high) {
    if (twice_low == twice_high) return 0.0;
    const double lo = twice_low / 2, span = (twice_high - twice_low) / 2;
    v = std::fabs(v - lo);
    const double extra = std::fmod(v, span);
    const double flips = std::floor(v / span);
    return std::fmod(flips, 2.0) == 0.0 ? extra + lo : span - extra + lo;
}

struct GridSampler {
    bool align;
    std::string padding;
    int64_t h, w;

    double unnormalize(double c, int64_t size) const {
        return align ? (c + 1) / 2 * static_cast<double>(size - 1)
                     : ((c + 1) * static_cast<double>(size) - 1) / 2;
    }
    // Applies border/reflection padding to a source coordinate.
    double pad_coord(double c, int64_t size) const {
        const double hi = static_cast<double>(size - 1);
        if (padding == "border") return std::clamp(c, 0.0, hi);
        if (padding == "reflection") {
            c = align ? reflect(c, 0, 2.0 * hi) : reflect(c, -1, 2.0 * static_cast<double>(size) - 1);
            return std::clamp(c, 0.0, hi);
        }
        return c;
    }
    // Pixel (y, x) or 0 outside the image (after padding has been applied).
    template <class T>
    double at(const T* img, double y, double x) const {
        if (!(y >= 0 && y <= static_cast<double>(h - 1) && x >= 0 && x <= static_cast<double>(w - 1))) {
            return 0.0;
        }
        return static_cast<double>(img[static_cast<int64_t>(y) * w + static_cast<int64_t>(x)]);
    }
};

double cubic_weight(double t, int k) {
    constexpr double A = -0.75;
    auto near = [](double x) { return ((A + 2) * x - (A + 3)) * x * x + 1; };
    auto far = [](double x) { return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; };
    switch (k) {
        case 0: return far(t + 1);
        case 1: return near(t);
        case 2: return near(1 - t);
        default: return far(2 - t);
    }
}

void eval_grid_sample(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const Shape& ds = in[0].shape();
    const Shape& gs = in[1].shape();
    KILN_CHECK(ds[0] == gs[0] && gs[3] == 2, node.context(), " bad grid shape");
    const int64_t N = ds[0], C = ds[1], H = ds[2], W = ds[3], Ho = gs[1], Wo = gs[2];
    const std::string mode = node.attrs().get_string("mode", "bilinear");
    GridSampler s{node.attrs().get_bool("align_corners", false),
                  node.attrs().get_string("padding_mode", "zeros"), H, W};
    const std::vector<double> grid = in[1].to_double_vector();
    dispatch_float(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        const T* src = in[0].data<T>();
        T* dst = out[0].data<T>();
        for (int64_t n = 0; n < N; ++n) {
            for (int64_t p = 0; p < Ho * Wo; ++p) {
                const double gx = grid[(n * Ho * Wo + p) * 2], gy = grid[(n * Ho * Wo + p) * 2 + 1];
                double x = s.unnormalize(gx, W), y = s.unnormalize(gy, H);
                for (int64_t c = 0; c < C; ++c) {
                    const T* img = src + (n * C + c) * H * W;
                    double v = 0.0;
                    if (!std::isfinite(x) || !std::isfinite(y)) {
                        v = 0.0;
                    } else if (mode == "bicubic") {
                        const double x0 = std::floor(x), y0 = std::floor(y);
                        const double tx = x - x0, ty = y - y0;
                        for (int i = 0; i < 4; ++i) {
                            double row = 0.0;
                            for (int j = 0; j < 4; ++j) {
                                const double px = s.pad_coord(x0 - 1 + j, W);
                                const double py = s.pad_coord(y0 - 1 + i, H);
                                row += cubic_weight(tx, j) * s.at(img, py, px);
                            }
                            v += cubic_weight(ty, i) * row;
                        }
                    } else {
                        const double px = s.pad_coord(x, W), py = s.pad_coord(y, H);
                        if (mode == "nearest") {
                            v = s.at(img, std::nearbyint(py), std::nearbyint(px));
                        } else {
                            const double x0 = std::floor(px), y0 = std::floor(py);
                            const double lx = px - x0, ly = py - y0;
                            v = (1 - ly) * ((1 - lx) * s.at(img, y0, x0) + lx * s.at(img, y0, x0 + 1)) +
                                ly * ((1 - lx) * s.at(img, y0 + 1, x0) + lx * s.at(img, y0 + 1, x0 + 1));
                        }
                    }
                    dst[(n * C + c) * Ho * Wo + p] = static_cast<T>(v);
                }
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// ROIAlign: data [N,C,H,W], rois [R,4] (x1,y1,x2,y2), batch_indices [R] -> [R,C,pooled_h,pooled_w]

void infer_roi_align(ShapeContext& ctx) {
    ctx.expect_inputs(3);
    check_rank(ctx, 0, 4, "data");
    check_rank(ctx, 1, 2, "rois");
    check_rank(ctx, 2, 1, "batch_indices");
    ctx.check(is_float(ctx.input_type(0)) && is_float(ctx.input_type(1)),
              "data and rois must be floating-point");
    ctx.check(is_integral(ctx.input_type(2)), "batch_indices must be integers");
    const int64_t ph = ctx.attrs().get_int("pooled_h", 1), pw = ctx.attrs().get_int("pooled_w", 1);
    ctx.check(ph > 0 && pw > 0, "pooled_h and pooled_w must be positive");
    ctx.check(ctx.attrs().get_int("sampling_ratio", 0) >= 0, "sampling_ratio must be >= 0");
    const std::string mode = ctx.attrs().get_string("mode", "avg");
    ctx.check(mode == "avg" || mode == "max", "unknown mode '", mode, "'");
    const std::string am = ctx.attrs().get_string("aligned_mode", "asymmetric");
    ctx.check(am == "asymmetric" || am == "half_pixel", "unsupported aligned_mode '", am, "'");
    const PartialShape& r = ctx.input_shape(1);
    ctx.check(!dim_at(r, 1).is_static() || dim_at(r, 1).get_length() == 4,
              "rois must have 4 columns");
    ctx.check(dim_at(r, 0).compatible(dim_at(ctx.input_shape(2), 0)),
              "rois and batch_indices disagree on the roi count");
    Dimension nr = dim_at(r, 0).is_static() ? dim_at(r, 0) : dim_at(ctx.input_shape(2), 0);
    ctx.set_output(0, ctx.input_type(0),
                   PartialShape({nr, dim_at(ctx.input_shape(0), 1), Dimension(ph), Dimension(pw)}));
}

void eval_roi_align(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const Attributes& a = node.attrs();
    const Shape& ds = in[0].shape();
    const int64_t C = ds[1], H = ds[2], W = ds[3], R = in[1].shape()[0];
    KILN_CHECK(in[2].size() == R, node.context(), " batch_indices must have ", R, " values");
    const int64_t PH = a.get_int("pooled_h", 1), PW = a.get_int("pooled_w", 1);
    const int64_t ratio = a.get_int("sampling_ratio", 0);
    const double scale = a.get_float("spatial_scale", 1.0);
    const bool avg = a.get_string("mode", "avg") == "avg";
    const bool half = a.get_string("aligned_mode", "asymmetric") == "half_pixel";
    const double offset = half ? 0.5 : 0.0;
    const std::vector<double> rois = in[1].to_double_vector();
    const std::vector<int64_t> batch = in[2].to_int_vector();
    dispatch_float(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        const T* src = in[0].data<T>();
        T* dst = out[0].data<T>();
        for (int64_t r = 0; r < R; ++r) {
            KILN_CHECK(batch[r] >= 0 && batch[r] < ds[0], node.context(), " batch index ",
                       batch[r], " is out of range [0, ", ds[0], ")");
            const double* box = &rois[r * 4];
            for (int k = 0; k < 4; ++k) {
                KILN_CHECK(std::isfinite(box[k]), node.context(), " roi ", r, " is not finite");
            }
            const double x0 = box[0] * scale - offset, y0 = box[1] * scale - offset;
            double rw = box[2] * scale - offset - x0, rh = box[3] * scale - offset - y0;
            if (!half) {
                rw = std::max(rw, 1.0);
                rh = std::max(rh, 1.0);
            }
            const double bh = rh / static_cast<double>(PH), bw = rw / static_cast<double>(PW);
            KILN_CHECK(std::isfinite(x0) && std::isfinite(y0) && std::isfinite(bh) &&
                           std::isfinite(bw),
                       node.context(), " roi ", r, " is not finite after scaling");
            const int64_t gh = ratio > 0 ? ratio : static_cast<int64_t>(std::ceil(std::clamp(bh, 0.0, 1e6)));
            const int64_t gw = ratio > 0 ? ratio : static_cast<int64_t>(std::ceil(std::clamp(bw, 0.0, 1e6)));
            const double count = static_cast<double>(std::max<int64_t>(gh * gw, 1));
            for (int64_t c = 0; c < C; ++c) {
                const T* img = src + (batch[r] * C + c) * H * W;
                for (int64_t py = 0; py < PH; ++py) {
                    for (int64_t px = 0; px < PW; ++px) {
                        double acc = 0.0;
                        bool first = true;
                        for (int64_t iy = 0; iy < gh; ++iy) {
                            for (int64_t ix = 0; ix < gw; ++ix) {
                                double y = y0 + py * bh + (iy + 0.5) * bh / gh;
                                double x = x0 + px * bw + (ix + 0.5) * bw / gw;
                                double val = 0.0;
                                if (!(y < -1.0 || y > H || x < -1.0 || x > W)) {
                                    y = std::max(y, 0.0);
                                    x = std::max(x, 0.0);
                                    int64_t yl = static_cast<int64_t>(y), xl = static_cast<int64_t>(x);
                                    int64_t yh = yl + 1, xh = xl + 1;
                                    if (yl >= H - 1) yh = yl = H - 1, y = static_cast<double>(yl);
                                    if (xl >= W - 1) xh = xl = W - 1, x = static_cast<double>(xl);
                                    const double ly = y - yl, lx = x - xl, hy = 1 - ly, hx = 1 - lx;
                                    const double v1 = hy * hx * img[yl * W + xl];
                                    const double v2 = hy * lx * img[yl * W + xh];
                                    const double v3 = ly * hx * img[yh * W + xl];
                                    const double v4 = ly * lx * img[yh * W + xh];
                                    val = avg ? v1 + v2 + v3 + v4 : std::max({v1, v2, v3, v4});
                                }
                                if (avg) acc += val;
                                else acc = first ? val : std::max(acc, val);
                                first = false;
                            }
                        }
                        if (avg) acc /= count;
                        dst[((r * C + c) * PH + py) * PW + px] = static_cast<T>(acc);
                    }
                }
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// MaxUnpool: X, I (flat indices into the output), optional output_shape; attributes kernel_shape,
// strides (default 1), pads (ONNX layout: begins then ends).

std::vector<Dimension> unpool_default_shape(const ShapeContext& ctx) {
    const PartialShape& x = ctx.input_shape(0);
    const auto k = ctx.attrs().get_ints("kernel_shape");
    const size_t sp = k.size();
    ctx.check(x.rank() == static_cast<int64_t>(sp + 2), "kernel_shape has ", sp,
              " values for input ", to_string(x));
    auto strides = ctx.attrs().get_ints("strides", std::vector<int64_t>(sp, 1));
    auto pads = ctx.attrs().get_ints("pads", std::vector<int64_t>(2 * sp, 0));
    ctx.check(strides.size() == sp && pads.size() == 2 * sp, "strides/pads do not match kernel");
    std::vector<Dimension> dims{x[0], x[1]};
    for (size_t i = 0; i < sp; ++i) {
        const Dimension& d = x[i + 2];
        if (d.is_dynamic()) {
            dims.push_back(Dimension::dynamic());
            continue;
        }
        const int64_t v = (d.get_length() - 1) * strides[i] + k[i] - pads[i] - pads[i + sp];
        ctx.check(v >= 0, "negative output size");
        dims.push_back(Dimension(v));
    }
    return dims;
}

void infer_max_unpool(ShapeContext& ctx) {
    ctx.expect_inputs(2, 3);
    ctx.check(is_integral(ctx.input_type(1)), "indices must be integers");
    const PartialShape& x = ctx.input_shape(0);
    ctx.check(x.compatible(ctx.input_shape(1)), "X and I shapes differ: ", to_string(x), " vs ",
              to_string(ctx.input_shape(1)));
    if (ctx.input_count() == 3) {
        if (const Tensor* v = ctx.input_value(2)) {
            auto s = v->to_int_vector();
            for (int64_t d : s) ctx.check(d >= 0, "output_shape has a negative dimension");
            ctx.set_output(0, ctx.input_type(0), Shape(s));
            return;
        }
        const PartialShape& os = ctx.input_shape(2);
        ctx.set_output(0, ctx.input_type(0),
                       PartialShape::dynamic(os.is_static() ? std::optional<int64_t>(os[0].get_length())
                                                            : std::nullopt));
        return;
    }
    if (!x.rank_is_static()) {
        ctx.set_output(0, ctx.input_type(0), PartialShape::dynamic());
        return;
    }
    ctx.set_output(0, ctx.input_type(0), PartialShape(unpool_default_shape(ctx)));
}

void eval_max_unpool(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    KILN_CHECK(in[0].shape() == in[1].shape(), node.context(), " X and I shapes differ");
    // Indices address the default unpooled shape; an explicit output_shape only pads it at the
    // end of each axis (ONNX reference semantics).
    const Shape& xs = in[0].shape();
    const auto k = node.attrs().get_ints("kernel_shape");
    const size_t sp = k.size();
    KILN_CHECK(xs.size() == sp + 2, node.context(), " kernel_shape does not match X");
    const auto strides = node.attrs().get_ints("strides", std::vector<int64_t>(sp, 1));
    const auto pads = node.attrs().get_ints("pads", std::vector<int64_t>(2 * sp, 0));
    Shape def{xs[0], xs[1]};
    for (size_t i = 0; i < sp; ++i) {
        def.push_back(std::max<int64_t>(0, (xs[i + 2] - 1) * strides[i] + k[i] - pads[i] - pads[i + sp]));
    }
    const Shape& os = out[0].shape();
    KILN_CHECK(os.size() == def.size(), node.context(), " output_shape has rank ", os.size(),
               ", expected ", def.size());
    const int64_t def_total = shape_size(def);
    const std::vector<int64_t> idx = in[1].to_int_vector();
    dispatch_numeric(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        const T* src = in[0].data<T>();
        T* dst = out[0].data<T>();
        for (size_t i = 0; i < idx.size(); ++i) {
            KILN_CHECK(idx[i] >= 0 && idx[i] < def_total, node.context(), " index ", idx[i],
                       " is out of range for an unpooled shape ", to_string(def));
            int64_t rem = idx[i], off = 0, stride = 1;
            for (int64_t d = static_cast<int64_t>(def.size()) - 1; d >= 0; --d) {
                const int64_t c = rem % def[d];
                rem /= def[d];
                KILN_CHECK(c < os[d], node.context(), " index ", idx[i],
                           " falls outside output_shape ", to_string(os));
                off += c * stride;
                stride *= os[d];
            }
            dst[off] = src[i];
        }
    });
}

}  // namespace

void register_sampling(OpRegistry& r) {
    r.add({"GridSample", "opset9", infer_grid_sample, eval_grid_sample});
    r.add({"ROIAlign", "opset9", infer_roi_align, eval_roi_align});
    r.add({"MaxUnpool", "kiln1", infer_max_unpool, eval_max_unpool});
}

}  // namespace kiln
