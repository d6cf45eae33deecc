// ScaledDotProductAttention (opset13): softmax(Q K^T * scale + mask) V over the last two axes.
// Inputs: query [..., L, E], key [..., S, E], value [..., S, Ev], optional attn_mask (boolean:
// false positions are excluded; floating: added) broadcast to [..., L, S], optional scalar scale
// (default 1/sqrt(E)). With `causal` the mask is ignored and position i sees keys 0..i only.
// The batch axes of query, key and value broadcast against each other.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/dispatch.hpp"
#include "ops/control/tensor_slices.hpp"
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

// Attention of `in` (query, key, value[, attn_mask[, scale]]) into `out`, allocated to the
// broadcast batch x [L, Ev].
void sdpa_reference(const TensorVector& in, bool causal, TensorVector& out) {
    const Shape& qs = in[0].shape();
    const Shape& ks = in[1].shape();
    const Shape& vs = in[2].shape();
    const int64_t l = qs[qs.size() - 2], e = qs.back(), s = ks[ks.size() - 2], ev = vs.back();
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

void eval_sdpa(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    sdpa_reference(in, node.attrs().get_bool("causal", false), out);
}

// ScaledDotProductAttentionWithKVCache (kiln1): a CPU fusion of ReadValue -> Concat(axis 2) ->
// Assign for the keys and for the values, and the attention that reads both concatenations.
// Inputs: query [B, H, L, E], new keys [B, H, S, E], new values [B, H, S, Ev], the key and value
// initializers (used when the variable has no value yet), attn_mask, scale. Attributes:
// key_variable_id, value_variable_id. Keeping the update inside one node lets a device append
// to the cache in place instead of copying it whole every step.
void infer_sdpa_kv(ShapeContext& ctx) {
    ctx.expect_inputs(7);
    for (const char* id : {"key_variable_id", "value_variable_id"})
        ctx.check(!ctx.attrs().get_string(id, "").empty(), "needs a ", id);
    for (size_t i = 0; i < 5; ++i) {
        const PartialShape& p = ctx.input_shape(i);
        ctx.check(!p.rank_is_static() || p.size() == 4, "input ", i, " must be 4-D, got ",
                  to_string(p));
        ctx.check(ctx.input_type(i) == ElementType::f32 || ctx.input_type(i) == ElementType::dynamic,
                  "input ", i, " must be f32, got ", to_string(ctx.input_type(i)));
    }
    const PartialShape& q = ctx.input_shape(0);
    const PartialShape& v = ctx.input_shape(2);
    if (!q.rank_is_static() || !v.rank_is_static()) {
        ctx.set_output(0, ElementType::f32, PartialShape());
        return;
    }
    ctx.set_output(0, ElementType::f32, PartialShape({q[0], q[1], q[2], v[3]}));
}

// `past` and `fresh` joined on axis 2 (both 4-D, equal elsewhere).
Tensor concat_axis2(const Tensor& past, const Tensor& fresh, const std::string& what) {
    const Shape& p = past.shape();
    const Shape& f = fresh.shape();
    KILN_CHECK(p.size() == 4 && f.size() == 4 && p[0] == f[0] && p[1] == f[1] && p[3] == f[3],
               "the cached ", what, " ", to_string(p), " and the new ", what, " ", to_string(f),
               " do not fit together (a new batch size needs reset_state())");
    return control::join({past, fresh}, 2, /*stack=*/false, ElementType::f32, {});
}

void eval_sdpa_kv(const Node& node, const TensorVector& in, TensorVector& out, ExecContext& ctx) {
    KILN_CHECK(ctx.variables, node.context(), " needs variable state");
    auto& vars = *ctx.variables;
    Tensor all[2];
    const char* ids[2] = {"key_variable_id", "value_variable_id"};
    for (int i = 0; i < 2; ++i) {
        const std::string id = node.attrs().get_string(ids[i]);
        auto it = vars.find(id);
        const Tensor& past = it != vars.end() ? it->second : in[3 + i];
        all[i] = concat_axis2(past, in[1 + i], i == 0 ? "keys" : "values");
        vars[id] = all[i];
    }
    const Shape& q = in[0].shape();
    out.assign(1, Tensor(ElementType::f32, Shape{q[0], q[1], q[2], all[1].shape()[3]}));
    sdpa_reference({in[0], all[0], all[1], in[5], in[6]}, false, out);
}

}  // namespace

void register_attention(OpRegistry& r) {
    r.add({"ScaledDotProductAttention", "opset13", infer_sdpa, eval_sdpa});
    r.add({"ScaledDotProductAttentionWithKVCache", "kiln1", infer_sdpa_kv, eval_sdpa_kv});
}

}  // namespace kiln::nn
