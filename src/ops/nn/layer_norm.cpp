// LayerNorm (kiln1): y = (x - mean) / sqrt(var + epsilon) * scale + bias, with the mean and the
// variance taken over the axes [axis, rank) of x. With `rms` true it is RMSNorm:
// y = x / sqrt(mean(x^2) + epsilon) * scale + bias. Inputs: x, scale, optional bias; scale and
// bias broadcast (numpy rules) to the normalized shape x.shape[axis:].
// The CPU device fuses MVN -> Multiply -> Add (the ONNX LayerNormalization translation) and the
// RMSNorm chain of elementwise ops into it, and runs it as one pass over each row.
#include <cmath>

#include "core/dispatch.hpp"
#include "ops/common/shape_utils.hpp"
#include "ops/nn/nn_utils.hpp"

namespace kiln::nn {
namespace {

void infer_layer_norm(ShapeContext& ctx) {
    ctx.expect_inputs(2, 3);
    for (size_t i = 0; i < ctx.input_count(); ++i) {
        const ElementType t = ctx.input_type(i);
        ctx.check(is_float(t) || t == ElementType::dynamic, "input ", i,
                  " must be floating-point, got ", to_string(t));
    }
    const PartialShape& x = ctx.input_shape(0);
    if (x.rank_is_static()) {
        const int64_t rank = static_cast<int64_t>(x.size());
        const int64_t axis = normalize_axis(ctx, ctx.attrs().get_int("axis", -1), rank);
        const PartialShape normalized(
            std::vector<Dimension>(x.dims().begin() + axis, x.dims().end()));
        for (size_t i = 1; i < ctx.input_count(); ++i) {
            const PartialShape& p = ctx.input_shape(i);
            if (!p.rank_is_static()) continue;
            ctx.check(static_cast<int64_t>(p.size()) <= rank - axis, "input ", i, " shape ",
                      to_string(p), " has more axes than the normalized shape ",
                      to_string(normalized));
            const PartialShape b = broadcast_partial(ctx, normalized, p);
            ctx.check(b.compatible(normalized), "input ", i, " shape ", to_string(p),
                      " does not broadcast to the normalized shape ", to_string(normalized));
        }
    }
    ctx.set_output(0, ctx.input_type(0), x);
}

// Expands a scale or bias input to one value per element of the normalized shape.
std::vector<double> expand(const Tensor& t, const Shape& normalized) {
    std::vector<double> v(static_cast<size_t>(shape_size(normalized)));
    for_each_broadcast<1>(normalized, {t.shape()},
                          [&](int64_t i, const auto& off) { v[i] = t.value_as_double(off[0]); });
    return v;
}

void eval_layer_norm(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const Shape& s = in[0].shape();
    const int64_t axis =
        normalize_axis(node, node.attrs().get_int("axis", -1), static_cast<int64_t>(s.size()));
    const Shape normalized(s.begin() + axis, s.end());
    const int64_t inner = shape_size(normalized);
    const int64_t rows = inner > 0 ? in[0].size() / inner : 0;
    const double eps = node.attrs().get_float("epsilon", 1e-5);
    const bool rms = node.attrs().get_bool("rms", false);
    const std::vector<double> scale = expand(in[1], normalized);
    const std::vector<double> bias =
        in.size() > 2 ? expand(in[2], normalized) : std::vector<double>(scale.size(), 0.0);
    dispatch_float(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        for (int64_t r = 0; r < rows; ++r) {
            const T* x = in[0].data<T>() + r * inner;
            T* y = out[0].data<T>() + r * inner;
            double mean = 0.0, var = 0.0;
            if (!rms) {
                for (int64_t i = 0; i < inner; ++i) mean += as_double(x[i]);
                mean /= static_cast<double>(inner);
            }
            for (int64_t i = 0; i < inner; ++i) {
                const double d = as_double(x[i]) - mean;
                var += d * d;
            }
            const double inv = 1.0 / std::sqrt(var / static_cast<double>(inner) + eps);
            for (int64_t i = 0; i < inner; ++i)
                y[i] = float_from_double<T>((as_double(x[i]) - mean) * inv * scale[i] + bias[i]);
        }
    });
}

}  // namespace

void register_layer_norm(OpRegistry& r) {
    r.add({"LayerNorm", "kiln1", infer_layer_norm, eval_layer_norm});
}

}  // namespace kiln::nn
