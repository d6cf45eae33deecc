// Activations whose parameters are inputs: Selu(data, alpha, lambda), HardSigmoid(data, alpha,
// beta), Swish(data, beta?) and PRelu(data, slope) with the slope broadcast to the data.
#include <cmath>

#include "ops/elementwise/ew_common.hpp"

namespace kiln::ew {
namespace {

void check_float_data(ShapeContext& ctx) {
    const ElementType t = ctx.input_type(0);
    ctx.check(t == ElementType::dynamic || is_float(t) || (is_integral(t) && bit_width(t) >= 8),
              "does not support ", to_string(t));
}

void check_scalar_param(ShapeContext& ctx, size_t i) {
    const PartialShape& s = ctx.input_shape(i);
    if (s.is_static())
        ctx.check(shape_size(s.to_shape()) == 1, "input ", i, " must hold one value, got shape ",
                  to_string(s));
}

void infer_params(ShapeContext& ctx) {
    if (ctx.node().type() == "Swish") ctx.expect_inputs(1, 2);
    else ctx.expect_inputs(3);
    check_float_data(ctx);
    for (size_t i = 1; i < ctx.input_count(); ++i) check_scalar_param(ctx, i);
    ctx.set_output(0, ctx.input_type(0), ctx.input_shape(0));
}

template <class Fn>
void apply(const TensorVector& in, TensorVector& out, Fn&& fn) {
    dispatch_numeric(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        unary_loop<T, T>(in[0], out[0], [&](T v) { return from_double<T>(fn(to_double(v))); });
    });
}

double param(const TensorVector& in, size_t i, double dflt) {
    return i < in.size() ? in[i].value_as_double(0) : dflt;
}

void eval_selu(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const double alpha = param(in, 1, 0), lambda = param(in, 2, 0);
    apply(in, out, [&](double x) { return lambda * (x > 0 ? x : alpha * std::expm1(x)); });
}

void eval_hard_sigmoid(const Node& node, const TensorVector& in, TensorVector& out,
                       ExecContext&) {
    allocate_outputs(node, in, out);
    const double alpha = param(in, 1, 0), beta = param(in, 2, 0);
    apply(in, out, [&](double x) { return std::max(0.0, std::min(1.0, alpha * x + beta)); });
}

void eval_swish(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const double beta = param(in, 1, 1.0);
    apply(in, out, [&](double x) { return x / (1.0 + std::exp(-beta * x)); });
}

// The slope broadcasts numpy-style to the data; as in OpenVINO, a 1-D slope whose length is
// the channel count (axis 1) applies per channel.
Shape prelu_slope_shape(const Shape& data, const Shape& slope) {
    if (slope.size() == 1 && data.size() >= 2 && slope[0] == data[1] && slope[0] != data.back()) {
        Shape s(data.size() - 1, 1);
        s[0] = slope[0];
        return s;
    }
    return slope;
}

void infer_prelu(ShapeContext& ctx) {
    ctx.expect_inputs(2);
    check_float_data(ctx);
    const ElementType t = common_type(ctx, 0, 2);
    const PartialShape& d = ctx.input_shape(0);
    const PartialShape& s = ctx.input_shape(1);
    if (d.is_static() && s.is_static()) {
        const Shape slope = prelu_slope_shape(d.to_shape(), s.to_shape());
        const PartialShape b = broadcast_partial(ctx, d, PartialShape(std::vector<Dimension>(
                                                             slope.begin(), slope.end())));
        ctx.check(b == d, "slope of shape ", to_string(s), " does not broadcast to data ",
                  to_string(d));
    }
    ctx.set_output(0, t, d);
}

void eval_prelu(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const Tensor slope = in[1].reshaped(prelu_slope_shape(in[0].shape(), in[1].shape()));
    dispatch_numeric(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        binary_loop<T, T>(in[0], slope, out[0], [](T x, T a) {
            const double v = to_double(x);
            return v < 0 ? from_double<T>(v * to_double(a)) : x;
        });
    });
}

}  // namespace

void register_activation(OpRegistry& r) {
    r.add({"Selu", "opset1", infer_params, eval_selu});
    r.add({"HardSigmoid", "opset1", infer_params, eval_hard_sigmoid});
    r.add({"Swish", "opset4", infer_params, eval_swish});
    r.add({"PRelu", "opset1", infer_prelu, eval_prelu});
}

}  // namespace kiln::ew
