// FullyConnectedCompressed and GatherCompressed (kiln1): a linear layer and an embedding lookup
// that read low-bit weights (see compressed_weights.hpp) instead of f32 ones. The CPU fusion pass
// FuseCompressedWeights makes them from the decompression subgraph that `kiln compress` writes,
// so the weights stay low-bit in memory and a kernel streams them at a quarter or an eighth of
// the f32 bytes.
//
// FullyConnectedCompressed(x [..., K], W, bias [N] or [0] (none), scale[, zero_point]):
//   y [..., N] f32 = x * W_f^T + bias.
// GatherCompressed(W, indices, scale[, zero_point]): y [indices..., K] f32 = rows of W_f, which
//   is Gather on axis 0 of the dequantized table, dequantizing only the rows asked for.
#include "ops/nn/compressed_weights.hpp"

#include <vector>

#include "core/int4_packing.hpp"
#include "ops/nn/nn_utils.hpp"

namespace kiln::nn {

bool is_lowbit_weight_type(ElementType t) {
    return t == ElementType::i8 || t == ElementType::u8 || t == ElementType::i4 ||
           t == ElementType::u4;
}

int32_t lowbit_at(const Tensor& t, int64_t i) {
    const auto* b = static_cast<const uint8_t*>(t.raw_data());
    switch (t.element_type()) {
        case ElementType::i8: return static_cast<int8_t>(b[i]);
        case ElementType::u8: return b[i];
        case ElementType::u4: return int4::get_u4(b, i);
        case ElementType::i4: return int4::get_i4(b, i);
        case ElementType::i32: return t.data<int32_t>()[i];
        default: return static_cast<int32_t>(t.value_as_int(i));
    }
}

std::string describe_lowbit_mismatch(const Shape& w, ElementType wt, const Shape& scale,
                                     const Shape* zp) {
    if (!is_lowbit_weight_type(wt))
        return str_cat("weight must be i8, u8, i4 or u4, got ", to_string(wt));
    if (w.size() != 2 && w.size() != 3)
        return str_cat("weight must be [N, K] or [N, groups, group_size], got ", to_string(w));
    Shape want = w;
    want.back() = 1;
    if (scale != want)
        return str_cat("scale ", to_string(scale), " does not fit weight ", to_string(w),
                       ": expected ", to_string(want));
    if (zp && shape_size(*zp) != 1 && shape_size(*zp) != shape_size(scale))
        return str_cat("zero point ", to_string(*zp), " must hold one value or one per scale ",
                       to_string(scale));
    return {};
}

LowBitLayout lowbit_layout(const Shape& w, const Shape&) {
    LowBitLayout l;
    l.n = w[0];
    l.groups = w.size() == 3 ? w[1] : 1;
    l.group_size = w.back();
    l.k = l.groups * l.group_size;
    return l;
}

float lowbit_zero_point(const Tensor* zp, const LowBitLayout& l, int64_t n, int64_t g) {
    if (!zp) return 0.f;
    const int64_t i = zp->size() == 1 ? 0 : n * l.groups + g;
    if (zp->element_type() == ElementType::f32) return zp->data<float>()[i];
    return static_cast<float>(lowbit_at(*zp, i));
}

void dequantize_lowbit_row(const Tensor& w, const Tensor& scale, const Tensor* zp,
                           const LowBitLayout& l, int64_t n, float* out) {
    const float* s = scale.data<float>();
    for (int64_t g = 0; g < l.groups; ++g) {
        const float z = lowbit_zero_point(zp, l, n, g), sc = s[n * l.groups + g];
        const int64_t base = n * l.k + g * l.group_size;
        for (int64_t j = 0; j < l.group_size; ++j)
            out[g * l.group_size + j] = (static_cast<float>(lowbit_at(w, base + j)) - z) * sc;
    }
}

namespace {

// Checks the weight/scale/zero-point inputs starting at `w`, `s`, `z` (z may be past the end).
void check_compressed_inputs(ShapeContext& ctx, size_t w, size_t s, size_t z) {
    ctx.check(ctx.input_type(s) == ElementType::f32 || ctx.input_type(s) == ElementType::dynamic,
              "scale must be f32, got ", to_string(ctx.input_type(s)));
    const PartialShape& ws = ctx.input_shape(w);
    const PartialShape& ss = ctx.input_shape(s);
    const bool has_zp = z < ctx.input_count();
    if (has_zp) {
        const ElementType zt = ctx.input_type(z);
        ctx.check(zt == ElementType::f32 || zt == ElementType::dynamic ||
                      (is_integral(zt) && zt != ElementType::boolean),
                  "zero point must be f32 or an integer type, got ", to_string(zt));
    }
    if (!ws.is_static() || !ss.is_static() || (has_zp && !ctx.input_shape(z).is_static())) return;
    const Shape zs = has_zp ? ctx.input_shape(z).to_shape() : Shape{};
    const std::string err = describe_lowbit_mismatch(ws.to_shape(), ctx.input_type(w),
                                                     ss.to_shape(), has_zp ? &zs : nullptr);
    ctx.check(err.empty(), err);
}

Dimension weight_k(const PartialShape& w) {
    if (!w.rank_is_static() || w.size() < 2) return Dimension();
    if (w.size() == 2) return w[1];
    if (w[1].is_static() && w[2].is_static()) return Dimension(w[1].get_length() * w[2].get_length());
    return Dimension();
}

void infer_fc_compressed(ShapeContext& ctx) {
    ctx.expect_inputs(4, 5);
    ctx.check(ctx.input_type(0) == ElementType::f32 || ctx.input_type(0) == ElementType::dynamic,
              "input must be f32, got ", to_string(ctx.input_type(0)));
    check_compressed_inputs(ctx, 1, 3, 4);
    const PartialShape& x = ctx.input_shape(0);
    const PartialShape& w = ctx.input_shape(1);
    const PartialShape& b = ctx.input_shape(2);
    ctx.check(!w.rank_is_static() || w.size() == 2 || w.size() == 3,
              "weight must be [N, K] or [N, groups, group_size], got ", to_string(w));
    if (!x.rank_is_static() || !w.rank_is_static()) {
        ctx.set_output(0, ElementType::f32, PartialShape());
        return;
    }
    ctx.check(x.size() >= 1, "input must be at least 1-D");
    ctx.check(x[x.size() - 1].compatible(weight_k(w)), "inner dimensions do not match: ",
              to_string(x), " x ", to_string(w));
    ctx.check(!b.rank_is_static() ||
                  (b.size() == 1 && (b[0].compatible(w[0]) || b[0] == Dimension(0))),
              "bias must be [N] or [0], got ", to_string(b), " for weight ", to_string(w));
    std::vector<Dimension> out = x.dims();
    out.back() = w[0];
    ctx.set_output(0, ElementType::f32, PartialShape(out));
}

void eval_fc_compressed(const Node& node, const TensorVector& in, TensorVector& out,
                        ExecContext&) {
    allocate_outputs(node, in, out);
    const LowBitLayout l = lowbit_layout(in[1].shape(), in[3].shape());
    const Tensor* zp = in.size() > 4 ? &in[4] : nullptr;
    const int64_t rows = l.n > 0 ? out[0].size() / l.n : 0;
    const float* x = in[0].data<float>();
    const float* bias = in[2].size() ? in[2].data<float>() : nullptr;
    float* y = out[0].data<float>();
    std::vector<float> wrow(static_cast<size_t>(l.k));
    for (int64_t j = 0; j < l.n; ++j) {
        dequantize_lowbit_row(in[1], in[3], zp, l, j, wrow.data());
        for (int64_t r = 0; r < rows; ++r) {
            double acc = bias ? bias[j] : 0.0;
            for (int64_t p = 0; p < l.k; ++p) acc += double(x[r * l.k + p]) * wrow[p];
            y[r * l.n + j] = static_cast<float>(acc);
        }
    }
}

void infer_gather_compressed(ShapeContext& ctx) {
    ctx.expect_inputs(3, 4);
    const ElementType it = ctx.input_type(1);
    ctx.check(it == ElementType::i32 || it == ElementType::i64 || it == ElementType::dynamic,
              "indices must be i32 or i64, got ", to_string(it));
    check_compressed_inputs(ctx, 0, 2, 3);
    const PartialShape& w = ctx.input_shape(0);
    const PartialShape& idx = ctx.input_shape(1);
    ctx.check(!w.rank_is_static() || w.size() == 2 || w.size() == 3,
              "weight must be [N, K] or [N, groups, group_size], got ", to_string(w));
    if (!idx.rank_is_static() || !w.rank_is_static()) {
        ctx.set_output(0, ElementType::f32, PartialShape());
        return;
    }
    std::vector<Dimension> out = idx.dims();
    out.push_back(weight_k(w));
    ctx.set_output(0, ElementType::f32, PartialShape(out));
}

void eval_gather_compressed(const Node& node, const TensorVector& in, TensorVector& out,
                            ExecContext&) {
    allocate_outputs(node, in, out);
    const LowBitLayout l = lowbit_layout(in[0].shape(), in[2].shape());
    const Tensor* zp = in.size() > 3 ? &in[3] : nullptr;
    const std::vector<int64_t> idx = in[1].to_int_vector();
    float* y = out[0].data<float>();
    for (size_t i = 0; i < idx.size(); ++i) {
        const int64_t r = idx[i] < 0 ? idx[i] + l.n : idx[i];
        node_check(node, r >= 0 && r < l.n, "index ", idx[i], " is out of range for ", l.n,
                   " rows");
        dequantize_lowbit_row(in[0], in[2], zp, l, r, y + static_cast<int64_t>(i) * l.k);
    }
}

}  // namespace

void register_compressed_weights(OpRegistry& r) {
    r.add({"FullyConnectedCompressed", "kiln1", infer_fc_compressed, eval_fc_compressed});
    r.add({"GatherCompressed", "kiln1", infer_gather_compressed, eval_gather_compressed});
}

}  // namespace kiln::nn
