// Linear quantization Kiln ops (version "kiln1"), mirroring ONNX:
//   QuantizeLinear(x, scale, zero_point?)  y = saturate(round_half_even(x / scale) + zero_point)
//   DequantizeLinear(x, scale, zero_point?) y = (x - zero_point) * scale
//   DynamicQuantizeLinear(x) -> (y u8, scale f32, zero_point u8)
//   MatMulInteger(a, b, a_zero_point?, b_zero_point?) -> i32 (numpy matmul broadcasting)
//   Requantize(acc, a_scale, b_scale, y_scale, y_zero_point) the output stage of
//     QLinearMatMul / QLinearConv: saturate(round_half_even(acc * (a_scale * b_scale / y_scale))
//     + y_zero_point); each parameter per tensor or per axis: b_scale along `axis`, a_scale
//     along `a_axis` and y_scale / y_zero_point along `y_axis` (both default to `axis`).
// Dedicated kernels keep ONNX's rounding (half to even, in the input's precision) and saturation
// exact. Scale/zero-point tensors are per tensor (scalar or one value) or per `axis` (1-D).
#include <cmath>
#include <limits>

#include "core/dispatch.hpp"
#include "ops/common/shape_utils.hpp"
#include "ops/quant/quant_common.hpp"

namespace kiln {
namespace {

// Maps a flat index of `x` to an index of a per-tensor or per-axis parameter.
struct ParamIndex {
    int64_t inner = 1, dim = 1;
    bool per_axis = false;
    int64_t operator()(int64_t i) const { return per_axis ? (i / inner) % dim : 0; }
};

ParamIndex param_index(const Node& node, const Shape& x, const Shape& param, int64_t axis_attr) {
    ParamIndex p;
    // A scalar or a single value applies to the whole tensor.
    if (param.empty() || (param.size() == 1 && param[0] == 1)) return p;
    KILN_CHECK(param.size() == 1, node.context(), " scale/zero point must be a scalar or 1-D, got ",
               to_string(param));
    const int64_t rank = static_cast<int64_t>(x.size());
    const int64_t axis = normalize_axis(node, axis_attr, rank);
    KILN_CHECK(param[0] == x[axis], node.context(), " per-axis parameter has ", param[0],
               " values but axis ", axis, " of ", to_string(x), " has ", x[axis]);
    p.per_axis = true;
    p.dim = x[axis];
    for (int64_t d = axis + 1; d < rank; ++d) p.inner *= x[d];
    return p;
}

void check_param(const ShapeContext& ctx, size_t i) {
    const PartialShape& s = ctx.input_shape(i);
    ctx.check(!s.rank_is_static() || s.rank() <= 1, "scale/zero point must be a scalar or 1-D, got ",
              to_string(s));
}

template <class Q>
Q saturate(double v) {
    if (std::isnan(v)) return Q{0};
    constexpr double lo = static_cast<double>(std::numeric_limits<Q>::lowest());
    constexpr double hi = static_cast<double>(std::numeric_limits<Q>::max());
    return static_cast<Q>(std::clamp(v, lo, hi));
}

void infer_quantize(ShapeContext& ctx) {
    ctx.expect_inputs(2, 3);
    ctx.check(is_float(ctx.input_type(0)) || ctx.input_type(0) == ElementType::i32,
              "x must be float or i32");
    ctx.check(is_float(ctx.input_type(1)), "scale must be floating-point");
    check_param(ctx, 1);
    ElementType out = element_type_from_string(ctx.attrs().get_string("output_type", "u8"));
    if (ctx.input_count() == 3) {
        check_param(ctx, 2);
        out = ctx.input_type(2);
    }
    ctx.check(out == ElementType::u8 || out == ElementType::i8 || out == ElementType::u16 ||
                  out == ElementType::i16 || out == ElementType::i32,
              "unsupported quantized type ", to_string(out));
    ctx.set_output(0, out, ctx.input_shape(0));
}

// Scale (input 1) and optional zero point (input 2), with the index maps from an element of x to
// its per-tensor or per-axis parameter.
struct ScaleAndZeroPoint {
    ParamIndex scale_index;
    std::vector<double> scale;
    ParamIndex zero_point_index;
    std::vector<double> zero_point;
};

ScaleAndZeroPoint read_scale_and_zero_point(const Node& node, const TensorVector& in) {
    const Shape& x = in[0].shape();
    const int64_t axis = node.attrs().get_int("axis", 1);
    ScaleAndZeroPoint p{param_index(node, x, in[1].shape(), axis), in[1].to_double_vector(), {},
                        std::vector<double>(1, 0.0)};
    if (in.size() == 3) {
        p.zero_point_index = param_index(node, x, in[2].shape(), axis);
        p.zero_point = in[2].to_double_vector();
    }
    return p;
}

void eval_quantize(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const Tensor& x = in[0];
    const auto [si, scale, zi, zp] = read_scale_and_zero_point(node, in);
    const bool f32 = x.element_type() != ElementType::f64;
    dispatch_integer(out[0].element_type(), [&](auto tag) {
        using Q = KILN_TYPE_OF(tag);
        Q* dst = out[0].data<Q>();
        for (int64_t i = 0; i < x.size(); ++i) {
            const double s = scale[si(i)];
            // Division in the input's precision, as ONNX's reference does.
            double q = f32 ? static_cast<double>(static_cast<float>(x.value_as_double(i)) /
                                                 static_cast<float>(s))
                           : x.value_as_double(i) / s;
            dst[i] = saturate<Q>(std::nearbyint(q) + zp[zi(i)]);
        }
    });
}

void infer_dequantize(ShapeContext& ctx) {
    ctx.expect_inputs(2, 3);
    ctx.check(is_integral(ctx.input_type(0)) && ctx.input_type(0) != ElementType::boolean,
              "x must be an integer tensor");
    ctx.check(is_float(ctx.input_type(1)), "scale must be floating-point");
    check_param(ctx, 1);
    if (ctx.input_count() == 3) {
        check_param(ctx, 2);
        ctx.check(ctx.input_type(2) == ctx.input_type(0), "zero point type ",
                  to_string(ctx.input_type(2)), " differs from x type ", to_string(ctx.input_type(0)));
    }
    ctx.set_output(0, ctx.input_type(1), ctx.input_shape(0));
}

void eval_dequantize(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const Tensor& x = in[0];
    const auto [si, scale, zi, zp] = read_scale_and_zero_point(node, in);
    dispatch_float(out[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        T* dst = out[0].data<T>();
        for (int64_t i = 0; i < x.size(); ++i) {
            dst[i] = static_cast<T>((x.value_as_double(i) - zp[zi(i)]) * scale[si(i)]);
        }
    });
}

void infer_dynamic_quantize(ShapeContext& ctx) {
    ctx.expect_inputs(1);
    ctx.check(ctx.input_type(0) == ElementType::f32, "x must be f32");
    ctx.set_output(0, ElementType::u8, ctx.input_shape(0));
    ctx.set_output(1, ElementType::f32, Shape{});
    ctx.set_output(2, ElementType::u8, Shape{});
}

void eval_dynamic_quantize(const Node& node, const TensorVector& in, TensorVector& out,
                           ExecContext&) {
    allocate_outputs(node, in, out);
    const float* x = in[0].data<float>();
    const int64_t n = in[0].size();
    float lo = 0.f, hi = 0.f;  // the range always includes 0
    for (int64_t i = 0; i < n; ++i) {
        if (std::isnan(x[i])) continue;
        lo = std::min(lo, x[i]);
        hi = std::max(hi, x[i]);
    }
    const float scale = (hi - lo) / 255.f;
    float zp = 0.f;
    if (scale > 0.f && std::isfinite(scale)) zp = std::clamp(std::nearbyint((0.f - lo) / scale), 0.f, 255.f);
    out[1].data<float>()[0] = scale;
    out[2].data<uint8_t>()[0] = static_cast<uint8_t>(zp);
    uint8_t* y = out[0].data<uint8_t>();
    for (int64_t i = 0; i < n; ++i) {
        const double q = scale > 0.f ? std::nearbyint(x[i] / scale) + zp : zp;
        y[i] = saturate<uint8_t>(q);
    }
}

// ---- MatMulInteger ---------------------------------------------------------------------------

void infer_matmul_integer(ShapeContext& ctx) {
    ctx.expect_inputs(2, 4);
    for (size_t i = 0; i < ctx.input_count(); ++i) {
        const ElementType t = ctx.input_type(i);
        ctx.check(t == ElementType::u8 || t == ElementType::i8, "input ", i, " must be u8 or i8");
    }
    PartialShape a = ctx.input_shape(0), b = ctx.input_shape(1);
    if (!a.rank_is_static() || !b.rank_is_static()) {
        ctx.set_output(0, ElementType::i32, PartialShape::dynamic());
        return;
    }
    ctx.check(a.rank() >= 1 && b.rank() >= 1, "inputs must have rank >= 1");
    std::vector<Dimension> ad = a.dims(), bd = b.dims();
    const bool a1 = ad.size() == 1, b1 = bd.size() == 1;
    if (a1) ad.insert(ad.begin(), Dimension(1));
    if (b1) bd.push_back(Dimension(1));
    ctx.check(ad.back().compatible(bd[bd.size() - 2]), "inner dimensions differ: ", to_string(a),
              " x ", to_string(b));
    PartialShape batch = broadcast_partial(ctx, std::vector<Dimension>(ad.begin(), ad.end() - 2),
                                           std::vector<Dimension>(bd.begin(), bd.end() - 2));
    std::vector<Dimension> o = batch.dims();
    if (!a1) o.push_back(ad[ad.size() - 2]);
    if (!b1) o.push_back(bd.back());
    ctx.set_output(0, ElementType::i32, PartialShape(o));
}

void eval_matmul_integer(const Node& node, const TensorVector& in, TensorVector& out,
                         ExecContext&) {
    allocate_outputs(node, in, out);
    Shape as = in[0].shape(), bs = in[1].shape();
    if (as.size() == 1) as.insert(as.begin(), 1);
    if (bs.size() == 1) bs.push_back(1);
    const int64_t M = as[as.size() - 2], K = as.back(), N = bs.back();
    KILN_CHECK(bs[bs.size() - 2] == K, node.context(), " inner dimensions differ");
    const Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
    const Shape batch = broadcast_static(ab, bb);
    const std::vector<int64_t> a = in[0].to_int_vector(), b = in[1].to_int_vector();
    std::vector<int64_t> azp{0}, bzp{0};
    if (in.size() > 2 && in[2]) azp = in[2].to_int_vector();
    if (in.size() > 3 && in[3]) bzp = in[3].to_int_vector();
    const int64_t nb = shape_size(batch);
    // Zero points: one value, one per row of a (per column of b), or one per row per batch.
    auto zp_at = [&](const std::vector<int64_t>& zp, int64_t bi, int64_t r, int64_t len) {
        const int64_t n = static_cast<int64_t>(zp.size());
        if (n == 1) return zp[0];
        if (n == len) return zp[r];
        KILN_CHECK(n == len * nb, node.context(), " zero point has ", n, " values");
        return zp[bi * len + r];
    };
    int32_t* y = out[0].data<int32_t>();
    std::vector<int64_t> idx(batch.size(), 0);
    for (int64_t bi = 0; bi < nb; ++bi) {
        Shape bidx(idx.begin(), idx.end());
        int64_t ao = 0, bo = 0;
        for (size_t d = 0, sa = batch.size() - ab.size(), sb = batch.size() - bb.size();
             d < batch.size(); ++d) {
            if (d >= sa) ao = ao * ab[d - sa] + (ab[d - sa] == 1 ? 0 : idx[d]);
            if (d >= sb) bo = bo * bb[d - sb] + (bb[d - sb] == 1 ? 0 : idx[d]);
        }
        const int64_t* A = a.data() + ao * M * K;
        const int64_t* B = b.data() + bo * K * N;
        for (int64_t m = 0; m < M; ++m) {
            const int64_t za = zp_at(azp, bi, m, M);
            for (int64_t n = 0; n < N; ++n) {
                const int64_t zb = zp_at(bzp, bi, n, N);
                int64_t acc = 0;
                for (int64_t k = 0; k < K; ++k) acc += (A[m * K + k] - za) * (B[k * N + n] - zb);
                y[(bi * M + m) * N + n] = static_cast<int32_t>(acc);
            }
        }
        for (int64_t d = static_cast<int64_t>(batch.size()) - 1; d >= 0; --d) {
            if (++idx[d] < batch[d]) break;
            idx[d] = 0;
        }
    }
}

// ---- Requantize ------------------------------------------------------------------------------

void infer_requantize(ShapeContext& ctx) {
    ctx.expect_inputs(5);
    for (size_t i = 1; i < 5; ++i) check_param(ctx, i);
    const ElementType t = ctx.input_type(4);
    ctx.check(t == ElementType::u8 || t == ElementType::i8, "y_zero_point must be u8 or i8");
    ctx.set_output(0, t, ctx.input_shape(0));
}

void eval_requantize(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const Tensor& acc = in[0];
    const int64_t axis = node.attrs().get_int("axis", 1);
    const int64_t a_axis = node.attrs().get_int("a_axis", axis);
    const int64_t y_axis = node.attrs().get_int("y_axis", axis);
    const Shape& s = acc.shape();
    const ParamIndex ai = param_index(node, s, in[1].shape(), a_axis);
    const ParamIndex bi = param_index(node, s, in[2].shape(), axis);
    const ParamIndex yi = param_index(node, s, in[3].shape(), y_axis);
    const ParamIndex zi = param_index(node, s, in[4].shape(), y_axis);
    const auto as = in[1].to_double_vector(), bs = in[2].to_double_vector();
    const auto ys = in[3].to_double_vector(), zp = in[4].to_double_vector();
    dispatch_integer(out[0].element_type(), [&](auto tag) {
        using Q = KILN_TYPE_OF(tag);
        Q* dst = out[0].data<Q>();
        for (int64_t i = 0; i < acc.size(); ++i) {
            const float mult = static_cast<float>(as[ai(i)]) * static_cast<float>(bs[bi(i)]) /
                               static_cast<float>(ys[yi(i)]);
            const float v = static_cast<float>(acc.value_as_double(i)) * mult;
            dst[i] = saturate<Q>(std::nearbyint(static_cast<double>(v)) + zp[zi(i)]);
        }
    });
}

}  // namespace

void register_quantize(OpRegistry& r) {
    r.add({"QuantizeLinear", "kiln1", infer_quantize, eval_quantize});
    r.add({"DequantizeLinear", "kiln1", infer_dequantize, eval_dequantize});
    r.add({"DynamicQuantizeLinear", "kiln1", infer_dynamic_quantize, eval_dynamic_quantize});
    r.add({"MatMulInteger", "kiln1", infer_matmul_integer, eval_matmul_integer});
    r.add({"Requantize", "kiln1", infer_requantize, eval_requantize});
}

}  // namespace kiln
