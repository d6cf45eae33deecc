// FusedConvolution (kiln1): a 2-D Convolution or GroupConvolution followed by a per-channel bias,
// an optional residual addition and an optional activation, in that order:
//     y = act(conv(data, filters) + bias[c] + residual)
// Inputs: data [N,C,H,W] f32, filters (Convolution [O,C,kh,kw] or GroupConvolution
// [G,O/G,C/G,kh,kw], told apart by rank), bias [O], optional residual of the output's shape.
// Attributes: the convolution's (strides, dilations, pads_begin, pads_end, auto_pad), plus
// `activation` (none, relu, clamp, hswish, hsigmoid, hard_sigmoid, sigmoid) with `alpha` and
// `beta` (clamp bounds, or hard_sigmoid's slope and offset). The CPU fusion pass builds it so the
// device applies the epilogue while each output block is still in cache.
#include <cmath>

#include "ops/nn/fused_activation.hpp"
#include "ops/nn/nn_utils.hpp"

namespace kiln::nn {

FusedActivation FusedActivation::from_node(const Node& node) {
    static const ActivationKind kinds[] = {ActivationKind::none,     ActivationKind::relu,
                                           ActivationKind::clamp,    ActivationKind::hswish,
                                           ActivationKind::hsigmoid, ActivationKind::hard_sigmoid,
                                           ActivationKind::sigmoid};
    const std::string a = node.attrs().get_string("activation", "none");
    FusedActivation f;
    f.alpha = static_cast<float>(node.attrs().get_float("alpha", 0.0));
    f.beta = static_cast<float>(node.attrs().get_float("beta", 0.0));
    for (ActivationKind k : kinds) {
        if (a == name(k)) {
            f.kind = k;
            return f;
        }
    }
    throw Error(str_cat(node.context(), " unknown activation '", a, "'"));
}

const char* FusedActivation::name(ActivationKind kind) {
    switch (kind) {
        case ActivationKind::none:
            return "none";
        case ActivationKind::relu:
            return "relu";
        case ActivationKind::clamp:
            return "clamp";
        case ActivationKind::hswish:
            return "hswish";
        case ActivationKind::hsigmoid:
            return "hsigmoid";
        case ActivationKind::hard_sigmoid:
            return "hard_sigmoid";
        case ActivationKind::sigmoid:
            return "sigmoid";
    }
    return "none";
}

namespace {

bool is_grouped(const PartialShape& data, const PartialShape& filters) {
    return data.rank_is_static() && filters.rank_is_static() && filters.size() == data.size() + 1;
}

// The plain convolution this node starts with, built on parameters of the given input shapes;
// shape inference and the reference computation both reuse it.
std::shared_ptr<Node> inner_conv(const Node& node, const PartialShape& data,
                                 const PartialShape& filters) {
    Attributes attrs = node.attrs();
    for (const char* a : {"activation", "alpha", "beta"}) attrs.erase(a);
    return make_node(is_grouped(data, filters) ? "GroupConvolution" : "Convolution",
                     {make_parameter(ElementType::f32, data)->output(0),
                      make_parameter(ElementType::f32, filters)->output(0)},
                     std::move(attrs), {}, node.name());
}

void infer_fused_conv(ShapeContext& ctx) {
    ctx.expect_inputs(3, 4);
    for (size_t i = 0; i < ctx.input_count(); ++i)
        ctx.check(
            ctx.input_type(i) == ElementType::f32 || ctx.input_type(i) == ElementType::dynamic,
            "input ", i, " must be f32, got ", to_string(ctx.input_type(i)));
    const PartialShape& data = ctx.input_shape(0);
    ctx.check(data.rank_is_static() && data.size() == 4, "data must have rank 4, got ",
              to_string(data));
    FusedActivation::from_node(ctx.node());
    PartialShape out;
    try {
        out = inner_conv(ctx.node(), data, ctx.input_shape(1))->output_shape(0);
    } catch (const Error& e) {
        ctx.fail(e.what());
    }
    const PartialShape& bias = ctx.input_shape(2);
    ctx.check(bias.rank_is_static() && bias.size() == 1 && bias[0].compatible(out[1]), "bias ",
              to_string(bias), " must be a vector of the ", to_string(PartialShape{out[1]}),
              " output channels");
    if (ctx.input_count() == 4)
        ctx.check(ctx.input_shape(3).compatible(out) && ctx.input_shape(3).rank_is_static(),
                  "residual ", to_string(ctx.input_shape(3)), " must have the output shape ",
                  to_string(out));
    ctx.set_output(0, ElementType::f32, out);
}

void eval_fused_conv(const Node& node, const TensorVector& in, TensorVector& out,
                     ExecContext& ctx) {
    allocate_outputs(node, in, out);
    auto conv = inner_conv(node, in[0].shape(), in[1].shape());
    TensorVector y;
    conv->def().eval(*conv, {in[0], in[1]}, y, ctx);
    const FusedActivation act = FusedActivation::from_node(node);
    const Shape& s = out[0].shape();
    const int64_t channels = s[1], plane = s[2] * s[3];
    const float* src = y[0].data<float>();
    const float* bias = in[2].data<float>();
    const float* res = in.size() == 4 ? in[3].data<float>() : nullptr;
    float* dst = out[0].data<float>();
    for (int64_t i = 0; i < out[0].size(); ++i) {
        // The same float additions, in the same order, as the unfused Add nodes.
        float v = src[i] + bias[(i / plane) % channels];
        if (res) v += res[i];
        dst[i] = act(v);
    }
}

}  // namespace

void register_fused_conv(OpRegistry& r) {
    r.add({"FusedConvolution", "kiln1", infer_fused_conv, eval_fused_conv});
}

}  // namespace kiln::nn
