// ScaledDotProductAttention (opset13): softmax(Q K^T * scale + mask) V over the last two axes.
// Inputs: query [..., L, E], key [..., S, E], value [..., S, Ev], optional attn_mask (boolean:
// false positions are excluded; floating: added) broadcast to [..., L, S], optional scalar scale
// (default 1/sqrt(E)). With `causal` the mask is ignored and position i sees keys 0..i only.
// The batch axes of query, key and value broadcast against each other.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/dispatch.hpp"
#include "ops/common/shape_utils.hpp"
#include "ops/nn/nn_utils.hpp"

namespace kiln::nn {
namespace {

PartialShape batch_of(const PartialShape& s) {
    return PartialShape(std::vector<Dimension>(s.dims().begin(), s.dims().end() - 2));
}

void infer_sdpa(ShapeContext& ctx) {
    ctx.expect_inputs(3, 5);
    for (size_t i = 0; i < 3; ++i) {
        const ElementType t = ctx.input_type(i);
        ctx.check(is_float(t) || t == ElementType::dynamic, "input ", i,
                  " must be floating-point, got ", to_string(t));
    }
    const PartialShape& q = ctx.input_shape(0);
    const PartialShape& k = ctx.input_shape(1);
    const PartialShape& v = ctx.input_shape(2);
    if (!q.rank_is_static() || !k.rank_is_static() || !v.rank_is_static()) {
        ctx.set_output(0, ctx.input_type(0), PartialShape());
        return;
    }
    ctx.check(q.size() >= 2 && k.size() >= 2 && v.size() >= 2,
              "query, key and value must be at least 2-D, got ", to_string(q), ", ", to_string(k),
              ", ", to_string(v));
    const size_t r = q.size();
    ctx.check(q[r - 1].compatible(k[k.size() - 1]), "query ", to_string(q), " and key ",
              to_string(k), " differ in the embedding size");
    ctx.check(k[k.size() - 2].compatible(v[v.size() - 2]), "key ", to_string(k), " and value ",
              to_string(v), " differ in the sequence length");
    PartialShape batch = broadcast_partial(ctx, batch_of(q), batch_of(k));
    batch = broadcast_partial(ctx, batch, batch_of(v));
    std::vector<Dimension> out = batch.dims();
    out.push_back(q[r - 2]);
    out.push_back(v[v.size() - 1]);
    if (ctx.input_count() > 3 && ctx.input_shape(3).rank_is_static()) {
        std::vector<Dimension> scores = batch.dims();
        scores.push_back(q[r - 2]);
        scores.push_back(k[k.size() - 2]);
        const PartialShape b = broadcast_partial(ctx, PartialShape(scores), ctx.input_shape(3));
        ctx.check(b.compatible(PartialShape(scores)), "attn_mask ", to_string(ctx.input_shape(3)),
                  " does not broadcast to the scores ", to_string(PartialShape(scores)));
    }
    ctx.set_output(0, ctx.input_type(0), PartialShape(out));
}

void eval_sdpa(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const Shape& qs = in[0].shape();
    const Shape& ks = in[1].shape();
    const Shape& vs = in[2].shape();
    const int64_t l = qs[qs.size() - 2], e = qs.back(), s = ks[ks.size() - 2], ev = vs.back();
    const bool causal = node.attrs().get_bool("causal", false);
    const bool has_mask = in.size() > 3 && !causal;
    const double scale =
        in.size() > 4 ? in[4].value_as_double(0) : 1.0 / std::sqrt(static_cast<double>(e));
    const Shape& os = out[0].shape();
    const Shape batch(os.begin(), os.end() - 2);
    Shape scores = batch;
    scores.push_back(l);
    scores.push_back(s);
    // Every score's mask value, broadcast once.
    std::vector<double> mask;
    if (has_mask) {
        mask.resize(static_cast<size_t>(shape_size(scores)));
        const Tensor& m = in[3];
        for_each_broadcast<1>(scores, {m.shape()}, [&](int64_t i, const auto& off) {
            if (m.element_type() == ElementType::boolean)
                mask[i] = m.data<bool>()[off[0]] ? 0.0 : -std::numeric_limits<double>::infinity();
            else
                mask[i] = m.value_as_double(off[0]);
        });
    }
    dispatch_float(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        const T* q = in[0].data<T>();
        const T* k = in[1].data<T>();
        const T* v = in[2].data<T>();
        T* y = out[0].data<T>();
        std::vector<double> row(static_cast<size_t>(s));
        for_each_broadcast<3>(
            batch,
            {Shape(qs.begin(), qs.end() - 2), Shape(ks.begin(), ks.end() - 2),
             Shape(vs.begin(), vs.end() - 2)},
            [&](int64_t b, const auto& off) {
                const T* qb = q + off[0] * l * e;
                const T* kb = k + off[1] * s * e;
                const T* vb = v + off[2] * s * ev;
                for (int64_t i = 0; i < l; ++i) {
                    double mx = -std::numeric_limits<double>::infinity();
                    for (int64_t j = 0; j < s; ++j) {
                        double acc = 0.0;
                        for (int64_t p = 0; p < e; ++p)
                            acc += as_double(qb[i * e + p]) * as_double(kb[j * e + p]);
                        acc *= scale;
                        if (causal && j > i) acc = -std::numeric_limits<double>::infinity();
                        if (has_mask) acc += mask[static_cast<size_t>((b * l + i) * s + j)];
                        row[j] = acc;
                        mx = std::max(mx, acc);
                    }
                    double sum = 0.0;
                    for (int64_t j = 0; j < s; ++j) {
                        row[j] = mx == -std::numeric_limits<double>::infinity()
                                     ? 0.0
                                     : std::exp(row[j] - mx);
                        sum += row[j];
                    }
                    for (int64_t c = 0; c < ev; ++c) {
                        double acc = 0.0;
                        for (int64_t j = 0; j < s; ++j) acc += row[j] * as_double(vb[j * ev + c]);
                        y[(b * l + i) * ev + c] = float_from_double<T>(sum > 0 ? acc / sum : 0.0);
                    }
                }
            });
    });
}

}  // namespace

void register_attention(OpRegistry& r) {
    r.add({"ScaledDotProductAttention", "opset13", infer_sdpa, eval_sdpa});
}

}  // namespace kiln::nn
