#include "transforms/fuse_convolution.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <optional>

#include "ops/nn/fused_activation.hpp"

namespace kiln {

namespace {

using nn::ActivationKind;
using nn::FusedActivation;

using Consumers = std::map<Output, std::vector<Node*>>;

Consumers consumers_of(const Model& model) {
    Consumers c;
    for (const auto& node : model.ordered_ops())
        for (const auto& in : node->inputs()) c[in].push_back(node.get());
    return c;
}

// The only consumer of `v`, or null (none, several, or used twice by one node).
Node* sole_consumer(const Consumers& consumers, const Output& v) {
    auto it = consumers.find(v);
    if (it == consumers.end() || it->second.size() != 1) return nullptr;
    return it->second[0];
}

bool numpy_broadcast(const Node& n) {
    return n.attrs().get_string("auto_broadcast", "numpy") == "numpy";
}

// The operand of binary `n` other than `v` (null when both are `v`).
const Output* other_operand(const Node& n, const Output& v) {
    if (n.input_count() != 2) return nullptr;
    if (n.input(0) == v && !(n.input(1) == v)) return &n.input(1);
    if (n.input(1) == v && !(n.input(0) == v)) return &n.input(0);
    return nullptr;
}

// A constant f32 scalar (any rank, one element).
bool scalar_constant(const Output& o, float& value) {
    if (o.node->type() != "Const") return false;
    const Tensor& t = o.node->value();
    if (t.element_type() != ElementType::f32 || t.size() != 1) return false;
    value = t.data<float>()[0];
    return true;
}

// A constant that broadcasts along the channel axis of an [N,C,H,W] value only: its dims,
// right-aligned to rank 4, are 1 except axis 1, which is 1 or C. Returns it expanded to [C].
bool channel_bias(const Output& o, int64_t channels, Tensor& bias) {
    if (o.node->type() != "Const") return false;
    const Tensor& t = o.node->value();
    if (t.element_type() != ElementType::f32 || t.rank() > 4) return false;
    const Shape& s = t.shape();
    const int64_t lead = 4 - t.rank();
    for (int64_t i = 0; i < t.rank(); ++i) {
        const int64_t axis = lead + i;
        if (s[i] != 1 && !(axis == 1 && s[i] == channels)) return false;
    }
    bias = Tensor(ElementType::f32, {channels});
    for (int64_t c = 0; c < channels; ++c)
        bias.data<float>()[c] = t.data<float>()[t.size() == 1 ? 0 : c];
    return true;
}

bool is_fusable_conv(const Node& n) {
    if (n.type() != "Convolution" && n.type() != "GroupConvolution") return false;
    if (n.input_count() != 2 || n.output_count() != 1) return false;
    const Tensor* w = n.input_constant(1);
    const PartialShape& data = n.input_shape(0);
    const PartialShape& out = n.output_shape(0);
    if (!w || w->element_type() != ElementType::f32) return false;
    if (n.input_type(0) != ElementType::f32 || !data.rank_is_static() || data.size() != 4)
        return false;
    return out.rank_is_static() && out.size() == 4 && out[1].is_static();
}

// Matches an activation node applied to `v`; `next` is the value after it. Clip arrives as
// Maximum and/or Minimum by scalar constants; both are absorbed when the first has one consumer.
bool match_activation(const Consumers& consumers, Node* n, const Output& v, FusedActivation& act,
                      Output& next) {
    const std::string& t = n->type();
    next = n->output(0);
    if (t == "Relu") {
        act.kind = ActivationKind::relu;
    } else if (t == "HSwish") {
        act.kind = ActivationKind::hswish;
    } else if (t == "HSigmoid") {
        act.kind = ActivationKind::hsigmoid;
    } else if (t == "Sigmoid") {
        act.kind = ActivationKind::sigmoid;
    } else if (t == "Clamp") {
        act.kind = ActivationKind::clamp;
        act.alpha = static_cast<float>(n->attrs().get_float("min"));
        act.beta = static_cast<float>(n->attrs().get_float("max"));
        // Clamp's double bounds must be exact floats for the float comparison to agree.
        if (double{act.alpha} != n->attrs().get_float("min") ||
            double{act.beta} != n->attrs().get_float("max"))
            return false;
    } else if (t == "HardSigmoid") {
        if (n->input_count() != 3 || !(n->input(0) == v)) return false;
        if (!scalar_constant(n->input(1), act.alpha) || !scalar_constant(n->input(2), act.beta))
            return false;
        act.kind = ActivationKind::hard_sigmoid;
    } else if (t == "Maximum" || t == "Minimum") {
        const Output* o = other_operand(*n, v);
        float bound = 0.f;
        if (!o || !numpy_broadcast(*n) || !scalar_constant(*o, bound) || std::isnan(bound))
            return false;
        // The bound must not change the value's shape (a rank-5 scalar would).
        if (o->partial_shape().size() > 4) return false;
        act.kind = ActivationKind::clamp;
        const float inf = std::numeric_limits<float>::infinity();
        act.alpha = t == "Maximum" ? bound : -inf;
        act.beta = t == "Maximum" ? inf : bound;
        if (t == "Maximum") {
            if (Node* m = sole_consumer(consumers, next); m && m->type() == "Minimum") {
                const Output* o2 = other_operand(*m, next);
                float hi = 0.f;
                if (o2 && numpy_broadcast(*m) && scalar_constant(*o2, hi) && !std::isnan(hi) &&
                    o2->partial_shape().size() <= 4 && hi >= bound) {
                    act.beta = hi;
                    next = m->output(0);
                }
            }
        }
        return true;
    } else {
        return false;
    }
    return n->input_count() == 1 || t == "HardSigmoid";
}

bool fuse_from(Model& model, Node& conv) {
    const Consumers consumers = consumers_of(model);
    const int64_t channels = conv.output_shape(0)[1].get_length();
    const PartialShape& out_shape = conv.output_shape(0);
    Output v = conv.output(0);
    Tensor bias(ElementType::f32, {channels});  // zero unless an Add supplies it
    bool fused_any = false;
    std::optional<Output> residual;
    FusedActivation act;

    Node* n = sole_consumer(consumers, v);
    if (n && n->type() == "Add" && numpy_broadcast(*n)) {
        const Output* o = other_operand(*n, v);
        if (o && channel_bias(*o, channels, bias)) {
            v = n->output(0);
            fused_any = true;
            n = sole_consumer(consumers, v);
        }
    }
    if (n && n->type() == "Add" && numpy_broadcast(*n)) {
        const Output* o = other_operand(*n, v);
        if (o && o->element_type() == ElementType::f32 && o->partial_shape().is_static() &&
            out_shape.is_static() && o->partial_shape() == out_shape) {
            residual = *o;
            v = n->output(0);
            fused_any = true;
            n = sole_consumer(consumers, v);
        }
    }
    Output after;
    if (n && match_activation(consumers, n, v, act, after)) {
        v = after;
        fused_any = true;
    }
    if (!fused_any) return false;

    Attributes attrs = conv.attrs();
    attrs.set("activation", std::string(FusedActivation::name(act.kind)));
    attrs.set("alpha", double{act.alpha});
    attrs.set("beta", double{act.beta});
    OutputVector inputs{conv.input(0), conv.input(1),
                        make_constant(std::move(bias), conv.name() + "/bias")->output(0)};
    if (residual) inputs.push_back(*residual);
    auto fused = make_node("FusedConvolution", inputs, std::move(attrs), {}, conv.name());
    replace_output(model, v, fused->output(0));
    return true;
}

}  // namespace

bool FuseConvolution::run(Model& model) {
    bool changed = false;
    // Each fusion rewires consumers, so every candidate sees the graph as the last one left it.
    for (const auto& node : model.ordered_ops())
        if (is_fusable_conv(*node) && fuse_from(model, *node)) changed = true;
    return changed;
}

}  // namespace kiln
